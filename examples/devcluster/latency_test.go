//go:build linux

package main

import (
	"errors"
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/require"
)

// TestLatencyFlagTimesOutAClientButTheCallTakesEffect: against
// -latency 20ms a client with a 5 ms timeout gives up on its createJob,
// and the job is created all the same, as against a slow real scheduler.
func TestLatencyFlagTimesOutAClientButTheCallTakesEffect(t *testing.T) {
	d := runInProcess(t, "-port", "0", "-latency", "20ms")
	addr := d.url

	impatient, err := realis.NewRealisClient(realis.SchedulerUrl(addr), realis.TimeoutMS(5),
		realis.BackOff(realis.Backoff{Steps: 1, Duration: time.Millisecond, Factor: 1}),
		realis.SetLogger(realis.NoopLogger{}))
	require.NoError(t, err)
	defer impatient.Close()
	patient, err := realis.NewRealisClient(realis.SchedulerUrl(addr), realis.SetLogger(realis.NoopLogger{}))
	require.NoError(t, err)
	defer patient.Close()

	job := realis.NewJob().Environment("devel").Role("vagrant").Name("late").
		ExecutorName(aurora.AURORA_EXECUTOR_NAME).ExecutorData("{}").
		CPU(0.1).RAM(16).Disk(16).InstanceCount(1)
	// On a loaded machine the impatient client may give up before its
	// request is even sent; it then tries again (a bounded number of
	// times), every try timing out.
	created := false
	for try := 0; try < 20 && !created; try++ {
		_, err = impatient.CreateJob(job)
		require.Error(t, err, "a 5 ms client times out against -latency 20ms")
		var timedOut interface{ Timedout() bool }
		require.True(t, errors.As(err, &timedOut) && timedOut.Timedout(), "a gorealis timeout error: %v", err)
		require.ErrorContains(t, err, "Client.Timeout exceeded", "the HTTP client gave up waiting")
		_, jobs, err := patient.GetJobs("vagrant")
		require.NoError(t, err)
		for _, jc := range jobs.GetConfigs() {
			created = created || jc.GetKey().GetName() == "late"
		}
	}
	require.True(t, created, "the impatient client's createJob took effect")
	require.NoError(t, d.stop())
}
