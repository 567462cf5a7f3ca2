//go:build linux

package thermosexec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/thermos"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

const (
	starting = aurora.ScheduleStatus_STARTING
	running  = aurora.ScheduleStatus_RUNNING
	finished = aurora.ScheduleStatus_FINISHED
	failed   = aurora.ScheduleStatus_FAILED
	killed   = aurora.ScheduleStatus_KILLED
	lost     = aurora.ScheduleStatus_LOST
)

// task is one launched task: its runner goroutine owns the plans and the
// processes; other goroutines talk to it through channels.
type task struct {
	e      *Executor
	lt     auroratest.LaunchedTask
	report func(auroratest.StatusUpdate)

	killCh   chan string // kill requests (reason), buffered
	killOnce sync.Once
	exits    chan exitEvent
	done     chan struct{} // closed when terminal and no process is left
	final    auroratest.StatusUpdate

	// set up by run before any process starts
	job     *thermos.Job
	agent   Agent
	sandbox string
	env     []string
	user    runUser
	procs   map[string]*thermos.Process
	live    map[int]*liveProc // by index into runs
	copiers sync.WaitGroup    // goroutines copying piped output to logs

	mu      sync.Mutex // guards the fields below, read by info()
	ports   map[string]int
	state   string
	message string
	runs    []ProcessRun
}

// liveProc is a started process whose bash has not been reaped.
type liveProc struct {
	name string
	pgid int
	// signalled is set when the runner sent it a signal (cleaning).
	signalled bool
}

type exitEvent struct {
	idx      int
	code     int // -1 when ended by a signal
	signaled bool
	at       time.Time
}

func newTask(e *Executor, lt auroratest.LaunchedTask, report func(auroratest.StatusUpdate)) *task {
	return &task{
		e:      e,
		lt:     lt,
		report: report,
		killCh: make(chan string, 1),
		exits:  make(chan exitEvent, 16),
		done:   make(chan struct{}),
		live:   map[int]*liveProc{},
		state:  "PENDING",
	}
}

func (t *task) kill(reason string) {
	t.killOnce.Do(func() { t.killCh <- reason })
}

func (t *task) info() TaskInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	ports := make(map[string]int, len(t.ports))
	for k, v := range t.ports {
		ports[k] = v
	}
	return TaskInfo{
		TaskID:  t.lt.TaskID,
		Host:    t.lt.Host,
		Sandbox: t.sandbox,
		Ports:   ports,
		State:   t.state,
		Message: t.message,
		Runs:    cloneRuns(t.runs),
	}
}

func (t *task) send(s aurora.ScheduleStatus, msg string) {
	t.mu.Lock()
	t.state, t.message = s.String(), msg
	t.mu.Unlock()
	t.e.logf("thermosexec: task "+s.String(), "task", t.lt.TaskID, "message", msg)
	t.report(auroratest.StatusUpdate{TaskID: t.lt.TaskID, Status: s, Message: msg})
}

// run is the task's runner: STARTING, set-up, the regular plan (ACTIVE),
// CLEANING, FINALIZING, and the terminal report.
func (t *task) run(ctx context.Context) {
	defer close(t.done)
	t.send(starting, "")
	if err := t.setup(); err != nil {
		t.final = auroratest.StatusUpdate{TaskID: t.lt.TaskID, Status: failed, Message: "Task initialization failed: " + err.Error()}
		t.send(failed, t.final.Message)
		return
	}
	// The agent fetches the task's URIs before the executor runs it.
	if _, err := t.e.fetch(ctx, t.lt, t.sandbox); err != nil {
		t.final = auroratest.StatusUpdate{TaskID: t.lt.TaskID, Status: failed, Message: err.Error()}
		t.send(failed, t.final.Message)
		return
	}
	status, msg := t.execute(ctx)
	t.reapLeftovers()
	t.waitCopiers(time.Second)
	t.final = auroratest.StatusUpdate{TaskID: t.lt.TaskID, Status: status, Message: msg}
	t.send(status, msg)
}

// setup decodes the payload, binds the run-time templates, validates the
// plans and creates the sandbox.
func (t *task) setup() error {
	if t.lt.ExecutorName != "" && t.lt.ExecutorName != "AuroraExecutor" {
		return fmt.Errorf("executor %q is not the Thermos executor (AuroraExecutor)", t.lt.ExecutorName)
	}
	j, err := thermos.Unmarshal([]byte(t.lt.Data))
	if err != nil {
		return fmt.Errorf("cannot decode the Thermos payload: %w", err)
	}
	ports := resolvePorts(j, t.lt.Ports)
	agent, root := t.e.agent(t.lt)
	sandbox, err := filepath.Abs(filepath.Join(root, safeName(t.lt.TaskID)))
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.ports = ports
	t.sandbox = sandbox
	t.mu.Unlock()
	ru, err := t.e.taskUser(t.lt.Role, t.lt.Host)
	if err != nil {
		return err
	}
	t.user = ru
	b := &bindings{ports: ports, taskID: t.lt.TaskID, user: ru.name, instance: int(t.lt.Instance), hostname: t.lt.Host}
	if err := resolveJob(j, b); err != nil {
		return err
	}
	t.procs = map[string]*thermos.Process{}
	for i := range j.Task.Processes {
		p := &j.Task.Processes[i]
		if p.Name == "" || strings.HasPrefix(p.Name, ".") || strings.Contains(p.Name, "/") {
			return fmt.Errorf("%w: task.processes[%d].name %q: a process name may not be empty, start with '.' or contain '/'", ErrInvalidTask, i, p.Name)
		}
		if t.procs[p.Name] != nil {
			return fmt.Errorf("%w: task.processes[%d].name %q: two processes have this name", ErrInvalidTask, i, p.Name)
		}
		if p.Logger != nil {
			if err := checkLogger(p.Logger); err != nil {
				return fmt.Errorf("%w: task.processes[%d].logger: %w", ErrInvalidTask, i, err)
			}
		}
		t.procs[p.Name] = p
	}
	if len(t.procs) == 0 {
		return fmt.Errorf("%w: task.processes is empty", ErrInvalidTask)
	}
	t.job = j
	t.agent = agent
	t.env = baseEnv(sandbox, ru.name)
	if agent.Store != "" {
		if err := prepareStore(agent.Store); err != nil {
			return err
		}
		if err := t.e.writeAgentNixConf(agent.Store); err != nil {
			return err
		}
		confDir, err := filepath.Abs(filepath.Join(agent.Store, AgentNixConfDir))
		if err != nil {
			return err
		}
		// The task reaches the store through the agent's nix-daemon (root,
		// the operator's nix.conf), as on a multi-user Nix machine.
		if err := t.e.startDaemon(agent.Store); err != nil {
			return err
		}
		t.env = append(t.env, "NIX_CONF_DIR="+confDir, "NIX_REMOTE=daemon")
	}
	if err := os.MkdirAll(filepath.Join(sandbox, ".logs"), 0o755); err != nil {
		return fmt.Errorf("cannot create the sandbox: %w", err)
	}
	if c := ru.cred; c != nil {
		// As Thermos' executor does: the sandbox belongs to the task's user.
		if err := chownTree(sandbox, int(c.Uid), int(c.Gid)); err != nil {
			return fmt.Errorf("Failed to give the sandbox to %s: %w", ru.name, err)
		}
		if dir, ok := unreachable(filepath.Dir(sandbox), c.Uid, c.Gid); !ok {
			return fmt.Errorf("Failed to launch: user %q cannot reach its sandbox: %s is not searchable by it (chmod o+x the agent's directories)", ru.name, dir)
		}
	}
	return nil
}

// execute runs the plans and returns the terminal status and message.
func (t *task) execute(ctx context.Context) (aurora.ScheduleStatus, string) {
	scale := t.e.scale()
	regular, err := newPlanner(&t.job.Task, false, scale)
	if err == nil {
		var fin *planner
		fin, err = newPlanner(&t.job.Task, true, scale)
		if err == nil {
			return t.runPlans(ctx, regular, fin)
		}
	}
	return failed, "Task initialization failed: " + err.Error()
}

// shutdown is what ends the ACTIVE stage early: a kill or a failed health
// check.
type shutdown struct {
	status aurora.ScheduleStatus
	msg    string
}

func (t *task) runPlans(ctx context.Context, regular, fin *planner) (aurora.ScheduleStatus, string) {
	scale := t.e.scale()
	hctx, stopHealth := context.WithCancel(ctx)
	defer stopHealth()
	healthCh := make(chan healthEvent, 4)
	if !t.startHealth(hctx, healthCh) {
		t.send(running, "No health-check defined, task is assumed healthy.")
	}

	var (
		down        *shutdown
		activeEnded = make(chan struct{})
		escalated   = make(chan struct{})
		deadline    time.Time // preemption deadline once killed
		ctxDone     = ctx.Done()
	)
	startShutdown := func(s shutdown) {
		if down != nil {
			return
		}
		down = &s
		stopHealth()
		go func() {
			t.escalate(activeEnded)
			close(escalated)
		}()
	}
	maxConc := t.job.Task.MaxConcurrency
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()

	// ACTIVE: run the regular plan.
	for {
		now := time.Now()
		if deadline.IsZero() { // the plan runs on during a lifecycle shutdown
			for _, n := range regular.runnable(now) {
				if maxConc > 0 && len(regular.running) >= maxConc {
					break
				}
				t.launch(regular, n)
			}
		}
		if regular.complete() || !t.healthy(regular) || !deadline.IsZero() {
			break
		}
		wait := time.Hour
		if w, ok := regular.minWait(time.Now()); ok && w > 0 {
			wait = w
		}
		resetTimer(timer, wait)
		select {
		case ev := <-t.exits:
			t.exited(regular, ev)
		case <-timer.C:
		case reason := <-t.killCh:
			startShutdown(shutdown{killed, reason})
		case <-ctxDone:
			ctxDone = nil
			startShutdown(shutdown{killed, "Told to shut down executor."})
		case h := <-healthCh:
			if h.running && down == nil {
				t.send(running, "Task is healthy.")
			} else if h.failed {
				startShutdown(shutdown{failed, "Failed health check! " + h.reason})
			}
		case <-escalated:
			escalated = nil
			deadline = time.Now().Add(t.e.preemptionWait())
		}
	}
	close(activeEnded)
	stopHealth()

	outcome, outMsg := finished, "Task finished."
	if !regular.complete() || !t.healthy(regular) {
		outcome, outMsg = failed, t.failureMessage(regular)
	}

	// CLEANING: SIGTERM what still runs, wait until it is gone or the
	// finalization deadline passes.
	if deadline.IsZero() {
		deadline = time.Now().Add(scaled(float64(t.job.Task.FinalizationWait), scale))
	}
	handleKill := func(reason string) {
		if down == nil {
			down = &shutdown{killed, reason}
		}
		if d := time.Now().Add(t.e.preemptionWait()); d.Before(deadline) {
			deadline = d
		}
	}
	// await waits, in CLEANING and FINALIZING, for a process's exit (one
	// of p's, or of none), the timer or a kill.
	await := func(p *planner) {
		select {
		case ev := <-t.exits:
			t.exited(p, ev)
		case <-timer.C:
		case reason := <-t.killCh:
			handleKill(reason)
		case <-ctxDone:
			ctxDone = nil
			handleKill("Told to shut down executor.")
		}
	}
	for _, lp := range t.live {
		lp.signal(sigterm)
	}
	for len(t.live) > 0 && time.Now().Before(deadline) {
		resetTimer(timer, time.Until(deadline))
		await(nil)
	}

	// FINALIZING: SIGKILL leftovers, then run the final processes until
	// they complete or the deadline passes.
	t.killAll()
	if time.Now().Before(deadline) {
		for {
			now := time.Now()
			if now.After(deadline) {
				break
			}
			for _, n := range fin.runnable(now) {
				t.launch(fin, n)
			}
			if fin.complete() || fin.deadlocked() {
				break
			}
			wait := time.Until(deadline)
			if w, ok := fin.minWait(now); ok && w > 0 && w < wait {
				wait = w
			}
			resetTimer(timer, wait)
			await(fin)
		}
		t.killAll()
	}
	<-escalatedOrNil(escalated, down)
	if down != nil {
		return down.status, down.msg
	}
	return outcome, outMsg
}

// escalatedOrNil waits for the lifecycle escalation to end when one was
// started, so no goroutine outlives the task.
func escalatedOrNil(escalated chan struct{}, down *shutdown) <-chan struct{} {
	if down == nil || escalated == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return escalated
}

// healthy is Thermos' is_healthy: not deadlocked and fewer failed
// processes than the task's max_failures (0 = unlimited).
func (t *task) healthy(p *planner) bool {
	mf := t.job.Task.MaxFailures
	return !p.deadlocked() && (mf == 0 || len(p.failed) < mf)
}

// failureMessage names the processes that failed the task.
func (t *task) failureMessage(p *planner) string {
	var parts []string
	for _, n := range p.order {
		if !p.failed[n] {
			continue
		}
		runs := t.info().RunsOf(n)
		last := runs[len(runs)-1]
		why := fmt.Sprintf("exit status %d", last.ExitCode)
		switch {
		case last.PID == 0:
			why = "could not start"
		case last.ExitCode < 0:
			why = "killed by a signal"
		}
		part := fmt.Sprintf("process %q failed (%s) after %d run(s), max_failures %d; see .logs/%s/%d/stderr",
			n, why, len(runs), p.attrs[n].maxFailures, n, last.Run)
		// The cause as the process said it (init_sandbox prints exactly
		// one line naming it).
		if l := lastLine(filepath.Join(t.info().Sandbox, ".logs", n, strconv.Itoa(last.Run), "stderr")); l != "" {
			part += ": " + l
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		var stuck []string
		for _, n := range p.order {
			if !p.finished[n] && !p.failed[n] {
				stuck = append(stuck, strconv.Quote(n))
			}
		}
		return "Task failed: processes can no longer run: " + strings.Join(stuck, ", ")
	}
	return "Task failed: " + strings.Join(parts, "; ")
}

// launch starts process n of plan p; a process that cannot start counts as
// a failed run.
func (t *task) launch(p *planner, n string) {
	p.setRunning(n)
	if err := t.startProcess(t.procs[n]); err != nil {
		t.e.logf("thermosexec: process failed to start", "task", t.lt.TaskID, "process", n, "err", err)
		p.failure(n, time.Now())
	}
}

// exited records the end of a run and, when p is not nil (the plan is still
// being run), updates the plan as Thermos does: success, failure, or a loss
// when a signal we did not send ended it.
func (t *task) exited(p *planner, ev exitEvent) {
	lp := t.live[ev.idx]
	delete(t.live, ev.idx)
	killGroup(lp.pgid) // what the process left behind dies with it
	state := ProcessSuccess
	switch {
	case ev.signaled:
		state = ProcessKilled
	case ev.code != 0:
		state = ProcessFailed
	}
	t.mu.Lock()
	r := &t.runs[ev.idx]
	r.State, r.ExitCode, r.Stop = state, ev.code, ev.at
	t.mu.Unlock()
	t.writeCheckpoint()
	t.e.logf("thermosexec: process "+string(state), "task", t.lt.TaskID, "process", lp.name, "exit", ev.code)
	if p == nil || !p.running[lp.name] {
		return
	}
	switch state {
	case ProcessSuccess:
		p.success(lp.name, ev.at)
	case ProcessFailed:
		p.failure(lp.name, ev.at)
	default:
		t.mu.Lock()
		t.runs[ev.idx].State = ProcessLost
		t.mu.Unlock()
		p.lost(lp.name, ev.at)
	}
}

// killAll SIGKILLs every live process group and waits for the runs to end.
func (t *task) killAll() {
	for _, lp := range t.live {
		lp.signal(sigkill)
	}
	for len(t.live) > 0 {
		t.exited(nil, <-t.exits)
	}
}

func resetTimer(tm *time.Timer, d time.Duration) {
	tm.Stop()
	select {
	case <-tm.C:
	default:
	}
	tm.Reset(max(d, 0))
}

var errNoRoot = errors.New("an agent with its own Nix store needs root (a private mount namespace)")

// waitCopiers waits, at most d, for piped output to reach the logs.
func (t *task) waitCopiers(d time.Duration) {
	c := make(chan struct{})
	go func() {
		t.copiers.Wait()
		close(c)
	}()
	select {
	case <-c:
	case <-time.After(d):
	}
}

// lastLine returns the last non-empty line of the file at path (read from
// its last 4 KiB, cut to 300 bytes), "" if there is none.
func lastLine(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const tail = 4 << 10
	if fi, err := f.Stat(); err == nil && fi.Size() > tail {
		f.Seek(fi.Size()-tail, io.SeekStart)
	}
	b, _ := io.ReadAll(io.LimitReader(f, tail))
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	if len(l) > 300 {
		l = l[:300] + "…"
	}
	return l
}
