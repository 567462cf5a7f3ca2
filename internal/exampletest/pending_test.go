//go:build linux

package exampletest

import (
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
)

// TestStatusShowsPendingReasons: against a scheduler whose agents are too
// small for a job (as devcluster -agents makes them), -cmd=status names
// the PENDING instances and Aurora's reason for each.
func TestStatusShowsPendingReasons(t *testing.T) {
	srv := auroratest.NewUnstartedServer(nil)
	srv.Agents = []auroratest.Agent{
		{Host: "localhost", Attributes: "zone:west;host:agent-one", Resources: "cpus:1;mem:1024;disk:10000"},
		{Host: "localhost", Attributes: "zone:east;host:agent-two", Resources: "cpus:1;mem:1024;disk:10000"},
	}
	srv.Start()
	t.Cleanup(srv.Close)
	r, err := realis.NewRealisClient(append(srv.ClientOptions(), realis.SetLogger(realis.NoopLogger{}))...)
	require.NoError(t, err)
	defer r.Close()
	_, err = r.CreateJob(realis.NewJob().Environment("devel").Role("vagrant").Name("big").
		ExecutorName(aurora.AURORA_EXECUTOR_NAME).ExecutorData("{}").
		CPU(2).RAM(64).Disk(100).InstanceCount(2))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		reasons, err := r.GetPendingReason(&aurora.TaskQuery{Role: &[]string{"vagrant"}[0]})
		return err == nil && len(reasons) == 2 && reasons[0].Reason != "" && reasons[1].Reason != ""
	}, time.Minute, 5*time.Millisecond, "the scheduler has tried to place the tasks")

	res := runClient(t, buildClient(t), "-url="+srv.URL, "-cmd=status", "-name=big")
	require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	assert.Contains(t, res.stdout, "devcluster/vagrant/devel/big: 2 task(s)")
	assert.Contains(t, res.stdout, "PENDING: 0 1")
	assert.Contains(t, res.stdout, "instance 0 is PENDING: Insufficient: CPU")
	assert.Contains(t, res.stdout, "instance 1 is PENDING: Insufficient: CPU")
}
