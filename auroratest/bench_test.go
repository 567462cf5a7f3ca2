package auroratest_test

import (
	"fmt"
	"testing"

	"github.com/paypal/gorealis/gen-go/apache/aurora"

	"github.com/nixrealis/nixrealis/auroratest"
)

// BenchmarkCreateJob100 creates a job of 100 instances through gorealis
// and polls until all of them are RUNNING.
func BenchmarkCreateJob100(b *testing.B) {
	srv := auroratest.NewServer(nil)
	defer srv.Close()
	r := client(b, srv)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		name := fmt.Sprintf("bench%d", i)
		if _, err := r.CreateJob(newJob(name, 100)); err != nil {
			b.Fatal(err)
		}
		waitInstances(b, r, key(name), 100, aurora.ScheduleStatus_RUNNING)
		// Free the agents' finite resources for the next round.
		if _, err := r.KillJob(key(name)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetTasksWithoutConfigs is one getTasksWithoutConfigs round trip
// for a job of 10 running instances.
func BenchmarkGetTasksWithoutConfigs(b *testing.B) {
	srv := auroratest.NewServer(nil)
	defer srv.Close()
	r := client(b, srv)
	if _, err := r.CreateJob(newJob("bench", 10)); err != nil {
		b.Fatal(err)
	}
	waitInstances(b, r, key("bench"), 10, aurora.ScheduleStatus_RUNNING)
	q := &aurora.TaskQuery{JobKeys: []*aurora.JobKey{key("bench")}, Statuses: aurora.ACTIVE_STATES}
	b.ReportAllocs()
	for b.Loop() {
		tasks, err := r.GetTasksWithoutConfigs(q)
		if err != nil || len(tasks) != 10 {
			b.Fatal(len(tasks), err)
		}
	}
}
