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
	return twoAgentCluster(t, nil, func(srv *auroratest.Server) { srv.MinRequiredInstancesForSLA = min })
}

// twoAgentsWithQuota is twoAgents with a client and a quota for the role
// that preferred-tier (production) jobs of the SLA tests fit in.
func twoAgentsWithQuota(t *testing.T, min int) (*auroratest.Server, realis.Realis) {
	t.Helper()
	srv := twoAgents(t, min)
	r := client(t, srv)
	_, err := r.SetQuota(role, ptr(8.0), ptr(int64(8192)), ptr(int64(8192)))
	require.NoError(t, err)
	return srv, r
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
	srv, r := twoAgentsWithQuota(t, 1)
	onlyOn(t, r, newJob("sla", 3).Tier("preferred"), 3)

	policy := &aurora.SlaPolicy{CountSlaPolicy: &aurora.CountSlaPolicy{Count: 2}}
	_, err := r.SLADrainHosts(policy, 3600, "a")
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

// drainTimes returns the DRAINING timestamps of the job's tasks, sorted.
func drainTimes(srv *auroratest.Server, name string) []int64 {
	var out []int64
	for _, task := range srv.Tasks(role, env, name) {
		for _, e := range task.TaskEvents {
			if e.Status == aurora.ScheduleStatus_DRAINING {
				out = append(out, e.Timestamp)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestSlaDrainHostsPercentagePolicy(t *testing.T) {
	t.Parallel()
	srv, r := twoAgentsWithQuota(t, 1)
	policy := &aurora.SlaPolicy{PercentageSlaPolicy: &aurora.PercentageSlaPolicy{Percentage: 50}}
	onlyOn(t, r, newJob("pct", 4).Tier("preferred").SlaPolicy(policy), 4)

	// The task's own policy wins over the request's default (drain all).
	_, err := r.SLADrainHosts(&aurora.SlaPolicy{CountSlaPolicy: &aurora.CountSlaPolicy{Count: 0}}, 3600, "a")
	require.NoError(t, err)
	done, err := (&realis.Monitor{Client: r}).HostMaintenance([]string{"a"}, []aurora.MaintenanceMode{aurora.MaintenanceMode_DRAINED}, 1, 30)
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"a": true}, done)
	waitInstances(t, r, key("pct"), 4, aurora.ScheduleStatus_RUNNING)
	assert.Equal(t, []string{"b", "b", "b", "b"}, hostsOf(srv, "pct"))

	// 50% of 4 must stay RUNNING: at most 2 drain at a maintenance poll,
	// the next ones a poll (1 min on the scheduler's clock) later.
	drains := drainTimes(srv, "pct")
	require.Len(t, drains, 4)
	perPoll := map[int64]int{}
	for _, d := range drains {
		perPoll[d]++
		assert.LessOrEqual(t, perPoll[d], 2, "drains %v", drains)
	}
	assert.GreaterOrEqual(t, drains[3]-drains[0], int64(60000), "drains %v", drains)
}

func TestSlaDrainHostsTimeoutForcesTheDrain(t *testing.T) {
	t.Parallel()
	srv := auroratest.NewUnstartedServer(nil)
	srv.TimeScale = 1000
	srv.MinRequiredInstancesForSLA = 1
	srv.Agents = []auroratest.Agent{{Host: "a", Attributes: "host:a", Resources: "cpus:8;mem:8192;disk:10000"}}
	srv.Start()
	defer srv.Close()
	r := client(t, srv)
	_, err := r.SetQuota(role, ptr(8.0), ptr(int64(8192)), ptr(int64(8192)))
	require.NoError(t, err)
	_, err = r.CreateJob(newJob("slow", 2).Tier("preferred"))
	require.NoError(t, err)
	waitInstances(t, r, key("slow"), 2, aurora.ScheduleStatus_RUNNING)

	// The default policy wants 1 of 2 instances RUNNING for 2 h: not
	// before the request's 5 min timeout, which forces the drain.
	created := srv.Now().UnixMilli()
	policy := &aurora.SlaPolicy{CountSlaPolicy: &aurora.CountSlaPolicy{Count: 1, DurationSecs: 7200}}
	drained, err := r.SLADrainHosts(policy, 300, "a")
	require.NoError(t, err)
	assert.Equal(t, []*aurora.HostStatus{{Host: "a", Mode: aurora.MaintenanceMode_DRAINING}}, drained.Statuses)
	_, err = r.CreateJob(newJob("probe", 1))
	require.NoError(t, err)
	assert.Equal(t, []string{"Host draining for maintenance"}, waitReasons(t, r, key("probe"), 1))

	done, err := (&realis.Monitor{Client: r}).HostMaintenance([]string{"a"}, []aurora.MaintenanceMode{aurora.MaintenanceMode_DRAINED}, 1, 30)
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"a": true}, done)
	drains := drainTimes(srv, "slow")
	require.Len(t, drains, 2)
	for _, d := range drains {
		assert.GreaterOrEqual(t, d-created, int64(300_000), "drained only when the timeout forced it")
		assert.Less(t, d-created, int64(7200_000), "drained before the SLA would have allowed it")
	}
	assert.Equal(t, []string{"Host drained for maintenance", "Host drained for maintenance"}, waitReasons(t, r, key("slow"), 2))
}

// TestSlaDrainHostsSkipsTheSLAOfSmallJobs: Aurora's SlaManager.skipSla
// treats a job with fewer active instances than
// -min_required_instances_for_sla_check as SLA-safe (Count and Percentage
// policies, the default policy included; a Coordinator policy is always
// asked), and so is every job of a non-production tier unless
// -sla_aware_kill_non_prod. Such a job's tasks all drain at the first
// maintenance poll, before the policy's duration could have been met; a
// job at the minimum is held by the same policy until its other instances
// have run that long, then drains one instance a poll.
func TestSlaDrainHostsSkipsTheSLAOfSmallJobs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		min   int
		tier  string
		paced bool
	}{
		{name: "production job below the minimum", min: 20, tier: "preferred"},
		{name: "production job at the minimum", min: 3, tier: "preferred", paced: true},
		{name: "non-production job", min: 1, tier: "preemptible"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, r := twoAgentsWithQuota(t, tc.min)
			created := srv.Now().UnixMilli()
			onlyOn(t, r, newJob("small", 3).Tier(tc.tier), 3)

			// Count 2 of 3 lets one instance drain a poll, once the others
			// have run for 30 min; the 2 h timeout would force the rest.
			policy := &aurora.SlaPolicy{CountSlaPolicy: &aurora.CountSlaPolicy{Count: 2, DurationSecs: 1800}}
			_, err := r.SLADrainHosts(policy, 7200, "a")
			require.NoError(t, err)
			done, err := (&realis.Monitor{Client: r}).HostMaintenance([]string{"a"}, []aurora.MaintenanceMode{aurora.MaintenanceMode_DRAINED}, 1, 60)
			require.NoError(t, err)
			assert.Equal(t, map[string]bool{"a": true}, done)
			waitInstances(t, r, key("small"), 3, aurora.ScheduleStatus_RUNNING)
			assert.Equal(t, []string{"b", "b", "b"}, hostsOf(srv, "small"))

			drains := drainTimes(srv, "small")
			require.Len(t, drains, 3)
			if !tc.paced {
				assert.Less(t, drains[2]-created, int64(1800_000), "not held by the SLA: %v", drains)
				return
			}
			for i := 1; i < len(drains); i++ {
				assert.GreaterOrEqual(t, drains[i]-drains[i-1], int64(60000), "one drain a poll: %v", drains)
			}
			assert.GreaterOrEqual(t, drains[0]-created, int64(1800_000), "held until the others ran for the SLA duration (they started after %d): %v", created, drains)
		})
	}
}
