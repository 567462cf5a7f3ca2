package auroraconfig_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nixrealis/nixrealis/auroraconfig"
)

// FuzzLoad checks that loading, picking and building any source never
// panics and always ends (the step limit bounds loops), and that every
// failure is an *Error or a job.Build error. The seeds are the oracle's
// .aurora files.
func FuzzLoad(f *testing.F) {
	for _, dir := range goldenDirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.aurora"))
		more, _ := filepath.Glob(filepath.Join(dir, "*", "*.aurora"))
		for _, file := range append(files, more...) {
			src, err := os.ReadFile(file)
			if err == nil {
				f.Add(string(src))
			}
		}
	}
	for _, s := range []string{
		"class A(Struct):\n  x = Default(Integer, '{{y}}')\njobs = [A(x = 1)]",
		"x = '%-05.2f|%(a)s' % 1\n", "x = 2 ** 3 ** 2 / 0\n", "x = u'a' 'b' % ()\n",
		"include('x.aurora')\n", "import sys\n", "while True:\n  pass\n", "def f():\n  return f()\nf()\n",
	} {
		f.Add(s)
	}
	l := auroraconfig.Loader{
		LookupEnv: oracleEnv,
		ReadFile:  func(string) ([]byte, error) { return nil, fs.ErrNotExist },
		MaxSteps:  200_000,
	}
	f.Fuzz(func(t *testing.T, src string) {
		cfg, err := l.LoadSource("fuzz.aurora", []byte(src))
		if err != nil {
			checkLoadError(t, err)
			return
		}
		for _, k := range cfg.Keys() {
			if _, err := cfg.Build(k); err != nil {
				checkLoadError(t, err)
			}
		}
	})
}

func checkLoadError(t *testing.T, err error) {
	t.Helper()
	var e *auroraconfig.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T is not an *auroraconfig.Error: %v", err, err)
	}
	if strings.Contains(err.Error(), "internal error") {
		t.Fatalf("internal error: %v", err)
	}
}
