package nixrealis_test

import (
	"errors"
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/auroratest"
)

// TestWrongPassword: a scheduler with basic authentication refuses a
// client's password with HTTP 401. Every write is ErrAuth at once, naming
// the refused user, not "unreachable" after retries nor a wait for a kill
// that was never accepted; the job stays as it was.
func TestWrongPassword(t *testing.T) {
	srv := auroratest.NewUnstartedServer(&failingExecutor{})
	srv.TimeScale = 1000
	srv.Username, srv.Password = "aurora", "secret"
	srv.Start()
	t.Cleanup(srv.Close)
	good := newClient(t, srv.ClientOptions())
	ctx := ctxFor(t, time.Minute)
	_, err := good.Create(ctx, helloJob("sleep 1000", 1))
	require.NoError(t, err)

	// A back-off so long that a retried 401 would run into the deadline
	// below: the test tells "at once" from "after retries" without timing.
	bad := newClient(t, []realis.ClientOption{
		realis.SchedulerUrl(srv.URL),
		realis.BasicAuth("aurora", "wrong"),
		realis.BackOff(realis.Backoff{Steps: 5, Duration: time.Minute, Factor: 1}),
		realis.TimeoutMS(20000),
	})
	tests := []struct {
		name string
		do   func() error
	}{
		{"kill", func() error { return bad.Kill(ctxFor(t, 30*time.Second), testKey, nil) }},
		{"kill instances", func() error { return bad.Kill(ctxFor(t, 30*time.Second), testKey, []int32{0}) }},
		{"restart", func() error { return bad.Restart(ctxFor(t, 30*time.Second), testKey, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			require.Error(t, err)
			assert.ErrorIs(t, err, nixrealis.ErrAuth)
			assert.False(t, errors.Is(err, nixrealis.ErrTimeout), "refused at once, not after a wait: %v", err)
			assert.False(t, errors.Is(err, nixrealis.ErrUnreachable), "%v", err)
			assert.Contains(t, err.Error(), `user "aurora" refused`)
			assert.Contains(t, err.Error(), "HTTP 401")
		})
	}
	st, err := good.Status(ctx, testKey)
	require.NoError(t, err)
	assert.Len(t, st.ByState[aurora.ScheduleStatus_RUNNING], 1, "the job runs on, untouched")

	// Without credentials the error says they are needed.
	anon := newClient(t, []realis.ClientOption{
		realis.SchedulerUrl(srv.URL),
		realis.BackOff(realis.Backoff{Steps: 5, Duration: time.Minute, Factor: 1}),
	})
	err = anon.Kill(ctxFor(t, 30*time.Second), testKey, nil)
	assert.ErrorIs(t, err, nixrealis.ErrAuth)
	assert.ErrorContains(t, err, "requires basic authentication")
}
