package auroratest_test

import (
	"context"
	"sort"
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
)

// cronStart is where the cron tests put the scheduler's clock: half a
// minute past midnight, so an hourly schedule fires at 01:00 and only
// when the test advances the clock there.
var cronStart = time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)

// cronServer is a scheduler on the real clock (TimeScale 1) started at
// cronStart: its cron jobs fire when the test calls Advance.
func cronServer(t *testing.T, dir string) *auroratest.Server {
	t.Helper()
	srv := auroratest.NewUnstartedServer(nil)
	srv.StartTime = cronStart
	srv.DataDir = dir
	srv.Start()
	return srv
}

func cronJob(name string, instances int32, schedule string, policy aurora.CronCollisionPolicy) realis.Job {
	return newJob(name, instances).IsService(false).CronSchedule(schedule).CronCollisionPolicy(policy)
}

// jobTasks returns every task of the job, terminal ones included, through
// gorealis, ordered by task id.
func jobTasks(t *testing.T, r realis.Realis, name string) []*aurora.ScheduledTask {
	t.Helper()
	tasks, err := r.GetTaskStatus(&aurora.TaskQuery{Role: ptr(role), Environment: ptr(env), JobName: ptr(name)})
	require.NoError(t, err)
	sort.Slice(tasks, func(i, j int) bool { return tasks[i].AssignedTask.TaskId < tasks[j].AssignedTask.TaskId })
	return tasks
}

// nextCronRun returns the job's nextCronRunMs from getJobSummary.
func nextCronRun(t *testing.T, srv *auroratest.Server, name string) time.Time {
	t.Helper()
	resp, err := adminClient(t, srv.URL).GetJobSummary(context.Background(), role)
	require.NoError(t, err)
	for _, s := range resp.Result_.JobSummaryResult_.Summaries {
		if s.Job.Key.Name == name {
			require.NotNil(t, s.NextCronRunMs, "nextCronRunMs of %s", name)
			return time.UnixMilli(*s.NextCronRunMs).UTC()
		}
	}
	t.Fatalf("getJobSummary has no job %s", name)
	return time.Time{}
}

// TestCronFiresOnScaledClock lets a schedule fire on its own: every
// minute of a clock running 600 times faster than real time, started at
// 00:00:30, so that the first run is at 00:01 (50 ms of real time later).
func TestCronFiresOnScaledClock(t *testing.T) {
	t.Parallel()
	srv := auroratest.NewUnstartedServer(nil)
	srv.TimeScale = 600
	srv.StartTime = cronStart
	srv.Start()
	defer srv.Close()
	r := client(t, srv)
	_, err := r.ScheduleCronJob(cronJob("minutely", 2, "* * * * *", aurora.CronCollisionPolicy_CANCEL_NEW))
	require.NoError(t, err)
	waitInstances(t, r, key("minutely"), 2, aurora.ScheduleStatus_RUNNING)
	for _, task := range jobTasks(t, r, "minutely") {
		pending := time.UnixMilli(task.TaskEvents[0].Timestamp).UTC()
		assert.Equal(t, aurora.ScheduleStatus_PENDING, task.TaskEvents[0].Status)
		assert.False(t, pending.Before(time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)), "run started at %v, before its fire time", pending)
	}
}

// TestCronCollisionPolicies fires an hourly schedule twice by advancing
// the clock: the first run starts the template's instances; at the
// second, KILL_EXISTING kills the running run ("Killed by cronScheduler")
// and starts a new one once the old tasks are gone, and CANCEL_NEW keeps
// the running run and starts nothing.
func TestCronCollisionPolicies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		policy aurora.CronCollisionPolicy
	}{
		{aurora.CronCollisionPolicy_KILL_EXISTING},
		{aurora.CronCollisionPolicy_CANCEL_NEW},
	} {
		t.Run(tc.policy.String(), func(t *testing.T) {
			t.Parallel()
			srv := cronServer(t, "")
			defer srv.Close()
			r := client(t, srv)
			_, err := r.ScheduleCronJob(cronJob("hourly", 2, "0 * * * *", tc.policy))
			require.NoError(t, err)

			// getJobs reports the template with its schedule and policy.
			_, jobs, err := r.GetJobs(role)
			require.NoError(t, err)
			require.Len(t, jobs.Configs, 1)
			assert.Equal(t, "0 * * * *", jobs.Configs[0].GetCronSchedule())
			assert.Equal(t, tc.policy, jobs.Configs[0].CronCollisionPolicy)
			assert.Equal(t, time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC), nextCronRun(t, srv, "hourly"))
			assert.Empty(t, jobTasks(t, r, "hourly"), "nothing runs before 01:00")

			srv.Advance(time.Hour)
			assert.Len(t, jobTasks(t, r, "hourly"), 2, "the 01:00 run was triggered when Advance returned")
			waitInstances(t, r, key("hourly"), 2, aurora.ScheduleStatus_RUNNING)
			first := jobTasks(t, r, "hourly")
			assert.Equal(t, time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC), nextCronRun(t, srv, "hourly"))

			srv.Advance(time.Hour)
			if tc.policy == aurora.CronCollisionPolicy_CANCEL_NEW {
				// The 02:00 trigger has been evaluated: nothing changed.
				assert.Equal(t, taskIDs(first), taskIDs(jobTasks(t, r, "hourly")))
				waitInstances(t, r, key("hourly"), 2, aurora.ScheduleStatus_RUNNING)
				assert.Equal(t, taskIDs(first), taskIDs(jobTasks(t, r, "hourly")))
				return
			}
			waitInstances(t, r, key("hourly"), 2, aurora.ScheduleStatus_KILLED)
			waitInstances(t, r, key("hourly"), 2, aurora.ScheduleStatus_RUNNING)
			var killedAt int64
			old := map[string]bool{}
			for _, id := range taskIDs(first) {
				old[id] = true
			}
			for _, task := range jobTasks(t, r, "hourly") {
				if !old[task.AssignedTask.TaskId] {
					continue
				}
				require.Equal(t, aurora.ScheduleStatus_KILLED, task.Status)
				var msgs []string
				for _, e := range task.TaskEvents {
					if e.Status == aurora.ScheduleStatus_KILLING {
						msgs = append(msgs, e.GetMessage())
					}
				}
				assert.Equal(t, []string{"Killed by cronScheduler"}, msgs)
				killedAt = max(killedAt, task.TaskEvents[len(task.TaskEvents)-1].Timestamp)
			}
			all := jobTasks(t, r, "hourly")
			require.Len(t, all, 4)
			for _, task := range all {
				if !old[task.AssignedTask.TaskId] {
					assert.Equal(t, aurora.ScheduleStatus_RUNNING, task.Status)
					assert.GreaterOrEqual(t, task.TaskEvents[0].Timestamp, killedAt, "the new run starts once the old one is gone")
				}
			}
		})
	}
}

// TestCronRefusals: RUN_OVERLAP and schedules Aurora's CrontabEntry does
// not parse are refused with Aurora's messages; the forms it accepts are
// accepted.
func TestCronRefusals(t *testing.T) {
	t.Parallel()
	srv := cronServer(t, "")
	defer srv.Close()
	r := client(t, srv)

	_, err := r.ScheduleCronJob(cronJob("overlap", 1, "0 * * * *", aurora.CronCollisionPolicy_RUN_OVERLAP))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "The RUN_OVERLAP collision policy has been removed (AURORA-38).")

	for _, tc := range []struct {
		schedule string
		ok       bool
	}{
		{"*/15 * * * *", true},
		{"0 9-17 * * MON-FRI", true},
		{"0 0 1,15 * *", true},
		{"30 4 * jan-mar sun", true},
		{"0-30/10 * * * *", true},
		{"not a schedule", false},
		{"* * * *", false},         // four fields
		{"0 * * * * *", false},     // six (Quartz's seconds)
		{"@hourly", false},         // no descriptors
		{" 0 * * * *", false},      // nothing before the fields
		{"0 0 1 * MON", false},     // both day of the month and day of the week
		{"0 0 * * 7", false},       // Sunday is 0
		{"0 0 ? * *", false},       // Quartz's "don't care"
		{"0 0 L * *", false},       // Quartz's last day
		{"5/10 * * * *", false},    // a skip needs a range or *
		{"0-10/10 * * * *", false}, // the skip must be below the range's end
		{"60 * * * *", false},      // minutes end at 59
		{"0 0 31-1 * *", false},    // an empty range
		{"TZ=UTC 0 * * *", false},  // no time zone
		{"0 0 * * MON#2", false},   // Quartz's nth weekday
		{"*/0 * * * *", false},     // a skip must be positive
	} {
		t.Run(tc.schedule, func(t *testing.T) {
			_, err := r.ScheduleCronJob(cronJob("sched", 1, tc.schedule, aurora.CronCollisionPolicy_KILL_EXISTING))
			if tc.ok {
				require.NoError(t, err)
				_, err = r.DescheduleCronJob(key("sched"))
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "Invalid cron schedule: "+tc.schedule)
		})
	}
}

// TestCronSurvivesRestart: a cron template stored in DataDir is scheduled
// again by the next scheduler on the directory (Aurora's CronLifecycle)
// and fires there.
func TestCronSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := cronServer(t, dir)
	r := client(t, srv)
	_, err := r.ScheduleCronJob(cronJob("hourly", 1, "0 * * * *", aurora.CronCollisionPolicy_CANCEL_NEW))
	require.NoError(t, err)
	srv.Close()

	srv = cronServer(t, dir)
	defer srv.Close()
	r = client(t, srv)
	_, jobs, err := r.GetJobs(role)
	require.NoError(t, err)
	require.Len(t, jobs.Configs, 1)
	assert.Equal(t, "0 * * * *", jobs.Configs[0].GetCronSchedule())
	assert.Equal(t, aurora.CronCollisionPolicy_CANCEL_NEW, jobs.Configs[0].CronCollisionPolicy)
	assert.Equal(t, time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC), nextCronRun(t, srv, "hourly"))
	srv.Advance(time.Hour)
	waitInstances(t, r, key("hourly"), 1, aurora.ScheduleStatus_RUNNING)
}

// TestStartCronJobKillExisting: startCronJob runs the job now with its
// collision policy, as a trigger of its schedule does.
func TestStartCronJobKillExisting(t *testing.T) {
	t.Parallel()
	srv := cronServer(t, "")
	defer srv.Close()
	r := client(t, srv)
	_, err := r.ScheduleCronJob(cronJob("manual", 1, "0 0 * * *", aurora.CronCollisionPolicy_KILL_EXISTING))
	require.NoError(t, err)
	_, err = r.StartCronJob(key("manual"))
	require.NoError(t, err)
	waitInstances(t, r, key("manual"), 1, aurora.ScheduleStatus_RUNNING)
	_, err = r.StartCronJob(key("manual"))
	require.NoError(t, err)
	waitInstances(t, r, key("manual"), 1, aurora.ScheduleStatus_KILLED)
	waitInstances(t, r, key("manual"), 1, aurora.ScheduleStatus_RUNNING)
	assert.Len(t, jobTasks(t, r, "manual"), 2)
}

// TestDescheduleCronJobWhileUpdating: descheduleCronJob is refused with
// JOB_UPDATING_ERROR while the key has an active update, as Aurora's
// assertNotUpdating refuses it before looking for a template; once the
// update is over it answers OK, "not scheduled with cron".
func TestDescheduleCronJobWhileUpdating(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	r := client(t, srv)
	startService(t, r, "web", 2)
	uk := startLongUpdate(t, r, "web", 2)

	_, err := r.DescheduleCronJob(key("web"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Job is currently updating")
	admin := adminClient(t, srv.URL)
	resp, err := admin.DescheduleCronJob(context.Background(), key("web"))
	require.NoError(t, err)
	assert.Equal(t, aurora.ResponseCode_JOB_UPDATING_ERROR, resp.ResponseCode, "gorealis' error hides the code")

	_, err = admin.AbortJobUpdate(context.Background(), uk, "enough")
	require.NoError(t, err)
	waitUpdate(t, r, uk, aurora.JobUpdateStatus_ABORTED)
	resp, err = r.DescheduleCronJob(key("web"))
	require.NoError(t, err)
	assert.Equal(t, aurora.ResponseCode_OK, resp.ResponseCode)
	require.Len(t, resp.Details, 1)
	assert.Equal(t, "Job vagrant/prod/web is not scheduled with cron", resp.Details[0].Message)
}
