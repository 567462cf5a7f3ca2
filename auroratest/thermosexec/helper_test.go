//go:build linux

package thermosexec_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/auroratest/thermosexec"
	procfs "github.com/nixrealis/nixrealis/internal/proc"
	"github.com/nixrealis/nixrealis/thermos"
	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary play a service inside a task: a cmdline
// "GO_THERMOSEXEC_HELPER=http <test binary> <port> [health-body]" serves
// HTTP on 127.0.0.1:<port> until /quitquitquit or /abortabortabort.
func TestMain(m *testing.M) {
	switch os.Getenv("GO_THERMOSEXEC_HELPER") {
	case "":
		os.Exit(runTests(m))
	case "http":
		serveHelper(os.Args[1:])
	default:
		fmt.Fprintln(os.Stderr, "unknown helper", os.Getenv("GO_THERMOSEXEC_HELPER"))
		os.Exit(2)
	}
}

// helperExe is a copy of the test binary that the tasks' unprivileged user
// (nobody) can execute, as the go tool builds it in a directory only its
// user can read. TestMain sets it before any test runs.
var helperExe string

// runTests copies the test binary to helperExe and runs the tests.
func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "thermosexec-helper-")
	if err == nil {
		defer os.RemoveAll(dir)
		err = os.Chmod(dir, 0o755)
	}
	var exe string
	if err == nil {
		exe, err = os.Executable()
	}
	var b []byte
	if err == nil {
		b, err = os.ReadFile(exe)
	}
	if err == nil {
		helperExe = filepath.Join(dir, "helper")
		err = os.WriteFile(helperExe, b, 0o755)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot copy the test binary for the tasks' user:", err)
		return 2
	}
	return m.Run()
}

// serveHelper serves / (the process's environment summary), /health
// (args[1], default "ok"), and the lifecycle endpoints, which it records in
// lifecycle.log in its working directory before exiting.
func serveHelper(args []string) {
	port := args[0]
	health := "ok"
	if len(args) > 1 {
		health = args[1]
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	fmt.Println("listening on", ln.Addr())
	quit := make(chan int, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		wd, _ := os.Getwd()
		fmt.Fprintf(w, "hello from %s home=%s", wd, os.Getenv("HOME"))
	})
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, health) })
	record := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			f, _ := os.OpenFile("lifecycle.log", os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
			fmt.Fprintf(f, "%s %s\n", r.Method, r.URL.Path)
			f.Close()
			fmt.Fprint(w, "bye")
			select {
			case quit <- code:
			default: // already quitting
			}
		}
	}
	mux.HandleFunc("/quitquitquit", record(0))
	mux.HandleFunc("/abortabortabort", record(1))
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	code := <-quit
	// Shutdown waits for the lifecycle answer to go out (its handler has
	// returned) before the process exits.
	_ = srv.Shutdown(context.Background())
	os.Exit(code)
}

// helperCmd is a cmdline that runs the test binary as the HTTP helper.
func helperCmd(t testing.TB, args ...string) string {
	t.Helper()
	return "GO_THERMOSEXEC_HELPER=http exec " + strconv.Quote(helperExe) + " " + strings.Join(args, " ")
}

// newJob returns a payload job with the given processes and no health
// check port, ready for changes.
func newJob(procs ...thermos.Process) *thermos.Job {
	j := thermos.NewJob()
	j.Role, j.Environment, j.Name, j.Cluster = "www-data", "test", "job", "devcluster"
	j.Task.Name = "task"
	j.Task.Processes = procs
	j.Task.Resources = &thermos.Resources{CPU: 0.1, RAM: 16 << 20, Disk: 16 << 20}
	return j
}

func proc(name, cmdline string, mod ...func(*thermos.Process)) thermos.Process {
	p := thermos.NewProcess(name, cmdline)
	p.MinDuration = 1
	for _, m := range mod {
		m(&p)
	}
	return p
}

func order(names ...string) thermos.Constraint { return thermos.Constraint{Order: names} }

// recorder collects the status updates of a task.
type recorder struct {
	mu      sync.Mutex
	updates []auroratest.StatusUpdate
	times   []time.Time
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

func (r *recorder) report(u auroratest.StatusUpdate) {
	r.mu.Lock()
	r.updates = append(r.updates, u)
	r.times = append(r.times, time.Now())
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) statuses() []aurora.ScheduleStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []aurora.ScheduleStatus
	for _, u := range r.updates {
		out = append(out, u.Status)
	}
	return out
}

// at returns when status s was first reported (zero if never).
func (r *recorder) at(s aurora.ScheduleStatus) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, u := range r.updates {
		if u.Status == s {
			return r.times[i]
		}
	}
	return time.Time{}
}

// waitFor waits until status s was reported and returns its update.
func (r *recorder) waitFor(t testing.TB, s aurora.ScheduleStatus, timeout time.Duration) auroratest.StatusUpdate {
	t.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		for _, u := range r.updates {
			if u.Status == s {
				r.mu.Unlock()
				return u
			}
		}
		got := fmt.Sprint(r.updates)
		r.mu.Unlock()
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("no %v update within %v; got %s", s, timeout, got)
		}
	}
}

// newExecutor returns an executor with a fast clock whose tasks are all
// killed (and checked for leftovers) at the end of the test.
func newExecutor(t testing.TB) *thermosexec.Executor {
	root := t.TempDir()
	// Tasks run as an unprivileged user (the roles of these tests need
	// not exist), who must reach the sandboxes.
	for _, d := range []string{filepath.Dir(root), root} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e := &thermosexec.Executor{Root: root, TimeScale: 100, PreemptionWait: 5 * time.Minute, RunAs: "nobody"}
	t.Cleanup(e.Close)
	return e
}

// gorealisClient starts auroratest with e as its executor, on the same time
// scale (the scheduler 100 times faster, the executor's durations a
// hundredth) and set up further by configure before it starts (its hosts or
// agents, custom executors), and returns a gorealis client of it; both are
// closed when t ends.
func gorealisClient(t testing.TB, e *thermosexec.Executor, configure func(*auroratest.Server)) realis.Realis {
	t.Helper()
	srv := auroratest.NewUnstartedServer(e)
	srv.TimeScale = 100
	configure(srv)
	srv.Start()
	t.Cleanup(srv.Close)
	r, err := realis.NewRealisClient(srv.ClientOptions()...)
	require.NoError(t, err)
	t.Cleanup(r.Close)
	return r
}

var taskSeq struct {
	sync.Mutex
	n int
}

// launch starts j as instance 0 of a new task on host "agent-1".
func launch(t testing.TB, e *thermosexec.Executor, j *thermos.Job, ports map[string]int32) (string, *recorder) {
	t.Helper()
	return launchOn(t, e, j, ports, "agent-1", 0)
}

func launchOn(t testing.TB, e *thermosexec.Executor, j *thermos.Job, ports map[string]int32, host string, instance int32) (string, *recorder) {
	t.Helper()
	return launchTask(t, e, j, auroratest.LaunchedTask{Instance: instance, Host: host, Ports: ports})
}

// launchTask launches j as lt's instance on lt's agent (Host, AgentID),
// with lt's ports.
func launchTask(t testing.TB, e *thermosexec.Executor, j *thermos.Job, lt auroratest.LaunchedTask) (string, *recorder) {
	t.Helper()
	data, err := thermos.Marshal(j)
	require.NoError(t, err)
	taskSeq.Lock()
	taskSeq.n++
	id := fmt.Sprintf("%s-%s-%s-%d-%d", j.Role, j.Environment, j.Name, lt.Instance, taskSeq.n)
	taskSeq.Unlock()
	r := newRecorder()
	lt.TaskID, lt.Role, lt.Environment, lt.Name = id, j.Role, j.Environment, j.Name
	lt.ExecutorName, lt.Data = "AuroraExecutor", string(data)
	e.Launch(t.Context(), lt, r.report)
	return id, r
}

// wait waits for the task's terminal update.
func wait(t testing.TB, e *thermosexec.Executor, id string, timeout time.Duration) auroratest.StatusUpdate {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	u, err := e.Wait(ctx, id)
	require.NoError(t, err, "task %s did not end", id)
	return u
}

// freePorts allocates n free loopback ports.
func freePorts(t testing.TB, names ...string) map[string]int32 {
	t.Helper()
	out := map[string]int32{}
	for _, n := range names {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		out[n] = int32(ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
	}
	return out
}

func readLog(t testing.TB, sandbox, process string, run int, stream string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sandbox, ".logs", process, strconv.Itoa(run), stream))
	require.NoError(t, err)
	return string(b)
}

// liveInGroup lists the live (not zombie) processes of process group pgid.
func liveInGroup(pgid int) []string {
	var out []string
	ps, _ := procfs.List()
	for _, p := range ps {
		if p.Live() && p.PGID == pgid {
			out = append(out, fmt.Sprintf("%d (%s)", p.PID, p.Comm))
		}
	}
	return out
}

// procsIn lists the live processes whose working directory is under dir
// (a zombie has none).
func procsIn(dir string) []string {
	var out []string
	pids, _ := procfs.PIDs()
	for _, pid := range pids {
		cwd, err := procfs.Cwd(pid)
		if err == nil && (cwd == dir || strings.HasPrefix(cwd, dir+"/")) {
			args, _ := procfs.Cmdline(pid)
			out = append(out, strconv.Itoa(pid)+" "+strings.Join(args, " "))
		}
	}
	return out
}
