package nix_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nixrealis/nixrealis/internal/testenv"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/nix"
)

// TestCommandCancelKillsTree: a command from Nix.Command is cancelled like
// the methods' commands. A stand-in nix ignores SIGINT and leaves a child in
// its group and one in a session of its own (as Nix's builders are); after
// WaitDelay all three are killed.
func TestCommandCancelKillsTree(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pids")
	script := "#!/bin/sh\ntrap '' INT\nsleep 3600 &\na=$!\nsetsid sleep 3601 &\necho $$ $a $! > '" + pidFile + "'\nwait\n"
	require.NoError(t, testenv.WriteExecutable(filepath.Join(dir, "nix"), []byte(script)))

	n := nix.Nix{Dir: dir, WaitDelay: 100 * time.Millisecond}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cmd := n.Command(ctx, "nix")
	require.NoError(t, cmd.Start())
	var pids []int
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(pidFile)
		if err != nil || !bytes.HasSuffix(b, []byte("\n")) {
			return false
		}
		pids = nil
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		return len(pids) == 3
	}, 10*time.Second, 10*time.Millisecond, "the stand-in nix never wrote its pids")
	cancel()
	err := cmd.Wait()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "signal: killed")
	assert.Eventually(t, func() bool { return !alive(pids[0]) && !alive(pids[1]) && !alive(pids[2]) }, 10*time.Second, 10*time.Millisecond,
		"processes left behind: %v", pids)
}
