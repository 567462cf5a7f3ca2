//go:build linux

package thermosexec_test

import (
	"context"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
	procfs "github.com/nixrealis/nixrealis/internal/proc"
	"github.com/nixrealis/nixrealis/internal/testenv"
)

// Implicit reconciliation through gorealis with real processes: a task
// the scheduler has FINISHED (forceTaskState changes only the stored
// state) or has pruned after that keeps its process until
// triggerImplicitTaskReconciliation, when the executor lists it RUNNING
// and the scheduler has it killed: its process is gone from /proc. A task
// forced PARTITIONED is RUNNING again, with the Mesos master's message,
// and its process is the one it had.
func TestImplicitReconciliationWithProcesses(t *testing.T) {
	if _, err := procfs.List(); err != nil {
		testenv.Unavailable(t, "needs Linux /proc: %v", err)
	}
	for _, tc := range []struct {
		name   string
		forced aurora.ScheduleStatus
		prune  bool
		killed bool // else RUNNING again, its process alive
	}{
		{"finished", aurora.ScheduleStatus_FINISHED, false, true},
		{"pruned", aurora.ScheduleStatus_FINISHED, true, true},
		{"partitioned", aurora.ScheduleStatus_PARTITIONED, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newExecutor(t)
			var srv *auroratest.Server // for the calls gorealis does not make
			r := gorealisClient(t, e, func(s *auroratest.Server) { srv = s })
			tr, err := thrift.NewTHttpClient(srv.URL + "/api")
			require.NoError(t, err)
			t.Cleanup(func() { tr.Close() })
			admin := aurora.NewAuroraAdminClientFactory(tr, thrift.NewTJSONProtocolFactory())
			ctx := context.Background()

			j := newJob(proc("main", "sleep 1000"))
			j.Name = "recon-" + tc.name
			// reschedule=false keeps a PARTITIONED task PARTITIONED.
			rj := realisJob(t, j, 1).PartitionPolicy(&aurora.PartitionPolicy{Reschedule: false})
			_, err = r.CreateJob(rj)
			require.NoError(t, err)
			id := activeTasks(t, r, rj.JobKey(), 1, aurora.ScheduleStatus_RUNNING)[0].AssignedTask.TaskId
			var pid int
			testenv.Eventually(t, 30*time.Second, 10*time.Millisecond, func() (bool, error) {
				info, _ := e.Task(id)
				if runs := info.RunsOf("main"); len(runs) > 0 {
					pid = runs[0].PID
				}
				return pid > 0, nil
			}, "process main of %s started", id)
			info, _ := e.Task(id)

			resp, err := admin.ForceTaskState(ctx, id, tc.forced)
			require.NoError(t, err)
			require.Equal(t, aurora.ResponseCode_OK, resp.ResponseCode)
			if tc.prune {
				resp, err = admin.PruneTasks(ctx, &aurora.TaskQuery{TaskIds: []string{id}})
				require.NoError(t, err)
				require.Equal(t, aurora.ResponseCode_OK, resp.ResponseCode)
			}
			require.True(t, procfs.Alive(pid), "forceTaskState sends nothing to the agent")

			require.NoError(t, r.ForceImplicitTaskReconciliation())
			if tc.killed {
				testenv.Eventually(t, 30*time.Second, 10*time.Millisecond, func() (bool, error) {
					return !procfs.Alive(pid), nil
				}, "process %d of task %s killed", pid, id)
				u := wait(t, e, id, 30*time.Second)
				assert.Equal(t, aurora.ScheduleStatus_KILLED, u.Status)
				assert.Empty(t, procsIn(info.Sandbox))
				tasks, err := r.GetTasksWithoutConfigs(&aurora.TaskQuery{TaskIds: []string{id}})
				require.NoError(t, err)
				if tc.prune {
					assert.Empty(t, tasks)
				} else if assert.Len(t, tasks, 1) {
					assert.Equal(t, tc.forced, tasks[0].Status, "the scheduler's record is left as it was")
				}
				return
			}
			tk := activeTasks(t, r, rj.JobKey(), 1, aurora.ScheduleStatus_RUNNING)[0]
			require.Equal(t, id, tk.AssignedTask.TaskId)
			last := tk.TaskEvents[len(tk.TaskEvents)-1]
			assert.Equal(t, "Reconciliation: Latest task state", last.GetMessage())
			assert.True(t, procfs.Alive(pid), "the process runs on")
			now, _ := e.Task(id)
			assert.Equal(t, pid, now.RunsOf("main")[0].PID)
			assert.Equal(t, "RUNNING", now.State)
		})
	}
}
