package nix_test

import (
	"bytes"
	"context"
	"path/filepath"
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
	n, standInPids := stubbornNix(t, "nix-instantiate")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := n.Instantiate(ctx, nix.Expr{Expr: "1"})
		errc <- err
	}()
	pids := standInPids()
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
	assertAllGone(t, pids)
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

// TestStderrBounded runs a stand-in nix-store that writes much more stderr
// than Error keeps, mixing plain lines with internal-json events.
func TestStderrBounded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := `#!/bin/sh
i=0
while [ $i -lt 20000 ]; do echo "plain line $i" >&2; i=$((i+1)); done
echo '@nix {"action":"msg","level":1,"msg":"\u001b[35;1mwarning:\u001b[0m something odd"}' >&2
printf '@nix {"action":"msg","level":0,"msg":"\\u001b[31;1merror:\\u001b[0m it broke","raw_msg":"it broke"}' >&2
exit 1
`
	require.NoError(t, testenv.WriteExecutable(filepath.Join(dir, "nix-store"), []byte(script)))
	var stderr bytes.Buffer
	var events []nix.Event
	n := nix.Nix{Dir: dir, Stderr: &stderr, Progress: func(ev nix.Event) { events = append(events, ev) }}
	_, err := n.OutputPaths(t.Context(), "/nix/store/zqn0w06sgshbxglvawyrmf5iqsy2fl2q-hello.drv")
	var ne *nix.Error
	require.ErrorAs(t, err, &ne)
	assert.Equal(t, 1, ne.ExitCode)
	assert.Equal(t, "error: it broke", ne.Msg)
	assert.Equal(t, []string{"something odd"}, ne.Warnings)
	assert.Equal(t, "nix output paths: it broke: exit status 1", err.Error())
	assert.LessOrEqual(t, len(ne.Stderr), 33<<10, "bounded")
	assert.True(t, bytes.HasPrefix(ne.Stderr, []byte("plain line 0\nplain line 1\n")), "keeps the head")
	assert.Contains(t, string(ne.Stderr), "...omitted...")
	assert.True(t, bytes.HasSuffix(ne.Stderr, []byte("plain line 19999\nwarning: something odd\nerror: it broke\n")), "keeps the tail")
	assert.Equal(t, 20002, bytes.Count(stderr.Bytes(), []byte("\n")), "Stderr gets every line")
	require.Len(t, events, 2, "only @nix lines are events (the last one without a newline)")
	assert.Equal(t, "error: it broke", events[1].Text)
}
