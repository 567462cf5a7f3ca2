//go:build linux

package exampletest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/internal/jsoncmp"
	"github.com/nixrealis/nixrealis/internal/testenv"
)

// golden is a case of the oracle (files of Aurora's real client, shared
// with package job), relative to the repository root, where the client
// runs.
func golden(name string) string { return filepath.Join("job", "testdata", "golden", name) }

// TestConfigCreateEmbedded: -config creates the job of an .aurora file
// (Aurora's hello_world with a NixPackages line) on the embedded cluster;
// its process runs the Nix package, realised by init_sandbox.
func TestConfigCreateEmbedded(t *testing.T) {
	testenv.NeedNix(t)
	bin := buildClient(t)
	r := runClientOK(t, bin, "-cmd=create", "-config=examples/hello/hello_world.aurora")
	assert.Contains(t, r.stdout, "prepare: preparing the Nix sandbox")
	assert.Contains(t, r.stdout, "created devcluster/vagrant/devel/hello_world: 1 instance(s) RUNNING")
	assert.Contains(t, r.stdout, "Hello, world! (from a Nix-built package, instance 0)")
	assert.Regexp(t, `output in \S+/\.logs/hello/0/stdout:`, r.stdout)
}

// TestConfigInspectWriteJSON: -cmd=inspect -write-json prints exactly the
// executor payload of an oracle case, with its CLI binding given by
// -bind: one JSON document equal to the golden payload (the comparison
// the golden tests use), nothing else on stdout. A file without Nix
// packages gets no init_sandbox.
func TestConfigInspectWriteJSON(t *testing.T) {
	bin := buildClient(t)
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"hello_world", []string{"-name=hello"}},
		// The oracle's `aurora job create ... --bind build=20240101`.
		{"templating_bind", []string{"-cluster=devcluster", "-role=www-data", "-env=prod", "-name=templated", "-bind", "build=20240101"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"-cmd=inspect", "-write-json", "-config=" + golden(tt.name+".aurora")}, tt.args...)
			r := runClientOK(t, bin, args...)
			want, err := os.ReadFile(filepath.Join(repoRoot(t), golden(tt.name+".payload.json")))
			require.NoError(t, err)
			require.True(t, strings.HasSuffix(r.stdout, "}\n"), "one JSON document and a newline: %q", r.stdout)
			_, err = jsoncmp.Decode([]byte(r.stdout))
			require.NoError(t, err, "stdout is one JSON document, nothing else")
			jsoncmp.Equal(t, want, []byte(r.stdout))
			assert.NotContains(t, r.stdout, "init_sandbox", "a file naming no Nix packages gets no sandbox")
		})
	}
}

// TestConfigBind: -bind values reach the payload and win over the file's
// own .bind(); a reference nothing binds is refused.
func TestConfigBind(t *testing.T) {
	bin := buildClient(t)
	file := "-config=" + golden("templating_bind.aurora")
	r := runClientOK(t, bin, "-cmd=inspect", "-write-json", file, "-bind=build=7", "-bind", "cpus=2.5")
	assert.Contains(t, r.stdout, `--build=7"`)
	assert.Contains(t, r.stdout, `"cpu": 2.5`)

	r = runClient(t, bin, "-cmd=inspect", "-write-json", file)
	assert.Equal(t, 1, r.code)
	assert.Empty(t, r.stdout)
	assert.Contains(t, r.stderr, "templating_bind.aurora:10:14: ")
	assert.Contains(t, r.stderr, "{{build}}")
}

// TestConfigErrors: an unknown job key lists the file's keys; bad -bind
// and flag combinations are usage errors naming the flag.
func TestConfigErrors(t *testing.T) {
	bin := buildClient(t)
	file := "-config=" + golden("templating_bind.aurora")
	tests := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"-cmd=inspect", file, "-env=devel", "-name=templated"}, 2, []string{"Could not find job", "Candidates are:\n  devcluster/www-data/prod/templated"}},
		{[]string{"-cmd=inspect", file, "-env=devel"}, 2, []string{"Could not find job", "Candidates are:\n  devcluster/www-data/prod/templated"}},
		{[]string{"-cmd=inspect", file, "-bind=build"}, 2, []string{"-bind=build: write name=value"}},
		{[]string{"-cmd=inspect", file, "-bind=9x=1"}, 2, []string{"-bind=9x=1: write name=value"}},
		{[]string{"-cmd=inspect", "-bind=build=1"}, 2, []string{"-bind binds the template variables of a -config file"}},
		{[]string{"-cmd=create", "-write-json", file}, 2, []string{"-write-json goes with -cmd=inspect"}},
		{[]string{"-cmd=inspect", file, "-instances=2"}, 2, []string{"-config and -instances go separately"}},
		{[]string{"-cmd=inspect", "-config=no/such.aurora"}, 1, []string{"no/such.aurora: cannot read configuration"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runClient(t, bin, tt.args...)
			assert.Equal(t, tt.code, r.code, "stderr:\n%s", r.stderr)
			for _, w := range tt.want {
				assert.Contains(t, r.stderr, w)
			}
			assert.Empty(t, r.stdout)
		})
	}
}

// TestConfigAgainstScheduler: with -url, -config creates the file's job,
// diff shows what a -bind changes, update rolls it out, kill (by the key
// the file gave) removes it.
func TestConfigAgainstScheduler(t *testing.T) {
	do := againstScheduler(t)
	file := "-config=examples/hello/hello_world.aurora"
	r := do("-cmd=create", file)
	assert.Contains(t, r.stdout, "created devcluster/vagrant/devel/hello_world: 1 instance(s) RUNNING")
	r = do("-cmd=diff", file)
	assert.Contains(t, r.stdout, "runs what the job describes")
	r = do("-cmd=diff", file, "-bind", "greeting=v2")
	assert.Contains(t, r.stdout, "echo v2")
	r = do("-cmd=update", file, "-bind", "greeting=v2")
	assert.Regexp(t, `update [0-9a-f-]+: ROLLED_FORWARD`, r.stdout)
	r = do("-cmd=diff", file, "-bind", "greeting=v2")
	assert.Contains(t, r.stdout, "runs what the job describes")
	r = do("-cmd=kill", "-name=hello_world")
	assert.Contains(t, r.stdout, "killed devcluster/vagrant/devel/hello_world")
}
