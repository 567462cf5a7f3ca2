package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInitSandboxCorruptNAR: a NAR in the cache that does not decompress
// (garbage, or cut short) is a corrupt cache (ExitCorrupt), like a NAR
// whose hash does not match, not "nix-store failed".
func TestInitSandboxCorruptNAR(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		spoil func(data []byte) []byte
	}{
		{"garbage", func([]byte) []byte { return []byte("not a compressed archive at all\n") }},
		{"cut short", func(data []byte) []byte { return data[:len(data)/2] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			p, script := w.published(t, "corrupt", "closure10m")
			nars, err := filepath.Glob(filepath.Join(w.cacheDir, "nar", "*"))
			require.NoError(t, err)
			require.NotEmpty(t, nars)
			for _, f := range nars {
				data, err := os.ReadFile(f)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(f, tt.spoil(data), 0o644))
			}
			agentStore := w.newAgent(t, "agent")
			r := runInit(t, script, filepath.Join(w.dir, "task"), agentStore)
			assert.Equal(t, ExitCorrupt, r.code, "stderr: %q", r.stderr)
			assert.Equal(t, "init_sandbox: corrupt cache: a NAR for "+string(p.Out)+" does not match its hash or does not decompress\n", r.stderr)
			assert.False(t, valid(t, agentStore, p.Out))
		})
	}
}

// TestInitSandboxNixMissingSeveralDirs: with several nix bin dirs the
// message names them all on one line (the quoted list stays one argument).
func TestInitSandboxNixMissingSeveralDirs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "no nix here"), filepath.Join(dir, "nor-here")
	script, err := InitCommand("/nix/store/00000000000000000000000000000000-x", Agent{NixBinDirs: []string{a, b}})
	require.NoError(t, err)
	configureAgent(t, filepath.Join(dir, "agent"), "")
	r := runInit(t, script, filepath.Join(dir, "task"), filepath.Join(dir, "agent"))
	assert.Equal(t, ExitNixMissing, r.code)
	want := "init_sandbox: nix missing: no executable nix-store in " + a + ", " + b + " on "
	assert.True(t, strings.HasPrefix(r.stderr, want), "stderr %q lacks %q", r.stderr, want)
	assert.True(t, strings.HasSuffix(r.stderr, "; install Nix there or configure the nix bin dir\n"), "the whole message: %q", r.stderr)
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
}
