//go:build linux

package nixrealis_test

import (
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
)

// TestEndToEndNixJob runs the example's Nix-built hello on auroratest with
// the local Thermos executor: every agent starts with an empty Nix store,
// so init_sandbox must realise the sandbox from the signed binary cache
// the client pushed it to. Then an update changes the command line (rolls
// forward, the new processes run), a failing update rolls back, and a
// kill stops every process.
func TestEndToEndNixJob(t *testing.T) {
	w := newNixWorld(t)
	testenv.NeedRoot(t)
	dir := taskReachable(t, t.TempDir())
	exec := &thermosexec.Executor{Root: filepath.Join(dir, "agents"), TimeScale: 100, Agents: map[string]thermosexec.Agent{}, RunAs: taskUser,
		TrustedCaches: []string{w.cacheURL}, TrustedKeys: []string{w.pub}}
	hosts := []string{"agent-one", "agent-two"}
	for _, h := range hosts {
		exec.Agents[h] = thermosexec.Agent{Store: filepath.Join(dir, h+"-store")}
	}
	t.Cleanup(exec.Close)
	srv := auroratest.NewUnstartedServer(exec)
	srv.Hosts = hosts
	srv.TimeScale = 100
	srv.Start()
	t.Cleanup(srv.Close)
	c := newClient(t, srv.ClientOptions(), nixrealis.WithPreparer(w.preparer(examplePackages(t), "hello")))
	ctx := ctxFor(t, 4*time.Minute)

	stdout := func(taskID, process string) string {
		info, ok := exec.Task(taskID)
		require.True(t, ok, "task %s", taskID)
		runs := info.RunsOf(process)
		if len(runs) == 0 {
			return ""
		}
		b, _ := os.ReadFile(filepath.Join(info.Sandbox, ".logs", process, "0", "stdout"))
		return string(b)
	}
	running := func() []nixrealis.Task {
		st, err := c.Status(ctx, testKey)
		require.NoError(t, err)
		return st.ByState[aurora.ScheduleStatus_RUNNING]
	}
	waitOutput := func(want string) {
		t.Helper()
		for _, task := range running() {
			require.Eventually(t, func() bool { return strings.Contains(stdout(task.TaskID, "main"), want) },
				time.Minute, 20*time.Millisecond, "instance %d prints %q", task.Instance, want)
		}
	}

	_, err := c.Create(ctx, helloService("hello {{mesos.instance}}; echo v1; sleep 600", 2))
	require.NoError(t, err)
	require.Len(t, running(), 2)
	waitOutput("Hello, world! (from a Nix-built package, instance ")
	waitOutput("v1")

	res, err := c.Update(ctx, helloService("hello {{mesos.instance}}; echo v2; sleep 600", 2))
	require.NoError(t, err)
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_FORWARD, res.Status)
	waitOutput("v2")

	// The watch must outlast init_sandbox and the failing command, as on a
	// real cluster: 300 s on the scheduler's clock is 3 s here.
	u := job.DefaultUpdate()
	u.Watch = new(300 * time.Second)
	res, err = c.Update(ctx, helloService("hello; exit 1", 2).WithUpdate(u))
	require.ErrorIs(t, err, nixrealis.ErrUpdateFailed)
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_BACK, res.Status)
	d, err := c.Diff(ctx, helloService("hello {{mesos.instance}}; echo v2; sleep 600", 2))
	require.NoError(t, err)
	assert.False(t, d.Changed, d.Text)
	waitOutput("v2")

	tasks := running()
	require.NoError(t, c.Kill(ctx, testKey, nil))
	for _, task := range tasks {
		info, ok := exec.Task(task.TaskID)
		require.True(t, ok)
		for _, r := range info.Runs {
			assert.NotEqual(t, thermosexec.ProcessRunning, r.State, "process %s still running after kill", r.Process)
		}
	}
}
