package nixrealis_test

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

// TestDialZooKeeper finds the scheduler the way gorealis does on a real
// cluster: through its leader node in a real ZooKeeper.
func TestDialZooKeeper(t *testing.T) {
	testenv.NeedZooKeeper(t)
	zks, err := zktest.Start(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { zks.Close() })

	srv := auroratest.NewUnstartedServer(nil)
	srv.Executor = &failingExecutor{}
	srv.TimeScale = 1000
	srv.ZooKeeper = []string{zks.Addr}
	srv.Start()
	t.Cleanup(srv.Close)

	c := newClient(t, []realis.ClientOption{
		realis.ZKUrl(zks.Addr),
		realis.BackOff(realis.Backoff{Steps: 3, Duration: 10 * time.Millisecond, Factor: 2}),
	})
	ctx := ctxFor(t, time.Minute)
	_, err = c.Create(ctx, helloJob("sleep 1000", 1))
	require.NoError(t, err)
	st, err := c.Status(ctx, testKey)
	require.NoError(t, err)
	assert.Len(t, st.ByState[aurora.ScheduleStatus_RUNNING], 1)
	require.NoError(t, c.Kill(ctx, testKey, nil))
}
