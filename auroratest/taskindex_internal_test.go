package auroratest

import (
	"fmt"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/nixrealis/nixrealis/internal/testenv"
	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTaskID: task ids are what replacing every non-word character of
// role-env-name-instance-uuid by - makes of them, with or without the
// fast path.
func TestTaskID(t *testing.T) {
	t.Parallel()
	for _, id := range []string{
		"vagrant-test-hello-0-4e1f0c3a-0b1d-4c7e-9a4f-1d2e3f4a5b6c",
		"www.data-prod-web.v2-3-x",
		"r\u00f4le-env-n\xffame-1-x",
		"a b/c-d_e",
		"",
	} {
		assert.Equal(t, nonTaskIDChars.ReplaceAllString(id, "-"), taskID(id), id)
	}
}

// TestResourceVetoReasons: each resource type's veto reads as Aurora's
// ResourceVeto does, "Insufficient: " and the type's name.
func TestResourceVetoReasons(t *testing.T) {
	t.Parallel()
	for _, rt := range resourceTypes {
		assert.Equal(t, "Insufficient: "+rt.name, rt.veto)
	}
}

// TestGroupCandidates: a group's candidates, kept without copying the
// agent list, go through drops exactly as a copied list whose dropped
// element is replaced by its last one (the order placement tries agents
// in), before and after the group copies its list.
func TestGroupCandidates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		agents, rr   int
		drops, steps int
	}{
		{"few drops", 10, 3, 4, 20},
		{"all dropped", 10, 7, 10, 10},
		{"past the copy", 200, 55, 150, 400},
		{"everything", 100, 0, 100, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			agents := make([]*agent, tc.agents)
			for i := range agents {
				agents[i] = &agent{id: fmt.Sprint(i)}
			}
			want := make([]*agent, len(agents))
			for i := range agents {
				want[i] = agents[(tc.rr+i)%len(agents)]
			}
			g := &group{agents: agents, start: tc.rr % len(agents), n: len(agents)}
			pos, drops := 0, 0
			for step := 0; step < tc.steps && len(want) > 0; step++ {
				if pos >= len(want) {
					pos = 0
				}
				g.pos = pos
				require.Equal(t, len(want), g.n)
				require.Same(t, want[pos], g.at(pos), "step %d", step)
				if drops < tc.drops && step%3 != 1 {
					drops++
					last := len(want) - 1
					want[pos] = want[last]
					want = want[:last]
					g.drop()
				} else {
					pos++
				}
			}
			for i := range want {
				assert.Same(t, want[i], g.at(i))
			}
		})
	}
}

// checkIndex fails t unless st's task index holds exactly the PENDING
// tasks and the THROTTLED and PARTITIONED ones, in st.tasks' order.
func checkIndex(t *testing.T, st *state) {
	t.Helper()
	pending, timed := map[*taskRec]bool{}, map[*taskRec]bool{}
	for i, x := range st.tasks {
		if i > 0 {
			require.Less(t, st.tasks[i-1].order, x.order, "order follows st.tasks")
		}
		switch x.status {
		case aurora.ScheduleStatus_PENDING:
			pending[x] = true
		case aurora.ScheduleStatus_THROTTLED, aurora.ScheduleStatus_PARTITIONED:
			timed[x] = true
		}
	}
	require.Equal(t, len(pending), len(st.idx.pending), "pending tasks indexed")
	require.Equal(t, len(timed), len(st.idx.timed), "throttled and partitioned tasks indexed")
	for x := range pending {
		require.True(t, st.idx.pending[x], x.id)
	}
	for x := range timed {
		require.True(t, st.idx.timed[x], x.id)
	}
}

// TestTaskIndexFollowsStates: through placement, kills, restarts,
// partition and restore, deletion of pending tasks and a restart from
// storage, the index the scheduling loop works on matches a scan of every
// task.
func TestTaskIndexFollowsStates(t *testing.T) {
	t.Parallel()
	srv := NewUnstartedServer(nil)
	srv.TimeScale = 1000
	srv.DataDir = t.TempDir()
	srv.Agents = []Agent{{Host: "a", Resources: "cpus:2;mem:4096;disk:10000"}, {Host: "b", Resources: "cpus:2;mem:4096;disk:10000"}}
	srv.Start()
	defer func() { srv.Close() }()
	r, err := realis.NewRealisClient(srv.ClientOptions()...)
	require.NoError(t, err)
	defer r.Close()
	check := func(what string) {
		t.Helper()
		srv.mu.Lock()
		defer srv.mu.Unlock()
		t.Run(what, func(t *testing.T) { checkIndex(t, srv.st) })
	}
	job := func(name string, n int32) realis.Job {
		return realis.NewJob().Environment("prod").Role("vagrant").Name(name).
			ExecutorName(aurora.AURORA_EXECUTOR_NAME).ExecutorData("{}").
			CPU(0.5).RAM(64).Disk(100).IsService(true).InstanceCount(n).
			PartitionPolicy(&aurora.PartitionPolicy{Reschedule: true, DelaySecs: thrift.Int64Ptr(3600)})
	}
	k := &aurora.JobKey{Role: "vagrant", Environment: "prod", Name: "idx"}
	waitFor := func(what string, ok func(st *state) bool) {
		t.Helper()
		testenv.Eventually(t, time.Minute, 5*time.Millisecond, func() (bool, error) {
			srv.mu.Lock()
			defer srv.mu.Unlock()
			return ok(srv.st), nil
		}, "waiting for %s", what)
	}
	count := func(st *state, s aurora.ScheduleStatus) int {
		n := 0
		for _, x := range st.tasks {
			if x.status == s {
				n++
			}
		}
		return n
	}
	_, err = r.CreateJob(job("idx", 12)) // more than fits: some stay PENDING
	require.NoError(t, err)
	waitFor("running and pending tasks", func(st *state) bool {
		return count(st, aurora.ScheduleStatus_RUNNING) > 0 && count(st, aurora.ScheduleStatus_PENDING) > 0 &&
			count(st, aurora.ScheduleStatus_ASSIGNED)+count(st, aurora.ScheduleStatus_STARTING) == 0
	})
	check("placed")
	_, err = r.RestartInstances(k, 0, 1)
	require.NoError(t, err)
	_, err = r.KillInstances(k, 2, 11) // 11 is pending: deleted
	require.NoError(t, err)
	waitFor("kills", func(st *state) bool { return count(st, aurora.ScheduleStatus_KILLING) == 0 })
	check("killed and restarted")
	require.NoError(t, srv.Partition("a"))
	waitFor("partitioned", func(st *state) bool { return count(st, aurora.ScheduleStatus_PARTITIONED) > 0 })
	check("partitioned")
	require.NoError(t, srv.Restore("a"))
	waitFor("restored", func(st *state) bool { return count(st, aurora.ScheduleStatus_PARTITIONED) == 0 })
	check("restored")

	srv.Close()
	again := NewUnstartedServer(nil)
	again.TimeScale = 1000
	again.DataDir = srv.DataDir
	again.Agents = srv.Agents
	again.Start()
	srv = again
	check("after a restart")
}
