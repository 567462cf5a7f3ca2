package testenv_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/nixrealis/nixrealis/internal/testenv"
)

// Scripts written while other goroutines start processes run at once,
// every time: no "text file busy".
func TestWriteExecutable(t *testing.T) {
	dir := t.TempDir()
	testenv.ForkInBackground(t, 4) // the other tests of a package, starting processes
	for i := range 200 {
		p := filepath.Join(dir, "script")
		os.Remove(p)
		if err := testenv.WriteExecutable(p, []byte("#!/bin/sh\necho ok\n")); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(p).Output()
		if err != nil || string(out) != "ok\n" {
			t.Fatalf("run %d: %q, %v", i, out, err)
		}
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o755 {
			t.Fatalf("mode %v, %v", fi.Mode(), err)
		}
	}
	if err := testenv.WriteExecutable(filepath.Join(dir, "no", "such", "dir"), nil); err == nil {
		t.Fatal("no error for a path in a missing directory")
	}
}
