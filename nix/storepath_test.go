package nix_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/nix"
)

func TestParseStorePath(t *testing.T) {
	const hash = "zqn0w06sgshbxglvawyrmf5iqsy2fl2q"
	tests := []struct {
		name, in string
		wantErr  string // "" = valid
	}{
		{"output", "/nix/store/" + hash + "-hello", ""},
		{"derivation", "/nix/store/" + hash + "-hello.drv", ""},
		{"all name characters", "/nix/store/" + hash + "-a+b-c.d_e?f=g", ""},
		{"longest name", "/nix/store/" + hash + "-" + strings.Repeat("a", 211), ""},
		{"name too long", "/nix/store/" + hash + "-" + strings.Repeat("a", 212), "212 characters long"},
		{"other store dir", "/gnu/store/" + hash + "-hello", "must start with /nix/store/"},
		{"relative", "nix/store/" + hash + "-hello", "must start with /nix/store/"},
		{"too short", "/nix/store/" + hash[:10], "too short"},
		{"no name", "/nix/store/" + hash + "-", "too short"},
		{"letter e not in base-32", "/nix/store/e" + hash[1:] + "-hello", "'e' is not in Nix's base-32"},
		{"upper case hash", "/nix/store/Z" + hash[1:] + "-hello", "'Z'"},
		{"no dash", "/nix/store/" + hash + "_hello", "want a dash"},
		{"space", "/nix/store/" + hash + "-aurora job", "contains ' '"},
		{"quote", "/nix/store/" + hash + "-it's", `contains '\''`},
		{"subpath", "/nix/store/" + hash + "-hello/bin/hello", "contains '/'"},
		{"dot name", "/nix/store/" + hash + "-.hidden", "must not start with a dot"},
		{"newline", "/nix/store/" + hash + "-a\nb", `contains '\n'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := nix.ParseStorePath(tt.in)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.in, p.String())
				assert.Equal(t, hash, p.HashPart())
				assert.Equal(t, tt.in[len("/nix/store/")+33:], p.Name())
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, nix.ErrInvalidStorePath)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestStorePathIsDerivation(t *testing.T) {
	assert.True(t, nix.StorePath("/nix/store/zqn0w06sgshbxglvawyrmf5iqsy2fl2q-hello.drv").IsDerivation())
	assert.False(t, nix.StorePath("/nix/store/zqn0w06sgshbxglvawyrmf5iqsy2fl2q-hello").IsDerivation())
}
