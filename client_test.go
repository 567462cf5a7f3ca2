package nixrealis_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/auroratest"
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
	srv := auroratest.NewUnstartedServer(&failingExecutor{})
	srv.TimeScale = 1000
	srv.Start()
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
