package auroratest_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/internal/testenv"
)

// The tests of this file let a "* * * * *" schedule fire by itself on a
// clock running cronScale times faster than real time (a fire every
// 100 ms), started at cronStart. They poll the scheduler through gorealis
// and check, at every poll, properties that hold however far the clock
// has run between two polls (several fire times may have passed).

const cronScale = 600

// scaledCronServer is a scheduler on a free-running clock cronScale times
// faster than real time, started at cronStart, logging into the buffer
// it returns.
func scaledCronServer(t *testing.T) (*auroratest.Server, *testenv.Buffer) {
	t.Helper()
	log := &testenv.Buffer{}
	srv := auroratest.NewUnstartedServer(nil)
	srv.TimeScale = cronScale
	srv.StartTime = cronStart
	srv.Logger = slog.New(slog.NewTextHandler(log, nil))
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, log
}

// pollCron calls check with the job's tasks until it returns true, failing
// the test after a generous deadline.
func pollCron(t *testing.T, r realis.Realis, name, what string, check func([]*aurora.ScheduledTask) bool) []*aurora.ScheduledTask {
	t.Helper()
	var tasks []*aurora.ScheduledTask
	var ids []string
	testenv.Eventually(t, time.Minute, 5*time.Millisecond, func() (bool, error) {
		tasks = jobTasks(t, r, name)
		ids = taskIDs(tasks)
		return check(tasks) || t.Failed(), nil
	}, "job %s: no %s; tasks: %v", name, what, &ids)
	return tasks
}

// taskSpan is when a task was created (its PENDING event), when the cron
// scheduler killed it (zero if it did not) and when it ended (zero while
// it is active).
type taskSpan struct {
	created, killing, ended int64
	ran                     bool // it has been RUNNING
}

func spanOf(task *aurora.ScheduledTask) taskSpan {
	var s taskSpan
	s.created = task.TaskEvents[0].Timestamp
	for _, e := range task.TaskEvents {
		switch e.Status {
		case aurora.ScheduleStatus_KILLING:
			s.killing = e.Timestamp
		case aurora.ScheduleStatus_RUNNING:
			s.ran = true
		}
	}
	if !activeStatus(task.Status) {
		s.ended = task.TaskEvents[len(task.TaskEvents)-1].Timestamp
	}
	return s
}

func activeStatus(s aurora.ScheduleStatus) bool {
	for _, a := range aurora.ACTIVE_STATES {
		if a == s {
			return true
		}
	}
	return false
}

// checkKillExisting asserts what a KILL_EXISTING cron job's history must
// show at any moment: every run starts at or after the first fire time
// with PENDING tasks; no more than instances tasks are active; every
// kill is the cron scheduler's ("Killed by cronScheduler") and every
// ended task was killed so; and no task is created while a task the cron
// scheduler killed before is still active (a new run starts once the old
// tasks are gone). It returns the spans of the tasks.
func checkKillExisting(t *testing.T, tasks []*aurora.ScheduledTask, instances int) []taskSpan {
	t.Helper()
	firstFire := time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC).UnixMilli()
	spans := make([]taskSpan, len(tasks))
	active := 0
	for i, task := range tasks {
		id := task.AssignedTask.TaskId
		require.Equal(t, aurora.ScheduleStatus_PENDING, task.TaskEvents[0].Status, "first event of %s", id)
		spans[i] = spanOf(task)
		assert.GreaterOrEqual(t, spans[i].created, firstFire, "task %s created before the first fire time", id)
		for _, e := range task.TaskEvents {
			if e.Status == aurora.ScheduleStatus_KILLING {
				assert.Equal(t, "Killed by cronScheduler", e.GetMessage(), "kill of %s", id)
			}
		}
		if activeStatus(task.Status) {
			active++
		} else {
			assert.Equal(t, aurora.ScheduleStatus_KILLED, task.Status, "task %s", id)
			assert.NotZero(t, spans[i].killing, "task %s ended without being killed by the cron scheduler", id)
		}
	}
	assert.LessOrEqual(t, active, instances, "active tasks: runs overlap")
	for i, a := range spans {
		if a.killing == 0 {
			continue
		}
		for j, b := range spans {
			if b.created > a.killing && (a.ended == 0 || b.created < a.ended) {
				t.Errorf("task %s was created at %d while %s, killed at %d, was still active (ended %d)",
					tasks[j].AssignedTask.TaskId, b.created, tasks[i].AssignedTask.TaskId, a.killing, a.ended)
			}
		}
	}
	return spans
}

// TestCronKillExistingOnScaledClock: with KILL_EXISTING, a fire while the
// previous run is active kills its tasks ("Killed by cronScheduler") and
// starts the new run once they are gone; nothing moves the clock but
// time.
func TestCronKillExistingOnScaledClock(t *testing.T) {
	t.Parallel()
	const instances = 2
	srv, log := scaledCronServer(t)
	r := client(t, srv)
	_, err := r.ScheduleCronJob(cronJob("minutely", instances, "* * * * *", aurora.CronCollisionPolicy_KILL_EXISTING))
	require.NoError(t, err)

	pollCron(t, r, "minutely", "run killed and followed by a running one", func(tasks []*aurora.ScheduledTask) bool {
		spans := checkKillExisting(t, tasks, instances)
		for _, a := range spans {
			if a.killing == 0 || a.ended == 0 {
				continue
			}
			for _, b := range spans {
				if b.created >= a.ended && b.ran {
					return true
				}
			}
		}
		return false
	})
	assert.Contains(t, log.String(), "cron triggered for vagrant/prod/minutely with policy KILL_EXISTING: ", "a fire found the previous run active")
}

// TestCronCancelNewOnScaledClock: with CANCEL_NEW, fires while the first
// run is active start nothing: once a later fire time has passed
// (nextCronRunMs moved on) and the scheduler has evaluated a fire that
// found the run active, the job still has exactly the first run's tasks,
// RUNNING.
func TestCronCancelNewOnScaledClock(t *testing.T) {
	t.Parallel()
	const instances = 2
	srv, log := scaledCronServer(t)
	r := client(t, srv)
	_, err := r.ScheduleCronJob(cronJob("minutely", instances, "* * * * *", aurora.CronCollisionPolicy_CANCEL_NEW))
	require.NoError(t, err)

	first := pollCron(t, r, "minutely", "first run", func(tasks []*aurora.ScheduledTask) bool { return len(tasks) > 0 })
	require.Len(t, first, instances, "a run inserts all its instances at once")
	firstFire := time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC).UnixMilli()
	for _, task := range first {
		assert.GreaterOrEqual(t, task.TaskEvents[0].Timestamp, firstFire, "run started before its fire time")
	}
	// The run is the first fire's: no earlier fire time exists, and no
	// later one starts a run while it is active.
	next := nextCronRun(t, srv, "minutely")
	const collision = "cron triggered for vagrant/prod/minutely with policy CANCEL_NEW: 2 active tasks"
	pollCron(t, r, "minutely", "later fire evaluated", func(tasks []*aurora.ScheduledTask) bool {
		assert.Equal(t, taskIDs(first), taskIDs(tasks), "only the first run's tasks exist")
		for _, task := range tasks {
			assert.True(t, activeStatus(task.Status), "task %s is %v", task.AssignedTask.TaskId, task.Status)
		}
		return strings.Contains(log.String(), collision) && nextCronRun(t, srv, "minutely").After(next)
	})
	waitInstances(t, r, key("minutely"), instances, aurora.ScheduleStatus_RUNNING)
	assert.Equal(t, taskIDs(first), taskIDs(jobTasks(t, r, "minutely")), "only the first run's tasks exist")
}
