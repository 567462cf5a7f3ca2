//go:build linux

package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/nixrealis/nixrealis/internal/testenv"
	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAdminPartitionReschedulesThroughGorealis partitions the agent a
// task runs on through the devcluster's admin endpoint (two agents on one
// host, so by agent id): with no PartitionPolicy the task goes LOST and a
// replacement runs on the other agent; restore reconnects it.
func TestAdminPartitionReschedulesThroughGorealis(t *testing.T) {
	dir := t.TempDir()
	agents := filepath.Join(dir, "agents.json")
	require.NoError(t, os.WriteFile(agents, []byte(`[
  {"host": "localhost", "attributes": "zone:west", "resources": "cpus:2;mem:1024;disk:10000"},
  {"host": "localhost", "attributes": "zone:east", "resources": "cpus:2;mem:1024;disk:10000"}
]`), 0o644))
	srvURL := runInProcess(t, "-port", "0", "-agents", agents, "-timescale", "1000", "-user", "aurora", "-password", "secret").url
	r, err := realis.NewRealisClient(realis.SchedulerUrl(srvURL), realis.BasicAuth("aurora", "secret"), realis.SetLogger(realis.NoopLogger{}))
	require.NoError(t, err)
	defer r.Close()

	job := realis.NewJob().Environment("devel").Role("vagrant").Name("part").
		ExecutorName(aurora.AURORA_EXECUTOR_NAME).ExecutorData("{}").
		CPU(1).RAM(64).Disk(100).InstanceCount(1).IsService(true)
	_, err = r.CreateJob(job)
	require.NoError(t, err)
	query := &aurora.TaskQuery{Role: thrift.StringPtr("vagrant"), JobName: thrift.StringPtr("part")}
	// waitFor polls until a task of the job is in state, and returns it.
	waitFor := func(state aurora.ScheduleStatus, not string) *aurora.ScheduledTask {
		t.Helper()
		var tasks []*aurora.ScheduledTask
		var found *aurora.ScheduledTask
		testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() (bool, error) {
			var err error
			tasks, err = r.GetTaskStatus(query)
			for _, task := range tasks {
				if task.Status == state && task.AssignedTask.TaskId != not {
					found = task
				}
			}
			return found != nil, err
		}, "no task %v in %v", state, &tasks)
		return found
	}
	first := waitFor(aurora.ScheduleStatus_RUNNING, "").AssignedTask

	admin := func(path string, q url.Values, auth bool) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srvURL+path+"?"+q.Encode(), nil)
		require.NoError(t, err)
		if auth {
			req.SetBasicAuth("aurora", "secret")
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	agent := url.Values{"agent": {first.SlaveId}}
	assert.Equal(t, http.StatusUnauthorized, admin("/admin/partition", agent, false))
	require.Equal(t, http.StatusOK, admin("/admin/partition", agent, true))

	lost := waitFor(aurora.ScheduleStatus_LOST, "")
	assert.Equal(t, first.TaskId, lost.AssignedTask.TaskId)
	assert.Equal(t, int32(1), lost.TimesPartitioned)
	last := lost.TaskEvents[len(lost.TaskEvents)-1]
	assert.Equal(t, "Task partitioned for too long.", last.GetMessage())
	repl := waitFor(aurora.ScheduleStatus_RUNNING, first.TaskId).AssignedTask
	assert.NotEqual(t, first.SlaveId, repl.SlaveId, "the replacement runs on the other agent")

	require.Equal(t, http.StatusOK, admin("/admin/restore", agent, true))
	require.Equal(t, http.StatusNotFound, admin("/admin/restore", url.Values{"host": {"nowhere"}}, true))
}
