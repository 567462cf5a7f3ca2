package job_test

import (
	"fmt"
	"testing"

	"github.com/nixrealis/nixrealis/job"
)

func benchBuildMarshal(b *testing.B, j job.Job) {
	b.Helper()
	b.ReportAllocs()
	var size int
	for b.Loop() {
		spec, err := j.Build()
		if err != nil {
			b.Fatal(err)
		}
		data, err := spec.ExecutorData()
		if err != nil {
			b.Fatal(err)
		}
		size = len(data)
	}
	b.ReportMetric(float64(size), "payload-bytes")
}

// BenchmarkBuildMarshal measures Build (templates, defaults, validation
// including the order-constraint plan check, port extraction) followed by
// thermos.Marshal, the work `aurora job create` does locally.
func BenchmarkBuildMarshal(b *testing.B) {
	b.Run("hello_world", func(b *testing.B) {
		hello := job.NewProcess("hello", "echo hello world && sleep 60")
		task := job.NewTask("", hello).WithResources(job.NewResources(1, 128*job.MB, 128*job.MB))
		benchBuildMarshal(b, job.New(key("devel", "hello"), task))
	})
	b.Run("1000_processes", func(b *testing.B) {
		benchBuildMarshal(b, job.New(key("devel", "bulk1000"), workers(1000)))
	})
	// Linear growth: the 1000_processes task with 100, 1000 and 10000
	// processes; then the same each ordered after the previous one in one
	// constraint (a chain exercises the plan check), and with one
	// two-element constraint per consecutive pair.
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("processes_%d", n), func(b *testing.B) {
			benchBuildMarshal(b, job.New(key("devel", "bulk"), workers(n)))
		})
	}
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("sequential_%d", n), func(b *testing.B) {
			t := workers(n)
			t = job.SequentialTask(t.Name(), t.Processes()...).WithMaxConcurrency(32).
				WithResources(job.NewResources(4, 4*job.GB, 8*job.GB))
			benchBuildMarshal(b, job.New(key("devel", "chain"), t))
		})
	}
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("pairs_%d", n), func(b *testing.B) {
			// n processes, n-1 two-element order constraints.
			t := workers(n)
			procs := t.Processes()
			cs := make([]job.Constraint, 0, n)
			for i := 1; i < n; i++ {
				cs = append(cs, job.OrderProcesses(procs[i-1], procs[i]))
			}
			benchBuildMarshal(b, job.New(key("devel", "pairs"), t.WithConstraints(cs...)))
		})
	}
}

// BenchmarkBuild measures Build alone (BenchmarkBuildMarshal adds
// thermos.Marshal).
func BenchmarkBuild(b *testing.B) {
	hello := job.New(key("devel", "hello"), job.NewTask("", job.NewProcess("hello", "echo hello world && sleep 60")).
		WithResources(job.NewResources(1, 128*job.MB, 128*job.MB)))
	for name, j := range map[string]job.Job{"hello_world": hello, "1000_processes": job.New(key("devel", "bulk1000"), workers(1000))} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := j.Build(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRender(b *testing.B) {
	vars := job.Vars{"profile": job.Vars{"version": "1.2.3", "package": "app-{{version}}.tgz"}, "build": 7}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := job.Render("fetch {{profile.package}} --build={{build}} --shard={{mesos.instance}}", vars); err != nil {
			b.Fatal(err)
		}
	}
}
