//go:build linux

package thermosexec

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/paypal/gorealis/gen-go/apache/aurora"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/auroratest/fetcher"
)

// A CustomExecutor stands in, in Go, for a custom executor of the
// scheduler's -custom_executor_config (a real one is a Mesos executor
// binary, which the simulated agents cannot run). Register it in
// Executor.Custom under the executor's name: tasks whose
// executorConfig.name is that name are then run by it.
//
// Before Run is called the agent has created the task's sandbox (named
// after the task's executor id, which carries the executor's task_prefix),
// fetched the task's URIs (TaskConfig.mesosFetcherUris) into it and
// reported STARTING. Run runs the task until it ends or ctx is done (the
// task is killed, or the scheduler closes). It reports RUNNING with
// t.Running once the task runs; returning nil makes the task FINISHED, an
// error FAILED with the error's text, and a return after ctx is done
// KILLED.
type CustomExecutor interface {
	Run(ctx context.Context, t *CustomTask) error
}

// CustomExecutorFunc adapts a function to CustomExecutor.
type CustomExecutorFunc func(ctx context.Context, t *CustomTask) error

// Run calls f.
func (f CustomExecutorFunc) Run(ctx context.Context, t *CustomTask) error { return f(ctx, t) }

// DefaultShutdownGracePeriod is how long a killed custom task's commands
// have between SIGTERM and SIGKILL (Mesos' default executor shutdown
// grace period, 5 s).
const DefaultShutdownGracePeriod = 5 * time.Second

// CustomTask is one task given to a CustomExecutor.
type CustomTask struct {
	// LaunchedTask is what the scheduler launched: task id, executor id,
	// ports, executor data and the full TaskConfig (labels are
	// Config.Metadata).
	auroratest.LaunchedTask
	// Sandbox is the task's sandbox directory (MESOS_SANDBOX).
	Sandbox string
	// Fetched lists the task's URIs as fetched into Sandbox.
	Fetched []fetcher.Result
	// User is the role's user the task runs as (Mesos runs a task as its
	// framework's user, which Aurora sets to the job's role).
	User string
	// Stdout and Stderr are the sandbox's stdout and stderr files, where
	// a Mesos executor's output goes.
	Stdout, Stderr io.Writer

	x       *customRun
	running sync.Once
}

// Running reports the task RUNNING (once; later calls do nothing).
func (t *CustomTask) Running(msg string) {
	t.running.Do(func() { t.x.send(running, msg) })
}

// Command returns a command that runs name with args in the sandbox as a
// Mesos executor's child would: working directory the sandbox, an
// environment of PATH, HOME, USER, LOGNAME and the MESOS_ variables
// (MESOS_SANDBOX, MESOS_DIRECTORY, MESOS_EXECUTOR_ID), output to the
// sandbox's stdout and stderr, in its own process group, as the role's
// user when the agent runs as root. When ctx is done the group gets
// SIGTERM and, after the shutdown grace period, SIGKILL.
func (t *CustomTask) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = t.Sandbox
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	cmd.Env = []string{
		"PATH=" + path, "HOME=" + t.Sandbox, "USER=" + t.User, "LOGNAME=" + t.User,
		"MESOS_SANDBOX=" + t.Sandbox, "MESOS_DIRECTORY=" + t.Sandbox, "MESOS_EXECUTOR_ID=" + t.ExecutorID,
	}
	cmd.Stdout, cmd.Stderr = t.Stdout, t.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: t.x.cred}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = t.x.e.shutdownGrace()
	return cmd
}

// customRun is the agent's side of one custom task.
type customRun struct {
	e      *Executor
	lt     auroratest.LaunchedTask
	x      CustomExecutor
	report func(auroratest.StatusUpdate)
	cancel context.CancelFunc
	cred   *syscall.Credential
	done   chan struct{}

	mu      sync.Mutex
	sandbox string
	state   string
	message string
	killReq bool
	final   auroratest.StatusUpdate
	ended   bool
}

func (r *customRun) send(s aurora.ScheduleStatus, msg string) {
	r.mu.Lock()
	if r.ended {
		r.mu.Unlock()
		return
	}
	r.state, r.message = s.String(), msg
	r.mu.Unlock()
	r.e.logf("thermosexec: custom task "+s.String(), "task", r.lt.TaskID, "executor", r.lt.ExecutorName, "message", msg)
	r.report(auroratest.StatusUpdate{TaskID: r.lt.TaskID, Status: s, Message: msg})
}

func (r *customRun) finish(s aurora.ScheduleStatus, msg string) {
	r.send(s, msg)
	r.mu.Lock()
	r.ended = true
	r.final = auroratest.StatusUpdate{TaskID: r.lt.TaskID, Status: s, Message: msg}
	r.mu.Unlock()
}

func (r *customRun) kill() {
	r.mu.Lock()
	r.killReq = true
	r.mu.Unlock()
	r.cancel()
}

func (r *customRun) info() TaskInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	ports := make(map[string]int, len(r.lt.Ports))
	for k, v := range r.lt.Ports {
		ports[k] = int(v)
	}
	return TaskInfo{TaskID: r.lt.TaskID, Host: r.lt.Host, Sandbox: r.sandbox, Ports: ports, State: r.state, Message: r.message}
}

// run prepares the sandbox, fetches the URIs and runs the stand-in.
func (r *customRun) run(ctx context.Context) {
	defer close(r.done)
	defer r.cancel()
	r.send(starting, "Initializing sandbox.")
	if r.x == nil {
		r.finish(failed, fmt.Sprintf("Failed to launch executor %q: no stand-in for it is registered on %s (add one to thermosexec.Executor.Custom)", r.lt.ExecutorName, r.lt.Host))
		return
	}
	t, err := r.prepare(ctx)
	if err != nil {
		r.finish(failed, err.Error())
		return
	}
	err = r.x.Run(ctx, t)
	r.mu.Lock()
	wasKilled := r.killReq
	r.mu.Unlock()
	switch {
	case wasKilled || (ctx.Err() != nil && err != nil):
		r.finish(killed, "Killed by the executor.")
	case err != nil:
		r.finish(failed, err.Error())
	default:
		r.finish(finished, "")
	}
}

// prepare creates the sandbox (owned by the role's user when the agent is
// root), fetches the task's URIs into it and opens its output files.
func (r *customRun) prepare(ctx context.Context) (*CustomTask, error) {
	ru, err := r.e.taskUser(r.lt.Role, r.lt.Host)
	if err != nil {
		return nil, err
	}
	r.cred = ru.cred
	_, root := r.e.agent(r.lt)
	id := r.lt.ExecutorID
	if id == "" {
		id = r.lt.TaskID
	}
	sandbox, err := filepath.Abs(filepath.Join(root, safeName(id)))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(sandbox, 0o755); err != nil {
		return nil, fmt.Errorf("Failed to create the sandbox: %w", err)
	}
	r.mu.Lock()
	r.sandbox = sandbox
	r.mu.Unlock()
	fetched, err := r.e.fetch(ctx, r.lt, sandbox)
	if err != nil {
		return nil, err
	}
	stdout, err := os.Create(filepath.Join(sandbox, "stdout"))
	if err != nil {
		return nil, err
	}
	stderr, err := os.Create(filepath.Join(sandbox, "stderr"))
	if err != nil {
		stdout.Close()
		return nil, err
	}
	go func() {
		<-r.done
		stdout.Close()
		stderr.Close()
	}()
	if r.cred != nil {
		if err := chownTree(sandbox, int(r.cred.Uid), int(r.cred.Gid)); err != nil {
			return nil, fmt.Errorf("Failed to give the sandbox to %s: %w", r.lt.Role, err)
		}
		if dir, ok := unreachable(filepath.Dir(sandbox), r.cred.Uid, r.cred.Gid); !ok {
			return nil, fmt.Errorf("Failed to launch: user %q cannot reach its sandbox: %s is not searchable by it (chmod o+x the agent's directories)", r.lt.Role, dir)
		}
	}
	return &CustomTask{LaunchedTask: r.lt, Sandbox: sandbox, Fetched: fetched, User: ru.name, Stdout: stdout, Stderr: stderr, x: r}, nil
}

// fetch fetches the task's URIs into sandbox with the agent's fetcher, as
// the Mesos agent does before it starts the executor. Failures read as
// Mesos' ("Failed to fetch all URIs ...").
func (e *Executor) fetch(ctx context.Context, lt auroratest.LaunchedTask, sandbox string) ([]fetcher.Result, error) {
	if lt.Config == nil {
		return nil, nil
	}
	var uris []fetcher.URI
	for _, u := range lt.Config.MesosFetcherUris {
		// Aurora sends every job-submitted URI non-executable.
		uris = append(uris, fetcher.URI{Value: u.Value, Extract: u.GetExtract(), Cache: u.GetCache()})
	}
	if len(uris) == 0 {
		return nil, nil
	}
	_, root := e.agent(lt)
	f := e.Fetcher
	if f == nil {
		f = &fetcher.Fetcher{CacheDir: filepath.Join(filepath.Dir(root), "fetcher-cache")}
	}
	res, err := f.Fetch(ctx, sandbox, lt.Role, uris)
	if err != nil {
		return nil, fmt.Errorf("Failed to fetch all URIs for the task: %s", strings.TrimPrefix(err.Error(), fetcher.ErrFetch.Error()+": "))
	}
	return res, nil
}

func (e *Executor) shutdownGrace() time.Duration {
	d := e.ShutdownGracePeriod
	if d <= 0 {
		d = DefaultShutdownGracePeriod
	}
	return d
}

// launchCustom starts a task of a custom executor.
func (e *Executor) launchCustom(ctx context.Context, lt auroratest.LaunchedTask, report func(auroratest.StatusUpdate)) {
	ctx, cancel := context.WithCancel(ctx)
	r := &customRun{e: e, lt: lt, x: e.Custom[lt.ExecutorName], report: report, cancel: cancel, done: make(chan struct{}), state: "PENDING"}
	if !start(e, &e.custom, lt.TaskID, r, report, func() { r.run(ctx) }) {
		cancel()
	}
}

// unreachable returns the first directory from / to dir that uid (in group
// gid) may not search, and false; or "", true.
func unreachable(dir string, uid, gid uint32) (string, bool) {
	var parts []string
	for d := dir; ; d = filepath.Dir(d) {
		parts = append(parts, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	for i := len(parts) - 1; i >= 0; i-- {
		fi, err := os.Stat(parts[i])
		if err != nil {
			return parts[i], false
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			continue
		}
		mode := fi.Mode().Perm()
		switch {
		case st.Uid == uid:
			ok = mode&0o100 != 0
		case st.Gid == gid:
			ok = mode&0o010 != 0
		default:
			ok = mode&0o001 != 0
		}
		if !ok {
			return parts[i], false
		}
	}
	return "", true
}

func chownTree(dir string, uid, gid int) error {
	return filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}
