//go:build linux

package thermosexec_test

import (
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
)

// TestProcessGetsThePortTheSchedulerAssigned: as auroratest's doc says,
// the port the scheduler gives a task comes from its agent's port range,
// and {{thermos.ports[http]}} is that very port: the task's process binds
// it on 127.0.0.1 and serves there.
func TestProcessGetsThePortTheSchedulerAssigned(t *testing.T) {
	ranges := map[string][2]int32{"agent-1": {31000, 31004}, "agent-2": {31005, 31010}}
	e := newExecutor(t)
	r := gorealisClient(t, e, func(srv *auroratest.Server) {
		srv.Agents = []auroratest.Agent{
			{Host: "agent-1", Resources: "cpus:4;mem:4096;disk:10000;ports:[31000-31004]"},
			{Host: "agent-2", Resources: "cpus:4;mem:4096;disk:10000;ports:[31005-31010]"},
		}
	})

	j := newJob(proc("web", helperCmd(t, "{{thermos.ports[http]}}")))
	j.Name, j.Service = "ported", true
	rj := realisJob(t, j, 3, "http")
	_, err := r.CreateJob(rj)
	require.NoError(t, err)

	tasks := activeTasks(t, r, rj.JobKey(), 3, aurora.ScheduleStatus_RUNNING)
	seen := map[int32]bool{}
	for _, st := range tasks {
		at := st.AssignedTask
		port := at.AssignedPorts["http"]
		rg, ok := ranges[at.SlaveHost]
		require.True(t, ok, "task on unknown agent %q", at.SlaveHost)
		assert.True(t, rg[0] <= port && port <= rg[1], "port %d of a task on %s is outside its agent's range %v", port, at.SlaveHost, rg)
		assert.False(t, seen[port], "port %d given to two tasks sharing the loopback interface", port)
		seen[port] = true

		info, ok := e.Task(at.TaskId)
		require.True(t, ok)
		body := getWhenServed(t, port)
		assert.Equal(t, "hello from "+info.Sandbox+" home="+info.Sandbox, body, "the task's own process serves on its assigned port")
		assert.Equal(t, "listening on 127.0.0.1:"+strconv.Itoa(int(port))+"\n", readLog(t, info.Sandbox, "web", 0, "stdout"))
	}

	_, err = r.KillJob(rj.JobKey())
	require.NoError(t, err)
	activeTasks(t, r, rj.JobKey(), 0, aurora.ACTIVE_STATES...)
}

// getWhenServed returns the body of GET / on 127.0.0.1:port once a
// process serves there (polling for up to 10 s).
func getWhenServed(t *testing.T, port int32) string {
	t.Helper()
	var body string
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(int(port)) + "/")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return true
	}, 10*time.Second, 10*time.Millisecond)
	return body
}
