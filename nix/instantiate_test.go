package nix_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/nix"
)

// TestInstantiateNoGCRootWarning: Instantiate roots the .drv files while
// nix-instantiate runs, so Nix's "you did not specify '--add-root'" warning
// reaches neither Stderr nor Progress, in the default and a chroot store,
// for one derivation and for several; and the roots are gone afterwards.
func TestInstantiateNoGCRootWarning(t *testing.T) {
	testenv.NeedNix(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where Instantiate makes its roots
	for _, tt := range []struct {
		name  string
		store string
		expr  nix.Expr
		n     int
	}{
		{"one", "", pkg(t, "greeter", nil), 1},
		// A list: nix-instantiate names the roots drv, drv-2, ...
		{"several", "", nix.Expr{
			Expr:   "{ nonce }: let p = import " + pkgsFile(t) + " { inherit nonce; }; in [ p.hello p.greeter ]",
			ArgStr: map[string]string{"nonce": nonce(t)},
		}, 2},
		{"chroot store", t.TempDir(), pkg(t, "greeter", nil), 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			var events eventLog
			n := nix.Nix{Store: tt.store, Stderr: &stderr, Progress: events.add}
			drvs, err := n.Instantiate(t.Context(), tt.expr)
			require.NoError(t, err)
			require.Len(t, drvs, tt.n)
			for _, d := range drvs {
				assert.True(t, d.IsDerivation(), "%s", d)
				assert.FileExists(t, filepath.Join(tt.store, string(d)))
			}
			assert.NotContains(t, stderr.String(), "add-root")
			for _, ev := range events.all() {
				assert.NotContains(t, ev.Text, "add-root")
			}
			left, err := os.ReadDir(tmp)
			require.NoError(t, err)
			assert.Empty(t, left, "the temporary roots are removed")
		})
	}
}
