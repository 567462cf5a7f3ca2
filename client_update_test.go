package nixrealis_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/job"
)

func TestServiceUpdateLifecycle(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv.ClientOptions())
	ctx := ctxFor(t, 60*time.Second)

	created, err := c.Create(ctx, helloService("echo v1; sleep 1000", 2))
	require.NoError(t, err)
	require.NotNil(t, created.Update, "a service is created through an update")

	// Unchanged: a successful no-op.
	res, err := c.Update(ctx, helloService("echo v1; sleep 1000", 2))
	require.NoError(t, err)
	assert.True(t, res.NoOp)

	d, err := c.Diff(ctx, helloService("echo v1; sleep 1000", 2))
	require.NoError(t, err)
	assert.False(t, d.Changed, d.Text)

	// Changed cmdline: diff shows it, the update rolls forward.
	d, err = c.Diff(ctx, helloService("echo v2; sleep 1000", 3))
	require.NoError(t, err)
	assert.True(t, d.Changed)
	assert.Contains(t, d.Text, "-")
	assert.Contains(t, d.Text, "echo v2")
	assert.Contains(t, d.Text, "would add 2")
	assert.Equal(t, []int32{2}, d.Added)
	assert.Empty(t, d.Removed)
	assert.Equal(t, []nixrealis.Change{{Path: "instanceCount", Old: json.Number("2"), New: json.Number("3")}}, d.Changes)
	if assert.Len(t, d.Configs, 1, "both running instances have the v1 config") {
		assert.Equal(t, []int32{0, 1}, d.Configs[0].Instances)
		assert.Equal(t, []nixrealis.Change{{Path: "executorConfig.data.task.processes[0].cmdline", Old: "echo v1; sleep 1000", New: "echo v2; sleep 1000"}}, d.Configs[0].Changes)
		assert.Contains(t, d.Text, d.Configs[0].Unified)
	}

	res, err = c.Update(ctx, helloService("echo v2; sleep 1000", 2))
	require.NoError(t, err)
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_FORWARD, res.Status)
	require.NotNil(t, res.Key)
	info, err := c.UpdateInfo(ctx, *res.Key)
	require.NoError(t, err)
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_FORWARD, info.Update.Summary.State.Status)

	d, err = c.Diff(ctx, helloService("echo v2; sleep 1000", 2))
	require.NoError(t, err)
	assert.False(t, d.Changed, d.Text)

	// A failing update rolls back and says so.
	res, err = c.Update(ctx, helloService("exit 1", 2))
	require.Error(t, err)
	assert.ErrorIs(t, err, nixrealis.ErrUpdateFailed)
	require.NotNil(t, res)
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_BACK, res.Status)
	d, err = c.Diff(ctx, helloService("echo v2; sleep 1000", 2))
	require.NoError(t, err)
	assert.False(t, d.Changed, "after the rollback the v2 config runs again: %s", d.Text)

	// Restart replaces every task.
	before := activeTasks(t, srv)
	require.NoError(t, c.Restart(ctx, testKey, nil))
	after := activeTasks(t, srv)
	require.Len(t, after, 2)
	for _, a := range after {
		for _, b := range before {
			assert.NotEqual(t, b.AssignedTask.TaskId, a.AssignedTask.TaskId)
		}
		assert.Equal(t, aurora.ScheduleStatus_RUNNING, a.Status)
	}

	require.NoError(t, c.Kill(ctx, testKey, nil))
}

func TestKillWithActiveUpdate(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv.ClientOptions())
	ctx := ctxFor(t, 60*time.Second)
	_, err := c.Create(ctx, helloService("echo v1; sleep 1000", 2))
	require.NoError(t, err)

	res, err := c.Update(ctx, helloService("echo v2; sleep 1000", 2), nixrealis.NoWait())
	require.NoError(t, err)
	require.NotNil(t, res.Key)
	require.NoError(t, c.Pause(ctx, *res.Key, nixrealis.Message("hold")))

	err = c.Kill(ctx, testKey, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, nixrealis.ErrUpdateInProgress)
	assert.Contains(t, err.Error(), res.Key.ID)

	// Another update meanwhile is refused, saying why.
	_, err = c.Update(ctx, helloService("echo v3; sleep 1000", 2))
	assert.ErrorIs(t, err, nixrealis.ErrUpdateInProgress)

	st, err := c.Status(ctx, testKey)
	require.NoError(t, err)
	require.NotNil(t, st.ActiveUpdate)
	assert.Equal(t, res.Key.ID, st.ActiveUpdate.ID)

	require.NoError(t, c.Kill(ctx, testKey, nil, nixrealis.AbortActiveUpdate()))
	assert.Empty(t, activeTasks(t, srv))
}

func TestCronJob(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv.ClientOptions())
	ctx := ctxFor(t, 30*time.Second)
	j := helloJob("echo nightly", 1).WithCron("15 3 * * *").WithCronCollisionPolicy(job.CancelNew)
	created, err := c.Create(ctx, j)
	require.NoError(t, err)
	assert.Nil(t, created.Update)

	r, err := realis.NewRealisClient(srv.ClientOptions()...)
	require.NoError(t, err)
	defer r.Close()
	_, res, err := r.GetJobs(testKey.Role)
	require.NoError(t, err)
	require.Len(t, res.Configs, 1)
	require.NotNil(t, res.Configs[0].CronSchedule)
	assert.Equal(t, "15 3 * * *", *res.Configs[0].CronSchedule)
	assert.Equal(t, aurora.CronCollisionPolicy_CANCEL_NEW, res.Configs[0].CronCollisionPolicy)
	assert.Empty(t, activeTasks(t, srv), "nothing runs before the schedule fires")

	d, err := c.Diff(ctx, j)
	require.NoError(t, err)
	assert.False(t, d.Changed, d.Text)
	d, err = c.Diff(ctx, j.WithCron("30 4 * * *"))
	require.NoError(t, err)
	assert.True(t, d.Changed)
	assert.Contains(t, d.Text, `cron schedule: -"15 3 * * *" +"30 4 * * *"`)
	assert.Equal(t, []nixrealis.Change{{Path: "cronSchedule", Old: "15 3 * * *", New: "30 4 * * *"}}, d.Changes)
	if assert.Len(t, d.Configs, 1, "the template's payload carries the schedule") {
		assert.Nil(t, d.Configs[0].Instances, "a cron template runs no instances")
		assert.Equal(t, []nixrealis.Change{{Path: "executorConfig.data.cron_schedule", Old: "15 3 * * *", New: "30 4 * * *"}}, d.Configs[0].Changes)
	}

	upd, err := c.Update(ctx, j.WithCron("30 4 * * *"))
	require.NoError(t, err)
	assert.Nil(t, upd.Key)
	d, err = c.Diff(ctx, j.WithCron("30 4 * * *"))
	require.NoError(t, err)
	assert.False(t, d.Changed, d.Text)

	require.NoError(t, c.Kill(ctx, testKey, nil))
	assert.Equal(t, 0, jobCount(t, srv), "killing a cron job deschedules it")
}

func TestUpdateControls(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv.ClientOptions())
	ctx := ctxFor(t, 60*time.Second)
	_, err := c.Create(ctx, helloService("echo v1; sleep 1000", 2))
	require.NoError(t, err)

	// The updates to pause watch their one batch for an hour (3.6 s on the
	// scaled clock), so each is still rolling when Pause arrives, however
	// slowly the loaded machine runs this goroutine.
	slow := job.DefaultUpdate()
	slow.Watch = new(time.Hour)
	slow.BatchSize = 2

	// Pause, resume, follow to the end.
	res, err := c.Update(ctx, helloService("echo v2; sleep 1000", 2).WithUpdate(slow), nixrealis.NoWait(), nixrealis.Message("v2"))
	require.NoError(t, err)
	require.NoError(t, c.Pause(ctx, *res.Key, nixrealis.Message("hold")))
	info, err := c.UpdateInfo(ctx, *res.Key)
	require.NoError(t, err)
	assert.Equal(t, aurora.JobUpdateStatus_ROLL_FORWARD_PAUSED, info.Update.Summary.State.Status)
	require.NoError(t, c.Resume(ctx, *res.Key, nixrealis.Message("go")))
	info, err = c.UpdateInfo(ctx, *res.Key)
	require.NoError(t, err)
	var msgs []string
	for _, ev := range info.UpdateEvents {
		msgs = append(msgs, ev.GetMessage())
	}
	assert.Subset(t, msgs, []string{"v2", "hold", "go"}, "Message reaches the scheduler for Update, Pause and Resume")
	res, err = c.Follow(ctx, *res.Key)
	require.NoError(t, err)
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_FORWARD, res.Status)

	// Roll back a paused update.
	res, err = c.Update(ctx, helloService("echo v3; sleep 1000", 2).WithUpdate(slow), nixrealis.NoWait())
	require.NoError(t, err)
	require.NoError(t, c.Pause(ctx, *res.Key, nixrealis.Message("hold")))
	require.NoError(t, c.Rollback(ctx, *res.Key, nixrealis.Message("no")))
	res, err = c.Follow(ctx, *res.Key)
	assert.ErrorIs(t, err, nixrealis.ErrUpdateFailed)
	require.NotNil(t, res)
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_BACK, res.Status)

	// An update that waits for pulses goes on only while it gets them.
	u := job.DefaultUpdate()
	u.Watch = new(5 * time.Second)
	u.PulseInterval = time.Minute
	pulsed := helloService("echo v4; sleep 1000", 2).WithUpdate(u)
	res, err = c.Update(ctx, pulsed, nixrealis.NoWait())
	require.NoError(t, err)
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = c.Follow(short, *res.Key)
	assert.ErrorIs(t, err, nixrealis.ErrTimeout, "without pulses the update blocks")
	info, err = c.UpdateInfo(ctx, *res.Key)
	require.NoError(t, err)
	assert.Equal(t, aurora.JobUpdateStatus_ROLL_FORWARD_AWAITING_PULSE, info.Update.Summary.State.Status)

	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			if err := c.Pulse(ctx, *res.Key); err != nil {
				t.Errorf("Pulse: %v", err)
				return
			}
		}
	}()
	final, err := c.Follow(ctx, *res.Key)
	close(stop)
	<-done
	require.NoError(t, err)
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_FORWARD, final.Status)

	// Controls on an unknown update are errors the caller can tell.
	err = c.Pause(ctx, nixrealis.UpdateKey{Job: testKey, ID: "no-such-update"})
	require.Error(t, err)
	t.Logf("pause of an unknown update: %v", err)
	assert.ErrorIs(t, err, nixrealis.ErrNotFound)
	var oe *nixrealis.OpError
	require.ErrorAs(t, err, &oe)
	assert.Contains(t, oe.Message, "does not exist", "Aurora's message")
}

// TestUpdateProgress: following an update reports its status and how many
// instances are done.
func TestUpdateProgress(t *testing.T) {
	srv := newServer(t)
	var mu sync.Mutex
	var reports []nixrealis.Progress
	c := newClient(t, srv.ClientOptions(), nixrealis.WithProgress(func(p nixrealis.Progress) {
		if p.Stage == nixrealis.StageUpdate {
			mu.Lock()
			reports = append(reports, p)
			mu.Unlock()
		}
	}))
	ctx := ctxFor(t, 30*time.Second)
	_, err := c.Create(ctx, helloService("echo v1; sleep 1000", 3))
	require.NoError(t, err)
	mu.Lock()
	reports = nil
	mu.Unlock()
	_, err = c.Update(ctx, helloService("echo v2; sleep 1000", 3))
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, reports)
	last := reports[len(reports)-1]
	assert.Equal(t, 3, last.Done)
	assert.Equal(t, 3, last.Total)
	assert.Contains(t, last.Message, "ROLLED_FORWARD: 3 of 3 instances done")
}
