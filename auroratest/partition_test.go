package auroratest_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/internal/testenv"
)

// agentExec is a NopExecutor that remembers each task's report function,
// so a test can report for a task as its agent would, records the kills it
// is given and, with keepRunning, ignores them (a task slow to die).
type agentExec struct {
	auroratest.NopExecutor
	keepRunning bool

	mu      sync.Mutex
	reports map[string]func(auroratest.StatusUpdate)
	killed  []string
}

func (e *agentExec) Launch(ctx context.Context, t auroratest.LaunchedTask, report func(auroratest.StatusUpdate)) {
	e.mu.Lock()
	if e.reports == nil {
		e.reports = map[string]func(auroratest.StatusUpdate){}
	}
	e.reports[t.TaskID] = report
	e.mu.Unlock()
	e.NopExecutor.Launch(ctx, t, report)
}

func (e *agentExec) Kill(id string) {
	e.mu.Lock()
	e.killed = append(e.killed, id)
	e.mu.Unlock()
	if !e.keepRunning {
		e.NopExecutor.Kill(id)
	}
}

func (e *agentExec) report(id string, st aurora.ScheduleStatus, msg string) {
	e.mu.Lock()
	report := e.reports[id]
	e.mu.Unlock()
	report(auroratest.StatusUpdate{TaskID: id, Status: st, Message: msg})
}

func (e *agentExec) wasKilled(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Contains(e.killed, id)
}

// partitionCluster is two agents, a and b, on a fast clock.
func partitionCluster(t *testing.T, ex auroratest.Executor, dataDir string) *auroratest.Server {
	return twoAgentCluster(t, ex, func(srv *auroratest.Server) { srv.DataDir = dataDir })
}

// twoAgentCluster starts a server with executor ex and two agents, a and b
// (8 CPUs, 8 GiB RAM each), on a fast clock, after configure has set what
// else the test needs; the test's cleanup closes it.
func twoAgentCluster(t *testing.T, ex auroratest.Executor, configure func(*auroratest.Server)) *auroratest.Server {
	srv := auroratest.NewUnstartedServer(ex)
	srv.TimeScale = 1000
	srv.Agents = []auroratest.Agent{
		{Host: "a", Attributes: "host:a", Resources: "cpus:8;mem:8192;disk:10000"},
		{Host: "b", Attributes: "host:b", Resources: "cpus:8;mem:8192;disk:10000"},
	}
	configure(srv)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// taskOf returns the one task of the job's instance 0 with the id, or the
// active one when id is empty, through gorealis.
func taskOf(t *testing.T, r realis.Realis, name, id string) *aurora.ScheduledTask {
	t.Helper()
	tasks, err := r.GetTaskStatus(&aurora.TaskQuery{Role: ptr(role), Environment: ptr(env), JobName: ptr(name)})
	require.NoError(t, err)
	for _, task := range tasks {
		if task.AssignedTask.TaskId == id || id == "" && !slices.Contains(aurora.TERMINAL_STATES, task.Status) {
			return task
		}
	}
	t.Fatalf("job %s: no task %q in %v", name, id, tasks)
	return nil
}

// waitTask polls through gorealis until task id is in state.
func waitTask(t *testing.T, r realis.Realis, name, id string, state aurora.ScheduleStatus) *aurora.ScheduledTask {
	t.Helper()
	var task *aurora.ScheduledTask
	var last aurora.ScheduleStatus
	testenv.Eventually(t, 10*time.Second, 2*time.Millisecond, func() (bool, error) {
		task = taskOf(t, r, name, id)
		last = task.Status
		return last == state, nil
	}, "task %s: want %v, is %v", id, state, &last)
	return task
}

func statuses(task *aurora.ScheduledTask) []aurora.ScheduleStatus {
	var out []aurora.ScheduleStatus
	for _, e := range task.TaskEvents {
		out = append(out, e.Status)
	}
	return out
}

// eventOf returns the task's last event in state.
func eventOf(t *testing.T, task *aurora.ScheduledTask, state aurora.ScheduleStatus) *aurora.TaskEvent {
	t.Helper()
	for i := len(task.TaskEvents) - 1; i >= 0; i-- {
		if e := task.TaskEvents[i]; e.Status == state {
			return e
		}
	}
	t.Fatalf("task %s has no %v event: %v", task.AssignedTask.TaskId, state, statuses(task))
	return nil
}

// runningOnA creates the job with one instance, running on agent a.
func runningOnA(t *testing.T, r realis.Realis, job realis.Job) *aurora.ScheduledTask {
	t.Helper()
	onlyOn(t, r, job, 1)
	task := taskOf(t, r, job.JobKey().Name, "")
	require.Equal(t, "a", task.AssignedTask.SlaveHost)
	return task
}

func TestPartitionDefaultPolicyReschedulesElsewhere(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		policy *aurora.PartitionPolicy
		delay  int64 // ms on the scheduler's clock
	}{
		{"no policy", nil, 0},
		{"reschedule after 60s", &aurora.PartitionPolicy{Reschedule: true, DelaySecs: ptr(int64(60))}, 60000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ex := &agentExec{}
			srv := partitionCluster(t, ex, "")
			r := client(t, srv)
			old := runningOnA(t, r, newJob("part", 1).PartitionPolicy(tc.policy))
			id := old.AssignedTask.TaskId

			require.NoError(t, srv.Partition("a"))
			lost := waitTask(t, r, "part", id, aurora.ScheduleStatus_LOST)
			assert.Equal(t, []aurora.ScheduleStatus{aurora.ScheduleStatus_PENDING, aurora.ScheduleStatus_ASSIGNED,
				aurora.ScheduleStatus_STARTING, aurora.ScheduleStatus_RUNNING, aurora.ScheduleStatus_PARTITIONED,
				aurora.ScheduleStatus_LOST}, statuses(lost))
			assert.Equal(t, int32(1), lost.TimesPartitioned)
			assert.Equal(t, "Task partitioned for too long.", eventOf(t, lost, aurora.ScheduleStatus_LOST).GetMessage())
			assert.Contains(t, eventOf(t, lost, aurora.ScheduleStatus_PARTITIONED).GetMessage(), "is unreachable")
			waited := eventOf(t, lost, aurora.ScheduleStatus_LOST).Timestamp - eventOf(t, lost, aurora.ScheduleStatus_PARTITIONED).Timestamp
			assert.GreaterOrEqual(t, waited, tc.delay, "LOST delay_secs after PARTITIONED")

			// The replacement runs on the other agent; the kill of the lost
			// task waits for its agent to come back.
			waitInstances(t, r, key("part"), 1, aurora.ScheduleStatus_RUNNING)
			repl := taskOf(t, r, "part", "")
			assert.Equal(t, "b", repl.AssignedTask.SlaveHost)
			assert.Equal(t, id, repl.AncestorId)
			assert.Equal(t, int32(0), repl.TimesPartitioned)
			assert.False(t, ex.wasKilled(id), "a kill reached a partitioned agent")

			require.NoError(t, srv.Restore("a"))
			testenv.Eventually(t, 10*time.Second, 2*time.Millisecond, func() (bool, error) { return ex.wasKilled(id), nil },
				"the lost task was not killed when its agent came back")
			assert.Equal(t, aurora.ScheduleStatus_LOST, taskOf(t, r, "part", id).Status)
		})
	}
}

func TestPartitionNoRescheduleComesBackAfterRestore(t *testing.T) {
	t.Parallel()
	ex := &agentExec{}
	srv := partitionCluster(t, ex, "")
	r := client(t, srv)
	job := newJob("keep", 1).PartitionPolicy(&aurora.PartitionPolicy{Reschedule: false})
	id := runningOnA(t, r, job).AssignedTask.TaskId

	for round := int32(1); round <= 2; round++ {
		require.NoError(t, srv.Partition("a"))
		require.NoError(t, srv.Partition("a"), "partitioning twice changes nothing")
		task := waitTask(t, r, "keep", id, aurora.ScheduleStatus_PARTITIONED)
		assert.Equal(t, round, task.TimesPartitioned)
		// Nothing may take its place: no new task, and the scheduler's
		// clock runs on (an hour in 3.6 s would be too slow a test; a
		// placement pass is enough to show nothing is scheduled).
		ids, err := r.GetInstanceIds(key("keep"), aurora.ACTIVE_STATES)
		require.NoError(t, err)
		assert.Len(t, ids, 1)

		require.NoError(t, srv.Restore("a"))
		task = waitTask(t, r, "keep", id, aurora.ScheduleStatus_RUNNING)
		assert.Equal(t, round, task.TimesPartitioned)
		assert.Equal(t, "a", task.AssignedTask.SlaveHost)
	}
	// Aurora compacts RUNNING -> PARTITIONED -> RUNNING cycles.
	task := taskOf(t, r, "keep", id)
	assert.Equal(t, []aurora.ScheduleStatus{aurora.ScheduleStatus_PENDING, aurora.ScheduleStatus_ASSIGNED,
		aurora.ScheduleStatus_STARTING, aurora.ScheduleStatus_RUNNING, aurora.ScheduleStatus_PARTITIONED,
		aurora.ScheduleStatus_RUNNING}, statuses(task))
	assert.False(t, ex.wasKilled(id))
}

func TestPartitionHoldsStatusUpdatesUntilRestore(t *testing.T) {
	t.Parallel()
	ex := &agentExec{}
	srv := partitionCluster(t, ex, "")
	r := client(t, srv)
	job := newJob("held", 1).PartitionPolicy(&aurora.PartitionPolicy{Reschedule: false})
	id := runningOnA(t, r, job).AssignedTask.TaskId

	require.NoError(t, srv.Partition("a"))
	waitTask(t, r, "held", id, aurora.ScheduleStatus_PARTITIONED)
	// The task fails on the cut-off agent: the scheduler hears of it only
	// when the agent is back.
	ex.report(id, aurora.ScheduleStatus_FAILED, "boom")
	assert.Equal(t, aurora.ScheduleStatus_PARTITIONED, taskOf(t, r, "held", id).Status)

	require.NoError(t, srv.Restore("a"))
	failed := waitTask(t, r, "held", id, aurora.ScheduleStatus_FAILED)
	assert.Equal(t, "boom", eventOf(t, failed, aurora.ScheduleStatus_FAILED).GetMessage())
	assert.Equal(t, int32(1), failed.FailureCount)
	waitInstances(t, r, key("held"), 1, aurora.ScheduleStatus_RUNNING)
}

func TestPartitionDuringActionMarksLost(t *testing.T) {
	t.Parallel()
	ex := &agentExec{keepRunning: true}
	srv := partitionCluster(t, ex, "")
	r := client(t, srv)
	job := newJob("action", 1).PartitionPolicy(&aurora.PartitionPolicy{Reschedule: false})

	// KILLING -> PARTITIONED: LOST at once, not rescheduled.
	id := runningOnA(t, r, job).AssignedTask.TaskId
	_, err := r.KillJob(job.JobKey())
	require.NoError(t, err)
	waitTask(t, r, "action", id, aurora.ScheduleStatus_KILLING)
	require.NoError(t, srv.Partition("a"))
	lost := waitTask(t, r, "action", id, aurora.ScheduleStatus_LOST)
	assert.Equal(t, []aurora.ScheduleStatus{aurora.ScheduleStatus_RUNNING, aurora.ScheduleStatus_KILLING,
		aurora.ScheduleStatus_PARTITIONED, aurora.ScheduleStatus_LOST}, statuses(lost)[3:])
	assert.Equal(t, "Action performed on partitioned task, marking as LOST.", eventOf(t, lost, aurora.ScheduleStatus_LOST).GetMessage())
	ids, err := r.GetInstanceIds(job.JobKey(), aurora.ACTIVE_STATES)
	require.NoError(t, err)
	assert.Empty(t, ids, "a killed task is not rescheduled")
	require.NoError(t, srv.Restore("a"))

	// PARTITIONED -> RESTARTING (a restart of a partitioned task, past
	// its policy): LOST at once, and rescheduled.
	ex2 := &agentExec{}
	srv2 := partitionCluster(t, ex2, "")
	r2 := client(t, srv2)
	id = runningOnA(t, r2, job).AssignedTask.TaskId
	require.NoError(t, srv2.Partition("a"))
	waitTask(t, r2, "action", id, aurora.ScheduleStatus_PARTITIONED)
	_, err = r2.RestartInstances(job.JobKey(), 0)
	require.NoError(t, err)
	lost = waitTask(t, r2, "action", id, aurora.ScheduleStatus_LOST)
	assert.Equal(t, []aurora.ScheduleStatus{aurora.ScheduleStatus_PARTITIONED, aurora.ScheduleStatus_RESTARTING,
		aurora.ScheduleStatus_LOST}, statuses(lost)[4:])
	assert.Equal(t, "Action performed on partitioned task, marking as LOST.", eventOf(t, lost, aurora.ScheduleStatus_LOST).GetMessage())
	waitInstances(t, r2, job.JobKey(), 1, aurora.ScheduleStatus_RUNNING)
	assert.Equal(t, "b", taskOf(t, r2, "action", "").AssignedTask.SlaveHost)
}

func TestPartitionAgentOfASharedHost(t *testing.T) {
	t.Parallel()
	srv := auroratest.NewUnstartedServer(nil)
	srv.TimeScale = 1000
	srv.Agents = []auroratest.Agent{
		{Host: "localhost", Attributes: "zone:west", Resources: "cpus:8;mem:8192;disk:10000"},
		{Host: "localhost", Attributes: "zone:east", Resources: "cpus:8;mem:8192;disk:10000"},
	}
	srv.Start()
	t.Cleanup(srv.Close)
	r := client(t, srv)
	job := newJob("shared", 2).PartitionPolicy(&aurora.PartitionPolicy{Reschedule: false}).
		AddLimitConstraint("zone", 1)
	_, err := r.CreateJob(job)
	require.NoError(t, err)
	waitInstances(t, r, job.JobKey(), 2, aurora.ScheduleStatus_RUNNING)
	tasks := srv.Tasks(role, env, "shared")
	require.Len(t, tasks, 2)
	victim := tasks[0].AssignedTask

	require.NoError(t, srv.PartitionAgent(victim.SlaveId))
	waitTask(t, r, "shared", victim.TaskId, aurora.ScheduleStatus_PARTITIONED)
	waitInstances(t, r, job.JobKey(), 1, aurora.ScheduleStatus_RUNNING)
	require.NoError(t, srv.RestoreAgent(victim.SlaveId))
	waitInstances(t, r, job.JobKey(), 2, aurora.ScheduleStatus_RUNNING)

	assert.ErrorIs(t, srv.Partition("nowhere"), auroratest.ErrUnknownAgent)
	assert.ErrorIs(t, srv.RestoreAgent("no-such-id"), auroratest.ErrUnknownAgent)
}

func TestPartitionSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := partitionCluster(t, nil, dir)
	r := client(t, srv)
	job := newJob("stored", 1).PartitionPolicy(&aurora.PartitionPolicy{Reschedule: false})
	id := runningOnA(t, r, job).AssignedTask.TaskId
	require.NoError(t, srv.Partition("a"))
	waitTask(t, r, "stored", id, aurora.ScheduleStatus_PARTITIONED)
	srv.Close()

	// The restarted scheduler still has agent a cut off: the task stays
	// PARTITIONED (the executor's recovery report is held) until Restore.
	srv = partitionCluster(t, nil, dir)
	r = client(t, srv)
	task := waitTask(t, r, "stored", id, aurora.ScheduleStatus_PARTITIONED)
	assert.Equal(t, int32(1), task.TimesPartitioned)
	require.NoError(t, srv.Restore("a"))
	waitTask(t, r, "stored", id, aurora.ScheduleStatus_RUNNING)
}

func TestPartitionAdminEndpoint(t *testing.T) {
	t.Parallel()
	srv := partitionCluster(t, nil, "")
	r := client(t, srv)
	job := newJob("admin", 1).PartitionPolicy(&aurora.PartitionPolicy{Reschedule: false})
	id := runningOnA(t, r, job).AssignedTask.TaskId

	post := func(path string, q url.Values) int {
		t.Helper()
		resp, err := http.PostForm(srv.URL+path, q)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		path string
		q    url.Values
		want int
	}{
		{"/admin/partition", url.Values{}, http.StatusBadRequest},
		{"/admin/partition", url.Values{"host": {"a"}, "agent": {"x"}}, http.StatusBadRequest},
		{"/admin/partition", url.Values{"host": {"nowhere"}}, http.StatusNotFound},
		{"/admin/restore", url.Values{"agent": {"nope"}}, http.StatusNotFound},
	} {
		assert.Equal(t, tc.want, post(tc.path, tc.q), "%s %v", tc.path, tc.q)
	}
	resp, err := http.Get(srv.URL + "/admin/partition?host=a")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	require.Equal(t, http.StatusOK, post("/admin/partition", url.Values{"host": {"a"}}))
	waitTask(t, r, "admin", id, aurora.ScheduleStatus_PARTITIONED)
	require.Equal(t, http.StatusOK, post("/admin/restore", url.Values{"host": {"a"}}))
	waitTask(t, r, "admin", id, aurora.ScheduleStatus_RUNNING)
}
