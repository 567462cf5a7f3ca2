package auroratest_test

import (
	"fmt"
	"log"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"

	"github.com/nixrealis/nixrealis/auroratest"
)

// ExampleServer creates a job through gorealis, waits for its instances
// to run, reads their status and kills it.
func ExampleServer() {
	srv := auroratest.NewServer(nil)
	defer srv.Close()

	r, err := realis.NewRealisClient(srv.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	job := realis.NewJob().
		Environment("prod").Role("vagrant").Name("hello").
		ExecutorName(aurora.AURORA_EXECUTOR_NAME).
		ExecutorData(`{"task": {"name": "hello"}}`).
		CPU(0.25).RAM(64).Disk(100).
		InstanceCount(2)
	if _, err := r.CreateJob(job); err != nil {
		log.Fatal(err)
	}

	m := realis.Monitor{Client: r}
	if ok, err := m.Instances(job.JobKey(), 2, 1, 30); !ok || err != nil {
		log.Fatal("instances not running: ", err)
	}
	tasks, err := r.GetTasksWithoutConfigs(&aurora.TaskQuery{JobKeys: []*aurora.JobKey{job.JobKey()}})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range tasks {
		fmt.Println(t.AssignedTask.InstanceId, t.Status, t.AssignedTask.Task.GetTier())
	}

	if _, err := r.KillJob(job.JobKey()); err != nil {
		log.Fatal(err)
	}
	if ok, err := m.Instances(job.JobKey(), 0, 1, 30); !ok || err != nil {
		log.Fatal("instances still live: ", err)
	}
	killed, err := r.GetInstanceIds(job.JobKey(), []aurora.ScheduleStatus{aurora.ScheduleStatus_KILLED})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("killed:", len(killed))
	// Output:
	// 0 RUNNING preemptible
	// 1 RUNNING preemptible
	// killed: 2
}

// ExampleServer_timeScale rolls a service forward with gorealis' default
// update settings (one instance at a time, each watched for 45 s) on a
// scheduler whose clock runs 1000 times faster than real time: the update
// takes about a tenth of a second.
func ExampleServer_timeScale() {
	srv := auroratest.NewUnstartedServer(nil)
	srv.TimeScale = 1000
	srv.Start()
	defer srv.Close()
	r, err := realis.NewRealisClient(srv.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	job := realis.NewJob().
		Environment("prod").Role("vagrant").Name("web").
		ExecutorName(aurora.AURORA_EXECUTOR_NAME).ExecutorData("{}").
		CPU(0.25).RAM(64).Disk(100).
		IsService(true).InstanceCount(2)
	_, result, err := r.CreateService(job, realis.NewUpdateSettings())
	if err != nil {
		log.Fatal(err)
	}
	m := realis.Monitor{Client: r}
	status, err := m.JobUpdateStatus(*result.Key, realis.TerminalUpdateStates(), 10*time.Millisecond, 30*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(status)
	// Output: ROLLED_FORWARD
}
