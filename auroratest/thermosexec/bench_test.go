//go:build linux

package thermosexec_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/auroratest/thermosexec"
	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/thermos"
)

// BenchmarkLaunch100 measures the executor's overhead per instance: 100
// instances of a task running `true`, launched at once, from Launch to
// FINISHED with the process reaped (ns/instance), on the host's store and
// on an agent with its own store (mount namespace per process).
//
// The "bare-bash" case is the floor on the same machine: 100 concurrent
// `/bin/bash -c true` through os/exec, nothing else.
func BenchmarkLaunch100(b *testing.B) {
	b.Run("bare-bash", func(b *testing.B) {
		const instances = 100
		b.ReportAllocs()
		for range b.N {
			errs := make(chan error, instances)
			for range instances {
				go func() { errs <- exec.Command("/bin/bash", "-c", "true").Run() }()
			}
			for range instances {
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*instances), "ns/instance")
	})
	cases := []struct {
		name  string
		store bool
	}{{"host-store", false}, {"agent-store", true}}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			if bc.store {
				testenv.NeedRoot(b)
			}
			dir := b.TempDir()
			// As in the tests: tasks run as an unprivileged user, who must
			// reach the sandboxes.
			for _, d := range []string{filepath.Dir(dir), dir} {
				if err := os.Chmod(d, 0o755); err != nil {
					b.Fatal(err)
				}
			}
			e := &thermosexec.Executor{Root: dir, RunAs: "nobody"}
			if bc.store {
				e.Agents = map[string]thermosexec.Agent{"agent-1": {Store: filepath.Join(dir, "store")}}
			}
			defer e.Close()
			data, err := thermos.Marshal(newJob(proc("true", "true")))
			if err != nil {
				b.Fatal(err)
			}
			const instances = 100
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				done := make(chan struct{}, instances)
				for n := range instances {
					e.Launch(context.Background(), auroratest.LaunchedTask{
						TaskID: fmt.Sprintf("bench-%d-%d", i, n), Instance: int32(n), Host: "agent-1",
						ExecutorName: "AuroraExecutor", Data: string(data),
					}, func(u auroratest.StatusUpdate) {
						if u.Status == FINISHED || u.Status == FAILED || u.Status == KILLED {
							if u.Status != FINISHED {
								b.Errorf("task %s: %v %s", u.TaskID, u.Status, u.Message)
							}
							done <- struct{}{}
						}
					})
				}
				timeout := time.After(time.Minute)
				for range instances {
					select {
					case <-done:
					case <-timeout:
						b.Fatal("instances did not finish within a minute")
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*instances), "ns/instance")
		})
	}
}
