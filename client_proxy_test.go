package nixrealis_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/job"
)

// faultProxy sits between gorealis and the scheduler and can lose answers
// or refuse connections, as a scheduler that goes away does.
type faultProxy struct {
	URL string
	// dropAnswer, when set, makes the next request whose body contains it
	// reach the scheduler but lose its answer (the connection closes).
	dropAnswer atomic.Value // string
	// holdAnswer, when set, makes the next request whose body contains it
	// reach the scheduler but get no answer until the client gives up
	// waiting (its timeout closes the connection); held is closed then.
	holdAnswer atomic.Value // string
	held       chan struct{}
	// down refuses every request (the connection closes unanswered).
	down atomic.Bool
	// downFor refuses that many requests, then lets them through again.
	downFor   atomic.Int32
	srv       *http.Server
	dropped   atomic.Int32
	forwarded atomic.Int32
}

func newFaultProxy(t testing.TB, target string) *faultProxy {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	p := &faultProxy{held: make(chan struct{})}
	p.dropAnswer.Store("")
	p.holdAnswer.Store("")
	rp := httputil.NewSingleHostReverseProxy(u)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p.URL = "http://" + l.Addr().String()
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hangUp := func() {
			p.dropped.Add(1)
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		}
		if p.down.Load() || p.takeDown() {
			hangUp()
			return
		}
		body, _ := io.ReadAll(r.Body)
		forwardOnly := func() {
			req, _ := http.NewRequest(r.Method, target+r.URL.Path, strings.NewReader(string(body)))
			req.Header = r.Header.Clone()
			if resp, err := http.DefaultClient.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		if s := p.dropAnswer.Load().(string); s != "" && strings.Contains(string(body), s) && p.dropAnswer.CompareAndSwap(s, "") {
			forwardOnly()
			hangUp()
			return
		}
		if s := p.holdAnswer.Load().(string); s != "" && strings.Contains(string(body), s) && p.holdAnswer.CompareAndSwap(s, "") {
			forwardOnly()
			<-r.Context().Done() // the client timed out and closed the connection
			close(p.held)
			return
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		rp.ServeHTTP(w, r)
		p.forwarded.Add(1)
	})}
	go p.srv.Serve(l)
	t.Cleanup(func() { p.srv.Close() })
	return p
}

// takeDown reports whether a request is to be refused under downFor, and
// counts it.
func (p *faultProxy) takeDown() bool {
	for {
		n := p.downFor.Load()
		if n <= 0 {
			return false
		}
		if p.downFor.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

func proxyOptions(p *faultProxy, backoff realis.Backoff) []realis.ClientOption {
	return []realis.ClientOption{
		realis.SchedulerUrl(p.URL),
		realis.BackOff(backoff),
		realis.SetLogger(realis.NoopLogger{}),
		realis.TimeoutMS(5000),
	}
}

// TestCreateAnswerLost: the createJob reaches the scheduler but its answer
// is lost; gorealis retries and the scheduler says "already exists". The
// client ends with exactly one job and no error.
func TestCreateAnswerLost(t *testing.T) {
	srv := newServer(t)
	p := newFaultProxy(t, srv.URL)
	var logs testenv.Buffer
	c := newClient(t, proxyOptions(p, realis.Backoff{Steps: 4, Duration: 10 * time.Millisecond, Factor: 2}),
		nixrealis.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	p.dropAnswer.Store("createJob")

	ctx := ctxFor(t, 30*time.Second)
	_, err := c.Create(ctx, helloJob("sleep 1000", 2))
	require.NoError(t, err)
	assert.Equal(t, int32(1), p.dropped.Load(), "the fault was injected")
	assert.Contains(t, logs.String(), "the job is ours", "gorealis retried and got \"already exists\"")
	assert.Equal(t, 1, jobCount(t, srv))
	assert.Len(t, activeTasks(t, srv), 2)
}

// TestCreateAnswerTimesOut: the createJob reaches the scheduler but its
// answer never comes before gorealis' client timeout (the proxy holds it
// until the client gives up). gorealis' check after a timeout is inverted
// in v1.25.0 (it never sees the job), so it sends createJob again and gets
// "already exists"; the client still ends with exactly one job and no
// error. Only the held call times out: the timeout is far above what any
// other call takes, even on a loaded machine.
func TestCreateAnswerTimesOut(t *testing.T) {
	srv := newServer(t)
	p := newFaultProxy(t, srv.URL)
	var logs testenv.Buffer
	c := newClient(t, []realis.ClientOption{
		realis.SchedulerUrl(p.URL),
		realis.BackOff(realis.Backoff{Steps: 4, Duration: 10 * time.Millisecond, Factor: 2}),
		realis.SetLogger(realis.NoopLogger{}),
		realis.TimeoutMS(3000),
	}, nixrealis.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	p.holdAnswer.Store("createJob")

	_, err := c.Create(ctxFor(t, time.Minute), helloJob("sleep 1000", 2))
	require.NoError(t, err)
	select {
	case <-p.held:
	default:
		t.Fatal("the createJob's answer was never held until the client gave up")
	}
	assert.Contains(t, logs.String(), "the job is ours")
	assert.Equal(t, 1, jobCount(t, srv))
	assert.Len(t, activeTasks(t, srv), 2)
}

// TestCreateSchedulerAwayAndBack: the scheduler is away when the create
// starts and comes back within gorealis' retries.
func TestCreateSchedulerAwayAndBack(t *testing.T) {
	srv := newServer(t)
	p := newFaultProxy(t, srv.URL)
	c := newClient(t, proxyOptions(p, realis.Backoff{Steps: 8, Duration: 20 * time.Millisecond, Factor: 2}))
	// Away for the first three requests (gorealis' first tries), whatever
	// their timing; back for the fourth.
	p.downFor.Store(3)

	ctx := ctxFor(t, 30*time.Second)
	_, err := c.Create(ctx, helloJob("sleep 1000", 1))
	require.NoError(t, err)
	assert.Equal(t, int32(3), p.dropped.Load(), "the scheduler was away for three requests")
	assert.Equal(t, 1, jobCount(t, srv))
	assert.Len(t, activeTasks(t, srv), 1)
}

// TestCreateSchedulerStaysAway: with gorealis retrying longer than the
// caller waits, the call ends at the caller's deadline with a clear error.
func TestCreateSchedulerStaysAway(t *testing.T) {
	srv := newServer(t)
	p := newFaultProxy(t, srv.URL)
	p.down.Store(true)

	c := newClient(t, proxyOptions(p, realis.Backoff{Steps: 50, Duration: 200 * time.Millisecond, Factor: 1}))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := c.Create(ctx, helloJob("sleep 1000", 1))
		errc <- err
	}()
	var err error
	select {
	case err = <-errc:
	case <-time.After(time.Minute): // a hang guard, not a measurement
		t.Fatal("Create did not return at the caller's deadline")
	}
	require.Error(t, err)
	// It returned because of the caller's deadline, not because gorealis
	// gave up: the error says so, and the gorealis call is still retrying
	// (nothing reached the scheduler yet; once let through, it does).
	assert.ErrorIs(t, err, nixrealis.ErrTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Zero(t, p.forwarded.Load())
	// The abandoned gorealis call goes on retrying in the background; let
	// it through so that it ends with this test.
	p.down.Store(false)
	require.Eventually(t, func() bool { return p.forwarded.Load() > 0 }, 10*time.Second, 10*time.Millisecond,
		"the abandoned gorealis call never retried")
	p.down.Store(true)

	// With gorealis giving up first, the error says the scheduler is
	// unreachable.
	c2 := newClient(t, proxyOptions(p, realis.Backoff{Steps: 2, Duration: 5 * time.Millisecond, Factor: 1}))
	_, err = c2.Create(ctxFor(t, 10*time.Second), helloJob("sleep 1000", 1))
	require.Error(t, err)
	assert.ErrorIs(t, err, nixrealis.ErrUnreachable)
	assert.False(t, errors.Is(err, nixrealis.ErrRejected))
	p.down.Store(false)
	assert.Equal(t, 0, jobCount(t, srv))
}

// TestCreateServiceAnswerLost: the startJobUpdate that creates a service
// reaches the scheduler but its answer is lost; gorealis retries, either
// while the update still runs (the client adopts it) or after it finished
// (the retry is a no-op). The client ends with exactly one job and one
// update either way.
func TestCreateServiceAnswerLost(t *testing.T) {
	tests := []struct {
		name    string
		watch   time.Duration // on the scheduler's clock, 1000 times real time
		backoff time.Duration
		log     string
	}{
		{"retry while the update runs", 600 * time.Second, 50 * time.Millisecond, "adopted the update"},
		{"retry after the update finished", time.Second, time.Second, "first attempt created the job"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			p := newFaultProxy(t, srv.URL)
			var logs testenv.Buffer
			c := newClient(t, proxyOptions(p, realis.Backoff{Steps: 4, Duration: tt.backoff, Factor: 2}),
				nixrealis.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			p.dropAnswer.Store("startJobUpdate")

			u := job.DefaultUpdate()
			u.Watch = new(tt.watch)
			ctx := ctxFor(t, 30*time.Second)
			_, err := c.Create(ctx, helloService("sleep 1000", 2).WithUpdate(u))
			require.NoError(t, err)
			assert.Equal(t, int32(1), p.dropped.Load(), "the fault was injected")
			assert.Contains(t, logs.String(), tt.log)
			assert.Equal(t, 1, jobCount(t, srv))
			testenv.Eventually(t, 10*time.Second, 10*time.Millisecond, func() (bool, error) {
				ts, err := queryActiveTasks(srv)
				return len(ts) == 2, err
			}, "the job never had 2 active tasks")

			r, err := realis.NewRealisClient(srv.ClientOptions()...)
			require.NoError(t, err)
			defer r.Close()
			resp, err := r.GetJobUpdateSummaries(&aurora.JobUpdateQuery{JobKey: &aurora.JobKey{Role: testKey.Role, Environment: testKey.Environment, Name: testKey.Name}})
			require.NoError(t, err)
			assert.Len(t, resp.Result_.GetJobUpdateSummariesResult_.UpdateSummaries, 1, "one update, not two")
		})
	}
}
