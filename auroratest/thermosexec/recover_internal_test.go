//go:build linux

package thermosexec

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/internal/proc"
)

// orphan starts cmdline in the sandbox of task id on agent-1 of e, in
// its own process group as the runner starts processes, and checkpoints
// it as the runner would have before the executor went away.
func orphan(t *testing.T, e *Executor, id, cmdline string, skew uint64) (*exec.Cmd, func()) {
	t.Helper()
	_, root := e.agent(auroratest.LaunchedTask{Host: "agent-1"})
	sandbox := filepath.Join(root, id)
	require.NoError(t, os.MkdirAll(sandbox, 0o755))
	cmd := exec.Command("/bin/sh", "-c", cmdline)
	cmd.Dir = sandbox
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	old := newTask(e, auroratest.LaunchedTask{TaskID: id}, nil)
	old.sandbox = sandbox
	old.runs = []ProcessRun{{Process: "main", State: ProcessRunning, PID: cmd.Process.Pid, startTime: startTimeOf(cmd.Process.Pid) + skew}}
	old.writeCheckpoint()
	return cmd, func() { stdin.Close() }
}

func lt(id string) auroratest.LaunchedTask {
	return auroratest.LaunchedTask{TaskID: id, Host: "agent-1", ExecutorName: "AuroraExecutor"}
}

type updates chan auroratest.StatusUpdate

func (u updates) report(s auroratest.StatusUpdate) { u <- s }

func TestRecoverAdoptsAndKills(t *testing.T) {
	e := &Executor{Root: t.TempDir(), TimeScale: 100}
	defer e.Close()
	cmd, _ := orphan(t, e, "task-a", "sleep 1000", 0)
	up := make(updates, 4)
	require.True(t, e.Recover(t.Context(), lt("task-a"), up.report), "a task whose process runs is adopted")
	info, ok := e.Task("task-a")
	require.True(t, ok)
	require.Len(t, info.Runs, 1)
	assert.Equal(t, cmd.Process.Pid, info.Runs[0].PID)
	assert.Equal(t, "RUNNING", info.State)
	assert.True(t, e.Recover(t.Context(), lt("task-a"), up.report), "an adopted task is known")

	e.Kill("task-a")
	u := <-up
	assert.Equal(t, aurora.ScheduleStatus_KILLED, u.Status)
	err := cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.False(t, proc.Alive(cmd.Process.Pid))
}

func TestRecoverAdoptedProcessEnds(t *testing.T) {
	e := &Executor{Root: t.TempDir(), TimeScale: 100}
	defer e.Close()
	cmd, end := orphan(t, e, "task-b", "read x", 0)
	up := make(updates, 4)
	require.True(t, e.Recover(t.Context(), lt("task-b"), up.report))
	end()
	cmd.Wait() // read fails at end of input
	u := <-up
	assert.Equal(t, aurora.ScheduleStatus_FAILED, u.Status)
	assert.Equal(t, "Process main ended after the executor re-adopted the task; its exit status is unknown.", u.Message)
}

func TestRecoverRefusesUnknown(t *testing.T) {
	e := &Executor{Root: t.TempDir(), TimeScale: 100}
	defer e.Close()
	up := make(updates, 4)
	assert.False(t, e.Recover(t.Context(), lt("no-checkpoint"), up.report), "no sandbox, no checkpoint")

	// A process with the checkpointed PID but another start time is not
	// the task's: the PID was reused.
	orphan(t, e, "task-c", "sleep 1000", 1)
	assert.False(t, e.Recover(t.Context(), lt("task-c"), up.report))
	_, known := e.Task("task-c")
	assert.False(t, known)
	select {
	case u := <-up:
		t.Fatalf("unexpected update %v", u)
	default:
	}
}
