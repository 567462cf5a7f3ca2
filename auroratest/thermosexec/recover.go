//go:build linux

package thermosexec

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/internal/proc"
)

// Checkpoints: as Thermos' runner checkpoints each process it forks, so
// that an executor started again re-adopts the task, every task keeps in
// its sandbox the processes it has running: PID (each leads its process
// group) and start time (/proc/PID/stat), so that a reused PID is not
// taken for the process.

const checkpointFile = ".thermos_checkpoint.json"

type checkpoint struct {
	TaskID    string
	Processes []checkpointProc
}

type checkpointProc struct {
	Process   string
	Run       int
	PID       int
	StartTime uint64
}

var _ auroratest.Recoverer = (*Executor)(nil)

// writeCheckpoint records the task's running processes. Errors are
// logged: a task without checkpoint runs on, and is LOST if the scheduler
// restarts.
func (t *task) writeCheckpoint() {
	t.mu.Lock()
	cp := checkpoint{TaskID: t.lt.TaskID}
	for _, r := range t.runs {
		if r.State == ProcessRunning && r.PID > 0 {
			cp.Processes = append(cp.Processes, checkpointProc{Process: r.Process, Run: r.Run, PID: r.PID, StartTime: r.startTime})
		}
	}
	sandbox := t.sandbox
	t.mu.Unlock()
	if sandbox == "" {
		return
	}
	b, _ := json.Marshal(cp)
	path := filepath.Join(sandbox, checkpointFile)
	tmp := path + ".tmp"
	err := os.WriteFile(tmp, b, 0o644)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		t.e.logf("thermosexec: checkpoint", "task", t.lt.TaskID, "error", err.Error())
	}
}

// startTimeOf is the start time of process pid, 0 when unknown.
func startTimeOf(pid int) uint64 {
	p, err := proc.Stat(pid)
	if err != nil {
		return 0
	}
	return p.StartTime
}

// alive reports whether the checkpointed process still runs: same PID,
// same start time, not a zombie.
func (c checkpointProc) alive() bool {
	p, err := proc.Stat(c.PID)
	return err == nil && p.Live() && c.StartTime != 0 && p.StartTime == c.StartTime
}

// Recover implements auroratest.Recoverer. A task this executor holds,
// launched or adopted, is known. One that has ended on its agent (a
// Thermos task whose runner reported a terminal state, a custom task that
// ended) is reported again in that state, with the message
// auroratest.LatestTaskState, as the Mesos master answers an explicit
// reconciliation: a task a recovered backup had RUNNING that has FINISHED
// since is FINISHED in the scheduler. Otherwise the task's sandbox checkpoint is read: if processes it
// recorded still run, the task is adopted, RUNNING, and watched until they
// end or it is killed; if none does (or there is no checkpoint), Recover
// returns false and the scheduler marks the task LOST. An adopted task's
// processes are not this executor's children: when they end on their own
// their exit status is unknown, and the task is FAILED saying so.
// Tasks of custom executors (Custom) keep no checkpoint: the stand-ins run
// in this process, so after a restart those tasks are not known.
func (e *Executor) Recover(ctx context.Context, lt auroratest.LaunchedTask, report func(auroratest.StatusUpdate)) bool {
	e.mu.Lock()
	held, cr := e.tasks[lt.TaskID], e.custom[lt.TaskID]
	e.mu.Unlock()
	if held != nil || cr != nil {
		if u, ended := endedOf(held, cr); ended {
			u.Message = auroratest.LatestTaskState
			report(u)
		}
		return true
	}
	_, root := e.agent(lt)
	sandbox, err := filepath.Abs(filepath.Join(root, safeName(lt.TaskID)))
	if err != nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join(sandbox, checkpointFile))
	if err != nil {
		return false
	}
	var cp checkpoint
	if json.Unmarshal(b, &cp) != nil || cp.TaskID != lt.TaskID {
		return false
	}
	var live []checkpointProc
	for _, p := range cp.Processes {
		if p.alive() {
			live = append(live, p)
		}
	}
	if len(live) == 0 {
		return false
	}
	tk := newTask(e, lt, report)
	tk.sandbox = sandbox
	tk.state = running.String()
	for _, p := range live {
		tk.runs = append(tk.runs, ProcessRun{Process: p.Process, Run: p.Run, State: ProcessRunning, PID: p.PID, ExitCode: -1, startTime: p.StartTime})
	}
	e.mu.Lock()
	if e.tasks == nil {
		e.tasks = map[string]*task{}
	}
	if _, dup := e.tasks[lt.TaskID]; dup {
		e.mu.Unlock()
		return true
	}
	e.tasks[lt.TaskID] = tk
	e.wg.Add(1)
	e.mu.Unlock()
	e.logf("thermosexec: task adopted", "task", lt.TaskID, "processes", len(live))
	go func() {
		defer e.wg.Done()
		tk.watchAdopted(ctx, live)
	}()
	return true
}

// adoptedPoll is how often an adopted task's processes are checked.
const adoptedPoll = 20 * time.Millisecond

// watchAdopted follows an adopted task until its processes end or it is
// killed.
func (t *task) watchAdopted(ctx context.Context, procs []checkpointProc) {
	defer close(t.done)
	tick := time.NewTicker(adoptedPoll)
	defer tick.Stop()
	finish := func(u auroratest.StatusUpdate) {
		t.final = u
		t.send(u.Status, u.Message)
	}
	ctxDone := ctx.Done()
	for {
		select {
		case reason := <-t.killCh:
			t.killAdopted(procs)
			finish(auroratest.StatusUpdate{TaskID: t.lt.TaskID, Status: killed, Message: reason})
			return
		case <-ctxDone:
			t.killAdopted(procs)
			finish(auroratest.StatusUpdate{TaskID: t.lt.TaskID, Status: killed, Message: "Told to shut down executor."})
			return
		case <-tick.C:
			still := 0
			var ended string
			for i, p := range procs {
				if p.alive() {
					still++
					continue
				}
				t.mu.Lock()
				if r := &t.runs[i]; r.State == ProcessRunning {
					r.State, r.Stop = ProcessLost, time.Now()
					ended = r.Process
				}
				t.mu.Unlock()
			}
			if still == 0 {
				t.reapLeftovers()
				finish(auroratest.StatusUpdate{TaskID: t.lt.TaskID, Status: failed,
					Message: fmt.Sprintf("Process %s ended after the executor re-adopted the task; its exit status is unknown.", ended)})
				return
			}
		}
	}
}

// killAdopted SIGTERMs the adopted process groups, gives them the
// preemption wait, then SIGKILLs whatever is left of the task.
func (t *task) killAdopted(procs []checkpointProc) {
	for _, p := range procs {
		if p.alive() {
			_ = syscall.Kill(-p.PID, syscall.SIGTERM)
		}
	}
	deadline := time.Now().Add(t.e.preemptionWait())
	for time.Now().Before(deadline) {
		still := false
		for _, p := range procs {
			still = still || p.alive()
		}
		if !still {
			break
		}
		time.Sleep(adoptedPoll)
	}
	t.reapLeftovers()
	t.mu.Lock()
	for i := range t.runs {
		if t.runs[i].State == ProcessRunning {
			t.runs[i].State, t.runs[i].Stop = ProcessKilled, time.Now()
		}
	}
	t.mu.Unlock()
}
