package auroratest_test

import (
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/paypal/gorealis/response"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
)

// startService creates name with n RUNNING instances.
func startService(t *testing.T, r realis.Realis, name string, n int32) {
	t.Helper()
	_, err := r.CreateJob(newJob(name, n))
	require.NoError(t, err)
	waitInstances(t, r, key(name), int(n), aurora.ScheduleStatus_RUNNING)
}

// startLongUpdate starts an update of the service name (n instances, from
// 64 MB to 128 MB of RAM) whose hour of watch time keeps it going.
func startLongUpdate(t *testing.T, r realis.Realis, name string, n int32) *aurora.JobUpdateKey {
	t.Helper()
	u := realis.NewDefaultUpdateJob(newJob(name, n).RAM(128).TaskConfig()).InstanceCount(n).WatchTime(3600 * 1000)
	resp, err := r.StartJobUpdate(u, "")
	require.NoError(t, err)
	return response.JobUpdateKey(resp)
}

// ram returns a task's RAM resource in MB.
func ram(tc *aurora.TaskConfig) int64 {
	for _, r := range tc.Resources {
		if r.RamMb != nil {
			return *r.RamMb
		}
	}
	return -1
}

func instanceActions(d *aurora.JobUpdateDetails) map[int32][]aurora.JobUpdateAction {
	out := map[int32][]aurora.JobUpdateAction{}
	for _, e := range d.InstanceEvents {
		out[e.InstanceId] = append(out[e.InstanceId], e.Action)
	}
	return out
}

func updateStatuses(d *aurora.JobUpdateDetails) []aurora.JobUpdateStatus {
	var out []aurora.JobUpdateStatus
	for _, e := range d.UpdateEvents {
		out = append(out, e.Status)
	}
	return out
}

func details(t *testing.T, r realis.Realis, k *aurora.JobUpdateKey) *aurora.JobUpdateDetails {
	t.Helper()
	resp, err := r.JobUpdateDetails(aurora.JobUpdateQuery{Key: k})
	require.NoError(t, err)
	list := resp.Result_.GetJobUpdateDetailsResult_.DetailsList
	require.Len(t, list, 1)
	return list[0]
}

func TestUpdateRollsForward(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	r := client(t, srv)
	startService(t, r, "web", 3)
	before := srv.Tasks(role, env, "web")

	// gorealis' defaults: batch 1, 45 s watch, rollback on failure.
	u := realis.NewDefaultUpdateJob(newJob("web", 3).RAM(128).TaskConfig())
	u.InstanceCount(4)
	resp, err := r.StartJobUpdate(u, "bigger")
	require.NoError(t, err)
	uk := response.JobUpdateKey(resp)
	require.NotNil(t, uk)
	assert.Equal(t, "UNSECURE", resp.Result_.StartJobUpdateResult_.UpdateSummary.User)

	// Kill, restart and add are refused while the update is active.
	_, err = r.KillJob(key("web"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Job is currently updating")

	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_FORWARD, waitUpdate(t, r, uk, realis.TerminalUpdateStates()...))
	live, err := r.GetTaskStatus(&aurora.TaskQuery{JobKeys: []*aurora.JobKey{key("web")}, Statuses: aurora.ACTIVE_STATES})
	require.NoError(t, err)
	require.Len(t, live, 4)
	for _, task := range live {
		assert.Equal(t, int64(128), ram(task.AssignedTask.Task))
		assert.Equal(t, aurora.ScheduleStatus_RUNNING, task.Status)
		for _, old := range before {
			assert.NotEqual(t, old.AssignedTask.TaskId, task.AssignedTask.TaskId)
		}
	}

	d := details(t, r, uk)
	assert.Equal(t, []aurora.JobUpdateStatus{aurora.JobUpdateStatus_ROLLING_FORWARD, aurora.JobUpdateStatus_ROLLED_FORWARD}, updateStatuses(d))
	assert.Equal(t, "bigger", d.UpdateEvents[0].GetMessage())
	assert.Equal(t, "UNSECURE", d.Update.Summary.User)
	for i := int32(0); i < 4; i++ {
		assert.Equal(t, []aurora.JobUpdateAction{aurora.JobUpdateAction_INSTANCE_UPDATING, aurora.JobUpdateAction_INSTANCE_UPDATED},
			instanceActions(d)[i], "instance %d", i)
	}
	// The stored strategy is the backfilled one.
	require.NotNil(t, d.Update.Instructions.Settings.UpdateStrategy.QueueStrategy)
	assert.Equal(t, int32(1), d.Update.Instructions.Settings.UpdateStrategy.QueueStrategy.GroupSize)
	assert.Equal(t, []*aurora.Range{{First: 0, Last: 3}}, d.Update.Instructions.DesiredState.Instances)
	require.Len(t, d.Update.Instructions.InitialState, 1)
	assert.Equal(t, []*aurora.Range{{First: 0, Last: 2}}, d.Update.Instructions.InitialState[0].Instances)

	// The watch time is honoured on the scheduler's clock: each instance
	// stays RUNNING for 45 s before the next one is touched.
	for i := int32(1); i < 4; i++ {
		prevDone := d.InstanceEvents[2*(i-1)+1].TimestampMs
		assert.GreaterOrEqual(t, prevDone-d.InstanceEvents[2*(i-1)].TimestampMs, int64(45000))
		assert.GreaterOrEqual(t, d.InstanceEvents[2*i].TimestampMs, prevDone)
	}

	// The same update again changes nothing.
	resp, err = r.StartJobUpdate(realis.NewDefaultUpdateJob(newJob("web", 4).RAM(128).TaskConfig()).InstanceCount(4), "")
	require.Error(t, err)
	assert.Equal(t, "Job is unchanged by proposed update.", resp.Details[0].Message)
	assert.Equal(t, aurora.ResponseCode_OK, resp.ResponseCode)
}

// failingConfig makes the NopExecutor fail tasks with 256 MB of RAM.
func failingConfig(t auroratest.LaunchedTask) string {
	if ram(t.Config) == 256 {
		return "Process hello exited with status 1"
	}
	return ""
}

func TestUpdateRollsBack(t *testing.T) {
	t.Parallel()
	srv := fastServer(&auroratest.NopExecutor{Fail: failingConfig})
	defer srv.Close()
	r := client(t, srv)
	startService(t, r, "bad", 2)

	u := realis.NewDefaultUpdateJob(newJob("bad", 2).RAM(256).TaskConfig()).InstanceCount(2)
	resp, err := r.StartJobUpdate(u, "")
	require.NoError(t, err)
	uk := response.JobUpdateKey(resp)
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_BACK, waitUpdate(t, r, uk, realis.TerminalUpdateStates()...))

	m := realis.Monitor{Client: r}
	_, err = m.JobUpdate(*uk, 1, 5)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bad terminal state for update: ROLLED_BACK")

	d := details(t, r, uk)
	assert.Equal(t, []aurora.JobUpdateStatus{aurora.JobUpdateStatus_ROLLING_FORWARD, aurora.JobUpdateStatus_ROLLING_BACK,
		aurora.JobUpdateStatus_ROLLED_BACK}, updateStatuses(d))
	assert.Contains(t, d.UpdateEvents[1].GetMessage(), "Latest failure: instance 0")
	assert.Equal(t, []aurora.JobUpdateAction{aurora.JobUpdateAction_INSTANCE_UPDATING, aurora.JobUpdateAction_INSTANCE_UPDATE_FAILED,
		aurora.JobUpdateAction_INSTANCE_ROLLING_BACK, aurora.JobUpdateAction_INSTANCE_ROLLED_BACK}, instanceActions(d)[0])
	assert.Empty(t, instanceActions(d)[1], "instance 1 was never touched")

	waitInstances(t, r, key("bad"), 2, aurora.ScheduleStatus_RUNNING)
	live, err := r.GetTaskStatus(&aurora.TaskQuery{JobKeys: []*aurora.JobKey{key("bad")}, Statuses: aurora.ACTIVE_STATES})
	require.NoError(t, err)
	require.Len(t, live, 2)
	for _, task := range live {
		assert.Equal(t, int64(64), ram(task.AssignedTask.Task))
	}
}

func TestUpdateFailsWithoutRollback(t *testing.T) {
	t.Parallel()
	srv := fastServer(&auroratest.NopExecutor{Fail: failingConfig})
	defer srv.Close()
	r := client(t, srv)
	startService(t, r, "bad", 3)
	u := realis.NewDefaultUpdateJob(newJob("bad", 3).RAM(256).TaskConfig()).InstanceCount(3).
		RollbackOnFail(false).MaxPerInstanceFailures(1).MaxFailedInstances(0)
	resp, err := r.StartJobUpdate(u, "")
	require.NoError(t, err)
	uk := response.JobUpdateKey(resp)
	assert.Equal(t, aurora.JobUpdateStatus_FAILED, waitUpdate(t, r, uk, realis.TerminalUpdateStates()...))
	// With one failure tolerated per instance, instance 0 fails twice
	// (its replacements are rescheduled after a flapping penalty)
	// before the update gives up; the service keeps being rescheduled.
	tasks := srv.Tasks(role, env, "bad")
	failed := 0
	for _, task := range tasks {
		if task.AssignedTask.InstanceId == 0 && task.Status == aurora.ScheduleStatus_FAILED {
			failed++
			assert.Equal(t, "Process hello exited with status 1", task.TaskEvents[len(task.TaskEvents)-1].GetMessage())
		}
	}
	assert.GreaterOrEqual(t, failed, 2)
	d := details(t, r, uk)
	assert.Equal(t, []aurora.JobUpdateAction{aurora.JobUpdateAction_INSTANCE_UPDATING, aurora.JobUpdateAction_INSTANCE_UPDATE_FAILED},
		instanceActions(d)[0])
	assert.Empty(t, instanceActions(d)[1])
	assert.Equal(t, "Latest failure: instance 0 Process hello exited with status 1", d.UpdateEvents[len(d.UpdateEvents)-1].GetMessage())
}

func TestUpdatePauseResumeAbort(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	r := client(t, srv)
	startService(t, r, "slow", 2)

	uk := startLongUpdate(t, r, "slow", 2)

	resp, err := r.StartJobUpdate(realis.NewDefaultUpdateJob(newJob("slow", 2).RAM(32).TaskConfig()).InstanceCount(2), "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "An active update already exists for this job")
	assert.Equal(t, uk.ID, resp.Result_.StartJobUpdateResult_.Key.ID, "the in-progress update comes back")

	_, err = r.PauseJobUpdate(uk, "hold on")
	require.NoError(t, err)
	assert.Equal(t, aurora.JobUpdateStatus_ROLL_FORWARD_PAUSED, waitUpdate(t, r, uk, aurora.JobUpdateStatus_ROLL_FORWARD_PAUSED))
	_, err = r.PauseJobUpdate(uk, "")
	require.NoError(t, err, "pausing a paused update is a no-op")

	_, err = r.ResumeJobUpdate(uk, "")
	require.NoError(t, err)
	waitUpdate(t, r, uk, aurora.JobUpdateStatus_ROLLING_FORWARD)

	_, err = r.RestartJob(key("slow"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Job is currently updating")
	_, err = r.AddInstances(aurora.InstanceKey{JobKey: key("slow"), InstanceId: 0}, 1)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Job is currently updating")

	// AbortJobUpdate waits (at least 5 s, gorealis' own tick) for ABORTED.
	_, err = r.AbortJobUpdate(*uk, "enough")
	require.NoError(t, err)
	d := details(t, r, uk)
	assert.Equal(t, []aurora.JobUpdateStatus{aurora.JobUpdateStatus_ROLLING_FORWARD, aurora.JobUpdateStatus_ROLL_FORWARD_PAUSED,
		aurora.JobUpdateStatus_ROLLING_FORWARD, aurora.JobUpdateStatus_ABORTED}, updateStatuses(d))
	assert.Equal(t, "hold on", d.UpdateEvents[1].GetMessage())

	_, err = r.PauseJobUpdate(uk, "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Cannot transition update from ABORTED to null")

	missing := &aurora.JobUpdateKey{Job: key("slow"), ID: "nope"}
	_, err = r.ResumeJobUpdate(missing, "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Update does not exist: IJobUpdateKey{job=IJobKey{role=vagrant, environment=prod, name=slow}, id=nope}")

	// Once aborted, the job can be killed again.
	_, err = r.KillJob(key("slow"))
	require.NoError(t, err)
	waitInstances(t, r, key("slow"), 0, aurora.ACTIVE_STATES...)
}

func TestUpdateRollbackCall(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	r := client(t, srv)
	startService(t, r, "rb", 2)
	uk := startLongUpdate(t, r, "rb", 2)
	_, err := r.RollbackJobUpdate(*uk, "")
	require.NoError(t, err)
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_BACK, waitUpdate(t, r, uk, realis.TerminalUpdateStates()...))
	for _, task := range srv.Tasks(role, env, "rb") {
		if task.Status == aurora.ScheduleStatus_RUNNING {
			assert.Equal(t, int64(64), ram(task.AssignedTask.Task))
		}
	}
}

func TestCreateServiceThroughUpdate(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	r := client(t, srv)
	settings := realis.NewUpdateSettings()
	settings.MinWaitInInstanceRunningMs = 1000
	resp, result, err := r.CreateService(newJob("svc", 3), settings)
	require.NoError(t, err)
	require.NotNil(t, result)
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_FORWARD, waitUpdate(t, r, result.Key, realis.TerminalUpdateStates()...))
	assert.Equal(t, aurora.ResponseCode_OK, resp.ResponseCode)
	waitInstances(t, r, key("svc"), 3, aurora.ScheduleStatus_RUNNING)
	d := details(t, r, result.Key)
	assert.Empty(t, d.Update.Instructions.InitialState)

	// An ad-hoc job cannot be updated.
	_, err = r.StartJobUpdate(realis.NewDefaultUpdateJob(newJob("svc", 3).IsService(false).TaskConfig()), "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Updates are not supported for non-service tasks.")
}

func TestUpdateVariableBatchAutopause(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	r := client(t, srv)
	startService(t, r, "vb", 5)
	u := realis.NewDefaultUpdateJob(newJob("vb", 5).RAM(128).TaskConfig()).InstanceCount(5).
		VariableBatchStrategy(aurora.VariableBatchJobUpdateStrategy{GroupSizes: []int32{1, 2}, AutopauseAfterBatch: true})
	resp, err := r.StartJobUpdate(u, "")
	require.NoError(t, err)
	uk := response.JobUpdateKey(resp)
	m := realis.Monitor{Client: r}
	// Batches {0}, {1,2}, {3,4}: two auto-pauses, each after its batch is
	// done. gorealis computes its batch index from the details it reads
	// before waiting, so it is the paused batch, or the one before it when
	// its read came before that batch's first instance started (a race in
	// gorealis on a loaded machine, not the scheduler's): the scheduler's
	// own state at the pause is what is checked exactly.
	for batch, updated := range []int{1, 3} {
		n, err := m.AutoPausedUpdateMonitor(*uk, 5*time.Millisecond, time.Minute)
		require.NoError(t, err)
		assert.Contains(t, []int{batch, batch - 1}, n, "gorealis' batch index at pause %d", batch)
		d := details(t, r, uk)
		assert.Equal(t, aurora.JobUpdateStatus_ROLL_FORWARD_PAUSED, d.Update.Summary.State.Status)
		done := map[int32]bool{}
		for _, e := range d.InstanceEvents {
			if e.Action == aurora.JobUpdateAction_INSTANCE_UPDATED {
				done[e.InstanceId] = true
			}
		}
		assert.Len(t, done, updated, "instances updated at pause %d", batch)
		_, err = r.ResumeJobUpdate(uk, "")
		require.NoError(t, err)
	}
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_FORWARD, waitUpdate(t, r, uk, realis.TerminalUpdateStates()...))
	d := details(t, r, uk)
	paused := 0
	for _, e := range d.UpdateEvents {
		if e.Status == aurora.JobUpdateStatus_ROLL_FORWARD_PAUSED {
			paused++
			assert.Equal(t, "Update auto paused", e.GetMessage())
		}
	}
	assert.Equal(t, 2, paused)
}

func TestUpdateBatchWaitsForWholeBatch(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	r := client(t, srv)
	startService(t, r, "batch", 4)
	u := realis.NewDefaultUpdateJob(newJob("batch", 4).RAM(128).TaskConfig()).InstanceCount(4).
		BatchSize(2).WaitForBatchCompletion(true)
	resp, err := r.StartJobUpdate(u, "")
	require.NoError(t, err)
	uk := response.JobUpdateKey(resp)
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_FORWARD, waitUpdate(t, r, uk, realis.TerminalUpdateStates()...))
	d := details(t, r, uk)
	require.NotNil(t, d.Update.Instructions.Settings.UpdateStrategy.BatchStrategy, "backfilled from waitForBatchCompletion")
	first := map[int32]int64{}
	done := map[int32]int64{}
	for _, e := range d.InstanceEvents {
		switch e.Action {
		case aurora.JobUpdateAction_INSTANCE_UPDATING:
			first[e.InstanceId] = e.TimestampMs
		case aurora.JobUpdateAction_INSTANCE_UPDATED:
			done[e.InstanceId] = e.TimestampMs
		}
	}
	require.Len(t, done, 4)
	assert.GreaterOrEqual(t, first[2], max(done[0], done[1]), "the second batch starts after the whole first batch")
	assert.GreaterOrEqual(t, first[3], max(done[0], done[1]))
}

func TestCoordinatedUpdatePulse(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	r := client(t, srv)
	startService(t, r, "pulse", 1)
	settings := realis.NewUpdateSettings()
	block := int32(3600 * 1000)
	settings.BlockIfNoPulsesAfterMs = &block
	u := realis.NewUpdateJob(newJob("pulse", 1).RAM(128).TaskConfig(), settings).InstanceCount(1)
	resp, err := r.StartJobUpdate(u, "")
	require.NoError(t, err)
	uk := response.JobUpdateKey(resp)
	waitUpdate(t, r, uk, aurora.JobUpdateStatus_ROLL_FORWARD_AWAITING_PULSE)

	resp, err = r.PulseJobUpdate(uk)
	require.NoError(t, err)
	assert.Equal(t, aurora.JobUpdatePulseStatus_OK, resp.Result_.PulseJobUpdateResult_.Status)
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_FORWARD, waitUpdate(t, r, uk, realis.TerminalUpdateStates()...))

	resp, err = r.PulseJobUpdate(uk)
	require.NoError(t, err)
	assert.Equal(t, aurora.JobUpdatePulseStatus_FINISHED, resp.Result_.PulseJobUpdateResult_.Status)
}

func TestUpdateSummariesAndDiff(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	r := client(t, srv)
	startService(t, r, "sum", 2)
	var keys []*aurora.JobUpdateKey
	for _, mb := range []int64{128, 256} {
		resp, err := r.StartJobUpdate(realis.NewDefaultUpdateJob(newJob("sum", 2).RAM(mb).TaskConfig()).InstanceCount(2).WatchTime(10), "")
		require.NoError(t, err)
		uk := response.JobUpdateKey(resp)
		waitUpdate(t, r, uk, aurora.JobUpdateStatus_ROLLED_FORWARD)
		keys = append(keys, uk)
	}
	resp, err := r.GetJobUpdateSummaries(&aurora.JobUpdateQuery{JobKey: key("sum")})
	require.NoError(t, err)
	sums := resp.Result_.GetJobUpdateSummariesResult_.UpdateSummaries
	require.Len(t, sums, 2)
	assert.Equal(t, keys[1].ID, sums[0].Key.ID, "latest first")
	resp, err = r.GetJobUpdateSummaries(&aurora.JobUpdateQuery{JobKey: key("sum"), UpdateStatuses: aurora.ACTIVE_JOB_UPDATE_STATES})
	require.NoError(t, err)
	assert.Empty(t, resp.Result_.GetJobUpdateSummariesResult_.UpdateSummaries)
}

func TestCoordinatedUpdateBlocksWithoutPulses(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	r := client(t, srv)
	startService(t, r, "blocked", 1)
	settings := realis.NewUpdateSettings()
	block := int32(60 * 1000) // one minute on the scaled clock
	settings.BlockIfNoPulsesAfterMs = &block
	settings.MinWaitInInstanceRunningMs = 3600 * 1000
	resp, err := r.StartJobUpdate(realis.NewUpdateJob(newJob("blocked", 1).RAM(128).TaskConfig(), settings).InstanceCount(1), "")
	require.NoError(t, err)
	uk := response.JobUpdateKey(resp)
	_, err = r.PulseJobUpdate(uk)
	require.NoError(t, err)
	waitUpdate(t, r, uk, aurora.JobUpdateStatus_ROLLING_FORWARD)
	waitUpdate(t, r, uk, aurora.JobUpdateStatus_ROLL_FORWARD_AWAITING_PULSE)
	d := details(t, r, uk)
	last := d.UpdateEvents[len(d.UpdateEvents)-1]
	assert.Equal(t, "Pulses from external service have timed out.", last.GetMessage())

	// Paused, it stays paused; resumed with the pulse expired, it awaits a
	// pulse again.
	_, err = r.PauseJobUpdate(uk, "")
	require.NoError(t, err)
	_, err = r.ResumeJobUpdate(uk, "")
	require.NoError(t, err)
	assert.Equal(t, aurora.JobUpdateStatus_ROLL_FORWARD_AWAITING_PULSE, details(t, r, uk).Update.Summary.State.Status)
}
