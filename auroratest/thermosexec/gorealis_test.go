//go:build linux

package thermosexec_test

import (
	"strconv"
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/paypal/gorealis/response"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/auroratest/thermosexec"
	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/thermos"
)

// gorealisWorld is auroratest with this executor, on the same time scale
// (the scheduler 100 times faster, the executor's durations a hundredth),
// and a gorealis client.
func gorealisWorld(t *testing.T) (*thermosexec.Executor, realis.Realis) {
	t.Helper()
	e := newExecutor(t)
	return e, gorealisClient(t, e, func(srv *auroratest.Server) { srv.Hosts = []string{"agent-1", "agent-2"} })
}

// realisJob turns a payload into the gorealis job Aurora's client would
// create (instances, the named ports the payload references).
func realisJob(t *testing.T, j *thermos.Job, instances int32, ports ...string) realis.Job {
	t.Helper()
	data, err := thermos.Marshal(j)
	require.NoError(t, err)
	return realis.NewJob().
		Environment(j.Environment).Role(j.Role).Name(j.Name).
		ExecutorName(aurora.AURORA_EXECUTOR_NAME).ExecutorData(string(data)).
		CPU(0.1).RAM(16).Disk(16).
		IsService(j.Service).InstanceCount(instances).
		AddNamedPorts(ports...)
}

func activeTasks(t *testing.T, r realis.Realis, k *aurora.JobKey, want int, states ...aurora.ScheduleStatus) []*aurora.ScheduledTask {
	t.Helper()
	var tasks []*aurora.ScheduledTask
	testenv.Eventually(t, 30*time.Second, 10*time.Millisecond, func() (bool, error) {
		var err error
		tasks, err = r.GetTaskStatus(&aurora.TaskQuery{JobKeys: []*aurora.JobKey{k}, Statuses: states})
		return err == nil && len(tasks) == want, err
	}, "want %d tasks in %v", want, states)
	return tasks
}

// A service created through gorealis really runs: each instance serves
// HTTP on its assigned port from its own sandbox, and killing the job
// through gorealis leaves no process.
func TestCreateAndKillThroughGorealis(t *testing.T) {
	e, r := gorealisWorld(t)
	j := newJob(proc("web", "echo instance {{mesos.instance}} on {{mesos.hostname}}; "+helperCmd(t, "{{thermos.ports[http]}}")))
	j.Name, j.Service = "web", true
	rj := realisJob(t, j, 2, "http")
	_, err := r.CreateJob(rj)
	require.NoError(t, err)

	tasks := activeTasks(t, r, rj.JobKey(), 2, aurora.ScheduleStatus_RUNNING)
	var sandboxes []string
	for _, st := range tasks {
		at := st.AssignedTask
		info, ok := e.Task(at.TaskId)
		require.True(t, ok)
		sandboxes = append(sandboxes, info.Sandbox)
		port := at.AssignedPorts["http"]
		require.NotZero(t, port)
		body := getWhenServed(t, port)
		assert.Equal(t, "hello from "+info.Sandbox+" home="+info.Sandbox, body)
		assert.Equal(t, "instance "+strconv.Itoa(int(at.InstanceId))+" on "+at.SlaveHost+"\n",
			readLog(t, info.Sandbox, "web", 0, "stdout")[:len("instance 0 on ")+len(at.SlaveHost)+1])
	}

	_, err = r.KillJob(rj.JobKey())
	require.NoError(t, err)
	activeTasks(t, r, rj.JobKey(), 0, aurora.ACTIVE_STATES...)
	for _, st := range tasks {
		u := wait(t, e, st.AssignedTask.TaskId, 10*time.Second)
		assert.Equal(t, KILLED, u.Status)
	}
	for _, s := range sandboxes {
		assert.Empty(t, procsIn(s))
	}
}

// A failing update is rolled back because the new configuration's health
// check fails: its instances never become RUNNING (the executor reports
// RUNNING only once healthy) and end FAILED.
func TestFailingUpdateRolledBackByHealthCheck(t *testing.T) {
	e, r := gorealisWorld(t)
	svc := func(t *testing.T, health string) *thermos.Job {
		j := healthJob(t, "0", health)
		j.Name = "svc"
		return j
	}
	v1 := realisJob(t, svc(t, "ok"), 2, "health")
	_, err := r.CreateJob(v1)
	require.NoError(t, err)
	before := activeTasks(t, r, v1.JobKey(), 2, aurora.ScheduleStatus_RUNNING)

	v2 := realisJob(t, svc(t, "sick"), 2, "health")
	resp, err := r.StartJobUpdate(realis.NewDefaultUpdateJob(v2.TaskConfig()).InstanceCount(2), "make it sick")
	require.NoError(t, err)
	uk := response.JobUpdateKey(resp)
	require.NotNil(t, uk)
	m := realis.Monitor{Client: r}
	st, err := m.JobUpdateStatus(*uk, realis.TerminalUpdateStates(), 20*time.Millisecond, 60*time.Second)
	require.NoError(t, err)
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_BACK, st)

	after := activeTasks(t, r, v1.JobKey(), 2, aurora.ScheduleStatus_RUNNING)
	for _, task := range after {
		assert.Equal(t, v1.TaskConfig().ExecutorConfig.Data, task.AssignedTask.Task.ExecutorConfig.Data, "the old configuration runs again")
	}
	// Some instance of the new configuration failed its health check.
	failed, err := r.GetTaskStatus(&aurora.TaskQuery{JobKeys: []*aurora.JobKey{v1.JobKey()}, Statuses: []aurora.ScheduleStatus{aurora.ScheduleStatus_FAILED}})
	require.NoError(t, err)
	require.NotEmpty(t, failed)
	info, ok := e.Task(failed[0].AssignedTask.TaskId)
	require.True(t, ok)
	assert.Contains(t, info.Message, `Failed health check! Response differs from expected response (expected "ok", got "sick")`)
	replaced := 0
	for _, task := range after {
		found := false
		for _, old := range before {
			found = found || old.AssignedTask.TaskId == task.AssignedTask.TaskId
		}
		if !found {
			replaced++
		}
	}
	assert.NotZero(t, replaced, "the rolled-back instance runs as a new task")
}
