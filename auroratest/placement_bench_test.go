package auroratest_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"

	"github.com/nixrealis/nixrealis/auroratest"
)

// countingExecutor is a NopExecutor that closes done once want tasks have
// reported RUNNING.
type countingExecutor struct {
	auroratest.NopExecutor
	want    int64
	running atomic.Int64
	done    chan struct{}
}

func (e *countingExecutor) Launch(ctx context.Context, t auroratest.LaunchedTask, report func(auroratest.StatusUpdate)) {
	e.NopExecutor.Launch(ctx, t, func(u auroratest.StatusUpdate) {
		report(u)
		if u.Status == aurora.ScheduleStatus_RUNNING && e.running.Add(1) == e.want {
			close(e.done)
		}
	})
}

// benchAgents returns n agents of 16 cpus and 64 GB over 10 zones.
func benchAgents(n int) []auroratest.Agent {
	out := make([]auroratest.Agent, n)
	for i := range out {
		h := fmt.Sprintf("agent-%04d", i)
		out[i] = auroratest.Agent{Host: h, Attributes: fmt.Sprintf("host:%s;zone:z%d", h, i%10),
			Resources: "cpus:16;mem:65536;disk:1000000;ports:[31000-31999]"}
	}
	return out
}

// BenchmarkPlacement creates jobs of 100 instances through gorealis on
// agents and waits until every task is RUNNING (NopExecutor): at size s,
// s jobs (100·s tasks) on 10·s agents, so size 100 is 10 000 tasks of 100
// jobs on 1 000 agents. Each task fits on any agent (0.5 cpu, 256 MB),
// with a host limit of 10 per job so placement checks constraints too.
func BenchmarkPlacement(b *testing.B) {
	for _, size := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("size=%d/tasks=%d/agents=%d", size, 100*size, 10*size), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				e := &countingExecutor{want: int64(100 * size), done: make(chan struct{})}
				srv := auroratest.NewUnstartedServer(nil)
				srv.Agents = benchAgents(10 * size)
				srv.Executor = e
				srv.Start()
				r := client(b, srv)
				jobs := make([]realis.Job, size)
				for j := range jobs {
					jobs[j] = newJob(fmt.Sprintf("bench%d", j), 100).CPU(0.25).RAM(128).AddLimitConstraint("host", 10)
				}
				b.StartTimer()
				for _, job := range jobs {
					if _, err := r.CreateJob(job); err != nil {
						b.Fatal(err)
					}
				}
				<-e.done
				b.StopTimer()
				srv.Close()
			}
		})
	}
}

// BenchmarkGetPendingReason is one getPendingReason call through gorealis
// over every pending task: at size s, 10·s tasks that fit nowhere (each
// asks for 32 cpus) on 10·s agents, so size 100 is 1 000 pending tasks
// on 1 000 agents.
func BenchmarkGetPendingReason(b *testing.B) {
	for _, size := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("size=%d/pending=%d/agents=%d", size, 10*size, 10*size), func(b *testing.B) {
			srv := auroratest.NewUnstartedServer(nil)
			srv.Agents = benchAgents(10 * size)
			srv.Start()
			defer srv.Close()
			r := client(b, srv)
			if _, err := r.CreateJob(newJob("huge", int32(10*size)).CPU(32)); err != nil {
				b.Fatal(err)
			}
			waitReasons(b, r, key("huge"), 10*size)
			q := &aurora.TaskQuery{JobKeys: []*aurora.JobKey{key("huge")}}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				got, err := r.GetPendingReason(q)
				if err != nil || len(got) != 10*size || got[0].Reason != "Insufficient: CPU" {
					b.Fatal(len(got), err)
				}
			}
		})
	}
}
