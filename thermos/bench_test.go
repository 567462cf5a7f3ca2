package thermos_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/thermos"
)

func benchFile(b *testing.B, name string) ([]byte, *thermos.Job) {
	b.Helper()
	data, err := os.ReadFile("testdata/golden/" + name + ".payload.json")
	require.NoError(b, err)
	j, err := thermos.Unmarshal(data)
	require.NoError(b, err)
	return data, j
}

func bigJob(n int) *thermos.Job {
	j := thermos.NewJob()
	j.Cluster, j.Role, j.Environment, j.Name = "devcluster", "www-data", "devel", "big"
	j.Task.Name = "big"
	j.Task.Resources = &thermos.Resources{CPU: 4, RAM: 4 * thermos.GB, Disk: 8 * thermos.GB}
	for i := range n {
		name := fmt.Sprintf("worker_%04d", i)
		j.Task.Processes = append(j.Task.Processes, thermos.NewProcess(name, "./worker --id="+name+" --port={{thermos.ports[http]}}"))
		if i > 0 {
			j.Task.Constraints = append(j.Task.Constraints, thermos.Constraint{Order: []string{fmt.Sprintf("worker_%04d", i-1), name}})
		}
	}
	return j
}

func BenchmarkMarshal(b *testing.B) {
	for _, name := range []string{"hello_world", "large_500_processes"} {
		data, j := benchFile(b, name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := thermos.Marshal(j); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	j := bigJob(1000)
	b.Run("1000_processes", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := thermos.Marshal(j); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkUnmarshal(b *testing.B) {
	for _, name := range []string{"hello_world", "large_500_processes"} {
		data, _ := benchFile(b, name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := thermos.Unmarshal(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
