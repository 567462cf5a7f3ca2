package auroratest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
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

const (
	role = "vagrant"
	env  = "prod"
)

// client returns a gorealis client for srv, closed with the test.
func client(t testing.TB, srv *auroratest.Server, extra ...realis.ClientOption) realis.Realis {
	t.Helper()
	r, err := realis.NewRealisClient(append(srv.ClientOptions(), extra...)...)
	require.NoError(t, err)
	t.Cleanup(r.Close)
	return r
}

// newJob is a minimal valid service job as gorealis builds it.
func newJob(name string, instances int32) realis.Job {
	return realis.NewJob().
		Environment(env).Role(role).Name(name).
		ExecutorName(aurora.AURORA_EXECUTOR_NAME).
		ExecutorData(`{"name": "` + name + `"}`).
		CPU(0.25).RAM(64).Disk(100).
		IsService(true).
		InstanceCount(instances)
}

func key(name string) *aurora.JobKey {
	return &aurora.JobKey{Role: role, Environment: env, Name: name}
}

// waitInstances polls through gorealis until the job has want instances
// in one of the states.
func waitInstances(t testing.TB, r realis.Realis, k *aurora.JobKey, want int, states ...aurora.ScheduleStatus) {
	t.Helper()
	var ids []int32
	testenv.Eventually(t, 10*time.Second, 2*time.Millisecond, func() (bool, error) {
		var err error
		ids, err = r.GetInstanceIds(k, states)
		return len(ids) == want, err
	}, "job %v: want %d instances in %v, have %v", k, want, states, &ids)
}

func waitUpdate(t testing.TB, r realis.Realis, k *aurora.JobUpdateKey, states ...aurora.JobUpdateStatus) aurora.JobUpdateStatus {
	t.Helper()
	m := realis.Monitor{Client: r}
	st, err := m.JobUpdateStatus(*k, states, 5*time.Millisecond, 10*time.Second)
	require.NoError(t, err, "waiting for update %v to reach %v", k.ID, states)
	return st
}

// fastServer starts a Server whose clock runs 1000 times faster; ex runs
// its tasks (nil: a NopExecutor).
func fastServer(ex auroratest.Executor) *auroratest.Server {
	s := unstartedFastServer(ex)
	s.Start()
	return s
}

// unstartedFastServer is fastServer before Start, for tests that set more
// fields.
func unstartedFastServer(ex auroratest.Executor) *auroratest.Server {
	s := auroratest.NewUnstartedServer(ex)
	s.TimeScale = 1000
	return s
}

// startOn starts a fast server with executor ex that keeps its state in
// dir, for tests that stop a server and start another on the same state.
func startOn(ex auroratest.Executor, dir string) *auroratest.Server {
	s := unstartedFastServer(ex)
	s.DataDir = dir
	s.Start()
	return s
}

func TestCreateMonitorKill(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	r := client(t, srv)

	resp, err := r.CreateJob(newJob("hello", 3).AddNamedPorts("http"))
	require.NoError(t, err)
	assert.Equal(t, aurora.ResponseCode_OK, resp.ResponseCode)
	assert.Equal(t, "devcluster", resp.ServerInfo.ClusterName)

	m := realis.Monitor{Client: r}
	ok, err := m.Instances(key("hello"), 3, 1, 10)
	require.NoError(t, err)
	require.True(t, ok)

	tasks, err := r.GetTasksWithoutConfigs(&aurora.TaskQuery{JobKeys: []*aurora.JobKey{key("hello")}})
	require.NoError(t, err)
	require.Len(t, tasks, 3)
	hosts := map[string]bool{}
	for _, task := range tasks {
		a := task.AssignedTask
		assert.Equal(t, aurora.ScheduleStatus_RUNNING, task.Status)
		assert.True(t, strings.HasPrefix(a.TaskId, fmt.Sprintf("vagrant-prod-hello-%d-", a.InstanceId)), a.TaskId)
		assert.Empty(t, a.Task.ExecutorConfig.Data, "getTasksWithoutConfigs strips the executor data")
		assert.Equal(t, "AuroraExecutor", a.Task.ExecutorConfig.Name)
		assert.Equal(t, "preemptible", a.Task.GetTier())
		assert.False(t, a.Task.GetProduction())
		assert.Equal(t, map[string]string{"http": "http://%host%:%port:http%"}, a.Task.TaskLinks)
		assert.NotNil(t, a.Task.Container.Mesos)
		assert.Greater(t, a.AssignedPorts["http"], int32(1023))
		hosts[a.SlaveHost] = true
		var states []aurora.ScheduleStatus
		for _, e := range task.TaskEvents {
			states = append(states, e.Status)
		}
		assert.Equal(t, []aurora.ScheduleStatus{aurora.ScheduleStatus_PENDING, aurora.ScheduleStatus_ASSIGNED,
			aurora.ScheduleStatus_STARTING, aurora.ScheduleStatus_RUNNING}, states)
	}
	assert.Len(t, hosts, 3, "three tasks are spread over three agents")

	full, err := r.GetTaskStatus(&aurora.TaskQuery{JobKeys: []*aurora.JobKey{key("hello")}, InstanceIds: []int32{0}})
	require.NoError(t, err)
	require.Len(t, full, 1)
	assert.Equal(t, `{"name": "hello"}`, full[0].AssignedTask.Task.ExecutorConfig.Data)

	_, err = r.KillJob(key("hello"))
	require.NoError(t, err)
	ok, err = m.Instances(key("hello"), 0, 1, 10)
	require.NoError(t, err)
	require.True(t, ok)
	killed, err := r.GetInstanceIds(key("hello"), []aurora.ScheduleStatus{aurora.ScheduleStatus_KILLED})
	require.NoError(t, err)
	assert.ElementsMatch(t, []int32{0, 1, 2}, killed)
	for _, task := range srv.Tasks(role, env, "hello") {
		last := task.TaskEvents[len(task.TaskEvents)-1]
		assert.Equal(t, aurora.ScheduleStatus_KILLED, last.Status)
		assert.Equal(t, "Killed by UNSECURE.\n", *task.TaskEvents[len(task.TaskEvents)-2].Message)
	}

	resp, err = r.KillJob(key("hello"))
	require.NoError(t, err)
	assert.Equal(t, "No tasks to kill.", resp.Details[0].Message)
}

func TestDuplicateCreate(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	r := client(t, srv)
	_, err := r.CreateJob(newJob("dup", 1))
	require.NoError(t, err)
	resp, err := r.CreateJob(newJob("dup", 1))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Job vagrant/prod/dup already exists")
	assert.Equal(t, aurora.ResponseCode_INVALID_REQUEST, resp.ResponseCode)
}

func TestKillAssignedStaysKilling(t *testing.T) {
	t.Parallel()
	srv := auroratest.NewUnstartedServer(nil)
	block := make(chan struct{})
	srv.Executor = blockingExecutor{block}
	srv.Start()
	defer srv.Close()
	defer close(block)
	r := client(t, srv)
	_, err := r.CreateJob(newJob("slow", 2))
	require.NoError(t, err)
	waitInstances(t, r, key("slow"), 2, aurora.ScheduleStatus_ASSIGNED)
	_, err = r.KillJob(key("slow"))
	require.NoError(t, err)
	ids, err := r.GetInstanceIds(key("slow"), []aurora.ScheduleStatus{aurora.ScheduleStatus_KILLING})
	require.NoError(t, err)
	assert.Len(t, ids, 2, "assigned tasks stay KILLING until the executor reports them killed")
}

// blockingExecutor never reports anything.
type blockingExecutor struct{ block chan struct{} }

func (blockingExecutor) Launch(ctx context.Context, t auroratest.LaunchedTask, report func(auroratest.StatusUpdate)) {
}
func (blockingExecutor) Kill(string) {}

func TestHTTPContract(t *testing.T) {
	t.Parallel()
	srv := auroratest.NewServer(nil)
	defer srv.Close()
	res, err := http.Post(srv.URL+"/api", "text/plain", strings.NewReader("x"))
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusUnsupportedMediaType, res.StatusCode)
	res, err = http.Get(srv.URL + "/api")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
	// A request whose lists claim more elements than it has bytes is
	// refused without allocating them.
	res, err = http.Post(srv.URL+"/api", "application/vnd.apache.thrift.binary",
		strings.NewReader("\x80\x01\x00\x01\x00\x00\x00\x09createJob\x00\x00\x00\x00\x0c\x00\x01\x0c\x00\x06\x0e\x00\x20\x0c\x7f\xff\xff\xff"))
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
}

func TestHealth(t *testing.T) {
	t.Parallel()
	srv := auroratest.NewServer(nil)
	defer srv.Close()
	for _, p := range []string{"/health", "/leaderhealth"} {
		res, err := http.Get(srv.URL + p)
		require.NoError(t, err)
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		assert.Equal(t, 200, res.StatusCode)
		assert.Equal(t, "OK", string(b))
	}
}
