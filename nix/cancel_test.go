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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/nix"
)

// TestCancelKillsGroupAfterWaitDelay runs a stand-in nix-instantiate (a
// shell script in Nix.Dir) that ignores SIGINT and leaves a child behind:
// after WaitDelay, the whole process group must get SIGKILL.
func TestCancelKillsGroupAfterWaitDelay(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pids")
	// The second sleep runs in its own session, as Nix's builders do.
	script := "#!/bin/sh\ntrap '' INT\nsleep 3600 &\na=$!\nsetsid sleep 3601 &\necho $$ $a $! > '" + pidFile + "'\nwait\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nix-instantiate"), []byte(script), 0o755))

	n := nix.Nix{Dir: dir, WaitDelay: 100 * time.Millisecond}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := n.Instantiate(ctx, nix.Expr{Expr: "1"})
		errc <- err
	}()
	var pids []int
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(pidFile)
		if err != nil || !bytes.HasSuffix(b, []byte("\n")) {
			return false
		}
		pids = nil
		for _, f := range strings.Fields(string(b)) {
			pid, err := strconv.Atoi(f)
			require.NoError(t, err)
			pids = append(pids, pid)
		}
		return len(pids) == 3
	}, 10*time.Second, 10*time.Millisecond)
	cancel()
	var err error
	select {
	case err = <-errc:
	case <-time.After(20 * time.Second):
		t.Fatal("Instantiate did not return after cancel and WaitDelay")
	}
	assert.ErrorIs(t, err, context.Canceled)
	var ne *nix.Error
	require.ErrorAs(t, err, &ne)
	assert.Equal(t, -1, ne.ExitCode, "killed by a signal")
	assert.Contains(t, err.Error(), "signal: killed")
	assert.Eventually(t, func() bool { return !alive(pids[0]) && !alive(pids[1]) && !alive(pids[2]) }, 10*time.Second, 10*time.Millisecond,
		"processes left behind: %v", pids)
}

func TestCommand(t *testing.T) {
	t.Parallel()
	testenv.NeedNix(t)
	n := nix.Nix{Env: []string{"NIX_TEST_MARKER=1"}}
	out, err := n.Command(t.Context(), "nix-store", "--version").Output()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(out), "nix-store (Nix) "), "got %q", out)

	cmd := n.Command(t.Context(), "nix-store", "--version")
	assert.Contains(t, cmd.Env, "NIX_TEST_MARKER=1")
	assert.True(t, cmd.SysProcAttr.Setpgid, "own process group")
}
