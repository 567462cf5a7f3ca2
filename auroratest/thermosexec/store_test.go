//go:build linux

package thermosexec_test

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/auroratest/thermosexec"
	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each simulated agent sees its own Nix store at /nix/store: a path added
// to agent A's store is there for A's processes (files and database), and
// missing for agent B's and for an agent on the host's store.
func TestAgentStores(t *testing.T) {
	nixStore := testenv.NeedNix(t)
	testenv.NeedRoot(t)
	dir := t.TempDir()
	storeA, storeB := filepath.Join(dir, "store-a"), filepath.Join(dir, "store-b")
	src := filepath.Join(dir, "greeting")
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce)
	content := "hello from agent a " + hex.EncodeToString(nonce) + "\n"
	require.NoError(t, os.WriteFile(src, []byte(content), 0o644))
	out, err := exec.Command(nixStore, "--store", storeA, "--add", src).Output()
	require.NoError(t, err)
	path := strings.TrimSpace(string(out))
	require.True(t, strings.HasPrefix(path, "/nix/store/"), path)
	_, err = os.Stat(path)
	require.True(t, os.IsNotExist(err), "%s must not be in the host's store", path)
	_, err = os.Stat(filepath.Join(storeA, path))
	require.NoError(t, err, "the chroot store keeps its files under its own root")

	e := newExecutor(t)
	e.Agents = map[string]thermosexec.Agent{
		"agent-a":             {Store: storeA},
		"agent-b":             {Store: storeB},
		auroratest.AgentID(0): {Store: storeA},
		auroratest.AgentID(1): {Store: storeB},
	}
	cmd := "cat " + path + " && " + nixStore + " --check-validity " + path + " && ls /nix/store | wc -l"
	done := func(id string) (string, string, string) {
		u := wait(t, e, id, 20*time.Second)
		info, _ := e.Task(id)
		return u.Status.String(), readLog(t, info.Sandbox, "look", 0, "stdout"), readLog(t, info.Sandbox, "look", 0, "stderr")
	}
	run := func(host string) (string, string, string) {
		id, _ := launchOn(t, e, newJob(proc("look", cmd)), nil, host, 0)
		return done(id)
	}
	// Two agents on one host name are told apart by their agent id.
	runOn := func(agentID string) (string, string, string) {
		id, _ := launchTask(t, e, newJob(proc("look", cmd)), auroratest.LaunchedTask{Host: "localhost", AgentID: agentID})
		return done(id)
	}

	status, stdout, stderr := run("agent-a")
	assert.Equal(t, "FINISHED", status, stderr)
	assert.Equal(t, content+"1\n", stdout, "agent a sees exactly its store's one path")

	for _, host := range []string{"agent-b", "agent-host"} {
		status, stdout, stderr = run(host)
		assert.Equal(t, "FAILED", status, host)
		assert.Empty(t, stdout, host)
		assert.Contains(t, stderr, path+": No such file or directory", host)
	}

	status, stdout, stderr = runOn(auroratest.AgentID(0))
	assert.Equal(t, "FINISHED", status, stderr)
	assert.Equal(t, content+"1\n", stdout, "the first localhost agent has store a")
	status, stdout, stderr = runOn(auroratest.AgentID(1))
	assert.Equal(t, "FAILED", status, "the second localhost agent has store b")
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, path+": No such file or directory")

	// The host's /nix is untouched by the agents' mounts.
	_, err = os.Stat(path)
	assert.True(t, os.IsNotExist(err))
}
