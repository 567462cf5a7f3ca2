package nix_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCommandCancelKillsTree: a command from Nix.Command is cancelled like
// the methods' commands. A stand-in nix ignores SIGINT and leaves a child in
// its group and one in a session of its own (as Nix's builders are); after
// WaitDelay all three are killed.
func TestCommandCancelKillsTree(t *testing.T) {
	t.Parallel()
	n, standInPids := stubbornNix(t, "nix")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cmd := n.Command(ctx, "nix")
	require.NoError(t, cmd.Start())
	pids := standInPids()
	cancel()
	err := cmd.Wait()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "signal: killed")
	assertAllGone(t, pids)
}
