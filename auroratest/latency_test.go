package auroratest_test

import (
	"errors"
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
)

func TestLatencyTimesOutAClientButTheCallTakesEffect(t *testing.T) {
	t.Parallel()
	srv := auroratest.NewUnstartedServer(nil)
	srv.TimeScale = 1000
	srv.Latency = 20 * time.Millisecond
	srv.Start()
	defer srv.Close()

	impatient, err := realis.NewRealisClient(realis.SchedulerUrl(srv.URL), realis.TimeoutMS(5),
		realis.BackOff(realis.Backoff{Steps: 1, Duration: time.Millisecond, Factor: 1}),
		realis.SetLogger(realis.NoopLogger{}))
	require.NoError(t, err)
	defer impatient.Close()
	// A patient client sees the job the impatient one created. On a loaded
	// machine the impatient client may give up before its request is even
	// sent; it then tries again (a bounded number of times), every try
	// timing out.
	r := client(t, srv)
	created := false
	for try := 0; try < 20 && !created; try++ {
		_, err = impatient.CreateJob(newJob("late", 1))
		require.Error(t, err, "a 5 ms client times out against 20 ms latency")
		var timedOut interface{ Timedout() bool }
		require.True(t, errors.As(err, &timedOut) && timedOut.Timedout(), "a gorealis timeout error: %v", err)
		assert.ErrorContains(t, err, "Client.Timeout exceeded", "the HTTP client gave up waiting")
		_, jobs, err := r.GetJobs("vagrant")
		require.NoError(t, err)
		for _, jc := range jobs.GetConfigs() {
			created = created || jc.GetKey().GetName() == "late"
		}
	}
	require.True(t, created, "the impatient client's createJob took effect")
	waitInstances(t, r, key("late"), 1, aurora.ScheduleStatus_RUNNING)
	// A client with a generous timeout waits out the latency and gets its
	// answer.
	tasks, err := r.GetTasksWithoutConfigs(&aurora.TaskQuery{JobKeys: []*aurora.JobKey{key("late")}})
	require.NoError(t, err, "a patient client gets its answer")
	require.Len(t, tasks, 1)
	assert.Equal(t, aurora.ScheduleStatus_RUNNING, tasks[0].Status)
}
