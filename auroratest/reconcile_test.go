package auroratest_test

import (
	"context"
	"slices"
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/internal/testenv"
)

// taskByID returns the one task with id through gorealis, nil when the
// scheduler has none.
func taskByID(t *testing.T, r realis.Realis, id string) *aurora.ScheduledTask {
	t.Helper()
	tasks, err := r.GetTasksWithoutConfigs(&aurora.TaskQuery{TaskIds: []string{id}})
	require.NoError(t, err)
	if len(tasks) == 0 {
		return nil
	}
	require.Len(t, tasks, 1)
	return tasks[0]
}

// runningTaskIDs creates job and returns the ids of its instances once
// all are RUNNING, by instance.
func runningTaskIDs(t *testing.T, r realis.Realis, job realis.Job) []string {
	t.Helper()
	_, err := r.CreateJob(job)
	require.NoError(t, err)
	n := int(job.GetInstanceCount())
	var tasks []*aurora.ScheduledTask
	testenv.Eventually(t, 10*time.Second, 2*time.Millisecond, func() (bool, error) {
		var err error
		tasks, err = r.GetTaskStatus(&aurora.TaskQuery{JobKeys: []*aurora.JobKey{job.JobKey()}, Statuses: []aurora.ScheduleStatus{aurora.ScheduleStatus_RUNNING}})
		return len(tasks) == n, err
	}, "%d instances of %v RUNNING", n, job.JobKey())
	ids := make([]string, n)
	for _, tk := range tasks {
		ids[tk.AssignedTask.InstanceId] = tk.AssignedTask.TaskId
	}
	return ids
}

// onAgent reports whether the executor's agents hold task id.
func onAgent(e auroratest.Lister, id string) bool {
	return slices.ContainsFunc(e.Statuses(), func(u auroratest.StatusUpdate) bool { return u.TaskID == id })
}

// TestImplicitReconciliationCorrectsState forces a RUNNING task into
// another state the state machine can leave for RUNNING (forceTaskState
// changes only the stored state): triggerImplicitTaskReconciliation,
// through gorealis, brings it back to RUNNING, the state on its agent,
// with the Mesos master's message as its latest event. The job's other
// instance, RUNNING in both, gets no event.
func TestImplicitReconciliationCorrectsState(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		forced []aurora.ScheduleStatus
	}{
		{"partitioned", []aurora.ScheduleStatus{aurora.ScheduleStatus_PARTITIONED}},
		{"starting", []aurora.ScheduleStatus{aurora.ScheduleStatus_PARTITIONED, aurora.ScheduleStatus_STARTING}},
		{"assigned", []aurora.ScheduleStatus{aurora.ScheduleStatus_PARTITIONED, aurora.ScheduleStatus_ASSIGNED}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fastServer(nil)
			defer srv.Close()
			r := client(t, srv)
			c := adminClient(t, srv.URL)
			// reschedule=false keeps a PARTITIONED task PARTITIONED.
			ids := runningTaskIDs(t, r, newJob("recon", 2).PartitionPolicy(&aurora.PartitionPolicy{Reschedule: false}))
			forced, other := ids[0], ids[1]
			untouched := len(taskByID(t, r, other).TaskEvents)
			for _, s := range tc.forced {
				resp, err := c.ForceTaskState(context.Background(), forced, s)
				require.NoError(t, err)
				require.Equal(t, aurora.ResponseCode_OK, resp.ResponseCode)
			}
			want := tc.forced[len(tc.forced)-1]
			require.Equal(t, want, taskByID(t, r, forced).Status, "forceTaskState changes the stored state")

			require.NoError(t, r.ForceImplicitTaskReconciliation())
			var tk *aurora.ScheduledTask
			testenv.Eventually(t, 10*time.Second, 2*time.Millisecond, func() (bool, error) {
				tk = taskByID(t, r, forced)
				return tk.Status == aurora.ScheduleStatus_RUNNING, nil
			}, "task forced %v back to RUNNING", want)
			last := tk.TaskEvents[len(tk.TaskEvents)-1]
			assert.Equal(t, aurora.ScheduleStatus_RUNNING, last.Status)
			assert.Equal(t, "Reconciliation: Latest task state", last.GetMessage())
			assert.Equal(t, want, tk.TaskEvents[len(tk.TaskEvents)-2].Status)
			assert.Len(t, taskByID(t, r, other).TaskEvents, untouched, "a task in the agent's state gets no event")
		})
	}
}

// TestImplicitReconciliationKillsUnwanted leaves a task running on its
// agent that the scheduler has terminal (forceTaskState) or no longer has
// (pruned after that): it keeps running there until
// triggerImplicitTaskReconciliation, through gorealis, makes its agent
// report it RUNNING, and is then killed, as Aurora's state machine kills a
// task it believes terminated or does not know. The scheduler's record is
// left as it was.
func TestImplicitReconciliationKillsUnwanted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		forced aurora.ScheduleStatus
		prune  bool
	}{
		{"finished", aurora.ScheduleStatus_FINISHED, false},
		{"failed", aurora.ScheduleStatus_FAILED, false},
		{"killed", aurora.ScheduleStatus_KILLED, false},
		{"lost", aurora.ScheduleStatus_LOST, false},
		{"pruned", aurora.ScheduleStatus_FINISHED, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			exec := &auroratest.NopExecutor{}
			srv := fastServer(exec)
			defer srv.Close()
			r := client(t, srv)
			c := adminClient(t, srv.URL)
			ctx := context.Background()
			id := runningTaskIDs(t, r, newJob("unwanted", 1).IsService(false))[0]

			resp, err := c.ForceTaskState(ctx, id, tc.forced)
			require.NoError(t, err)
			require.Equal(t, aurora.ResponseCode_OK, resp.ResponseCode)
			if tc.prune {
				resp, err = c.PruneTasks(ctx, &aurora.TaskQuery{TaskIds: []string{id}})
				require.NoError(t, err)
				require.Equal(t, aurora.ResponseCode_OK, resp.ResponseCode)
				require.Nil(t, taskByID(t, r, id), "pruned")
			}
			require.True(t, onAgent(exec, id), "forceTaskState sends nothing to the agent")

			require.NoError(t, r.ForceImplicitTaskReconciliation())
			testenv.Eventually(t, 10*time.Second, 2*time.Millisecond, func() (bool, error) {
				return !onAgent(exec, id), nil
			}, "task %s killed on its agent", id)
			if tc.prune {
				assert.Nil(t, taskByID(t, r, id), "a killed unknown task stays unknown")
				return
			}
			tk := taskByID(t, r, id)
			require.NotNil(t, tk)
			assert.Equal(t, tc.forced, tk.Status)
			last := tk.TaskEvents[len(tk.TaskEvents)-1]
			assert.Equal(t, tc.forced, last.Status)
			assert.Equal(t, "Transition forced by UNSECURE", last.GetMessage())
		})
	}
}
