package thermosexec_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/nixrealis/nixrealis/auroratest/thermosexec"
	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/nix"
	"github.com/nixrealis/nixrealis/sandbox"
	"github.com/nixrealis/nixrealis/thermos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Nix-built hello job runs on an agent whose store starts empty: its
// init_sandbox realises the sandbox from a signed file:// binary cache into
// that agent's store (seen at /nix/store through the mount namespace), and
// hello prints its greeting in .logs/hello/0/stdout.
func TestNixHelloOnEmptyAgentStore(t *testing.T) {
	testenv.NeedNix(t)
	if os.Geteuid() != 0 {
		testenv.Unavailable(t, "agent stores need root for the mount namespace")
	}
	ctx := context.Background()
	dir := t.TempDir()
	n := &nix.Nix{}
	secret := filepath.Join(dir, "cluster.sec")
	require.NoError(t, n.GenerateKey(ctx, "cluster-1", secret, filepath.Join(dir, "cluster.pub")))
	pub, err := sandbox.PublicKey(secret)
	require.NoError(t, err)
	cache := "file://" + filepath.Join(dir, "cache")

	_, self, _, _ := runtime.Caller(0)
	pkgs := sandbox.File(filepath.Join(filepath.Dir(self), "..", "..", "sandbox", "testdata", "pkgs.nix"))
	paths, err := sandbox.Evaluate(ctx, n, sandbox.Spec{Name: sandbox.NamePrefix + "thermosexec-hello", Packages: []sandbox.Package{pkgs.Attr("hello")}}, "")
	require.NoError(t, err)
	require.NoError(t, sandbox.Push(ctx, paths, sandbox.Cache{URL: cache, SecretKeyFile: secret}, sandbox.PushOptions{Nix: n}))
	initCmd, err := sandbox.InitCommand(string(paths.Out), sandbox.Agent{Caches: []string{cache}, TrustedKeys: []string{pub}})
	require.NoError(t, err)

	agentStore := filepath.Join(dir, "agent-store")
	e := newExecutor(t)
	e.Agents = map[string]thermosexec.Agent{"agent-a": {Store: agentStore}}
	j := newJob(proc(sandbox.InitProcessName, initCmd), proc("hello", "hello"))
	j.Task.Constraints = []thermos.Constraint{order(sandbox.InitProcessName, "hello")}
	id, _ := launchOn(t, e, j, nil, "agent-a", 0)
	u := wait(t, e, id, 2*time.Minute)
	info, _ := e.Task(id)
	require.Equal(t, FINISHED, u.Status, "%s\ninit_sandbox stderr: %s", u.Message, readLog(t, info.Sandbox, sandbox.InitProcessName, 0, "stderr"))
	assert.Equal(t, "Hello from the sandbox\n", readLog(t, info.Sandbox, "hello", 0, "stdout"))

	// The closure went into the agent's store, not the host's view of it.
	_, err = os.Stat(filepath.Join(agentStore, string(paths.Out)))
	assert.NoError(t, err, "the sandbox is in the agent's store")
}
