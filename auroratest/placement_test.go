package auroratest_test

import (
	"slices"
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

// agentServer starts a fast server with the given agents.
func agentServer(t testing.TB, agents ...auroratest.Agent) *auroratest.Server {
	t.Helper()
	srv := auroratest.NewUnstartedServer(nil)
	srv.TimeScale = 1000
	srv.Agents = agents
	srv.AllowGPUResource = true
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// waitReasons polls getPendingReason through gorealis until the job's n
// pending tasks all have a reason, and returns the reasons.
func waitReasons(t testing.TB, r realis.Realis, k *aurora.JobKey, n int) []string {
	t.Helper()
	var got []*aurora.PendingReason
	var reasons []string
	testenv.Eventually(t, 10*time.Second, 2*time.Millisecond, func() (bool, error) {
		var err error
		if got, err = r.GetPendingReason(&aurora.TaskQuery{JobKeys: []*aurora.JobKey{k}}); err != nil {
			return false, err
		}
		reasons = nil
		for _, p := range got {
			if p.Reason != "" {
				reasons = append(reasons, p.Reason)
			}
		}
		return len(reasons) == n && len(got) == n, nil
	}, "job %v: want %d pending reasons, have %v", k, n, &got)
	return reasons
}

// hostsOf returns the agent host of each active task of the job.
func hostsOf(srv *auroratest.Server, name string) []string {
	var out []string
	for _, t := range srv.Tasks(role, env, name) {
		if t.Status == aurora.ScheduleStatus_RUNNING {
			out = append(out, t.AssignedTask.SlaveHost)
		}
	}
	slices.Sort(out)
	return out
}

var small = auroratest.Agent{Host: "small", Attributes: "host:small;zone:west;rack:a1",
	Resources: "cpus:2;mem:1024;disk:20000;gpus:1;ports:[31000-31001]"}

func TestPendingReasons(t *testing.T) {
	t.Parallel()
	draining := auroratest.Agent{Host: "draining", Attributes: "host:draining", Resources: small.Resources}
	tests := []struct {
		name   string
		agents []auroratest.Agent
		job    func(realis.Job) realis.Job
		want   string
	}{
		{"cpu", []auroratest.Agent{small}, func(j realis.Job) realis.Job { return j.CPU(2) }, "Insufficient: CPU"},
		{"cpu and ram", []auroratest.Agent{small}, func(j realis.Job) realis.Job { return j.CPU(4).RAM(4096) }, "Insufficient: CPU,Insufficient: RAM"},
		{"disk", []auroratest.Agent{small}, func(j realis.Job) realis.Job { return j.Disk(30000) }, "Insufficient: disk"},
		{"gpu", []auroratest.Agent{small}, func(j realis.Job) realis.Job { return j.GPU(2) }, "Insufficient: GPU"},
		{"ports", []auroratest.Agent{small}, func(j realis.Job) realis.Job { return j.AddNamedPorts("a").AddNamedPorts("b").AddNamedPorts("c") }, "Insufficient: ports"},
		{"value constraint", []auroratest.Agent{small}, func(j realis.Job) realis.Job { return j.AddValueConstraint("zone", false, "east") }, "Constraint not satisfied: zone"},
		{"negated value constraint", []auroratest.Agent{small}, func(j realis.Job) realis.Job { return j.AddValueConstraint("rack", true, "a1") }, "Constraint not satisfied: rack"},
		{"limit on a missing attribute", []auroratest.Agent{small}, func(j realis.Job) realis.Job { return j.AddLimitConstraint("pod", 1) }, "Constraint not satisfied: pod"},
		{"dedicated host", []auroratest.Agent{{Host: "d", Attributes: "dedicated:other/job", Resources: small.Resources}},
			func(j realis.Job) realis.Job { return j }, "Host is dedicated"},
		{"dedicated constraint", []auroratest.Agent{small}, func(j realis.Job) realis.Job { return j.AddDedicatedConstraint(role, "db") }, "Constraint not satisfied: dedicated"},
		// The nearest fit is the agent with the lowest veto score: a
		// resource shortfall beats a constraint mismatch.
		{"nearest fit", []auroratest.Agent{small, {Host: "east", Attributes: "zone:east", Resources: "cpus:1;mem:1024;disk:20000"}},
			func(j realis.Job) realis.Job { return j.CPU(1).AddValueConstraint("zone", false, "east") }, "Insufficient: CPU"},
		{"drained host", []auroratest.Agent{draining}, nil, "Host drained for maintenance"},
		// No agents given: DefaultAgents, whose resources are finite.
		{"default agents", nil, func(j realis.Job) realis.Job { return j.CPU(1000) }, "Insufficient: CPU"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := agentServer(t, tt.agents...)
			r := client(t, srv)
			if tt.job == nil {
				_, _, err := r.DrainHosts("draining")
				require.NoError(t, err)
				tt.job = func(j realis.Job) realis.Job { return j }
			}
			_, err := r.CreateJob(tt.job(newJob("pend", 2)))
			require.NoError(t, err)
			assert.Equal(t, []string{tt.want, tt.want}, waitReasons(t, r, key("pend"), 2))
		})
	}
}

func TestPlacementWithRoom(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		job  func(realis.Job) realis.Job
	}{
		{"resources", func(j realis.Job) realis.Job { return j.CPU(0.5).RAM(256).GPU(1) }},
		{"value constraint", func(j realis.Job) realis.Job { return j.AddValueConstraint("zone", false, "west", "east") }},
		{"negated value constraint", func(j realis.Job) realis.Job { return j.AddValueConstraint("zone", true, "east") }},
		{"dedicated", func(j realis.Job) realis.Job { return j.AddDedicatedConstraint(role, "db") }},
		{"dedicated wildcard", func(j realis.Job) realis.Job { return j.AddDedicatedConstraint("*", "db") }},
		{"host limit", func(j realis.Job) realis.Job { return j.AddLimitConstraint("host", 1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			attrs := "zone:west"
			if strings.HasPrefix(tt.name, "dedicated") {
				attrs = "zone:west;dedicated:" + role + "/db"
				if tt.name == "dedicated wildcard" {
					attrs = "zone:west;dedicated:*/db"
				}
			}
			srv := agentServer(t, auroratest.Agent{Host: "a", Attributes: attrs + ";host:a", Resources: small.Resources})
			r := client(t, srv)
			_, err := r.CreateJob(tt.job(newJob("fit", 1)))
			require.NoError(t, err)
			waitInstances(t, r, key("fit"), 1, aurora.ScheduleStatus_RUNNING)
		})
	}
}

func TestHostLimitSpreadsInstances(t *testing.T) {
	t.Parallel()
	srv := agentServer(t,
		auroratest.Agent{Host: "a", Attributes: "host:a;rack:1", Resources: "cpus:8;mem:8192;disk:10000"},
		auroratest.Agent{Host: "b", Attributes: "host:b;rack:1", Resources: "cpus:8;mem:8192;disk:10000"},
		auroratest.Agent{Host: "c", Attributes: "host:c;rack:2", Resources: "cpus:8;mem:8192;disk:10000"},
	)
	r := client(t, srv)
	_, err := r.CreateJob(newJob("spread", 4).AddLimitConstraint("host", 1))
	require.NoError(t, err)
	waitInstances(t, r, key("spread"), 3, aurora.ScheduleStatus_RUNNING)
	assert.Equal(t, []string{"a", "b", "c"}, hostsOf(srv, "spread"))
	assert.Equal(t, []string{"Limit not satisfied: host"}, waitReasons(t, r, key("spread"), 1))

	_, err = r.CreateJob(newJob("racks", 3).AddLimitConstraint("rack", 2))
	require.NoError(t, err)
	waitInstances(t, r, key("racks"), 3, aurora.ScheduleStatus_RUNNING)
}

func TestPortsComeFromTheAgentsRanges(t *testing.T) {
	t.Parallel()
	srv := agentServer(t, auroratest.Agent{Host: "a", Resources: "cpus:8;mem:8192;disk:10000;ports:[41000-41019]"})
	r := client(t, srv)
	_, err := r.CreateJob(newJob("ports", 2).AddNamedPorts("http").AddNamedPorts("admin"))
	require.NoError(t, err)
	waitInstances(t, r, key("ports"), 2, aurora.ScheduleStatus_RUNNING)
	seen := map[int32]bool{}
	for _, task := range srv.Tasks(role, env, "ports") {
		require.Len(t, task.AssignedTask.AssignedPorts, 2)
		for _, p := range task.AssignedTask.AssignedPorts {
			assert.True(t, p >= 41000 && p <= 41019, "port %d outside [41000-41019]", p)
			assert.False(t, seen[p], "port %d given twice", p)
			seen[p] = true
		}
	}
}

func TestFreedResourcesLetPendingTasksGoByPriority(t *testing.T) {
	t.Parallel()
	// Room for one task of 0.75 cpus (0.5 + the executor's 0.25).
	srv := agentServer(t, auroratest.Agent{Host: "a", Resources: "cpus:1;mem:4096;disk:10000"})
	r := client(t, srv)
	_, err := r.CreateJob(newJob("first", 1).CPU(0.5))
	require.NoError(t, err)
	waitInstances(t, r, key("first"), 1, aurora.ScheduleStatus_RUNNING)
	_, err = r.CreateJob(newJob("old", 1).CPU(0.5))
	require.NoError(t, err)
	assert.Equal(t, []string{"Insufficient: CPU"}, waitReasons(t, r, key("old"), 1))
	_, err = r.CreateJob(newJob("urgent", 1).CPU(0.5).Priority(10))
	require.NoError(t, err)
	waitReasons(t, r, key("urgent"), 1)

	_, err = r.KillJob(key("first"))
	require.NoError(t, err)
	waitInstances(t, r, key("urgent"), 1, aurora.ScheduleStatus_RUNNING)
	assert.Equal(t, []string{"Insufficient: CPU"}, waitReasons(t, r, key("old"), 1), "priority goes first")

	_, err = r.KillJob(key("urgent"))
	require.NoError(t, err)
	waitInstances(t, r, key("old"), 1, aurora.ScheduleStatus_RUNNING)
}

func TestFreedResourcesGoToTheOldestOfEqualPriority(t *testing.T) {
	t.Parallel()
	srv := agentServer(t, auroratest.Agent{Host: "a", Resources: "cpus:1;mem:4096;disk:10000"})
	r := client(t, srv)
	_, err := r.CreateJob(newJob("first", 1).CPU(0.5))
	require.NoError(t, err)
	waitInstances(t, r, key("first"), 1, aurora.ScheduleStatus_RUNNING)
	for _, name := range []string{"older", "newer"} {
		_, err = r.CreateJob(newJob(name, 1).CPU(0.5))
		require.NoError(t, err)
		assert.Equal(t, []string{"Insufficient: CPU"}, waitReasons(t, r, key(name), 1))
	}
	_, err = r.KillJob(key("first"))
	require.NoError(t, err)
	waitInstances(t, r, key("older"), 1, aurora.ScheduleStatus_RUNNING)
	assert.Equal(t, []string{"Insufficient: CPU"}, waitReasons(t, r, key("newer"), 1), "the older task goes first")
}

func TestProductionPreemptsNonProduction(t *testing.T) {
	t.Parallel()
	srv := auroratest.NewUnstartedServer(nil)
	srv.TimeScale = 20000 // Aurora's 3 min preemption delay in 9 ms
	srv.Agents = []auroratest.Agent{{Host: "a", Resources: "cpus:1;mem:4096;disk:10000"}}
	srv.Start()
	defer srv.Close()
	r := client(t, srv)
	_, err := r.CreateJob(newJob("batch", 1).CPU(0.5))
	require.NoError(t, err)
	waitInstances(t, r, key("batch"), 1, aurora.ScheduleStatus_RUNNING)
	victim := srv.Tasks(role, env, "batch")[0]

	_, err = r.SetQuota(role, ptr(8.0), ptr(int64(8192)), ptr(int64(8192)))
	require.NoError(t, err)
	_, err = r.CreateJob(newJob("prod", 1).CPU(0.5).Tier("preferred"))
	require.NoError(t, err)
	waitInstances(t, r, key("prod"), 1, aurora.ScheduleStatus_RUNNING)
	prod := srv.Tasks(role, env, "prod")[0]

	var got *aurora.ScheduledTask
	for _, task := range srv.Tasks(role, env, "batch") {
		if task.AssignedTask.TaskId == victim.AssignedTask.TaskId {
			got = task
		}
	}
	require.NotNil(t, got)
	assert.Equal(t, aurora.ScheduleStatus_KILLED, got.Status)
	var preempting *aurora.TaskEvent
	for _, e := range got.TaskEvents {
		if e.Status == aurora.ScheduleStatus_PREEMPTING {
			preempting = e
		}
	}
	require.NotNil(t, preempting, "victim went through PREEMPTING")
	assert.Equal(t, "Preempting in favor of "+prod.AssignedTask.TaskId, preempting.GetMessage())
	// The victim is rescheduled and waits for room.
	assert.Equal(t, []string{"Insufficient: CPU"}, waitReasons(t, r, key("batch"), 1))
}

func TestAgentsMayShareAHost(t *testing.T) {
	t.Parallel()
	srv := agentServer(t,
		auroratest.Agent{Host: "localhost", Attributes: "zone:west;host:agent-one", Resources: "cpus:1;mem:1024;disk:1000"},
		auroratest.Agent{Host: "localhost", Attributes: "zone:east;host:agent-two", Resources: "cpus:1;mem:1024;disk:1000"},
	)
	r := client(t, srv)
	_, err := r.CreateJob(newJob("pair", 2).CPU(0.5).AddLimitConstraint("zone", 1))
	require.NoError(t, err)
	waitInstances(t, r, key("pair"), 2, aurora.ScheduleStatus_RUNNING)
	ids := map[string]bool{}
	for _, task := range srv.Tasks(role, env, "pair") {
		assert.Equal(t, "localhost", task.AssignedTask.SlaveHost)
		ids[task.AssignedTask.SlaveId] = true
	}
	assert.Len(t, ids, 2, "one task on each agent")
}

func TestParseAgents(t *testing.T) {
	t.Parallel()
	good := `[{"host": "localhost", "attributes": "zone:west;host:agent-one", "resources": "cpus:4;mem:8192;disk:20000;gpus:1;ports:[11000-11999]"}]`
	agents, err := auroratest.ParseAgents([]byte(good))
	require.NoError(t, err)
	assert.Equal(t, []auroratest.Agent{{Host: "localhost", Attributes: "zone:west;host:agent-one",
		Resources: "cpus:4;mem:8192;disk:20000;gpus:1;ports:[11000-11999]"}}, agents)
	bad := []struct{ json, want string }{
		{`{}`, "want a JSON list"},
		{`[{"host": "", "resources": "cpus:1"}]`, "agent 0: host is empty"},
		{`[{"host": "a", "attributes": "zone"}]`, `"zone" is not name:value`},
		{`[{"host": "a", "resources": "cpus:x"}]`, `cpus: "x" is not a non-negative number`},
		{`[{"host": "a", "resources": "cores:1"}]`, `unknown resource "cores"`},
		{`[{"host": "a", "resources": "ports:31000-32000"}]`, "is not a list of ranges"},
		{`[{"host": "a", "resources": "ports:[2-1]"}]`, `"2-1" is not a range`},
		{`[{"host": "a", "resources": "cpus(web):1"}]`, "reserved resources"},
		{`[{"host": "a", "cpu": 1}]`, "unknown field"},
	}
	for _, b := range bad {
		_, err := auroratest.ParseAgents([]byte(b.json))
		if assert.Error(t, err, b.json) {
			assert.Contains(t, err.Error(), b.want)
		}
	}
}
