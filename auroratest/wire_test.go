package auroratest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/paypal/gorealis/response"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/internal/testenv"
)

func TestProtocols(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		opt  realis.ClientOption
	}{
		{"json", realis.ThriftJSON()},
		{"binary", realis.ThriftBinary()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := unstartedFastServer(nil)
			srv.Cluster = "test-cluster"
			srv.Start()
			defer srv.Close()
			r := client(t, srv, tt.opt)
			resp, err := r.CreateJob(newJob("proto", 2))
			require.NoError(t, err)
			assert.Equal(t, "test-cluster", resp.ServerInfo.ClusterName)
			waitInstances(t, r, key("proto"), 2, aurora.ScheduleStatus_RUNNING)
			resp, err = r.StartJobUpdate(realis.NewDefaultUpdateJob(newJob("proto", 2).RAM(32).TaskConfig()).InstanceCount(2), "")
			require.NoError(t, err)
			waitUpdate(t, r, response.JobUpdateKey(resp), aurora.JobUpdateStatus_ROLLED_FORWARD)
		})
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	srv := unstartedFastServer(nil)
	srv.Username, srv.Password = "aurora", "secret"
	srv.Start()
	defer srv.Close()
	authed := client(t, srv)

	anon, err := realis.NewRealisClient(
		realis.SchedulerUrl(srv.URL),
		realis.BackOff(realis.Backoff{Steps: 2, Duration: 1}),
		realis.SetLogger(realis.NoopLogger{}))
	require.NoError(t, err)
	defer anon.Close()
	wrong, err := realis.NewRealisClient(
		realis.SchedulerUrl(srv.URL), realis.BasicAuth("aurora", "guess"),
		realis.BackOff(realis.Backoff{Steps: 2, Duration: 1}),
		realis.SetLogger(realis.NoopLogger{}))
	require.NoError(t, err)
	defer wrong.Close()

	for _, c := range []realis.Realis{anon, wrong} {
		_, err = c.CreateJob(newJob("auth", 1))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "HTTP Response code: 401", "unauthenticated writes get HTTP 401")
	}

	_, err = authed.CreateJob(newJob("auth", 1))
	require.NoError(t, err)
	waitInstances(t, authed, key("auth"), 1, aurora.ScheduleStatus_RUNNING)

	// Reads stay open.
	ids, err := anon.GetInstanceIds(key("auth"), aurora.ACTIVE_STATES)
	require.NoError(t, err)
	assert.Equal(t, []int32{0}, ids)

	// The audit user is the principal.
	resp, err := authed.StartJobUpdate(realis.NewDefaultUpdateJob(newJob("auth", 1).RAM(32).TaskConfig()).InstanceCount(1).WatchTime(1), "")
	require.NoError(t, err)
	uk := response.JobUpdateKey(resp)
	waitUpdate(t, authed, uk, aurora.JobUpdateStatus_ROLLED_FORWARD)
	d := details(t, authed, uk)
	assert.Equal(t, "aurora", d.Update.Summary.User)
	_, err = authed.KillJob(key("auth"))
	require.NoError(t, err)
	for _, task := range srv.Tasks(role, env, "auth") {
		for _, e := range task.TaskEvents {
			if e.Status == aurora.ScheduleStatus_KILLING && task.AssignedTask.Task.Resources != nil && ram(task.AssignedTask.Task) == 32 {
				assert.Equal(t, "Killed by aurora.\n", e.GetMessage())
			}
		}
	}

	// With authentication on, a bad key is rejected by the authorising
	// interceptor; with it off, by an exception without a message.
	_, err = authed.KillJob(&aurora.JobKey{Role: "vagrant", Environment: "prod", Name: "a b"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Missing or invalid job key from request.")
	open := fastServer(nil)
	defer open.Close()
	_, err = client(t, open).KillJob(&aurora.JobKey{Role: "vagrant", Environment: "prod", Name: "a b"})
	require.Error(t, err)
	assert.Equal(t, "error sending Kill command to Aurora Scheduler: ", err.Error(), "ERROR with an empty message")
}

func TestConcurrentClients(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- func() error {
				r, err := realis.NewRealisClient(srv.ClientOptions()...)
				if err != nil {
					return err
				}
				defer r.Close()
				name := fmt.Sprintf("c%d", i)
				if _, err := r.CreateJob(newJob(name, 2)); err != nil {
					return err
				}
				for {
					ids, err := r.GetInstanceIds(key(name), []aurora.ScheduleStatus{aurora.ScheduleStatus_RUNNING})
					if err != nil {
						return err
					}
					if len(ids) == 2 {
						break
					}
				}
				resp, err := r.StartJobUpdate(realis.NewDefaultUpdateJob(newJob(name, 3).RAM(32).TaskConfig()).InstanceCount(3).WatchTime(10), "")
				if err != nil {
					return err
				}
				m := realis.Monitor{Client: r}
				if _, err := m.JobUpdateStatus(*response.JobUpdateKey(resp), []aurora.JobUpdateStatus{aurora.JobUpdateStatus_ROLLED_FORWARD}, 2e6, 20e9); err != nil {
					return err
				}
				if _, err := r.KillJob(key(name)); err != nil {
					return err
				}
				_, _, err = r.GetJobs(role)
				return err
			}()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for i := range 20 {
		for _, task := range srv.Tasks(role, env, fmt.Sprintf("c%d", i)) {
			assert.NotEqual(t, aurora.ScheduleStatus_RUNNING, task.Status)
		}
	}
}

func TestRestartGivesNewTaskIDs(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	r := client(t, srv)
	startService(t, r, "rs", 2)
	before := map[int32]string{}
	for _, task := range srv.Tasks(role, env, "rs") {
		before[task.AssignedTask.InstanceId] = task.AssignedTask.TaskId
	}
	_, err := r.RestartJob(key("rs"))
	require.NoError(t, err)
	testenv.Eventually(t, 10*time.Second, 2*time.Millisecond, func() (bool, error) {
		tasks, err := r.GetTaskStatus(&aurora.TaskQuery{JobKeys: []*aurora.JobKey{key("rs")}, Statuses: []aurora.ScheduleStatus{aurora.ScheduleStatus_RUNNING}})
		if err != nil || len(tasks) != 2 {
			return false, err
		}
		for _, task := range tasks {
			if task.AncestorId != before[task.AssignedTask.InstanceId] || task.AssignedTask.TaskId == task.AncestorId {
				return false, nil
			}
		}
		return true, nil
	}, "each instance runs a new task whose ancestor is the old one")
	for _, task := range srv.Tasks(role, env, "rs") {
		if task.AssignedTask.TaskId == before[task.AssignedTask.InstanceId] {
			var states []aurora.ScheduleStatus
			for _, e := range task.TaskEvents {
				states = append(states, e.Status)
			}
			assert.Contains(t, states, aurora.ScheduleStatus_RESTARTING)
			assert.Equal(t, aurora.ScheduleStatus_KILLED, task.Status)
		}
	}
}

func TestAddInstancesAndFailTask(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	r := client(t, srv)
	startService(t, r, "grow", 2)
	_, err := r.KillInstances(key("grow"), 0)
	require.NoError(t, err)
	waitInstances(t, r, key("grow"), 1, aurora.ACTIVE_STATES...)
	_, err = r.AddInstances(aurora.InstanceKey{JobKey: key("grow"), InstanceId: 1}, 2)
	require.NoError(t, err)
	waitInstances(t, r, key("grow"), 3, aurora.ScheduleStatus_RUNNING)
	ids, err := r.GetInstanceIds(key("grow"), []aurora.ScheduleStatus{aurora.ScheduleStatus_RUNNING})
	require.NoError(t, err)
	assert.ElementsMatch(t, []int32{1, 2, 3}, ids, "new instances number from the highest active id")

	// A failed service task is rescheduled.
	tasks, err := r.GetTaskStatus(&aurora.TaskQuery{JobKeys: []*aurora.JobKey{key("grow")}, InstanceIds: []int32{2}, Statuses: aurora.ACTIVE_STATES})
	require.NoError(t, err)
	require.Len(t, tasks, 1)
	old := tasks[0].AssignedTask.TaskId
	require.NoError(t, srv.FailTask(old, "boom"))
	require.Error(t, srv.FailTask(old, "again"))
	testenv.Eventually(t, 10*time.Second, 2*time.Millisecond, func() (bool, error) {
		tasks, err := r.GetTaskStatus(&aurora.TaskQuery{JobKeys: []*aurora.JobKey{key("grow")}, InstanceIds: []int32{2}, Statuses: []aurora.ScheduleStatus{aurora.ScheduleStatus_RUNNING}})
		return err == nil && len(tasks) == 1 && tasks[0].AncestorId == old && tasks[0].FailureCount == 1, err
	}, "the failed task of instance 2 was not rescheduled")
	var states []aurora.ScheduleStatus
	for _, task := range srv.Tasks(role, env, "grow") {
		if task.AncestorId == old {
			for _, e := range task.TaskEvents {
				states = append(states, e.Status)
			}
		}
	}
	// PENDING, or THROTTLED if the task ran less than Aurora's flapping
	// threshold (5 min on the scaled clock).
	assert.Contains(t, []aurora.ScheduleStatus{aurora.ScheduleStatus_PENDING, aurora.ScheduleStatus_THROTTLED}, states[0])
}

func TestCron(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	r := client(t, srv)
	job := newJob("nightly", 2).IsService(false).CronSchedule("0 3 * * *")
	_, err := r.ScheduleCronJob(job)
	require.NoError(t, err)
	_, jobs, err := r.GetJobs(role)
	require.NoError(t, err)
	require.Len(t, jobs.Configs, 1)
	assert.Equal(t, "0 3 * * *", jobs.Configs[0].GetCronSchedule())
	_, err = r.CreateJob(newJob("nightly", 1).IsService(false))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Job vagrant/prod/nightly already exists")

	_, err = r.StartCronJob(key("nightly"))
	require.NoError(t, err)
	waitInstances(t, r, key("nightly"), 2, aurora.ScheduleStatus_RUNNING)

	_, err = r.ScheduleCronJob(newJob("nightly", 2).IsService(false).CronSchedule("not a schedule"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Invalid cron schedule: not a schedule")

	_, err = r.DescheduleCronJob(key("nightly"))
	require.NoError(t, err)
	resp, err := r.DescheduleCronJob(key("nightly"))
	require.NoError(t, err)
	assert.Equal(t, "Job vagrant/prod/nightly is not scheduled with cron", resp.Details[0].Message)
}

func TestCloseStopsExecutor(t *testing.T) {
	t.Parallel()
	e := &launchRecorder{}
	srv := fastServer(e)
	r := client(t, srv)
	startService(t, r, "stop", 1)
	srv.Close()
	srv.Close()
	ctxs := e.contexts()
	require.Len(t, ctxs, 1)
	assert.Error(t, ctxs[0].Err(), "the executor's context ends with the server")
	_, err := r.GetTasksWithoutConfigs(&aurora.TaskQuery{})
	assert.Error(t, err, "a closed server answers nothing")
}

func TestFlappingTasksAreThrottled(t *testing.T) {
	t.Parallel()
	// At 100x, Aurora's 5 min flapping threshold is 3 s of real time.
	srv := auroratest.NewUnstartedServer(nil)
	srv.TimeScale = 100
	srv.Start()
	defer srv.Close()
	r := client(t, srv)
	startService(t, r, "flap", 1)
	running := func() *aurora.ScheduledTask {
		t.Helper()
		waitInstances(t, r, key("flap"), 1, aurora.ScheduleStatus_RUNNING)
		tasks, err := r.GetTaskStatus(&aurora.TaskQuery{JobKeys: []*aurora.JobKey{key("flap")}, Statuses: []aurora.ScheduleStatus{aurora.ScheduleStatus_RUNNING}})
		require.NoError(t, err)
		require.Len(t, tasks, 1)
		return tasks[0]
	}
	first := running()
	require.NoError(t, srv.FailTask(first.AssignedTask.TaskId, "crashed"))
	second := running()
	assert.Equal(t, first.AssignedTask.TaskId, second.AncestorId)
	assert.Equal(t, int32(1), second.FailureCount)
	assert.Equal(t, aurora.ScheduleStatus_THROTTLED, second.TaskEvents[0].Status)
	assert.Equal(t, "Rescheduled, penalized for 30000 ms for flapping", second.TaskEvents[0].GetMessage())

	require.NoError(t, srv.FailTask(second.AssignedTask.TaskId, "crashed again"))
	third := running()
	assert.Equal(t, "Rescheduled, penalized for 60000 ms for flapping", third.TaskEvents[0].GetMessage(),
		"the penalty doubles along a chain of flapping ancestors")
	assert.GreaterOrEqual(t, third.TaskEvents[1].Timestamp-third.TaskEvents[0].Timestamp, int64(60000))
}

func TestHistoryIsPruned(t *testing.T) {
	t.Parallel()
	// At a million times real time Aurora's 48 h history threshold passes
	// in 0.2 s.
	srv := auroratest.NewUnstartedServer(nil)
	srv.TimeScale = 1e6
	srv.Start()
	defer srv.Close()
	r := client(t, srv)
	_, err := r.CreateJob(newJob("old", 2).IsService(false))
	require.NoError(t, err)
	waitInstances(t, r, key("old"), 2, aurora.ScheduleStatus_RUNNING)
	_, err = r.KillJob(key("old"))
	require.NoError(t, err)
	waitInstances(t, r, key("old"), 2, aurora.ScheduleStatus_KILLED)
	require.Eventually(t, func() bool { return len(srv.Tasks(role, env, "old")) == 0 }, 10*time.Second, 5*time.Millisecond)
	summary, err := adminClient(t, srv.URL).GetJobSummary(context.Background(), role)
	require.NoError(t, err)
	assert.Empty(t, summary.Result_.JobSummaryResult_.Summaries, "a pruned job is gone")
}
