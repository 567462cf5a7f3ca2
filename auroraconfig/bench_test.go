package auroraconfig_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/nixrealis/nixrealis/auroraconfig"
	"github.com/nixrealis/nixrealis/job"
)

// processesSource is a job whose task has n processes, generated in a loop
// as the oracle's large_500_processes.aurora and PERF.md's 1000-process
// file are.
func processesSource(n int) []byte {
	return fmt.Appendf(nil, `
workers = [
  Process(name = 'worker_%%04d' %% i,
          cmdline = 'echo worker %%d of instance {{mesos.instance}} && sleep 1' %% i)
  for i in range(%d)
]

jobs = [
  Job(
    cluster = 'devcluster', role = 'www-data', environment = 'devel', name = 'bulk',
    task = Task(name = 'bulk', processes = workers, max_concurrency = 32,
                resources = Resources(cpu = 4, ram = 4*GB, disk = 8*GB)))
]
`, n)
}

// benchLoadBuild measures file → payload: executing the source, picking
// the job, building it and marshalling the executor data (PERF.md's
// load+job).
func benchLoadBuild(b *testing.B, name string, src []byte, key job.Key) {
	var l auroraconfig.Loader
	b.ReportAllocs()
	for b.Loop() {
		cfg, err := l.LoadSource(name, src)
		if err != nil {
			b.Fatal(err)
		}
		spec, err := cfg.Build(key)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := spec.ExecutorData(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadBuild: PERF.md gives Aurora's Python client 25–36 ms for
// hello_world and 23–27 s for 1000 processes (load+job).
func BenchmarkLoadBuild(b *testing.B) {
	hello, err := os.ReadFile(filepath.Join(goldenDirs[0], "hello_world.aurora"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("hello_world", func(b *testing.B) {
		benchLoadBuild(b, "hello_world.aurora", hello,
			job.Key{Cluster: "devcluster", Role: "www-data", Environment: "devel", Name: "hello"})
	})
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("processes=%d", n), func(b *testing.B) {
			benchLoadBuild(b, "bulk.aurora", processesSource(n),
				job.Key{Cluster: "devcluster", Role: "www-data", Environment: "devel", Name: "bulk"})
		})
	}
}
