package nixrealis_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/nix"
	"github.com/nixrealis/nixrealis/thermos"
)

// failingExecutor runs tasks the way a Mesos agent's Thermos executor
// reports them, without running processes: a task whose payload has a
// process whose command line contains "exit 1" fails after starting; every
// other task runs until killed.
type failingExecutor struct {
	mu      sync.Mutex
	reports map[string]func(auroratest.StatusUpdate)
}

func (e *failingExecutor) Launch(ctx context.Context, t auroratest.LaunchedTask, report func(auroratest.StatusUpdate)) {
	fail := false
	if p, err := thermos.Unmarshal([]byte(t.Data)); err == nil {
		for _, pr := range p.Task.Processes {
			fail = fail || strings.Contains(pr.Cmdline, "exit 1")
		}
	}
	e.mu.Lock()
	if e.reports == nil {
		e.reports = map[string]func(auroratest.StatusUpdate){}
	}
	e.reports[t.TaskID] = report
	e.mu.Unlock()
	report(auroratest.StatusUpdate{TaskID: t.TaskID, Status: aurora.ScheduleStatus_STARTING})
	if fail {
		report(auroratest.StatusUpdate{TaskID: t.TaskID, Status: aurora.ScheduleStatus_FAILED, Message: "process main failed: exit status 1"})
		return
	}
	report(auroratest.StatusUpdate{TaskID: t.TaskID, Status: aurora.ScheduleStatus_RUNNING})
}

func (e *failingExecutor) Kill(taskID string) {
	e.mu.Lock()
	report := e.reports[taskID]
	delete(e.reports, taskID)
	e.mu.Unlock()
	if report != nil {
		report(auroratest.StatusUpdate{TaskID: taskID, Status: aurora.ScheduleStatus_KILLED, Message: "killed"})
	}
}

func newServer(t testing.TB) *auroratest.Server {
	t.Helper()
	srv := auroratest.NewServer(auroratest.WithExecutor(&failingExecutor{}), auroratest.WithTimeScale(1000))
	t.Cleanup(srv.Close)
	return srv
}

func newClient(t testing.TB, realisOpts []realis.ClientOption, opts ...nixrealis.Option) *nixrealis.Client {
	t.Helper()
	opts = append([]nixrealis.Option{nixrealis.WithPollInterval(5 * time.Millisecond), nixrealis.WithOwner("tester")}, opts...)
	c, err := nixrealis.Dial(realisOpts, opts...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

var testKey = job.Key{Cluster: "devcluster", Role: "vagrant", Environment: "devel", Name: "hello"}

func helloJob(cmdline string, instances int) job.Job {
	task := job.NewTask("hello", job.NewProcess("main", cmdline)).
		WithResources(job.NewResources(0.1, 16*job.MiB, 16*job.MiB))
	u := job.DefaultUpdate()
	u.Watch = new(5 * time.Second)
	return job.New(testKey, task).WithInstances(instances).WithUpdate(u)
}

func helloService(cmdline string, instances int) job.Job {
	return helloJob(cmdline, instances).WithService(true)
}

func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// jobCount counts the scheduler's jobs named like testKey.
func jobCount(t testing.TB, srv *auroratest.Server) int {
	t.Helper()
	r, err := realis.NewRealisClient(srv.ClientOptions()...)
	require.NoError(t, err)
	defer r.Close()
	_, res, err := r.GetJobs(testKey.Role)
	require.NoError(t, err)
	n := 0
	for _, c := range res.Configs {
		if c.Key.Name == testKey.Name && c.Key.Environment == testKey.Environment {
			n++
		}
	}
	return n
}

func activeTasks(t testing.TB, srv *auroratest.Server) []*aurora.ScheduledTask {
	t.Helper()
	ts, err := queryActiveTasks(srv)
	require.NoError(t, err)
	return ts
}

// queryActiveTasks asks srv, through gorealis, for the active tasks of
// testKey.
func queryActiveTasks(srv *auroratest.Server) ([]*aurora.ScheduledTask, error) {
	r, err := realis.NewRealisClient(srv.ClientOptions()...)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.GetTasksWithoutConfigs(&aurora.TaskQuery{
		JobKeys:  []*aurora.JobKey{{Role: testKey.Role, Environment: testKey.Environment, Name: testKey.Name}},
		Statuses: aurora.ACTIVE_STATES,
	})
}

func TestCreateStatusKill(t *testing.T) {
	srv := newServer(t)
	var log stageLog
	c := newClient(t, srv.ClientOptions(), nixrealis.WithProgress(log.record))
	ctx := ctxFor(t, 30*time.Second)

	created, err := c.Create(ctx, helloJob("echo hello; sleep 1000", 2))
	require.NoError(t, err)
	assert.Equal(t, "hello", created.Key.Name)
	assert.Nil(t, created.Update)

	st, err := c.Status(ctx, testKey)
	require.NoError(t, err)
	require.Len(t, st.ByState[aurora.ScheduleStatus_RUNNING], 2)
	assert.Equal(t, []int32{0, 1}, []int32{st.Tasks[0].Instance, st.Tasks[1].Instance})
	assert.Nil(t, st.ActiveUpdate)

	_, err = c.Create(ctx, helloJob("echo hello", 2))
	assert.ErrorIs(t, err, nixrealis.ErrAlreadyExists)

	require.NoError(t, c.Kill(ctx, testKey, []int32{1, 1}))
	st, err = c.Status(ctx, testKey)
	require.NoError(t, err)
	assert.Len(t, st.ByState[aurora.ScheduleStatus_RUNNING], 1)
	assert.Len(t, st.ByState[aurora.ScheduleStatus_KILLED], 1)

	require.NoError(t, c.Kill(ctx, testKey, nil))
	assert.Empty(t, activeTasks(t, srv))

	stages := log.take()
	assert.Contains(t, stages, nixrealis.StageSubmit)
	assert.Contains(t, stages, nixrealis.StageWait)
	assert.Contains(t, stages, nixrealis.StageDone)
}

func TestCreateRejected(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv.ClientOptions())
	ctx := ctxFor(t, 30*time.Second)
	// An environment the scheduler does not allow (Aurora's default
	// -allowed_job_environments) is rejected with Aurora's message.
	_, err := c.Create(ctx, helloJob("true", 1).WithEnvironment("qa"))
	require.Error(t, err)
	assert.ErrorIs(t, err, nixrealis.ErrRejected)
	var oe *nixrealis.OpError
	require.ErrorAs(t, err, &oe)
	assert.NotEmpty(t, oe.Message)
	assert.Equal(t, aurora.ResponseCode_INVALID_REQUEST, *oe.Code)

	// A job that does not build never reaches the scheduler.
	_, err = c.Create(ctx, helloJob("true", 0))
	assert.ErrorIs(t, err, nixrealis.ErrInvalidJob)
	var fe *job.FieldError
	assert.ErrorAs(t, err, &fe)
}

func TestServiceUpdateLifecycle(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv.ClientOptions())
	ctx := ctxFor(t, 60*time.Second)

	created, err := c.Create(ctx, helloService("echo v1; sleep 1000", 2))
	require.NoError(t, err)
	require.NotNil(t, created.Update, "a service is created through an update")

	// Unchanged: a successful no-op.
	res, err := c.Update(ctx, helloService("echo v1; sleep 1000", 2))
	require.NoError(t, err)
	assert.True(t, res.NoOp)

	d, err := c.Diff(ctx, helloService("echo v1; sleep 1000", 2))
	require.NoError(t, err)
	assert.False(t, d.Changed, d.Text)

	// Changed cmdline: diff shows it, the update rolls forward.
	d, err = c.Diff(ctx, helloService("echo v2; sleep 1000", 3))
	require.NoError(t, err)
	assert.True(t, d.Changed)
	assert.Contains(t, d.Text, "-")
	assert.Contains(t, d.Text, "echo v2")
	assert.Contains(t, d.Text, "would add 2")
	assert.Equal(t, []int32{2}, d.Added)
	assert.Empty(t, d.Removed)
	assert.Equal(t, []nixrealis.Change{{Path: "instanceCount", Old: json.Number("2"), New: json.Number("3")}}, d.Changes)
	if assert.Len(t, d.Configs, 1, "both running instances have the v1 config") {
		assert.Equal(t, []int32{0, 1}, d.Configs[0].Instances)
		assert.Equal(t, []nixrealis.Change{{Path: "executorConfig.data.task.processes[0].cmdline", Old: "echo v1; sleep 1000", New: "echo v2; sleep 1000"}}, d.Configs[0].Changes)
		assert.Contains(t, d.Text, d.Configs[0].Unified)
	}

	res, err = c.Update(ctx, helloService("echo v2; sleep 1000", 2))
	require.NoError(t, err)
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_FORWARD, res.Status)
	require.NotNil(t, res.Key)
	info, err := c.UpdateInfo(ctx, *res.Key)
	require.NoError(t, err)
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_FORWARD, info.Update.Summary.State.Status)

	d, err = c.Diff(ctx, helloService("echo v2; sleep 1000", 2))
	require.NoError(t, err)
	assert.False(t, d.Changed, d.Text)

	// A failing update rolls back and says so.
	res, err = c.Update(ctx, helloService("exit 1", 2))
	require.Error(t, err)
	assert.ErrorIs(t, err, nixrealis.ErrUpdateFailed)
	require.NotNil(t, res)
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_BACK, res.Status)
	d, err = c.Diff(ctx, helloService("echo v2; sleep 1000", 2))
	require.NoError(t, err)
	assert.False(t, d.Changed, "after the rollback the v2 config runs again: %s", d.Text)

	// Restart replaces every task.
	before := activeTasks(t, srv)
	require.NoError(t, c.Restart(ctx, testKey, nil))
	after := activeTasks(t, srv)
	require.Len(t, after, 2)
	for _, a := range after {
		for _, b := range before {
			assert.NotEqual(t, b.AssignedTask.TaskId, a.AssignedTask.TaskId)
		}
		assert.Equal(t, aurora.ScheduleStatus_RUNNING, a.Status)
	}

	require.NoError(t, c.Kill(ctx, testKey, nil))
}

func TestKillWithActiveUpdate(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv.ClientOptions())
	ctx := ctxFor(t, 60*time.Second)
	_, err := c.Create(ctx, helloService("echo v1; sleep 1000", 2))
	require.NoError(t, err)

	res, err := c.Update(ctx, helloService("echo v2; sleep 1000", 2), nixrealis.NoWait())
	require.NoError(t, err)
	require.NotNil(t, res.Key)
	require.NoError(t, c.Pause(ctx, *res.Key, nixrealis.Message("hold")))

	err = c.Kill(ctx, testKey, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, nixrealis.ErrUpdateInProgress)
	assert.Contains(t, err.Error(), res.Key.ID)

	// Another update meanwhile is refused, saying why.
	_, err = c.Update(ctx, helloService("echo v3; sleep 1000", 2))
	assert.ErrorIs(t, err, nixrealis.ErrUpdateInProgress)

	st, err := c.Status(ctx, testKey)
	require.NoError(t, err)
	require.NotNil(t, st.ActiveUpdate)
	assert.Equal(t, res.Key.ID, st.ActiveUpdate.ID)

	require.NoError(t, c.Kill(ctx, testKey, nil, nixrealis.AbortActiveUpdate()))
	assert.Empty(t, activeTasks(t, srv))
}

func TestInspect(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv.ClientOptions())
	out, err := c.Inspect(ctxFor(t, 10*time.Second), helloJob("echo hello\necho bye", 3))
	require.NoError(t, err)
	for _, want := range []string{
		"Job level information\n",
		"  name:       'hello'\n",
		"  role:       'vagrant'\n",
		"  cluster:    'devcluster'\n",
		"  instances:  '3'\n",
		"Task level information\n",
		"Process 'main':\n",
		"  cmdline:\n    echo hello\n    echo bye\n",
	} {
		assert.Contains(t, out, want)
	}
	assert.Equal(t, 0, jobCount(t, srv), "inspect sends nothing")
}

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

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
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
	var logs syncBuffer
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
	var logs syncBuffer
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

func TestNew(t *testing.T) {
	_, err := nixrealis.New(nil)
	assert.Error(t, err)
	srv := newServer(t)
	r, err := realis.NewRealisClient(srv.ClientOptions()...)
	require.NoError(t, err)
	defer r.Close()
	c, err := nixrealis.New(r)
	require.NoError(t, err)
	assert.Same(t, r, c.Realis())
	st, err := c.Status(ctxFor(t, 10*time.Second), testKey)
	require.NoError(t, err)
	assert.Empty(t, st.Tasks)
}

func TestCronJob(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv.ClientOptions())
	ctx := ctxFor(t, 30*time.Second)
	j := helloJob("echo nightly", 1).WithCron("15 3 * * *").WithCronCollisionPolicy(job.CancelNew)
	created, err := c.Create(ctx, j)
	require.NoError(t, err)
	assert.Nil(t, created.Update)

	r, err := realis.NewRealisClient(srv.ClientOptions()...)
	require.NoError(t, err)
	defer r.Close()
	_, res, err := r.GetJobs(testKey.Role)
	require.NoError(t, err)
	require.Len(t, res.Configs, 1)
	require.NotNil(t, res.Configs[0].CronSchedule)
	assert.Equal(t, "15 3 * * *", *res.Configs[0].CronSchedule)
	assert.Equal(t, aurora.CronCollisionPolicy_CANCEL_NEW, res.Configs[0].CronCollisionPolicy)
	assert.Empty(t, activeTasks(t, srv), "nothing runs before the schedule fires")

	d, err := c.Diff(ctx, j)
	require.NoError(t, err)
	assert.False(t, d.Changed, d.Text)
	d, err = c.Diff(ctx, j.WithCron("30 4 * * *"))
	require.NoError(t, err)
	assert.True(t, d.Changed)
	assert.Contains(t, d.Text, `cron schedule: -"15 3 * * *" +"30 4 * * *"`)
	assert.Equal(t, []nixrealis.Change{{Path: "cronSchedule", Old: "15 3 * * *", New: "30 4 * * *"}}, d.Changes)
	if assert.Len(t, d.Configs, 1, "the template's payload carries the schedule") {
		assert.Nil(t, d.Configs[0].Instances, "a cron template runs no instances")
		assert.Equal(t, []nixrealis.Change{{Path: "executorConfig.data.cron_schedule", Old: "15 3 * * *", New: "30 4 * * *"}}, d.Configs[0].Changes)
	}

	upd, err := c.Update(ctx, j.WithCron("30 4 * * *"))
	require.NoError(t, err)
	assert.Nil(t, upd.Key)
	d, err = c.Diff(ctx, j.WithCron("30 4 * * *"))
	require.NoError(t, err)
	assert.False(t, d.Changed, d.Text)

	require.NoError(t, c.Kill(ctx, testKey, nil))
	assert.Equal(t, 0, jobCount(t, srv), "killing a cron job deschedules it")
}

func TestUpdateControls(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv.ClientOptions())
	ctx := ctxFor(t, 60*time.Second)
	_, err := c.Create(ctx, helloService("echo v1; sleep 1000", 2))
	require.NoError(t, err)

	// Pause, resume, follow to the end.
	res, err := c.Update(ctx, helloService("echo v2; sleep 1000", 2), nixrealis.NoWait(), nixrealis.Message("v2"))
	require.NoError(t, err)
	require.NoError(t, c.Pause(ctx, *res.Key, nixrealis.Message("hold")))
	info, err := c.UpdateInfo(ctx, *res.Key)
	require.NoError(t, err)
	assert.Equal(t, aurora.JobUpdateStatus_ROLL_FORWARD_PAUSED, info.Update.Summary.State.Status)
	require.NoError(t, c.Resume(ctx, *res.Key, nixrealis.Message("go")))
	info, err = c.UpdateInfo(ctx, *res.Key)
	require.NoError(t, err)
	var msgs []string
	for _, ev := range info.UpdateEvents {
		msgs = append(msgs, ev.GetMessage())
	}
	assert.Subset(t, msgs, []string{"v2", "hold", "go"}, "Message reaches the scheduler for Update, Pause and Resume")
	res, err = c.Follow(ctx, *res.Key)
	require.NoError(t, err)
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_FORWARD, res.Status)

	// Roll back a paused update.
	res, err = c.Update(ctx, helloService("echo v3; sleep 1000", 2), nixrealis.NoWait())
	require.NoError(t, err)
	require.NoError(t, c.Pause(ctx, *res.Key, nixrealis.Message("hold")))
	require.NoError(t, c.Rollback(ctx, *res.Key, nixrealis.Message("no")))
	res, err = c.Follow(ctx, *res.Key)
	assert.ErrorIs(t, err, nixrealis.ErrUpdateFailed)
	require.NotNil(t, res)
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_BACK, res.Status)

	// An update that waits for pulses goes on only while it gets them.
	u := job.DefaultUpdate()
	u.Watch = new(5 * time.Second)
	u.PulseInterval = time.Minute
	pulsed := helloService("echo v4; sleep 1000", 2).WithUpdate(u)
	res, err = c.Update(ctx, pulsed, nixrealis.NoWait())
	require.NoError(t, err)
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = c.Follow(short, *res.Key)
	assert.ErrorIs(t, err, nixrealis.ErrTimeout, "without pulses the update blocks")
	info, err = c.UpdateInfo(ctx, *res.Key)
	require.NoError(t, err)
	assert.Equal(t, aurora.JobUpdateStatus_ROLL_FORWARD_AWAITING_PULSE, info.Update.Summary.State.Status)

	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			if err := c.Pulse(ctx, *res.Key); err != nil {
				t.Errorf("Pulse: %v", err)
				return
			}
		}
	}()
	final, err := c.Follow(ctx, *res.Key)
	close(stop)
	<-done
	require.NoError(t, err)
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_FORWARD, final.Status)

	// Controls on an unknown update are errors the caller can tell.
	err = c.Pause(ctx, nixrealis.UpdateKey{Job: testKey, ID: "no-such-update"})
	require.Error(t, err)
	t.Logf("pause of an unknown update: %v", err)
	assert.ErrorIs(t, err, nixrealis.ErrNotFound)
	var oe *nixrealis.OpError
	require.ErrorAs(t, err, &oe)
	assert.Contains(t, oe.Message, "does not exist", "Aurora's message")
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
			var logs syncBuffer
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

// TestRestartSomeInstances restarts one of three instances.
func TestRestartSomeInstances(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv.ClientOptions())
	ctx := ctxFor(t, 30*time.Second)
	_, err := c.Create(ctx, helloJob("sleep 1000", 3))
	require.NoError(t, err)
	before := map[int32]string{}
	for _, task := range activeTasks(t, srv) {
		before[task.AssignedTask.InstanceId] = task.AssignedTask.TaskId
	}
	require.NoError(t, c.Restart(ctx, testKey, []int32{1}))
	after := map[int32]string{}
	for _, task := range activeTasks(t, srv) {
		assert.Equal(t, aurora.ScheduleStatus_RUNNING, task.Status)
		after[task.AssignedTask.InstanceId] = task.AssignedTask.TaskId
	}
	assert.Equal(t, before[0], after[0])
	assert.NotEqual(t, before[1], after[1])
	assert.Equal(t, before[2], after[2])
	err = c.Restart(ctx, testKey, []int32{7})
	assert.ErrorIs(t, err, nixrealis.ErrNotFound)
}

// TestPreparerFunc: the Nix step is pluggable; what it returns is what is
// submitted, what it fails with stops the call before the scheduler, and
// only Create and Update ask it to publish.
func TestPreparerFunc(t *testing.T) {
	srv := newServer(t)
	var mu sync.Mutex
	var publishes []bool
	prep := nixrealis.PreparerFunc(func(ctx context.Context, j job.Job, publish bool, progress func(nix.Event)) (job.Job, error) {
		mu.Lock()
		publishes = append(publishes, publish)
		mu.Unlock()
		if strings.Contains(j.Task().Processes()[0].Cmdline(), "broken") {
			return job.Job{}, errors.New("error: attribute 'broken' missing")
		}
		progress(nix.Event{Action: nix.ActionMsg, Text: "evaluated"})
		t := j.Task()
		return j.WithTask(t.WithProcesses(append([]job.Process{job.NewProcess("setup", "true")}, t.Processes()...)...)), nil
	})
	var events []string
	c := newClient(t, srv.ClientOptions(), nixrealis.WithPreparer(prep), nixrealis.WithProgress(func(p nixrealis.Progress) {
		if p.Nix != nil {
			mu.Lock()
			events = append(events, p.Message)
			mu.Unlock()
		}
	}))
	ctx := ctxFor(t, 30*time.Second)

	_, err := c.Create(ctx, helloJob("broken", 1))
	require.ErrorIs(t, err, nixrealis.ErrNixFailed)
	assert.Contains(t, err.Error(), "attribute 'broken' missing")
	assert.Equal(t, 0, jobCount(t, srv))

	created, err := c.Create(ctx, helloJob("sleep 1000", 1))
	require.NoError(t, err)
	assert.Equal(t, "setup", created.Spec.Payload.Task.Processes[0].Name)
	d, err := c.Diff(ctx, helloJob("sleep 1000", 1))
	require.NoError(t, err)
	assert.False(t, d.Changed, d.Text)
	require.NoError(t, c.Kill(ctx, testKey, nil))

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []bool{true, true, false}, publishes)
	assert.Contains(t, events, "evaluated")
}

// TestUpdateProgress: following an update reports its status and how many
// instances are done.
func TestUpdateProgress(t *testing.T) {
	srv := newServer(t)
	var mu sync.Mutex
	var reports []nixrealis.Progress
	c := newClient(t, srv.ClientOptions(), nixrealis.WithProgress(func(p nixrealis.Progress) {
		if p.Stage == nixrealis.StageUpdate {
			mu.Lock()
			reports = append(reports, p)
			mu.Unlock()
		}
	}))
	ctx := ctxFor(t, 30*time.Second)
	_, err := c.Create(ctx, helloService("echo v1; sleep 1000", 3))
	require.NoError(t, err)
	mu.Lock()
	reports = nil
	mu.Unlock()
	_, err = c.Update(ctx, helloService("echo v2; sleep 1000", 3))
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, reports)
	last := reports[len(reports)-1]
	assert.Equal(t, 3, last.Done)
	assert.Equal(t, 3, last.Total)
	assert.Contains(t, last.Message, "ROLLED_FORWARD: 3 of 3 instances done")
}

// TestCreateWithTiers: with the scheduler's tier configuration the Client
// back-fills the tier as `aurora job create` does (oracle *.cli.payload.json):
// preemptible for a non-production job, preferred for a production one;
// without it the scheduler picks its default tier and the payload has none.
func TestCreateWithTiers(t *testing.T) {
	tests := []struct {
		name       string
		tiers      bool
		production bool
		wantTier   string // in the payload; "" = absent
		wantStored string // TaskConfig.tier the scheduler keeps
	}{
		{"library path", false, false, "", "preemptible"},
		{"cli path", true, false, "preemptible", "preemptible"},
		{"cli path, production", true, true, "preferred", "preferred"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			var opts []nixrealis.Option
			if tt.tiers {
				opts = append(opts, nixrealis.WithTiers(job.DefaultTiers()))
			}
			c := newClient(t, srv.ClientOptions(), opts...)
			ctx := ctxFor(t, 30*time.Second)
			if tt.production {
				// Aurora refuses production jobs beyond the role's quota.
				r, err := realis.NewRealisClient(srv.ClientOptions()...)
				require.NoError(t, err)
				defer r.Close()
				cpu, ram, disk := 10.0, int64(10240), int64(102400)
				_, err = r.SetQuota(testKey.Role, &cpu, &ram, &disk)
				require.NoError(t, err)
			}
			created, err := c.Create(ctx, helloJob("sleep 1000", 1).WithProduction(tt.production))
			require.NoError(t, err)
			if tt.wantTier == "" {
				assert.Nil(t, created.Spec.Payload.Tier)
			} else {
				require.NotNil(t, created.Spec.Payload.Tier)
				assert.Equal(t, tt.wantTier, *created.Spec.Payload.Tier)
			}
			tasks := srv.Tasks(testKey.Role, testKey.Environment, testKey.Name)
			require.Len(t, tasks, 1)
			cfg := tasks[0].AssignedTask.Task
			require.NotNil(t, cfg.Tier)
			assert.Equal(t, tt.wantStored, *cfg.Tier)
			require.NotNil(t, cfg.Production)
			assert.Equal(t, tt.production, *cfg.Production)
			if tt.wantTier != "" {
				assert.Contains(t, cfg.ExecutorConfig.Data, `"tier": "`+tt.wantTier+`"`)
			} else {
				assert.NotContains(t, cfg.ExecutorConfig.Data, `"tier"`)
			}
		})
	}
}

// stageLog records the stages a client reports; record is its progress
// callback, which the client may call from any goroutine.
type stageLog struct {
	mu     sync.Mutex
	stages []nixrealis.Stage
}

func (l *stageLog) record(p nixrealis.Progress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stages = append(l.stages, p.Stage)
}

// take returns the stages recorded since the last take.
func (l *stageLog) take() []nixrealis.Stage {
	l.mu.Lock()
	defer l.mu.Unlock()
	got := l.stages
	l.stages = nil
	return got
}

// TestStagesInOrder: each operation reports its stages in the order the
// Stage constants are declared, StageDone once and last.
func TestStagesInOrder(t *testing.T) {
	srv := newServer(t)
	var log stageLog
	c := newClient(t, srv.ClientOptions(), nixrealis.WithProgress(log.record))
	ctx := ctxFor(t, 60*time.Second)
	order := map[nixrealis.Stage]int{nixrealis.StagePrepare: 0, nixrealis.StageSubmit: 1, nixrealis.StageUpdate: 2, nixrealis.StageWait: 3, nixrealis.StageDone: 4}
	check := func(what string, want ...nixrealis.Stage) {
		t.Helper()
		got := log.take()
		require.NotEmpty(t, got, what)
		for i := 1; i < len(got); i++ {
			assert.LessOrEqual(t, order[got[i-1]], order[got[i]], "%s: %v", what, got)
		}
		assert.Equal(t, nixrealis.StageDone, got[len(got)-1], "%s: %v", what, got)
		for _, s := range want {
			assert.Contains(t, got, s, what)
		}
	}
	_, err := c.Create(ctx, helloService("echo v1; sleep 1000", 2))
	require.NoError(t, err)
	check("service create", nixrealis.StageSubmit, nixrealis.StageUpdate, nixrealis.StageWait)
	_, err = c.Update(ctx, helloService("echo v2; sleep 1000", 2))
	require.NoError(t, err)
	check("update", nixrealis.StageUpdate)
	require.NoError(t, c.Kill(ctx, testKey, nil))
	check("kill", nixrealis.StageSubmit)
	_, err = c.Create(ctx, helloJob("sleep 1000", 1))
	require.NoError(t, err)
	check("job create", nixrealis.StageSubmit, nixrealis.StageWait)
}
