package nixrealis_test

import (
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
)

// TestStatusGivesPendingReasons: a job whose tasks fit on no agent stays
// PENDING, and Status gives each task Aurora's reason: too few CPUs on
// one agent, a constraint no agent satisfies on the other job.
func TestStatusGivesPendingReasons(t *testing.T) {
	srv := auroratest.NewUnstartedServer(nil)
	srv.TimeScale = 1000
	srv.Agents = []auroratest.Agent{{Host: "small", Attributes: "host:small;zone:west", Resources: "cpus:1;mem:1024;disk:10000"}}
	srv.Start()
	t.Cleanup(srv.Close)
	c := newClient(t, srv.ClientOptions())
	ctx := ctxFor(t, 30*time.Second)
	for _, tt := range []struct {
		name string
		job  func(realis.Job) realis.Job
		want string
	}{
		{"big", func(j realis.Job) realis.Job { return j.CPU(2) }, "Insufficient: CPU"},
		{"east", func(j realis.Job) realis.Job { return j.AddValueConstraint("zone", false, "east") }, "Constraint not satisfied: zone"},
	} {
		j := realis.NewJob().Environment(testKey.Environment).Role(testKey.Role).Name(tt.name).
			ExecutorName(aurora.AURORA_EXECUTOR_NAME).ExecutorData("{}").
			CPU(0.1).RAM(16).Disk(16).InstanceCount(2)
		_, err := c.Realis().CreateJob(tt.job(j))
		require.NoError(t, err)
		k := testKey
		k.Name = tt.name
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			st, err := c.Status(ctx, k)
			require.NoError(ct, err)
			require.Len(ct, st.ByState[aurora.ScheduleStatus_PENDING], 2)
			for _, task := range st.ByState[aurora.ScheduleStatus_PENDING] {
				assert.Equal(ct, tt.want, task.PendingReason, "instance %d", task.Instance)
			}
		}, 20*time.Second, 5*time.Millisecond, tt.name)
	}
}
