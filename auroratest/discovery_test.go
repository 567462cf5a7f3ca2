package auroratest_test

import (
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/internal/zktest"
)

// TestZooKeeperDiscovery starts a real ZooKeeper, registers the server in
// it and drives the server through a gorealis client that finds it only
// through ZooKeeper (ZKUrl, Aurora's /aurora/scheduler).
func TestZooKeeperDiscovery(t *testing.T) {
	t.Parallel()
	testenv.NeedZooKeeper(t)
	zs, err := zktest.Start(t.TempDir())
	require.NoError(t, err)
	defer zs.Close()

	srv := auroratest.NewUnstartedServer(nil)
	srv.ZooKeeper = zs.Servers()
	srv.TimeScale = 1000
	srv.Start()
	defer srv.Close()

	url, err := realis.LeaderFromZK(realis.Cluster{Name: "devcluster", ZK: zs.Addr, SchedZKPath: "/aurora/scheduler"})
	require.NoError(t, err)
	assert.Equal(t, srv.URL, url)

	r, err := realis.NewRealisClient(realis.ZKUrl(zs.Addr),
		realis.BackOff(realis.Backoff{Steps: 3, Duration: 5 * time.Millisecond, Factor: 2}),
		realis.SetLogger(realis.NoopLogger{}))
	require.NoError(t, err)
	defer r.Close()
	_, err = r.CreateJob(newJob("zk", 2))
	require.NoError(t, err)
	waitInstances(t, r, key("zk"), 2, aurora.ScheduleStatus_RUNNING)

	// Closing the server removes its registration.
	srv.Close()
	_, err = realis.LeaderFromZKOpts(realis.ZKEndpoints(zs.Addr), realis.ZKPath("/aurora/scheduler"),
		realis.ZKBackoff(realis.Backoff{Steps: 1, Duration: time.Millisecond}), realis.ZKLogger(realis.NoopLogger{}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no leader found")
}
