package auroratest_test

import (
	"context"
	"sort"
	"testing"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
)

// clusterView is what a client sees of the cluster, read through gorealis.
type clusterView struct {
	tasks   []*aurora.ScheduledTask
	jobs    []*aurora.JobConfiguration
	quota   *aurora.GetQuotaResult_
	hosts   []*aurora.HostStatus
	updates []*aurora.JobUpdateDetails
}

func viewOf(t *testing.T, r realis.Realis) clusterView {
	t.Helper()
	var v clusterView
	tasks, err := r.GetTaskStatus(&aurora.TaskQuery{Role: ptr(role)})
	require.NoError(t, err)
	sort.Slice(tasks, func(i, j int) bool { return tasks[i].AssignedTask.TaskId < tasks[j].AssignedTask.TaskId })
	v.tasks = tasks
	_, jobs, err := r.GetJobs(role)
	require.NoError(t, err)
	v.jobs = jobs.Configs
	sort.Slice(v.jobs, func(i, j int) bool { return v.jobs[i].Key.Name < v.jobs[j].Key.Name })
	resp, err := r.GetQuota(role)
	require.NoError(t, err)
	v.quota = resp.Result_.GetQuotaResult_
	_, hs, err := r.MaintenanceStatus("agent-one", "agent-two", "agent-three")
	require.NoError(t, err)
	v.hosts = hs.Statuses
	sort.Slice(v.hosts, func(i, j int) bool { return v.hosts[i].Host < v.hosts[j].Host })
	resp, err = r.JobUpdateDetails(aurora.JobUpdateQuery{Role: ptr(role)})
	require.NoError(t, err)
	v.updates = resp.Result_.GetJobUpdateDetailsResult_.DetailsList
	return v
}

// TestRestartRecoversState stops a scheduler with a data directory and
// starts another on it: jobs, tasks with their events, a cron template,
// an update awaiting its pulse with its events, quota and host maintenance are all
// there, and the tasks that were RUNNING still are, with the same ids.
func TestRestartRecoversState(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := startOn(nil, dir)
	r := client(t, srv)
	startService(t, r, "web", 3)
	_, err := r.SetQuota(role, ptr(8.0), ptr(int64(8192)), ptr(int64(8192)))
	require.NoError(t, err)
	_, _, err = r.StartMaintenance("agent-three")
	require.NoError(t, err)
	cron := newJob("nightly", 1).IsService(false).CronSchedule("0 3 * * *").CronCollisionPolicy(aurora.CronCollisionPolicy_KILL_EXISTING)
	_, err = r.ScheduleCronJob(cron)
	require.NoError(t, err)
	// A coordinated update waits for its first pulse: it stays
	// ROLL_FORWARD_AWAITING_PULSE, changing nothing, until pulsed.
	u := realis.NewUpdateJob(newJob("web", 3).RAM(128).TaskConfig(), &aurora.JobUpdateSettings{
		UpdateGroupSize: 1, MinWaitInInstanceRunningMs: 1000, BlockIfNoPulsesAfterMs: ptr(int32(3600000)),
	})
	u.InstanceCount(3)
	resp, err := r.StartJobUpdate(u, "bigger")
	require.NoError(t, err)
	uk := resp.Result_.StartJobUpdateResult_.Key
	before := viewOf(t, r)
	require.Len(t, before.tasks, 3)
	require.Len(t, before.jobs, 2)
	srv.Close()

	srv2 := startOn(nil, dir)
	defer srv2.Close()
	r2 := client(t, srv2)
	after := viewOf(t, r2)

	assert.Equal(t, before.jobs, after.jobs)
	assert.Equal(t, before.quota, after.quota)
	assert.Equal(t, before.hosts, after.hosts)
	assert.Equal(t, before.updates, after.updates)
	require.Equal(t, len(before.tasks), len(after.tasks))
	for i := range before.tasks {
		assert.Equal(t, before.tasks[i], after.tasks[i], "task %s", before.tasks[i].AssignedTask.TaskId)
	}
	require.Len(t, after.updates, 1)
	assert.Equal(t, aurora.JobUpdateStatus_ROLL_FORWARD_AWAITING_PULSE, after.updates[0].Update.Summary.State.Status)

	// The recovered scheduler goes on: pulsed, the update rolls forward.
	_, err = r2.PulseJobUpdate(uk)
	require.NoError(t, err)
	waitUpdate(t, r2, uk, aurora.JobUpdateStatus_ROLLED_FORWARD)
	srv2.Close()

	// A third start sees the update's end.
	srv3 := startOn(nil, dir)
	defer srv3.Close()
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_FORWARD, details(t, client(t, srv3), uk).Update.Summary.State.Status)
}

// TestRestartWithoutDataDirForgets: without a data directory a new server
// starts empty.
func TestRestartWithoutDataDirForgets(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	r := client(t, srv)
	startService(t, r, "web", 1)
	srv.Close()
	srv2 := fastServer(nil)
	defer srv2.Close()
	tasks, err := client(t, srv2).GetTaskStatus(&aurora.TaskQuery{Role: ptr(role)})
	require.NoError(t, err)
	assert.Empty(t, tasks)
}

// plainExecutor runs tasks as NopExecutor does but is no Recoverer: it
// cannot take tasks back after a restart.
type plainExecutor struct{ nop auroratest.NopExecutor }

func (e *plainExecutor) Launch(ctx context.Context, t auroratest.LaunchedTask, report func(auroratest.StatusUpdate)) {
	e.nop.Launch(ctx, t, report)
}

func (e *plainExecutor) Kill(id string) { e.nop.Kill(id) }

// TestRestartLosesWhatTheExecutorCannotRecover: after a restart, the
// tasks an executor cannot take back are LOST, as Mesos reports tasks
// its agents do not know, and rescheduled.
func TestRestartLosesWhatTheExecutorCannotRecover(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := startOn(&plainExecutor{}, dir)
	startService(t, client(t, srv), "web", 2)
	before := srv.Tasks(role, env, "web")
	srv.Close()

	srv2 := startOn(&plainExecutor{}, dir)
	defer srv2.Close()
	r := client(t, srv2)
	waitInstances(t, r, key("web"), 2, aurora.ScheduleStatus_RUNNING)
	for _, old := range before {
		got, err := r.GetTaskStatus(&aurora.TaskQuery{TaskIds: []string{old.AssignedTask.TaskId}})
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, aurora.ScheduleStatus_LOST, got[0].Status)
		ev := got[0].TaskEvents
		assert.Equal(t, "Reconciliation: Task is unknown to the agent", ev[len(ev)-1].GetMessage())
	}
	running, err := r.GetTaskStatus(&aurora.TaskQuery{Role: ptr(role), Statuses: []aurora.ScheduleStatus{aurora.ScheduleStatus_RUNNING}})
	require.NoError(t, err)
	for _, tk := range running {
		assert.NotEmpty(t, tk.AncestorId, "a replacement of a lost task")
	}
}
