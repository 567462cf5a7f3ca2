//go:build linux

package thermosexec_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/paypal/gorealis/gen-go/apache/aurora"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/auroratest/thermosexec"
	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/nix"
	"github.com/nixrealis/nixrealis/sandbox"
	"github.com/nixrealis/nixrealis/thermos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Nix-built hello job, created through gorealis, runs as nobody on an agent whose
// store starts empty: its init_sandbox realises the sandbox from a signed file:// binary cache into
// that agent's store (seen at /nix/store through the mount namespace), and
// hello prints its greeting in .logs/hello/0/stdout.
func TestNixHelloOnEmptyAgentStore(t *testing.T) {
	testenv.NeedNix(t)
	testenv.NeedRoot(t)
	ctx := context.Background()
	dir := t.TempDir()
	n := &nix.Nix{}
	secret := filepath.Join(dir, "cluster.sec")
	require.NoError(t, n.GenerateKey(ctx, "cluster-1", secret, filepath.Join(dir, "cluster.pub")))
	pub, err := sandbox.ReadPublicKey(secret)
	require.NoError(t, err)
	cache := "file://" + filepath.Join(dir, "cache")

	_, self, _, _ := runtime.Caller(0)
	pkgs := sandbox.File(filepath.Join(filepath.Dir(self), "..", "..", "sandbox", "testdata", "pkgs.nix"))
	hello := job.Service(job.Key{Cluster: "devcluster", Role: "www-data", Environment: "prod", Name: "hello"},
		job.NewTask("hello", job.NewProcess("hello", "true")).WithResources(job.NewResources(1, job.MiB, job.MiB)))
	prepared, err := sandbox.Prepare(ctx, hello, sandbox.Packages{"hello": {pkgs.Attr("hello")}},
		sandbox.Options{Nix: n, Name: sandbox.NamePrefix + "thermosexec-hello", Agent: sandbox.Agent{Caches: []string{cache}}})
	require.NoError(t, err)
	paths := prepared.Paths
	require.NoError(t, sandbox.Push(ctx, paths, sandbox.Cache{URL: cache, SecretKeyFile: secret}, sandbox.PushOptions{Nix: n}))
	initProc := prepared.Job.Task().Processes()[0]
	require.Equal(t, sandbox.InitProcessName, initProc.Name())
	initCmd := initProc.Cmdline()

	agentStore := filepath.Join(dir, "agent-store")
	e := newExecutor(t)
	e.TrustedCaches, e.TrustedKeys = []string{cache}, []string{pub}
	e.Agents = map[string]thermosexec.Agent{"agent-a": {Store: agentStore}}
	r := gorealisClient(t, e, func(srv *auroratest.Server) { srv.Hosts = []string{"agent-a"} })

	j := newJob(proc(sandbox.InitProcessName, initCmd), proc("hello", "hello && id -u > uid.out"))
	j.Name = "hello"
	j.Task.Constraints = []thermos.Constraint{order(sandbox.InitProcessName, "hello")}
	rj := realisJob(t, j, 1)
	_, err = r.CreateJob(rj)
	require.NoError(t, err)
	tasks := activeTasks(t, r, rj.JobKey(), 1, append(aurora.ACTIVE_STATES, aurora.TERMINAL_STATES...)...)
	id := tasks[0].AssignedTask.TaskId
	assert.Equal(t, "agent-a", tasks[0].AssignedTask.SlaveHost)
	u := wait(t, e, id, 2*time.Minute)
	info, _ := e.Task(id)
	require.Equal(t, FINISHED, u.Status, "%s\ninit_sandbox stderr: %s", u.Message, readLog(t, info.Sandbox, sandbox.InitProcessName, 0, "stderr"))
	assert.Equal(t, "Hello from the sandbox\n", readLog(t, info.Sandbox, "hello", 0, "stdout"))
	activeTasks(t, r, rj.JobKey(), 1, aurora.ScheduleStatus_FINISHED)
	// The task ran as an unprivileged user (the executor's RunAs), its
	// init_sandbox realising through the agent's nix-daemon.
	uid, err := os.ReadFile(filepath.Join(info.Sandbox, "uid.out"))
	require.NoError(t, err)
	assert.NotEqual(t, "0\n", string(uid), "the task ran as root")

	// The closure went into the agent's store, not the host's view of it.
	_, err = os.Stat(filepath.Join(agentStore, string(paths.Out)))
	assert.NoError(t, err, "the sandbox is in the agent's store")
}
