//go:build linux

package thermosexec_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestFailureMessageSaysWhy: a failed task's status message names the
// failed process and ends with the last line it printed on stderr, which
// for init_sandbox is its one-line cause.
func TestFailureMessageSaysWhy(t *testing.T) {
	e := newExecutor(t)
	j := newJob(
		proc("init_sandbox", `echo "realising..."; echo "some nix noise" >&2; echo "init_sandbox: disk full: no space left on device while realising /nix/store/x" >&2; exit 13`),
		proc("main", "echo never"),
	)
	j.Task.Constraints = append(j.Task.Constraints, order("init_sandbox", "main"))
	id, _ := launch(t, e, j, nil)
	u := wait(t, e, id, 10*time.Second)
	assert.Equal(t, FAILED, u.Status)
	assert.Contains(t, u.Message, `process "init_sandbox" failed (exit status 13)`)
	assert.Contains(t, u.Message, "; see .logs/init_sandbox/0/stderr: init_sandbox: disk full: no space left on device while realising /nix/store/x")
	assert.NotContains(t, u.Message, "some nix noise")
}

// TestFailureMessageProcessCannotStart: a process whose log directory
// cannot be created never starts; the message says so instead of calling
// it killed by a signal.
func TestFailureMessageProcessCannotStart(t *testing.T) {
	e := newExecutor(t)
	j := newJob(
		proc("spoiler", "rm -rf .logs/victim && touch .logs/victim"),
		proc("victim", "echo never"),
	)
	j.Task.Constraints = append(j.Task.Constraints, order("spoiler", "victim"))
	id, _ := launch(t, e, j, nil)
	u := wait(t, e, id, 10*time.Second)
	assert.Equal(t, FAILED, u.Status)
	assert.Contains(t, u.Message, `process "victim" failed (could not start)`)
	assert.NotContains(t, u.Message, "signal")
}
