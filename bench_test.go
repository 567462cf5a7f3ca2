package nixrealis_test

import (
	"context"
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/internal/testenv"
)

// The benchmarks below measure the client's overhead over bare gorealis
// against the same in-process scheduler: the "gorealis" variants make the
// same Thrift calls directly.

func benchServer(b *testing.B) (*auroratest.Server, realis.Realis, *nixrealis.Client) {
	b.Helper()
	srv := auroratest.NewUnstartedServer(nil)
	srv.TimeScale = 1000
	srv.Start()
	b.Cleanup(srv.Close)
	r, err := realis.NewRealisClient(srv.ClientOptions()...)
	require.NoError(b, err)
	b.Cleanup(r.Close)
	c, err := nixrealis.New(r, nixrealis.WithPollInterval(time.Millisecond), nixrealis.WithOwner("bench"))
	require.NoError(b, err)
	return srv, r, c
}

// BenchmarkStatus: Status (tasks, then the active update) against the same
// two calls made with gorealis.
func BenchmarkStatus(b *testing.B) {
	_, r, c := benchServer(b)
	ctx := context.Background()
	_, err := c.Create(ctx, helloJob("sleep 1000", 3))
	require.NoError(b, err)
	k := &aurora.JobKey{Role: testKey.Role, Environment: testKey.Environment, Name: testKey.Name}

	b.Run("nixrealis", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			st, err := c.Status(ctx, testKey)
			if err != nil || len(st.Tasks) != 3 {
				b.Fatal(err, st)
			}
		}
	})
	b.Run("gorealis", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ts, err := r.GetTasksWithoutConfigs(&aurora.TaskQuery{JobKeys: []*aurora.JobKey{k}})
			if err != nil || len(ts) != 3 {
				b.Fatal(err)
			}
			if _, err := r.GetJobUpdateSummaries(&aurora.JobUpdateQuery{JobKey: k, UpdateStatuses: aurora.ACTIVE_JOB_UPDATE_STATES}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCreateKill: a create (build, render, existence check, createJob)
// and a kill waiting for the tasks to end, against createJob and killTasks
// on a job rendered once, with the same wait.
func BenchmarkCreateKill(b *testing.B) {
	_, r, c := benchServer(b)
	ctx := context.Background()
	j := helloJob("sleep 1000", 1)
	k := &aurora.JobKey{Role: testKey.Role, Environment: testKey.Environment, Name: testKey.Name}

	b.Run("nixrealis", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Create(ctx, j, nixrealis.NoWait()); err != nil {
				b.Fatal(err)
			}
			if err := c.Kill(ctx, testKey, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	spec, err := j.Build()
	require.NoError(b, err)
	b.Run("gorealis", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rj, err := nixrealis.RenderJob(spec, "bench")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := r.CreateJob(rj); err != nil {
				b.Fatal(err)
			}
			if _, err := r.KillJob(k); err != nil {
				b.Fatal(err)
			}
			testenv.Eventually(b, 10*time.Second, time.Millisecond, func() (bool, error) {
				ts, err := r.GetTasksWithoutConfigs(&aurora.TaskQuery{JobKeys: []*aurora.JobKey{k}, Statuses: aurora.ACTIVE_STATES})
				return len(ts) == 0, err
			}, "job %v has active tasks after its kill", k)
		}
	})
}

// BenchmarkCreateWithSandbox: the hello job end to end with Nix: evaluate
// the sandbox, build it (cached after the first run), push it (the cache
// already holds it), create, wait until RUNNING; then kill.
func BenchmarkCreateWithSandbox(b *testing.B) {
	w := newNixWorld(b)
	srv := auroratest.NewUnstartedServer(nil)
	srv.TimeScale = 1000
	srv.Start()
	b.Cleanup(srv.Close)
	c, err := nixrealis.Dial(srv.ClientOptions(), nixrealis.WithPollInterval(time.Millisecond),
		nixrealis.WithPreparer(w.preparer(examplePackages(b), "hello")))
	require.NoError(b, err)
	b.Cleanup(c.Close)
	ctx := context.Background()
	j := helloJob("hello; sleep 1000", 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Create(ctx, j); err != nil {
			b.Fatal(err)
		}
		if err := c.Kill(ctx, testKey, nil); err != nil {
			b.Fatal(err)
		}
	}
}
