package auroratest_test

import (
	"slices"
	"testing"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
)

func twoAgents(t *testing.T, min int) *auroratest.Server {
	srv := auroratest.NewUnstartedServer(nil)
	srv.TimeScale = 1000
	srv.MinRequiredInstancesForSLA = min
	srv.Agents = []auroratest.Agent{
		{Host: "a", Attributes: "host:a", Resources: "cpus:8;mem:8192;disk:10000"},
		{Host: "b", Attributes: "host:b", Resources: "cpus:8;mem:8192;disk:10000"},
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// onlyOn creates the job with all its instances on host a: b is drained
// meanwhile.
func onlyOn(t *testing.T, r realis.Realis, job realis.Job, n int) {
	_, _, err := r.DrainHosts("b")
	require.NoError(t, err)
	_, err = r.CreateJob(job)
	require.NoError(t, err)
	waitInstances(t, r, job.JobKey(), n, aurora.ScheduleStatus_RUNNING)
	_, _, err = r.EndMaintenance("b")
	require.NoError(t, err)
}

func TestDrainHostsReschedulesTasksElsewhere(t *testing.T) {
	t.Parallel()
	srv := twoAgents(t, 20)
	r := client(t, srv)
	onlyOn(t, r, newJob("drain", 2), 2)
	assert.Equal(t, []string{"a", "a"}, hostsOf(srv, "drain"))

	_, started, err := r.StartMaintenance("a", "unknown")
	require.NoError(t, err)
	assert.Equal(t, []*aurora.HostStatus{{Host: "a", Mode: aurora.MaintenanceMode_SCHEDULED}}, started.Statuses, "unknown hosts are left out")
	_, drained, err := r.DrainHosts("a")
	require.NoError(t, err)
	assert.Equal(t, []*aurora.HostStatus{{Host: "a", Mode: aurora.MaintenanceMode_DRAINING}}, drained.Statuses)

	m := &realis.Monitor{Client: r}
	done, err := m.HostMaintenance([]string{"a"}, []aurora.MaintenanceMode{aurora.MaintenanceMode_DRAINED}, 1, 20)
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"a": true}, done)
	waitInstances(t, r, key("drain"), 2, aurora.ScheduleStatus_RUNNING)
	assert.Equal(t, []string{"b", "b"}, hostsOf(srv, "drain"))
	for _, task := range srv.Tasks(role, env, "drain") {
		if task.AssignedTask.SlaveHost == "a" {
			assert.Equal(t, aurora.ScheduleStatus_KILLED, task.Status)
			assert.Contains(t, messages(task), "Draining machine for maintenance.")
		}
	}

	_, status, err := r.MaintenanceStatus("a", "b")
	require.NoError(t, err)
	assert.ElementsMatch(t, []*aurora.HostStatus{{Host: "a", Mode: aurora.MaintenanceMode_DRAINED}, {Host: "b", Mode: aurora.MaintenanceMode_NONE}}, status.Statuses)
	_, ended, err := r.EndMaintenance("a")
	require.NoError(t, err)
	assert.Equal(t, []*aurora.HostStatus{{Host: "a", Mode: aurora.MaintenanceMode_NONE}}, ended.Statuses)
}

func messages(t *aurora.ScheduledTask) []string {
	var out []string
	for _, e := range t.TaskEvents {
		out = append(out, e.GetMessage())
	}
	return out
}

func TestSlaDrainHostsPacesByTheSLAPolicy(t *testing.T) {
	t.Parallel()
	srv := twoAgents(t, 1)
	r := client(t, srv)
	_, err := r.SetQuota(role, ptr(8.0), ptr(int64(8192)), ptr(int64(8192)))
	require.NoError(t, err)
	onlyOn(t, r, newJob("sla", 3).Tier("preferred"), 3)

	policy := &aurora.SlaPolicy{CountSlaPolicy: &aurora.CountSlaPolicy{Count: 2}}
	_, err = r.SLADrainHosts(policy, 3600, "a")
	require.NoError(t, err)
	done, err := (&realis.Monitor{Client: r}).HostMaintenance([]string{"a"}, []aurora.MaintenanceMode{aurora.MaintenanceMode_DRAINED}, 1, 30)
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"a": true}, done)
	waitInstances(t, r, key("sla"), 3, aurora.ScheduleStatus_RUNNING)
	assert.Equal(t, []string{"b", "b", "b"}, hostsOf(srv, "sla"))

	// Count 2 of 3 lets one instance drain at a time: each drain waits for
	// a maintenance poll (1 min on the scheduler's clock) after the last.
	var drains []int64
	for _, task := range srv.Tasks(role, env, "sla") {
		for _, e := range task.TaskEvents {
			if e.Status == aurora.ScheduleStatus_DRAINING {
				drains = append(drains, e.Timestamp)
			}
		}
	}
	require.Len(t, drains, 3)
	slices.Sort(drains)
	for i := 1; i < len(drains); i++ {
		assert.GreaterOrEqual(t, drains[i]-drains[i-1], int64(60000), "drains %v", drains)
	}
}
