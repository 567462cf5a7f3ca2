//go:build linux

package nixrealis_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/auroratest/thermosexec"
	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/nix"
)

// thermosCluster is auroratest with the embedded Thermos executor: real
// processes, durations of the payload at 1/100 (the scheduler's clock runs
// 100 times faster to match).
func thermosCluster(t *testing.T, agents map[string]thermosexec.Agent, configure ...func(*thermosexec.Executor)) (*auroratest.Server, *thermosexec.Executor) {
	t.Helper()
	exec := &thermosexec.Executor{Root: filepath.Join(taskReachable(t, t.TempDir()), "agents"), TimeScale: 100, Agents: agents, RunAs: taskUser}
	for _, f := range configure {
		f(exec) // before the scheduler uses the executor
	}
	t.Cleanup(exec.Close)
	srv := auroratest.NewUnstartedServer(exec)
	srv.TimeScale = 100
	for h := range agents {
		srv.Hosts = append(srv.Hosts, h)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, exec
}

// neverHealthy is a health check that never passes and, within any test's
// life, never fails the task either (its failures are forgiven for the
// first million seconds): the executor never reports such a task RUNNING,
// so how it ends is decided by its processes alone.
func neverHealthy() job.HealthCheck {
	h := job.DefaultHealthCheck()
	h.Checker = job.ShellChecker("false")
	h.InitialInterval = new(1e6 * time.Second)
	h.Interval = 1000 * time.Second
	return h
}

// notTimeout fails t when err is the wait running into the test's
// deadline rather than the wait ending by itself.
func notTimeout(t *testing.T, err error) {
	t.Helper()
	assert.False(t, errors.Is(err, nixrealis.ErrTimeout), "the wait ended by itself, not at the deadline: %v", err)
}

// TestCreateWaitAdHocFinishes: an ad-hoc job that runs to its end before
// (or after) it is seen RUNNING is a successful Create with Wait, not a
// wait until the deadline.
func TestCreateWaitAdHocFinishes(t *testing.T) {
	srv, exec := thermosCluster(t, nil)
	c := newClient(t, srv.ClientOptions())
	ctx := ctxFor(t, 2*time.Minute)

	created, err := c.Create(ctx, helloJob("echo done", 2))
	require.NoError(t, err)
	require.NotNil(t, created)

	// Both instances ran their process to the end.
	testenv.Eventually(t, time.Minute, 10*time.Millisecond, func() (bool, error) {
		st, err := c.Status(ctx, testKey)
		return err == nil && len(st.ByState[aurora.ScheduleStatus_FINISHED]) == 2, err
	}, "the job's two tasks never FINISHED")
	st, err := c.Status(ctx, testKey)
	require.NoError(t, err)
	for _, task := range st.Tasks {
		info, ok := exec.Task(task.TaskID)
		require.True(t, ok)
		out, err := os.ReadFile(filepath.Join(info.Sandbox, ".logs", "main", "0", "stdout"))
		require.NoError(t, err)
		assert.Equal(t, "done\n", string(out))
	}
}

// TestCreateWaitProcessFails: an ad-hoc job whose process fails ends the
// wait with ErrTaskFailed carrying the task's status message (naming the
// process and its last stderr line). The failed tasks of that job do not
// fail the wait of a job created with the same key after it.
func TestCreateWaitProcessFails(t *testing.T) {
	srv, _ := thermosCluster(t, nil)
	c := newClient(t, srv.ClientOptions())
	ctx := ctxFor(t, 2*time.Minute)

	bad := helloJob(`echo "starting"; echo "bad config: no port named http" >&2; exit 3`, 2).WithHealthCheck(neverHealthy())
	_, err := c.Create(ctx, bad)
	require.Error(t, err)
	notTimeout(t, err)
	assert.ErrorIs(t, err, nixrealis.ErrTaskFailed)
	assert.Regexp(t, `instance [01] \(task [^)]+\) FAILED: Task failed: process "main" failed \(exit status 3\)`, err.Error())
	assert.Contains(t, err.Error(), "bad config: no port named http")

	// Kill what is left; the job's FAILED tasks stay on the scheduler.
	require.NoError(t, c.Kill(ctx, testKey, nil))
	st, err := c.Status(ctx, testKey)
	require.NoError(t, err)
	require.NotEmpty(t, st.ByState[aurora.ScheduleStatus_FAILED], "the scheduler keeps the failed tasks")

	_, err = c.Create(ctx, helloJob("echo done", 2))
	require.NoError(t, err, "an earlier job's failed tasks say nothing about this one")
}

// TestCreateWaitInitSandboxFails: the binary cache is gone when the task
// starts (deleted after the push), so init_sandbox exits 10 at once; the
// wait ends then, with init_sandbox's one-line cause in the error.
func TestCreateWaitInitSandboxFails(t *testing.T) {
	w := newNixWorld(t)
	testenv.NeedRoot(t)
	// The agent's operator trusts the cluster's cache (which then goes).
	srv, _ := thermosCluster(t, map[string]thermosexec.Agent{"agent-one": {Store: filepath.Join(t.TempDir(), "agent-one-store")}},
		func(e *thermosexec.Executor) { e.TrustedCaches, e.TrustedKeys = []string{w.cacheURL}, []string{w.pub} })
	sb := w.preparer(examplePackages(t), "hello")
	cacheDir := strings.TrimPrefix(w.cacheURL, "file://")
	prep := nixrealis.PreparerFunc(func(ctx context.Context, j job.Job, publish bool, progress func(nix.Event)) (job.Job, error) {
		pj, err := sb.Prepare(ctx, j, publish, progress)
		if err == nil && publish {
			err = os.RemoveAll(cacheDir)
		}
		return pj, err
	})
	c := newClient(t, srv.ClientOptions(), nixrealis.WithPreparer(prep))
	ctx := ctxFor(t, 4*time.Minute)

	_, err := c.Create(ctx, helloJob("hello; sleep 600", 1).WithHealthCheck(neverHealthy()))
	require.Error(t, err)
	notTimeout(t, err)
	assert.ErrorIs(t, err, nixrealis.ErrTaskFailed)
	assert.Contains(t, err.Error(), `process "init_sandbox" failed (exit status 10)`)
	assert.Contains(t, err.Error(), "init_sandbox: cache unreachable: "+w.cacheURL+" has no readable nix-cache-info")
}

// TestCreateServiceFailsWithinWatch: a service is created through an
// update; its instance fails within the update's watch time, so the update
// does not roll forward and Create fails, saying which task failed and
// why.
func TestCreateServiceFailsWithinWatch(t *testing.T) {
	srv, _ := thermosCluster(t, nil)
	c := newClient(t, srv.ClientOptions())
	ctx := ctxFor(t, 2*time.Minute)

	u := job.DefaultUpdate()
	u.Watch = new(3600 * time.Second) // 36 s here: far longer than the process lives
	svc := helloService(`echo "cannot bind 0.0.0.0:80: permission denied" >&2; exit 1`, 1).WithUpdate(u)
	created, err := c.Create(ctx, svc)
	require.Error(t, err)
	notTimeout(t, err)
	assert.ErrorIs(t, err, nixrealis.ErrUpdateFailed)
	assert.ErrorIs(t, err, nixrealis.ErrTaskFailed)
	assert.Contains(t, err.Error(), `process "main" failed (exit status 1)`)
	assert.Contains(t, err.Error(), "cannot bind 0.0.0.0:80: permission denied")
	require.NotNil(t, created, "Create returns what it created with the error")
	require.NotNil(t, created.Update)
	info, err := c.UpdateInfo(ctx, *created.Update)
	require.NoError(t, err)
	assert.NotEqual(t, aurora.JobUpdateStatus_ROLLED_FORWARD, info.Update.Summary.State.Status)
}

// TestNoWait: Create, Restart and Kill wait by default; with NoWait they
// return once the scheduler accepted the request. The job here never
// becomes RUNNING (its health check never passes), so a Create that waited
// would not return before the deadline.
func TestNoWait(t *testing.T) {
	srv, _ := thermosCluster(t, nil)
	c := newClient(t, srv.ClientOptions())
	ctx := ctxFor(t, 2*time.Minute)

	created, err := c.Create(ctx, helloJob("sleep 600", 2).WithHealthCheck(neverHealthy()), nixrealis.NoWait())
	require.NoError(t, err)
	require.NotNil(t, created)
	st, err := c.Status(ctx, testKey)
	require.NoError(t, err)
	require.Len(t, st.Tasks, 2)
	for _, task := range st.Tasks {
		assert.NotEqual(t, aurora.ScheduleStatus_RUNNING, task.Status, "never RUNNING: the health check never passes")
	}

	require.NoError(t, c.Restart(ctx, testKey, []int32{0}, nixrealis.NoWait()))
	require.NoError(t, c.Kill(ctx, testKey, nil, nixrealis.NoWait()))
	testenv.Eventually(t, time.Minute, 10*time.Millisecond, func() (bool, error) {
		ts, err := queryActiveTasks(srv)
		return len(ts) == 0, err
	}, "the killed job's tasks never ended")
}
