package sandbox

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/nix"
)

// TestLoadNixAuroraJob loads a nix-aurora-style job by evaluation, gives it
// a sandbox with every package its command lines use, pushes it, and runs
// it on a simulated agent.
func TestLoadNixAuroraJob(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	l, err := Load(ctx, "testdata/nix-aurora-job.nix", "hello", LoadOptions{Nix: w.n})
	require.NoError(t, err)
	assert.Equal(t, []string{InitProcessName}, l.Removed)
	assert.Equal(t, "devcluster/www-data/devel/hello_world", l.Job.Key().String())
	assert.Equal(t, 2, l.Job.Instances())
	procs := l.Job.Task().Processes()
	require.Len(t, procs, 2)
	assert.Equal(t, "hello_world", procs[0].Name())
	assert.Regexp(t, `^/nix/store/[a-z0-9]{32}-hello/bin/hello && /nix/store/[a-z0-9]{32}-greeter/bin/greeter --port \{\{thermos.ports\[http\]\}\}$`, procs[0].Cmdline())
	assert.Empty(t, l.Job.Task().Constraints(), "constraints naming only the removed init are dropped")

	p, err := Prepare(ctx, l.Job, l.Packages, Options{Nix: w.n, Agent: w.agent()})
	require.NoError(t, err)
	spec, err := p.Job.Build()
	require.NoError(t, err)
	assert.Equal(t, 2, spec.Instances)
	assert.Equal(t, 2, spec.Update.BatchSize)
	assert.Equal(t, []string{"http"}, spec.Ports)

	require.NoError(t, Push(ctx, p.Paths, Cache{URL: w.cacheURL, SecretKeyFile: w.secret}, PushOptions{Nix: w.n}))
	closure, err := w.n.Closure(ctx, p.Paths.Out)
	require.NoError(t, err)
	var names []string
	for _, in := range closure {
		names = append(names, in.Path.Name())
	}
	assert.ElementsMatch(t, []string{p.Spec.Name, "hello", "greeter", "tools"}, names, "exactly the packages the cmdlines use")

	agent := w.newAgent(t, "agent")
	sbx := filepath.Join(w.dir, "task")
	payload := spec.Payload.Task.Processes
	requireInitOK(t, runInit(t, payload[0].Cmdline, sbx, agent))
	for _, in := range closure {
		assert.True(t, valid(t, agent, in.Path))
	}
	cmd := strings.ReplaceAll(payload[1].Cmdline, "{{thermos.ports[http]}}", "8080") // what Thermos does
	out, err := exec.Command("env", "-i", "PATH=/usr/bin:/bin", "HOME="+sbx, "/bin/bash", "-c", cmd).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "Hello from the sandbox\ngreetings\n", string(out))
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	_, err := Load(ctx, "testdata/nix-aurora-job.nix", "nope", LoadOptions{Nix: w.n})
	require.Error(t, err)
	var nerr *nix.Error
	require.ErrorAs(t, err, &nerr)
	assert.Contains(t, err.Error(), "nope")

	_, err = Load(ctx, "testdata/nix-aurora-job.nix", "hello.task", LoadOptions{Nix: w.n})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not an Aurora job")
}
