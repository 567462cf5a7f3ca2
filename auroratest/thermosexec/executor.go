//go:build linux

package thermosexec

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/paypal/gorealis/gen-go/apache/aurora"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/auroratest/fetcher"
)

// DefaultPreemptionWait is how long Aurora's executor gives a killed task
// (SIGTERM, then final processes) before it SIGKILLs what is left
// (thermos_task_runner.py THERMOS_PREEMPTION_WAIT, one minute).
const DefaultPreemptionWait = time.Minute

// Agent is one simulated Mesos agent.
type Agent struct {
	// SandboxRoot holds one sandbox directory per task, named after the
	// task id. Empty means <Executor.Root>/<host>/sandboxes.
	SandboxRoot string
	// Store is the root of the agent's own Nix store, as given to
	// `nix --store`: its files are under Store/nix/store and its database
	// under Store/nix/var/nix. The task's processes run in a private mount
	// namespace with Store/nix bind-mounted over /nix, so they see this
	// agent's store (and nix-store run by init_sandbox writes into it) at
	// /nix/store. Empty means the host's /nix (and the host's nix.conf).
	// The directory is created when missing.
	//
	// Such an agent has its own nix.conf, Store/etc/nix/nix.conf
	// (AgentNixConfDir), written from Executor.TrustedCaches and
	// TrustedKeys before each task starts; its processes run with
	// NIX_CONF_DIR set to that directory.
	Store string
}

// Executor runs the tasks auroratest assigns as Aurora's Thermos executor
// would, with real processes on this machine. It implements
// auroratest.Executor.
//
// Set the fields before the first Launch and do not change them after.
// The zero value works: sandboxes then go under os.TempDir().
type Executor struct {
	// Root is where agents without a SandboxRoot keep their sandboxes:
	// Root/<host>/sandboxes/<task id>. Empty means
	// os.TempDir()/thermosexec.
	Root string
	// Agents configures the simulated agents, each by its Mesos agent id
	// (LaunchedTask.AgentID, auroratest.AgentID) or by host name
	// (LaunchedTask.Host); an agent id's entry is used before its host
	// name's, so that two agents sharing a host name (as both agents of
	// Aurora's docker-compose devcluster are localhost) can each have a
	// store of its own. An agent listed under neither runs with the host's
	// /nix and the default sandbox root.
	Agents map[string]Agent
	// TimeScale makes the executor's clock run TimeScale times faster than
	// real time, as auroratest.Server.TimeScale does the scheduler's: every
	// duration of the payload (min_duration, finalization_wait, health
	// check intervals and timeouts, lifecycle waits) and PreemptionWait is
	// divided by it, so with TimeScale 100 a 2 s min_duration lasts 20 ms.
	// The processes themselves run in real time. Zero means 1.
	TimeScale float64
	// PreemptionWait is how long a killed task has (after the lifecycle
	// endpoints) for SIGTERM to take effect and its final processes to run
	// before everything is SIGKILLed. 0 means DefaultPreemptionWait.
	PreemptionWait time.Duration
	// Console receives the output of processes whose logger destination is
	// "console" or "both" (Aurora's executor passes it to its own stdout
	// and stderr). Writes to it are serialised. Nil discards it.
	Console io.Writer
	// Logger, when set, gets a line for each process and task transition.
	Logger *slog.Logger
	// Custom holds the stand-ins for custom executors, by executor name
	// (see CustomExecutor). A task of another executor than Thermos with
	// no stand-in here fails to launch.
	Custom map[string]CustomExecutor
	// Fetcher fetches tasks' URIs (TaskConfig.mesosFetcherUris) into
	// their sandboxes, for Thermos and custom executors alike. Nil means
	// a fetcher caching under <agent's directory>/fetcher-cache.
	Fetcher *fetcher.Fetcher
	// TrustedCaches are the binary cache URLs the agents with their own
	// Store substitute from (the substituters of their nix.conf), and
	// TrustedKeys the public keys ("name:base64") whose signatures they
	// accept (trusted-public-keys). They are the operator's choice, as an
	// agent's /etc/nix/nix.conf is on a real cluster: a job's payload
	// cannot add a cache or a key (init_sandbox refuses a cache not
	// listed here). Empty means the agents substitute from nothing.
	// Agents on the host's /nix use the host's nix.conf instead.
	TrustedCaches []string
	TrustedKeys   []string
	// ShutdownGracePeriod is how long a killed custom task's commands
	// have between SIGTERM and SIGKILL; 0 means
	// DefaultShutdownGracePeriod.
	ShutdownGracePeriod time.Duration
	// RunAs, when set, is the one unprivileged user every task runs as
	// instead of its role's user: the operator's mapping (the embedded
	// cluster of the example client maps every role to "nobody"), never
	// the job's. Empty means each task runs as its role's user, who must
	// exist on the agent, as on a real Aurora agent.
	RunAs string
	// UnsafeRunTasksAsRoot lets a task whose user is root (uid 0, e.g.
	// role "root") run as root. Without it such a task fails to launch:
	// tasks never run as root by default.
	UnsafeRunTasksAsRoot bool

	consoleMu sync.Mutex

	mu     sync.Mutex
	tasks  map[string]*task
	custom map[string]*customRun
	wg     sync.WaitGroup

	daemonMu sync.Mutex
	daemons  map[string]*nixDaemon // by absolute Store
}

var _ auroratest.Executor = (*Executor)(nil)

// Launch starts running t in the background and returns at once. It reports
// STARTING, RUNNING once the task is running (and healthy, when it has a
// health check) and one terminal state: FINISHED, FAILED (the message names
// what failed) or KILLED. When ctx is done the task is killed.
func (e *Executor) Launch(ctx context.Context, t auroratest.LaunchedTask, report func(auroratest.StatusUpdate)) {
	if t.ExecutorName != "" && t.ExecutorName != aurora.AURORA_EXECUTOR_NAME {
		e.launchCustom(ctx, t, report)
		return
	}
	tk := newTask(e, t, report)
	start(e, &e.tasks, t.TaskID, tk, report, func() { tk.run(ctx) })
}

// start records run as task id in *tasks (under e.mu) and runs it on a
// goroutine e.wg waits for; a task id already there is reported LOST
// instead, and start returns false.
func start[T any](e *Executor, tasks *map[string]T, id string, run T, report func(auroratest.StatusUpdate), body func()) bool {
	e.mu.Lock()
	if *tasks == nil {
		*tasks = map[string]T{}
	}
	if _, dup := (*tasks)[id]; dup {
		e.mu.Unlock()
		report(auroratest.StatusUpdate{TaskID: id, Status: lost, Message: "Task already running on this executor: " + id})
		return false
	}
	(*tasks)[id] = run
	e.wg.Add(1)
	e.mu.Unlock()
	go func() {
		defer e.wg.Done()
		body()
	}()
	return true
}

// Kill kills the task: the lifecycle endpoints when it has them, then
// SIGTERM, its final processes, and SIGKILL for whatever is left after the
// preemption wait. It returns at once; the task reports KILLED when done.
// Killing an unknown or finished task does nothing.
func (e *Executor) Kill(taskID string) {
	e.mu.Lock()
	tk, cr := e.tasks[taskID], e.custom[taskID]
	e.mu.Unlock()
	if tk != nil {
		tk.kill("Instructed to kill task.")
	}
	if cr != nil {
		cr.kill()
	}
}

// Close kills every task still running and waits until all have ended and
// no process of theirs is left, then stops the agents' nix-daemons.
func (e *Executor) Close() {
	tasks, custom := e.held()
	for _, t := range tasks {
		t.kill("Told to shut down executor.")
	}
	for _, r := range custom {
		r.kill()
	}
	e.wg.Wait()
	e.stopDaemons()
}

// held returns the Thermos and custom tasks launched or adopted so far.
func (e *Executor) held() ([]*task, []*customRun) {
	e.mu.Lock()
	defer e.mu.Unlock()
	tasks := make([]*task, 0, len(e.tasks))
	for _, t := range e.tasks {
		tasks = append(tasks, t)
	}
	custom := make([]*customRun, 0, len(e.custom))
	for _, r := range e.custom {
		custom = append(custom, r)
	}
	return tasks, custom
}

// Wait blocks until the task has reached its terminal state and all its
// processes are gone, or ctx is done. It returns the terminal update.
func (e *Executor) Wait(ctx context.Context, taskID string) (auroratest.StatusUpdate, error) {
	e.mu.Lock()
	tk, cr := e.tasks[taskID], e.custom[taskID]
	e.mu.Unlock()
	if cr != nil {
		select {
		case <-cr.done:
			cr.mu.Lock()
			defer cr.mu.Unlock()
			return cr.final, nil
		case <-ctx.Done():
			return auroratest.StatusUpdate{}, ctx.Err()
		}
	}
	if tk == nil {
		return auroratest.StatusUpdate{}, fmt.Errorf("thermosexec: no task %q was launched", taskID)
	}
	select {
	case <-tk.done:
		return tk.final, nil
	case <-ctx.Done():
		return auroratest.StatusUpdate{}, ctx.Err()
	}
}

// Task returns what the executor knows of a launched task, or false when
// no task with that id was launched.
func (e *Executor) Task(taskID string) (TaskInfo, bool) {
	e.mu.Lock()
	tk, cr := e.tasks[taskID], e.custom[taskID]
	e.mu.Unlock()
	if cr != nil {
		return cr.info(), true
	}
	if tk == nil {
		return TaskInfo{}, false
	}
	return tk.info(), true
}

// TaskInfo is a snapshot of one launched task.
type TaskInfo struct {
	// TaskID is the scheduler's task id.
	TaskID string
	// Host is the agent it runs on.
	Host string
	// Sandbox is the task's sandbox directory (the processes' HOME and
	// working directory); logs are under Sandbox/.logs.
	Sandbox string
	// Ports is the resolved port map the templates were bound with.
	Ports map[string]int
	// State is the last state reported (STARTING, RUNNING, FINISHED, ...).
	State string
	// Message is the message of the last report.
	Message string
	// Runs lists every process run so far, in start order.
	Runs []ProcessRun
}

// ProcessRun is one run of one process.
type ProcessRun struct {
	// Process is the process name.
	Process string
	// Run is the run number (0 for the first), as in .logs/<process>/<run>.
	Run int
	// State is one of the Process* states.
	State ProcessState
	// PID is the process id of the process's bash, which leads its own
	// process group; 0 while the run is being started.
	PID int
	// ExitCode is the exit status, or -1 when a signal ended the run.
	ExitCode int
	// Start and Stop are when the run started and ended (Stop is zero while
	// it runs).
	Start, Stop time.Time

	startTime uint64 // /proc start time of PID, for the checkpoint
}

// ProcessState is the state of a process run, named as in Thermos.
type ProcessState string

// Process run states.
const (
	ProcessRunning ProcessState = "RUNNING"
	ProcessSuccess ProcessState = "SUCCESS"
	ProcessFailed  ProcessState = "FAILED"
	ProcessKilled  ProcessState = "KILLED"
	ProcessLost    ProcessState = "LOST"
)

// RunsOf returns the runs of the named process, in order.
func (ti TaskInfo) RunsOf(process string) []ProcessRun {
	var out []ProcessRun
	for _, r := range ti.Runs {
		if r.Process == process {
			out = append(out, r)
		}
	}
	return out
}

// scale is the factor every payload duration is multiplied by: the
// inverse of TimeScale.
func (e *Executor) scale() float64 {
	if e.TimeScale <= 0 {
		return 1
	}
	return 1 / e.TimeScale
}

func (e *Executor) preemptionWait() time.Duration {
	w := e.PreemptionWait
	if w <= 0 {
		w = DefaultPreemptionWait
	}
	return time.Duration(float64(w) * e.scale())
}

// agent returns the configuration of the agent lt runs on and its
// sandbox root.
func (e *Executor) agent(lt auroratest.LaunchedTask) (Agent, string) {
	host := lt.Host
	a, ok := e.Agents[lt.AgentID]
	if !ok || lt.AgentID == "" {
		a = e.Agents[host]
	}
	root := a.SandboxRoot
	if root == "" {
		base := e.Root
		if base == "" {
			base = filepath.Join(os.TempDir(), "thermosexec")
		}
		root = filepath.Join(base, safeName(host), "sandboxes")
	}
	return a, root
}

func (e *Executor) logf(msg string, args ...any) {
	if e.Logger != nil {
		e.Logger.Info(msg, args...)
	}
}

// safeName makes s usable as one path element.
func safeName(s string) string {
	if s == "" || s == "." || s == ".." {
		return "_" + s
	}
	b := []byte(s)
	for i, c := range b {
		if c == '/' || c == 0 {
			b[i] = '_'
		}
	}
	return string(b)
}

func cloneRuns(r []ProcessRun) []ProcessRun { return slices.Clone(r) }

// console is Console with writes serialised (or io.Discard).
type console struct{ e *Executor }

func (c console) Write(b []byte) (int, error) {
	if c.e.Console == nil {
		return len(b), nil
	}
	c.e.consoleMu.Lock()
	defer c.e.consoleMu.Unlock()
	return c.e.Console.Write(b)
}
