//go:build linux

package exampletest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/auroratest/thermosexec"
	"github.com/nixrealis/nixrealis/internal/composeexample"
)

// TestComposeWalkThrough is the README's custom-executors walk-through:
// the example client creates the guide's compose job on the embedded
// cluster (the stand-in serves the sample app on the allocated port), and
// against a scheduler configured as the guide says it creates, inspects
// and kills the compose job.
func TestComposeWalkThrough(t *testing.T) {
	bin := buildClient(t)
	r := runClientOK(t, bin, "-executor=compose", "-cmd=create")
	assert.Contains(t, r.stdout, "created devcluster/www-data/prod/docker-compose: 1 instance(s) RUNNING")
	assert.Contains(t, r.stdout, "/sandboxes/compose-www-data-prod-docker-compose-0-")
	assert.Contains(t, r.stdout, "answers: Hello from the docker-compose executor (nixrealis stand-in), port ")

	root := t.TempDir()
	require.NoError(t, os.Chmod(root, 0o755))
	require.NoError(t, os.Chmod(filepath.Dir(root), 0o755))
	ex := &thermosexec.Executor{Root: filepath.Join(root, "agents"), ShutdownGracePeriod: 2 * time.Second,
		Custom: map[string]thermosexec.CustomExecutor{composeexample.ExecutorName: composeexample.Executor{}}}
	t.Cleanup(ex.Close)
	srv := auroratest.NewUnstartedServer(ex)
	srv.Hosts = []string{"agent-1"}
	srv.TimeScale = 20
	srv.CustomExecutors = composeexample.Config()
	srv.EnableMesosFetcher = true
	srv.Start()
	t.Cleanup(srv.Close)
	do := func(args ...string) result {
		t.Helper()
		return runClientOK(t, bin, append([]string{"-url=" + srv.URL, "-executor=compose"}, args...)...)
	}
	assert.Contains(t, do("-cmd=create").stdout, "created devcluster/www-data/prod/docker-compose: 1 instance(s) RUNNING")
	assert.Contains(t, do("-cmd=status").stdout, "RUNNING: 0")
	assert.Contains(t, do("-cmd=inspect").stdout, "executor:   'docker-compose-executor'")
	assert.Contains(t, do("-cmd=kill").stdout, "killed devcluster/www-data/prod/docker-compose")
}
