//go:build linux

package thermosexec_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/auroratest/thermosexec"
	procfs "github.com/nixrealis/nixrealis/internal/proc"
	"github.com/nixrealis/nixrealis/internal/testenv"
)

// adminClient is a client of srv's admin calls gorealis does not make.
func adminClient(t *testing.T, srv *auroratest.Server) *aurora.AuroraAdminClient {
	t.Helper()
	tr, err := thrift.NewTHttpClient(srv.URL + "/api")
	require.NoError(t, err)
	t.Cleanup(func() { tr.Close() })
	return aurora.NewAuroraAdminClientFactory(tr, thrift.NewTJSONProtocolFactory())
}

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
			admin := adminClient(t, srv)
			ctx := context.Background()

			j := newJob(proc("main", "sleep 1000"))
			j.Name = "recon-" + tc.name
			// reschedule=false keeps a PARTITIONED task PARTITIONED.
			rj := realisJob(t, j, 1).PartitionPolicy(&aurora.PartitionPolicy{Reschedule: false})
			_, err := r.CreateJob(rj)
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

// A backup recovered after one of its RUNNING tasks has FINISHED on its
// agent, a Thermos task whose process exits when the test creates a file
// and a custom task whose stand-in returns when the test says: the
// scheduler has the task back as the backup had it, RUNNING, and
// reconciles it with the executor, which answers with the task's latest
// state, as a Mesos master answers an explicit reconciliation. The task is
// FINISHED again, its RUNNING followed by one FINISHED event with the
// master's message. commitRecovery reconciles the backup's tasks as the
// scheduler Aurora restarts would, so the FINISHED may come from that
// reconciliation or from triggerExplicitTaskReconciliation after it; both
// ask Recover.
func TestRecoveredTaskFinishedSinceIsReconciled(t *testing.T) {
	for _, tc := range []struct {
		name string
		// start creates the job in a world set up by configure, and
		// returns what finish makes its task end on its own.
		start func(t *testing.T, configure func(*auroratest.Server)) (e *thermosexec.Executor, r realis.Realis, job *aurora.JobKey, finish func())
	}{
		{"thermos", func(t *testing.T, configure func(*auroratest.Server)) (*thermosexec.Executor, realis.Realis, *aurora.JobKey, func()) {
			e := newExecutor(t)
			r := gorealisClient(t, e, configure)
			// The process polls for done (Root is readable by the
			// task's user); the test does not.
			done := filepath.Join(e.Root, "done")
			j := newJob(proc("main", fmt.Sprintf("while [ ! -e %s ]; do sleep 0.05; done", done)))
			j.Name = "finished-since-backup"
			rj := realisJob(t, j, 1)
			_, err := r.CreateJob(rj)
			require.NoError(t, err)
			return e, r, rj.JobKey(), func() { require.NoError(t, os.WriteFile(done, nil, 0o644)) }
		}},
		{"custom", func(t *testing.T, configure func(*auroratest.Server)) (*thermosexec.Executor, realis.Realis, *aurora.JobKey, func()) {
			app := sampleApp(t)
			srvApp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(app) }))
			t.Cleanup(srvApp.Close)
			done := make(chan struct{})
			e, r := customWorld(t, thermosexec.CustomExecutorFunc(func(ctx context.Context, ct *thermosexec.CustomTask) error {
				ct.Running("compose up")
				select {
				case <-done:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}), configure)
			job := composeJob("www-data", srvApp.URL+"/sample-app.tar.gz")
			_, err := r.CreateJob(job)
			require.NoError(t, err)
			return e, r, job.JobKey(), func() { close(done) }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var srv *auroratest.Server
			dir := t.TempDir()
			e, r, job, finish := tc.start(t, func(s *auroratest.Server) { srv, s.DataDir = s, dir })
			admin := adminClient(t, srv)
			ctx := context.Background()
			id := activeTasks(t, r, job, 1, aurora.ScheduleStatus_RUNNING)[0].AssignedTask.TaskId

			require.NoError(t, r.PerformBackup())
			resp, err := admin.ListBackups(ctx)
			require.NoError(t, err)
			backups := resp.Result_.ListBackupsResult_.Backups
			require.Len(t, backups, 1)

			finish()
			require.Equal(t, aurora.ScheduleStatus_FINISHED, wait(t, e, id, 30*time.Second).Status)
			task := func() *aurora.ScheduledTask {
				tasks, err := r.GetTaskStatus(&aurora.TaskQuery{TaskIds: []string{id}})
				require.NoError(t, err)
				require.Len(t, tasks, 1)
				return tasks[0]
			}
			testenv.Eventually(t, 30*time.Second, 10*time.Millisecond, func() (bool, error) {
				return task().Status == aurora.ScheduleStatus_FINISHED, nil
			}, "task %s FINISHED in the scheduler", id)

			for _, call := range []func(context.Context) (*aurora.Response, error){
				func(ctx context.Context) (*aurora.Response, error) { return admin.StageRecovery(ctx, backups[0]) },
				admin.CommitRecovery,
			} {
				resp, err := call(ctx)
				require.NoError(t, err)
				require.Equal(t, aurora.ResponseCode_OK, resp.ResponseCode, resp.GetDetails())
			}
			require.NoError(t, r.ForceExplicitTaskReconciliation(nil))

			var got *aurora.ScheduledTask
			testenv.Eventually(t, 30*time.Second, 10*time.Millisecond, func() (bool, error) {
				got = task()
				return got.Status == aurora.ScheduleStatus_FINISHED, nil
			}, "task %s FINISHED again after the recovery and an explicit reconciliation", id)
			var statuses []aurora.ScheduleStatus
			for _, ev := range got.TaskEvents {
				statuses = append(statuses, ev.Status)
			}
			assert.Equal(t, []aurora.ScheduleStatus{aurora.ScheduleStatus_PENDING, aurora.ScheduleStatus_ASSIGNED,
				aurora.ScheduleStatus_STARTING, aurora.ScheduleStatus_RUNNING, aurora.ScheduleStatus_FINISHED}, statuses)
			assert.Equal(t, auroratest.LatestTaskState, got.TaskEvents[len(got.TaskEvents)-1].GetMessage())
		})
	}
}
