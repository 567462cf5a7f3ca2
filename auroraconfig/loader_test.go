package auroraconfig_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroraconfig"
	"github.com/nixrealis/nixrealis/job"
)

var testKey = job.Key{Cluster: "c", Role: "r", Environment: "devel", Name: "x"}

// withCmdline is a configuration whose single process runs the Python
// expression cmd, after the statements pre.
func withCmdline(pre, cmd string) string {
	return pre + "\ncmd = " + cmd + `
jobs = [Job(cluster = 'c', role = 'r', environment = 'devel', name = 'x',
            task = Task(processes = [Process(name = 'p', cmdline = cmd)],
                        resources = Resources(cpu = 1, ram = 1*MB, disk = 1*MB)))]
`
}

func loadBuild(t *testing.T, src string, env map[string]string, bindings ...string) (job.Spec, error) {
	t.Helper()
	l := auroraconfig.Loader{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	cfg, err := l.LoadSource("t.aurora", []byte(src))
	if err != nil {
		return job.Spec{}, err
	}
	return cfg.Build(testKey, bindings...)
}

// TestPython covers the Python of .aurora files that Starlark lacks or
// does differently.
func TestPython(t *testing.T) {
	for _, tt := range []struct {
		name, pre, cmd string
		env            map[string]string
		want           string
	}{
		{name: "percent format", cmd: `'%04d-%-3s|%5.2f|%x|%+d|%e|%%' % (7, 'ab', 3.14159, 255, 3, 12345.678)`,
			want: "0007-ab | 3.14|ff|+3|1.234568e+04|%"},
		{name: "percent mapping", cmd: `'%(a)s=%(b)d' % {'a': 'x', 'b': 3}`, want: "x=3"},
		{name: "percent single value", cmd: `'worker_%04d' % 12`, want: "worker_0012"},
		{name: "python 2 division", cmd: `'%s %s %s %s' % (7 / 2, 7.0 / 2, -7 / 2, 1.5 * 2)`, want: "3 3.5 -4 3.0"},
		{name: "power", cmd: `'%d %d %d' % (2 ** 10, 3 * 2 ** 2, 10**9 / 10**8)`, want: "1024 12 10"},
		{name: "adjacent literals", cmd: "'a=%s ' 'b=%s' % (1, 2)", want: "a=1 b=2"},
		{name: "adjacent literals over lines", cmd: "('one '\n       'two '\n       # a comment\n       'three')", want: "one two three"},
		{name: "adjacent literals and method", cmd: "'{} ' '{}'.format(1, 2)", want: "1 2"},
		{name: "unicode literals", pre: "# -*- coding: utf-8 -*-", cmd: `u'h\u00e9' + U"llo" + ur'\d'`, want: `héllo\d`},
		{name: "triple quotes", cmd: "'''one\ntwo''' + \"\"\" 'three' \"\"\"", want: "one\ntwo 'three' "},
		{name: "loops and comprehensions", pre: "parts = []\nfor i in range(3):\n  if i != 1:\n    parts.append(str(i))\nsq = [n * n for n in range(4) if n]",
			cmd: `'-'.join(parts) + ' ' + str(sq)`, want: "0-2 [1, 4, 9]"},
		{name: "os.getenv", pre: "import os", cmd: `os.getenv('USER') + os.getenv('NOPE', '!') + str(os.getenv('NOPE'))`,
			env: map[string]string{"USER": "alice"}, want: "alice!None"},
		{name: "os.environ", pre: "import os", cmd: `os.environ.get('USER', 'x') + os.environ['HOME'] + str('USER' in os.environ) + str('NOPE' in os.environ)`,
			env: map[string]string{"USER": "bob", "HOME": "/h"}, want: "bob/hTrueFalse"},
		{name: "from os import", pre: "from os import getenv, environ", cmd: `getenv('USER') + environ.get('USER')`,
			env: map[string]string{"USER": "eve"}, want: "eveeve"},
		{name: "struct class", pre: "class P(Struct):\n  a = Default(String, 'x')\n  b = Default(String, '{{a}}-y')\n  c = Required(Integer)\n  d = String\nclass Q(P):\n  a = Default(String, 'q')",
			cmd: `'{{p.b}} {{p.c}} {{q.b}}'`, want: "x-y 3 q-y"},
		{name: "field accessors", pre: "p = Process(name = 'n', cmdline = 'c')\nq = p(cmdline = 'd')",
			cmd: `str(p.name()) + p.cmdline() + q.cmdline() + str(q.has_logger())`, want: "ncdFalse"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := withCmdline(tt.pre, tt.cmd)
			if strings.Contains(tt.pre, "class P") {
				src = strings.Replace(src, "jobs = [Job(", "jobs = [Job(", 1)
				src = strings.Replace(src, "resources = Resources(cpu = 1, ram = 1*MB, disk = 1*MB)))]",
					"resources = Resources(cpu = 1, ram = 1*MB, disk = 1*MB))).bind(p = P(c = 3), q = Q(c = 4))]", 1)
			}
			spec, err := loadBuild(t, src, tt.env)
			require.NoError(t, err)
			assert.Equal(t, tt.want, spec.Payload.Task.Processes[0].Cmdline)
		})
	}
}

// TestErrors checks that bad configurations fail at their file:line:col,
// saying what is wrong.
func TestErrors(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		want      string // in the error
		pos       string // file:line:col prefix
	}{
		{name: "unsupported import", src: "x = 1\nimport sys\n", want: "unsupported import of sys", pos: "t.aurora:2:1"},
		{name: "from import", src: "from a.b import (c, d e)\n", want: "unsupported import", pos: "t.aurora:1:1"},
		{name: "class with a method", src: "class A(Struct):\n  x = String\n  def f(self):\n    pass\n", want: "may only declare fields", pos: "t.aurora:3:3"},
		{name: "class field not a type", src: "class A(Struct):\n  x = 3\n", want: "declare fields as Default(Type, value)", pos: "t.aurora:1:1"},
		{name: "python 2 print", src: "print 'x'\n", want: "invalid syntax", pos: "t.aurora:1:"},
		{name: "try", src: "try:\n  x = 1\nexcept:\n  pass\n", want: "invalid syntax", pos: "t.aurora:1:"},
		{name: "undefined name", src: "x = 1\ny = zz + 1\n", want: "name 'zz' is not defined", pos: "t.aurora:2:5"},
		{name: "integer field given a word", src: "p = Process(name = 'p', cmdline = 'c',\n  max_failures = 'lots')\n", want: `Process.max_failures: "lots" is not an integer`, pos: "t.aurora:1:12"},
		{name: "boolean field", src: "p = Process(name = 'p', cmdline = 'c', daemon = 'maybe')\n", want: "is not a boolean", pos: "t.aurora:1:12"},
		{name: "enum field", src: "l = Logger(destination = 'syslog')\n", want: `"syslog" is not one of "file", "console", "both", "none"`, pos: "t.aurora:1:11"},
		{name: "wrong struct", src: "t = Task(resources = Process(name = 'p', cmdline = 'c'))\n", want: "Task.resources: got a Process, want a Resources", pos: "t.aurora:1:9"},
		{name: "unknown field", src: "p = Process(nmae = 'p')\n", want: "Unknown schema attribute nmae", pos: "t.aurora:1:12"},
		{name: "sequential with constraints", src: "SequentialTask(processes = [], constraints = order('a'))\n", want: "Cannot turn a Task with existing constraints into a SequentialTask!", pos: "t.aurora:1:15"},
		{name: "order of a number", src: "order('a', 5)\n", want: "Unknown value for process order: 5", pos: "t.aurora:1:6"},
		{name: "required field missing", src: withCmdline("", "'x'") + "jobs = [jobs[0](task = Task(processes = [Process(name = 'q')], resources = Resources(cpu = 1, ram = MB, disk = MB)))]\n",
			want: "Process.cmdline is required", pos: "t.aurora:6:49"},
		{name: "runtime error", src: "x = {}\ny = x['k']\n", want: `key "k" not in dict`, pos: "t.aurora:2:6"},
		{name: "jobs not a list", src: "jobs = 3\n", want: "jobs is a value of type int", pos: "t.aurora"},
		{name: "unbound template placed at the process", src: withCmdline("", "'echo {{who}}'"), want: "{{who}}", pos: "t.aurora:4:"},
		{name: "template in an untemplatable field", src: strings.Replace(withCmdline("", "'x'"), "name = 'x',", "name = 'x', health_check_config = HealthCheckConfig(interval_secs = '{{i}}'),", 1),
			want: `interval_secs = "{{i}}": a template is not supported in this field`, pos: "t.aurora:3:"},
		{name: "endless loop", src: "while True:\n  pass\n", want: "too many steps", pos: "t.aurora:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadBuild(t, tt.src, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), tt.pos), "%q does not start with %s", err, tt.pos)
			var e *auroraconfig.Error
			assert.ErrorAs(t, err, &e)
		})
	}
}

// TestInclude loads a file that includes files relative to itself, two
// levels deep, and uses and overrides their names.
func TestInclude(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(src), 0o644))
	}
	write("lib/procs.aurora", "hello = Process(name = 'hello', cmdline = 'echo hello')\n")
	write("lib/base.aurora", "include('procs.aurora')\nres = Resources(cpu = 1, ram = 16*MB, disk = 16*MB)\njobs = []\n")
	write("main.aurora", "include('lib/base.aurora')\njobs = [Job(cluster = 'c', role = 'r', environment = 'devel',\n"+
		"  task = Task(processes = [hello], resources = res))]\n")
	cfg, err := auroraconfig.Load(filepath.Join(dir, "main.aurora"))
	require.NoError(t, err)
	assert.Equal(t, []job.Key{{Cluster: "c", Role: "r", Environment: "devel", Name: "hello"}}, cfg.Keys())
	spec, err := cfg.Build(job.Key{Cluster: "c", Role: "r", Environment: "devel", Name: "hello"})
	require.NoError(t, err)
	assert.Equal(t, "echo hello", spec.Payload.Task.Processes[0].Cmdline)
	// Without a name, the single job is picked if the given parts match it.
	_, err = cfg.Build(job.Key{Environment: "devel"})
	require.NoError(t, err)
	_, err = cfg.Build(job.Key{Environment: "prod"})
	require.ErrorIs(t, err, auroraconfig.ErrNoJob)
	assert.Contains(t, err.Error(), "Candidates are:\n  c/r/devel/hello")

	write("missing.aurora", "x = 1\ninclude('nope.aurora')\n")
	_, err = auroraconfig.Load(filepath.Join(dir, "missing.aurora"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing.aurora:2:9: include(\"nope.aurora\"): no such file or directory")

	write("a.aurora", "include('b.aurora')\n")
	write("b.aurora", "include('a.aurora')\n")
	_, err = auroraconfig.Load(filepath.Join(dir, "a.aurora"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "include()s nest too deep")

	write("bad.aurora", "include('lib/broken.aurora')\n")
	write("lib/broken.aurora", "x = (\n")
	_, err = auroraconfig.Load(filepath.Join(dir, "bad.aurora"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(dir, "lib", "broken.aurora")+":2:1: ")
}
