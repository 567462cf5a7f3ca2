//go:build linux

package thermosexec_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/auroratest/thermosexec"
	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/thermos"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	STARTING = aurora.ScheduleStatus_STARTING
	RUNNING  = aurora.ScheduleStatus_RUNNING
	FINISHED = aurora.ScheduleStatus_FINISHED
	FAILED   = aurora.ScheduleStatus_FAILED
	KILLED   = aurora.ScheduleStatus_KILLED
)

func TestFinishedWithLogsAndStatuses(t *testing.T) {
	e := newExecutor(t)
	id, r := launch(t, e, newJob(proc("hello", "echo hello world; echo oops >&2")), nil)
	u := wait(t, e, id, 10*time.Second)
	assert.Equal(t, FINISHED, u.Status)
	assert.Equal(t, "Task finished.", u.Message)
	assert.Equal(t, []aurora.ScheduleStatus{STARTING, RUNNING, FINISHED}, r.statuses())
	info, ok := e.Task(id)
	require.True(t, ok)
	assert.Equal(t, "hello world\n", readLog(t, info.Sandbox, "hello", 0, "stdout"))
	assert.Equal(t, "oops\n", readLog(t, info.Sandbox, "hello", 0, "stderr"))
	require.Len(t, info.Runs, 1)
	assert.Equal(t, thermosexec.ProcessSuccess, info.Runs[0].State)
	assert.Equal(t, 0, info.Runs[0].ExitCode)
}

// Order constraints are a partial order: a and b run side by side (each
// waits for the other to start), c only after both; with max_concurrency 1
// nothing overlaps.
func TestOrderAndParallelism(t *testing.T) {
	const d = 300 * time.Millisecond
	sleep := "sleep 0.3"
	// rendezvous(me, other) finishes only once other has started: it
	// announces itself with a file and waits for other's, so that a and b
	// both finishing proves they ran at the same time, however loaded the
	// machine (not a comparison of clocks).
	rendezvous := func(me, other string) string {
		return "touch " + me + ".up; i=0; while [ ! -e " + other + ".up ]; do i=$((i+1)); " +
			"if [ $i -gt 3000 ]; then echo '" + other + " never ran while " + me + " did' >&2; exit 1; fi; sleep 0.01; done"
	}
	tests := []struct {
		name    string
		maxConc int
		a, b    string
	}{
		{name: "unlimited", maxConc: 0, a: rendezvous("a", "b"), b: rendezvous("b", "a")},
		{name: "max_concurrency=1", maxConc: 1, a: sleep, b: sleep},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newExecutor(t)
			j := newJob(proc("a", tc.a), proc("b", tc.b), proc("c", sleep))
			j.Task.Constraints = []thermos.Constraint{order("a", "c"), order("b", "c")}
			j.Task.MaxConcurrency = tc.maxConc
			id, _ := launch(t, e, j, nil)
			u := wait(t, e, id, time.Minute)
			require.Equal(t, FINISHED, u.Status, u.Message)
			info, _ := e.Task(id)
			a, b, c := info.RunsOf("a")[0], info.RunsOf("b")[0], info.RunsOf("c")[0]
			for _, r := range []thermosexec.ProcessRun{a, b, c} {
				if r.Process == "c" || tc.maxConc == 1 {
					assert.GreaterOrEqual(t, r.Stop.Sub(r.Start), d, "%s ran %v", r.Process, r.Stop.Sub(r.Start))
				}
			}
			assert.False(t, c.Start.Before(a.Stop), "c started %v before a ended", a.Stop.Sub(c.Start))
			assert.False(t, c.Start.Before(b.Stop), "c started %v before b ended", b.Stop.Sub(c.Start))
			if tc.maxConc == 1 {
				assert.False(t, a.Start.Before(b.Stop) && b.Start.Before(a.Stop), "a %v-%v overlaps b %v-%v", a.Start, a.Stop, b.Start, b.Stop)
			}
		})
	}
}

// A process is retried up to its max_failures, min_duration apart; the task
// fails naming it, and a process ordered after it never runs.
func TestRetriesCountedAndFailureNamed(t *testing.T) {
	e := newExecutor(t)
	e.TimeScale = 20 // min_duration 2 s -> 100 ms
	j := newJob(
		proc("flaky", "echo run; exit 3", func(p *thermos.Process) { p.MaxFailures = 3; p.MinDuration = 2 }),
		proc("after", "echo never"),
	)
	j.Task.Constraints = []thermos.Constraint{order("flaky", "after")}
	id, _ := launch(t, e, j, nil)
	u := wait(t, e, id, 10*time.Second)
	assert.Equal(t, FAILED, u.Status)
	assert.Contains(t, u.Message, `process "flaky" failed (exit status 3) after 3 run(s), max_failures 3`)
	info, _ := e.Task(id)
	runs := info.RunsOf("flaky")
	require.Len(t, runs, 3)
	for i, r := range runs {
		assert.Equal(t, i, r.Run)
		assert.Equal(t, 3, r.ExitCode)
		assert.Equal(t, "run\n", readLog(t, info.Sandbox, "flaky", i, "stdout"))
		if i > 0 {
			gap := r.Start.Sub(runs[i-1].Stop)
			assert.GreaterOrEqual(t, gap, 100*time.Millisecond, "min_duration between runs %d and %d", i-1, i)
		}
	}
	assert.Empty(t, info.RunsOf("after"))
}

// max_failures 0 retries forever; a success ends the retries.
func TestRetryUntilSuccess(t *testing.T) {
	e := newExecutor(t)
	j := newJob(proc("third-time", `n=$(cat n 2>/dev/null || echo 0); echo $((n+1)) > n; [ $n -ge 2 ]`,
		func(p *thermos.Process) { p.MaxFailures = 0 }))
	id, _ := launch(t, e, j, nil)
	assert.Equal(t, FINISHED, wait(t, e, id, 10*time.Second).Status)
	info, _ := e.Task(id)
	runs := info.RunsOf("third-time")
	require.Len(t, runs, 3)
	assert.Equal(t, []thermosexec.ProcessState{thermosexec.ProcessFailed, thermosexec.ProcessFailed, thermosexec.ProcessSuccess},
		[]thermosexec.ProcessState{runs[0].State, runs[1].State, runs[2].State})
}

// Task max_failures: with 2 allowed, one failed process does not fail the
// task.
func TestTaskMaxFailures(t *testing.T) {
	e := newExecutor(t)
	j := newJob(proc("bad", "exit 1"), proc("good", "true"))
	j.Task.MaxFailures = 2
	id, _ := launch(t, e, j, nil)
	assert.Equal(t, FINISHED, wait(t, e, id, 10*time.Second).Status)

	j.Task.MaxFailures = 1
	id, _ = launch(t, e, j, nil)
	u := wait(t, e, id, 10*time.Second)
	assert.Equal(t, FAILED, u.Status)
	assert.Contains(t, u.Message, `process "bad" failed (exit status 1)`)
}

// A daemon is restarted after it exits 0.
func TestDaemonRestarts(t *testing.T) {
	e := newExecutor(t)
	j := newJob(proc("d", "echo tick >> ticks", func(p *thermos.Process) { p.Daemon = true }))
	id, r := launch(t, e, j, nil)
	r.waitFor(t, RUNNING, 5*time.Second)
	require.Eventually(t, func() bool {
		info, _ := e.Task(id)
		return len(info.RunsOf("d")) >= 4
	}, 10*time.Second, 10*time.Millisecond)
	e.Kill(id)
	u := wait(t, e, id, 10*time.Second)
	assert.Equal(t, KILLED, u.Status)
	assert.Equal(t, "Instructed to kill task.", u.Message)
	info, _ := e.Task(id)
	b, err := os.ReadFile(filepath.Join(info.Sandbox, "ticks"))
	require.NoError(t, err)
	succeeded := 0
	for _, run := range info.RunsOf("d") {
		if run.State == thermosexec.ProcessSuccess {
			succeeded++
		}
	}
	assert.GreaterOrEqual(t, succeeded, 3, "the daemon ran again after each success")
	assert.GreaterOrEqual(t, strings.Count(string(b), "tick"), succeeded)
}

// An ephemeral process is not waited for; final processes run after the
// others, in their own order.
func TestEphemeralAndFinal(t *testing.T) {
	e := newExecutor(t)
	j := newJob(
		proc("main", "sleep 0.2; echo main > main.out"),
		proc("sidecar", "exec sleep 60", func(p *thermos.Process) { p.Ephemeral = true }),
		proc("fin1", "cat main.out > fin1.out", func(p *thermos.Process) { p.Final = true }),
		proc("fin2", "cat fin1.out > fin2.out", func(p *thermos.Process) { p.Final = true }),
	)
	j.Task.Constraints = []thermos.Constraint{order("fin1", "fin2")}
	j.Task.FinalizationWait = 500 // 5 s at the test's time scale
	id, _ := launch(t, e, j, nil)
	u := wait(t, e, id, 10*time.Second)
	assert.Equal(t, FINISHED, u.Status)
	info, _ := e.Task(id)
	b, err := os.ReadFile(filepath.Join(info.Sandbox, "fin2.out"))
	require.NoError(t, err)
	assert.Equal(t, "main\n", string(b))
	side := info.RunsOf("sidecar")
	require.Len(t, side, 1)
	assert.Less(t, side[0].Stop.Sub(side[0].Start), 30*time.Second, "the ephemeral process is stopped, not waited for")
	mainRun, fin1 := info.RunsOf("main")[0], info.RunsOf("fin1")[0]
	assert.False(t, fin1.Start.Before(mainRun.Stop))
	assert.False(t, fin1.Start.Before(side[0].Stop), "final processes run once the others are gone")
}

// Killing a task runs its final processes and leaves no process behind,
// even ones started in the background or in a new session.
func TestKillRunsFinalAndLeavesNoProcess(t *testing.T) {
	e := newExecutor(t)
	j := newJob(
		proc("server", "sleep 300 & sleep 301 & setsid sleep 302 & echo started > started; wait"),
		proc("trap", `trap 'echo got TERM > term.out; exit 0' TERM; echo > trap.ready; while :; do sleep 0.05; done`),
		proc("cleanup", "echo cleaned > cleanup.out", func(p *thermos.Process) { p.Final = true }),
	)
	id, r := launch(t, e, j, nil)
	r.waitFor(t, RUNNING, 5*time.Second)
	info, _ := e.Task(id)
	// A process can write its file before the executor has recorded its
	// PID (PID is 0 until cmd.Start returns): wait for both.
	var pgids []int
	require.Eventually(t, func() bool {
		_, err1 := os.Stat(filepath.Join(info.Sandbox, "started"))
		_, err2 := os.Stat(filepath.Join(info.Sandbox, "trap.ready"))
		now, _ := e.Task(id)
		pgids = pgids[:0]
		for _, name := range []string{"server", "trap"} {
			if runs := now.RunsOf(name); len(runs) == 1 && runs[0].PID > 0 {
				pgids = append(pgids, runs[0].PID)
			}
		}
		return err1 == nil && err2 == nil && len(pgids) == 2
	}, 5*time.Second, 10*time.Millisecond)
	require.NotEmpty(t, procsIn(info.Sandbox))

	e.Kill(id)
	u := wait(t, e, id, 15*time.Second)
	assert.Equal(t, KILLED, u.Status)
	b, err := os.ReadFile(filepath.Join(info.Sandbox, "cleanup.out"))
	require.NoError(t, err, "the final process ran on kill")
	assert.Equal(t, "cleaned\n", string(b))
	b, err = os.ReadFile(filepath.Join(info.Sandbox, "term.out"))
	require.NoError(t, err, "SIGTERM came first")
	assert.Equal(t, "got TERM\n", string(b))
	for _, pg := range pgids {
		assert.Empty(t, liveInGroup(pg), "process group %d still has processes", pg)
	}
	assert.Empty(t, procsIn(info.Sandbox), "processes left in the sandbox")
}

// A process that ignores SIGTERM is SIGKILLed after the preemption wait.
func TestKillEscalatesToSIGKILL(t *testing.T) {
	e := newExecutor(t)
	e.PreemptionWait = 30 * time.Second // scaled: 300 ms
	j := newJob(proc("stubborn", `trap '' TERM; echo ready > ready; while :; do sleep 0.05; done`))
	id, r := launch(t, e, j, nil)
	r.waitFor(t, RUNNING, 5*time.Second)
	info, _ := e.Task(id)
	require.Eventually(t, func() bool {
		_, err := os.Stat(filepath.Join(info.Sandbox, "ready"))
		return err == nil
	}, 5*time.Second, 10*time.Millisecond)
	start := time.Now()
	e.Kill(id)
	assert.Equal(t, KILLED, wait(t, e, id, 15*time.Second).Status)
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "SIGKILL only after the preemption wait")
	info, _ = e.Task(id)
	assert.Equal(t, thermosexec.ProcessKilled, info.RunsOf("stubborn")[0].State)
	assert.Empty(t, procsIn(info.Sandbox))
}

// A process serving HTTP on {{thermos.ports[http]}} answers the test.
func TestServesOnAssignedPort(t *testing.T) {
	e := newExecutor(t)
	j := newJob(proc("web", helperCmd(t, "{{thermos.ports[http]}}")))
	ports := freePorts(t, "http")
	id, r := launch(t, e, j, ports)
	r.waitFor(t, RUNNING, 5*time.Second)
	info, _ := e.Task(id)
	url := "http://127.0.0.1:" + strconv.Itoa(int(ports["http"])) + "/"
	var body string
	require.Eventually(t, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == 200
	}, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, "hello from "+info.Sandbox+" home="+info.Sandbox, body)
	assert.Equal(t, int(ports["http"]), info.Ports["http"])
	e.Kill(id)
	assert.Equal(t, KILLED, wait(t, e, id, 10*time.Second).Status)
}

// Run-time templates are bound as Thermos binds them; anything else fails
// the task naming the reference and its field.
func TestTemplates(t *testing.T) {
	e := newExecutor(t)
	ports := freePorts(t, "http")
	j := newJob(proc("echo", "echo {{mesos.instance}} {{mesos.hostname}} {{thermos.task_id}} {{thermos.user}} {{thermos.ports[http]}} {{thermos.ports[aurora]}}"))
	j.Announce = &thermos.Announcer{PrimaryPort: "http", Portmap: map[string]string{"aurora": "http"}}
	id, _ := launchOn(t, e, j, ports, "agent-7", 3)
	require.Equal(t, FINISHED, wait(t, e, id, 10*time.Second).Status)
	info, _ := e.Task(id)
	p := strconv.Itoa(int(ports["http"]))
	assert.Equal(t, "3 agent-7 "+id+" "+taskUser(t, e)+" "+p+" "+p+"\n", readLog(t, info.Sandbox, "echo", 0, "stdout"))

	// An unclosed "{{" stays as written, as Pystachio leaves it.
	id, _ = launchOn(t, e, newJob(proc("echo", "echo '{{mesos.instance' {{mesos.instance}}")), ports, "agent-7", 3)
	require.Equal(t, FINISHED, wait(t, e, id, 10*time.Second).Status)
	info, _ = e.Task(id)
	assert.Equal(t, "{{mesos.instance 3\n", readLog(t, info.Sandbox, "echo", 0, "stdout"))

	tests := []struct {
		name, cmdline, want string
	}{
		{"unknown namespace", "echo {{foo.bar}}", "task.processes[0].cmdline: {{foo.bar}}: unbound template: Thermos binds only"},
		{"unassigned port", "echo {{thermos.ports[admin]}}", `task.processes[0].cmdline: {{thermos.ports[admin]}}: unbound template: port "admin" was not assigned to the task`},
		{"port without index", "echo {{thermos.ports.http}}", "bad port reference, write {{thermos.ports[NAME]}}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, r := launch(t, e, newJob(proc("p", tc.cmdline)), ports)
			u := wait(t, e, id, 10*time.Second)
			assert.Equal(t, FAILED, u.Status)
			assert.Contains(t, u.Message, tc.want)
			assert.Equal(t, []aurora.ScheduleStatus{STARTING, FAILED}, r.statuses())
		})
	}
}

// Processes get only Thermos' environment, and .thermos_profile (written
// by an earlier process, as init_sandbox does) is sourced by later ones.
func TestEnvironmentAndProfile(t *testing.T) {
	t.Setenv("THERMOSEXEC_LEAK", "should not be seen")
	e := newExecutor(t)
	j := newJob(
		proc("init", `echo 'export GREETING=from-profile; export PATH="$HOME/bin:$PATH"' > .thermos_profile; mkdir -p bin; printf '#!/bin/sh\necho tool-ran\n' > bin/tool; chmod +x bin/tool`),
		proc("main", `echo "$GREETING"; tool; env | cut -d= -f1 | sort | tr '\n' ' '; echo; pwd`),
	)
	j.Task.Constraints = []thermos.Constraint{order("init", "main")}
	id, _ := launch(t, e, j, nil)
	require.Equal(t, FINISHED, wait(t, e, id, 10*time.Second).Status)
	info, _ := e.Task(id)
	lines := strings.Split(readLog(t, info.Sandbox, "main", 0, "stdout"), "\n")
	require.GreaterOrEqual(t, len(lines), 4)
	assert.Equal(t, "from-profile", lines[0])
	assert.Equal(t, "tool-ran", lines[1])
	vars := strings.Fields(lines[2])
	for _, v := range []string{"HOME", "USER", "LOGNAME", "PATH", "BASH_ENV", "GREETING"} {
		assert.Contains(t, vars, v)
	}
	assert.NotContains(t, vars, "THERMOSEXEC_LEAK")
	assert.Equal(t, info.Sandbox, lines[3])
}

// Invalid plans fail the task before anything runs.
func TestInvalidPlan(t *testing.T) {
	tests := []struct {
		name string
		job  *thermos.Job
		want string
	}{
		{"cycle", func() *thermos.Job {
			j := newJob(proc("a", "true"), proc("b", "true"))
			j.Task.Constraints = []thermos.Constraint{order("a", "b"), order("b", "a")}
			return j
		}(), "cycle in the process order"},
		{"unknown process", func() *thermos.Job {
			j := newJob(proc("a", "true"))
			j.Task.Constraints = []thermos.Constraint{order("a", "nope")}
			return j
		}(), `task.constraints[0].order ["a" "nope"]`},
		{"after daemon", func() *thermos.Job {
			j := newJob(proc("a", "true", func(p *thermos.Process) { p.Daemon = true }), proc("b", "true"))
			j.Task.Constraints = []thermos.Constraint{order("a", "b")}
			return j
		}(), `process "b" may not depend upon daemon process "a"`},
		{"duplicate name", newJob(proc("a", "true"), proc("a", "false")), `two processes have this name`},
	}
	e := newExecutor(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, _ := launch(t, e, tc.job, nil)
			u := wait(t, e, id, 10*time.Second)
			assert.Equal(t, FAILED, u.Status)
			assert.Contains(t, u.Message, tc.want)
			info, _ := e.Task(id)
			assert.Empty(t, info.Runs)
		})
	}
}

// Logger destinations and rotation.
func TestLogger(t *testing.T) {
	e := newExecutor(t)
	console := new(testenv.Buffer)
	e.Console = console
	j := newJob(
		proc("none", "echo gone", func(p *thermos.Process) { p.Logger = &thermos.Logger{Destination: "none", Mode: "standard"} }),
		proc("both", "echo twice", func(p *thermos.Process) { p.Logger = &thermos.Logger{Destination: "both", Mode: "standard"} }),
		proc("rot", "for i in $(seq 1 50); do echo 0123456789; done", func(p *thermos.Process) {
			p.Logger = &thermos.Logger{Destination: "file", Mode: "rotate", Rotate: &thermos.RotatePolicy{LogSize: 100, Backups: 2}}
		}),
	)
	id, _ := launch(t, e, j, nil)
	require.Equal(t, FINISHED, wait(t, e, id, 10*time.Second).Status)
	info, _ := e.Task(id)
	_, err := os.Stat(filepath.Join(info.Sandbox, ".logs/none/0/stdout"))
	assert.True(t, os.IsNotExist(err), "destination none writes no file")
	assert.Equal(t, "twice\n", readLog(t, info.Sandbox, "both", 0, "stdout"))
	assert.Contains(t, console.String(), "twice\n")
	dir := filepath.Join(info.Sandbox, ".logs/rot/0")
	for _, f := range []string{"stdout", "stdout.1", "stdout.2"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
		assert.LessOrEqual(t, fi.Size(), int64(100), f)
	}
	_, err = os.Stat(filepath.Join(dir, "stdout.3"))
	assert.True(t, os.IsNotExist(err), "only 2 backups are kept")
}

// taskUser is the user e's tasks run as: its RunAs when the executor is
// root (it switches users), else the executor's own user.
func taskUser(t *testing.T, e *thermosexec.Executor) string {
	if os.Geteuid() == 0 && e.RunAs != "" {
		return e.RunAs
	}
	u, err := user.Current()
	require.NoError(t, err)
	return u.Username
}

// A run ended by a signal the executor did not send is lost, not failed:
// Thermos runs it again without counting it against max_failures.
func TestLostRunIsRetried(t *testing.T) {
	e := newExecutor(t)
	j := newJob(proc("p", `echo run >> runs; [ "$(wc -l < runs)" -ge 2 ] || kill -9 $$`))
	id, _ := launch(t, e, j, nil)
	require.Equal(t, FINISHED, wait(t, e, id, 10*time.Second).Status)
	info, _ := e.Task(id)
	runs := info.RunsOf("p")
	require.Len(t, runs, 2)
	assert.Equal(t, thermosexec.ProcessLost, runs[0].State)
	assert.Equal(t, -1, runs[0].ExitCode)
	assert.Equal(t, thermosexec.ProcessSuccess, runs[1].State)
}

// When the context given to Launch is done (the scheduler closing), the
// task is killed.
func TestContextDoneKillsTask(t *testing.T) {
	e := newExecutor(t)
	data, err := thermos.Marshal(newJob(proc("sleep", "exec sleep 60")))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	r := newRecorder()
	e.Launch(ctx, auroratest.LaunchedTask{TaskID: "ctx-task", Host: "agent-1", ExecutorName: "AuroraExecutor", Data: string(data)}, r.report)
	r.waitFor(t, RUNNING, 5*time.Second)
	cancel()
	u := wait(t, e, "ctx-task", 10*time.Second)
	assert.Equal(t, KILLED, u.Status)
	assert.Equal(t, "Told to shut down executor.", u.Message)
	info, _ := e.Task("ctx-task")
	assert.Empty(t, procsIn(info.Sandbox))

	// A second launch of the same task id is refused as LOST.
	r2 := newRecorder()
	e.Launch(t.Context(), auroratest.LaunchedTask{TaskID: "ctx-task", Host: "agent-1", Data: string(data)}, r2.report)
	assert.Equal(t, []aurora.ScheduleStatus{aurora.ScheduleStatus_LOST}, r2.statuses())
}
