package auroratest_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
)

func taskIDs(tasks []*aurora.ScheduledTask) []string {
	var out []string
	for _, t := range tasks {
		out = append(out, t.AssignedTask.TaskId)
	}
	return out
}

func errorMessage(resp *aurora.Response) string {
	var msgs []string
	for _, d := range resp.Details {
		msgs = append(msgs, d.Message)
	}
	return strings.Join(msgs, "; ")
}

// TestBackupRecoveryRoundTrip backs the scheduler up, changes its state,
// then stages the backup, trims it, and commits it: the scheduler is back
// to the backup's state (less what was deleted from it), which a restart
// keeps.
func TestBackupRecoveryRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := startOn(nil, dir)
	defer srv.Close()
	r := client(t, srv)
	c := adminClient(t, srv.URL)
	ctx := context.Background()
	startService(t, r, "web", 2)
	_, err := r.SetQuota(role, ptr(8.0), ptr(int64(8192)), ptr(int64(8192)))
	require.NoError(t, err)
	backedUp, err := r.GetTaskStatus(&aurora.TaskQuery{Role: ptr(role), JobName: ptr("web")})
	require.NoError(t, err)

	require.NoError(t, r.PerformBackup())
	resp, err := c.ListBackups(ctx)
	require.NoError(t, err)
	backups := resp.Result_.ListBackupsResult_.Backups
	require.Len(t, backups, 1)
	assert.True(t, strings.HasPrefix(backups[0], "scheduler-backup-"), backups[0])

	// After the backup: web killed, another job, another quota.
	_, err = r.KillJob(key("web"))
	require.NoError(t, err)
	waitInstances(t, r, key("web"), 0, aurora.ACTIVE_STATES...)
	startService(t, r, "other", 1)
	_, err = r.SetQuota(role, ptr(1.0), ptr(int64(1024)), ptr(int64(1024)))
	require.NoError(t, err)

	resp, err = c.StageRecovery(ctx, "nope")
	require.NoError(t, err)
	assert.Equal(t, aurora.ResponseCode_ERROR, resp.ResponseCode)
	assert.Equal(t, "Backup "+filepath.Join(dir, "backups", "nope")+" does not exist.", errorMessage(resp))
	resp, err = c.QueryRecovery(ctx, &aurora.TaskQuery{})
	require.NoError(t, err)
	assert.Equal(t, "No backup loaded.", errorMessage(resp))

	// Stage, unload, stage again.
	resp, err = c.StageRecovery(ctx, backups[0])
	require.NoError(t, err)
	require.Equal(t, aurora.ResponseCode_OK, resp.ResponseCode, errorMessage(resp))
	resp, err = c.StageRecovery(ctx, backups[0])
	require.NoError(t, err)
	assert.Equal(t, "Another backup is already loaded.", errorMessage(resp))
	resp, err = c.UnloadRecovery(ctx)
	require.NoError(t, err)
	require.Equal(t, aurora.ResponseCode_OK, resp.ResponseCode)
	resp, err = c.QueryRecovery(ctx, &aurora.TaskQuery{})
	require.NoError(t, err)
	assert.Equal(t, "No backup loaded.", errorMessage(resp))
	resp, err = c.StageRecovery(ctx, backups[0])
	require.NoError(t, err)
	require.Equal(t, aurora.ResponseCode_OK, resp.ResponseCode, errorMessage(resp))

	// The staged backup has web's two tasks as they were, nothing of other.
	resp, err = c.QueryRecovery(ctx, &aurora.TaskQuery{Role: ptr(role)})
	require.NoError(t, err)
	staged := resp.Result_.QueryRecoveryResult_.Tasks
	assert.ElementsMatch(t, taskIDs(backedUp), taskIDs(staged))
	for _, st := range staged {
		assert.Equal(t, aurora.ScheduleStatus_RUNNING, st.Status)
	}
	resp, err = c.DeleteRecoveryTasks(ctx, &aurora.TaskQuery{JobKeys: []*aurora.JobKey{key("web")}, InstanceIds: []int32{1}})
	require.NoError(t, err)
	require.Equal(t, aurora.ResponseCode_OK, resp.ResponseCode)
	resp, err = c.QueryRecovery(ctx, &aurora.TaskQuery{Role: ptr(role)})
	require.NoError(t, err)
	require.Len(t, resp.Result_.QueryRecoveryResult_.Tasks, 1)
	kept := resp.Result_.QueryRecoveryResult_.Tasks[0].AssignedTask.TaskId

	resp, err = c.CommitRecovery(ctx)
	require.NoError(t, err)
	require.Equal(t, aurora.ResponseCode_OK, resp.ResponseCode, errorMessage(resp))
	resp, err = c.QueryRecovery(ctx, &aurora.TaskQuery{})
	require.NoError(t, err)
	assert.Equal(t, "No backup loaded.", errorMessage(resp))

	check := func(r interface {
		GetTaskStatus(*aurora.TaskQuery) ([]*aurora.ScheduledTask, error)
		GetQuota(string) (*aurora.Response, error)
	}) {
		t.Helper()
		tasks, err := r.GetTaskStatus(&aurora.TaskQuery{Role: ptr(role)})
		require.NoError(t, err)
		require.Len(t, tasks, 1)
		assert.Equal(t, kept, tasks[0].AssignedTask.TaskId)
		assert.Equal(t, aurora.ScheduleStatus_RUNNING, tasks[0].Status)
		resp, err := r.GetQuota(role)
		require.NoError(t, err)
		for _, res := range resp.Result_.GetQuotaResult_.Quota.Resources {
			if res.NumCpus != nil {
				assert.Equal(t, 8.0, *res.NumCpus)
			}
		}
	}
	check(r)

	srv.Close()
	srv2 := startOn(nil, dir)
	defer srv2.Close()
	check(client(t, srv2))
}

// forgetful is a NopExecutor whose agents forget one task.
type forgetful struct {
	auroratest.NopExecutor
	mu   sync.Mutex
	lost string
}

func (e *forgetful) Recover(ctx context.Context, t auroratest.LaunchedTask, report func(auroratest.StatusUpdate)) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return t.TaskID != e.lost
}

// TestAdminTaskCalls covers forceTaskState, pruneTasks, explicit and
// implicit reconciliation and snapshot.
func TestAdminTaskCalls(t *testing.T) {
	t.Parallel()
	exec := &forgetful{}
	dir := t.TempDir()
	srv := startOn(exec, dir)
	defer srv.Close()
	r := client(t, srv)
	c := adminClient(t, srv.URL)
	ctx := context.Background()
	startService(t, r, "web", 3)
	tasks, err := r.GetTaskStatus(&aurora.TaskQuery{Role: ptr(role), InstanceIds: []int32{0, 1}})
	require.NoError(t, err)
	byInstance := map[int32]string{}
	for _, tk := range tasks {
		byInstance[tk.AssignedTask.InstanceId] = tk.AssignedTask.TaskId
	}

	// forceTaskState: instance 0 FAILED, with Aurora's audit message.
	resp, err := c.ForceTaskState(ctx, byInstance[0], aurora.ScheduleStatus_FAILED)
	require.NoError(t, err)
	require.Equal(t, aurora.ResponseCode_OK, resp.ResponseCode)
	resp, err = c.ForceTaskState(ctx, "", aurora.ScheduleStatus_FAILED)
	require.NoError(t, err)
	assert.Equal(t, aurora.ResponseCode_ERROR, resp.ResponseCode)
	forced, err := r.GetTaskStatus(&aurora.TaskQuery{TaskIds: []string{byInstance[0]}})
	require.NoError(t, err)
	require.Len(t, forced, 1)
	assert.Equal(t, aurora.ScheduleStatus_FAILED, forced[0].Status)
	last := forced[0].TaskEvents[len(forced[0].TaskEvents)-1]
	assert.Equal(t, "Transition forced by UNSECURE", last.GetMessage())

	// Explicit reconciliation: the task the agent forgot is LOST.
	exec.mu.Lock()
	exec.lost = byInstance[1]
	exec.mu.Unlock()
	resp, err = c.TriggerExplicitTaskReconciliation(ctx, &aurora.ExplicitReconciliationSettings{BatchSize: ptr(int32(0))})
	require.NoError(t, err)
	assert.Equal(t, aurora.ResponseCode_INVALID_REQUEST, resp.ResponseCode)
	assert.Equal(t, "Batch size must be greater than zero.", errorMessage(resp))
	require.NoError(t, r.ForceExplicitTaskReconciliation(nil))
	waitInstances(t, r, key("web"), 2, aurora.ScheduleStatus_FAILED, aurora.ScheduleStatus_LOST)
	lost, err := r.GetTaskStatus(&aurora.TaskQuery{TaskIds: []string{byInstance[1]}})
	require.NoError(t, err)
	require.Len(t, lost, 1)
	assert.Equal(t, aurora.ScheduleStatus_LOST, lost[0].Status)
	assert.Equal(t, "Reconciliation: Task is unknown to the agent", lost[0].TaskEvents[len(lost[0].TaskEvents)-1].GetMessage())
	require.NoError(t, r.ForceImplicitTaskReconciliation())
	waitInstances(t, r, key("web"), 3, aurora.ScheduleStatus_RUNNING)

	// pruneTasks: not active ones; then every terminal task goes.
	resp, err = c.PruneTasks(ctx, &aurora.TaskQuery{Statuses: []aurora.ScheduleStatus{aurora.ScheduleStatus_RUNNING}})
	require.NoError(t, err)
	assert.Equal(t, aurora.ResponseCode_ERROR, resp.ResponseCode)
	assert.Equal(t, "Tasks in non-terminal state cannot be pruned.", errorMessage(resp))
	resp, err = c.PruneTasks(ctx, &aurora.TaskQuery{Role: ptr(role), Limit: ptr(int32(1))})
	require.NoError(t, err)
	require.Equal(t, aurora.ResponseCode_OK, resp.ResponseCode)
	waitInstances(t, r, key("web"), 1, aurora.ScheduleStatus_FAILED, aurora.ScheduleStatus_LOST)
	resp, err = c.PruneTasks(ctx, &aurora.TaskQuery{Role: ptr(role)})
	require.NoError(t, err)
	require.Equal(t, aurora.ResponseCode_OK, resp.ResponseCode)
	all, err := r.GetTaskStatus(&aurora.TaskQuery{Role: ptr(role)})
	require.NoError(t, err)
	require.Len(t, all, 3)
	for _, tk := range all {
		assert.Equal(t, aurora.ScheduleStatus_RUNNING, tk.Status)
	}

	// snapshot rewrites the storage; a restart finds the same tasks.
	require.NoError(t, r.Snapshot())
	srv.Close()
	srv2 := startOn(nil, dir)
	defer srv2.Close()
	again, err := client(t, srv2).GetTaskStatus(&aurora.TaskQuery{Role: ptr(role)})
	require.NoError(t, err)
	assert.ElementsMatch(t, taskIDs(all), taskIDs(again))
}

// TestBackupNeedsStorage: an in-memory server answers the backup calls
// with an error naming the fix.
func TestBackupNeedsStorage(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	resp, err := adminClient(t, srv.URL).PerformBackup(context.Background())
	require.NoError(t, err)
	assert.Equal(t, aurora.ResponseCode_ERROR, resp.ResponseCode)
	assert.Contains(t, errorMessage(resp), "Server.DataDir")
}
