//go:build linux

package thermosexec_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest/thermosexec"
	"github.com/nixrealis/nixrealis/internal/testenv"
)

// An agent with its own store reads the nix.conf its operator configured
// (Executor.TrustedCaches and TrustedKeys, in Store/etc/nix/nix.conf), not
// the host's; the operator's configuration is checked before a task runs.
func TestAgentNixConf(t *testing.T) {
	nixStore := testenv.NeedNix(t)
	testenv.NeedRoot(t)
	const key = "cluster-1:owhzNC7uktpmQsjnAd+IOmeptbDLsfr+rJE3CbSBfWU="
	store := filepath.Join(t.TempDir(), "store")
	e := newExecutor(t)
	e.TrustedCaches = []string{"file:///srv/cluster-cache", "https://cache.example"}
	e.TrustedKeys = []string{key}
	e.Agents = map[string]thermosexec.Agent{"agent-a": {Store: store}}
	nixCmd := filepath.Join(filepath.Dir(nixStore), "nix")
	cmd := `echo "$NIX_CONF_DIR" && ` + nixCmd + ` --extra-experimental-features nix-command show-config | grep -E '^(substituters|trusted-public-keys|trusted-substituters|require-sigs) '`
	id, _ := launchOn(t, e, newJob(proc("conf", cmd)), nil, "agent-a", 0)
	u := wait(t, e, id, 20*time.Second)
	info, _ := e.Task(id)
	require.Equal(t, "FINISHED", u.Status.String(), "%s: %s", u.Message, readLog(t, info.Sandbox, "conf", 0, "stderr"))
	assert.Equal(t, filepath.Join(store, thermosexec.AgentNixConfDir)+"\n"+
		"require-sigs = true\n"+
		"substituters = file:///srv/cluster-cache https://cache.example\n"+
		"trusted-public-keys = "+key+"\n"+
		"trusted-substituters = \n", readLog(t, info.Sandbox, "conf", 0, "stdout"))
	_, err := os.Stat(filepath.Join(store, "etc", "nix", "nix.conf"))
	assert.NoError(t, err, "the file is at Store/etc/nix/nix.conf")

	// A cache URL that turns signature checks off fails the task before
	// anything runs.
	bad := newExecutor(t)
	bad.TrustedCaches = []string{"file:///srv/cluster-cache?trusted=1"}
	bad.Agents = map[string]thermosexec.Agent{"agent-a": {Store: filepath.Join(t.TempDir(), "store")}}
	id, _ = launchOn(t, bad, newJob(proc("conf", "true")), nil, "agent-a", 0)
	u = wait(t, bad, id, 20*time.Second)
	assert.Equal(t, "FAILED", u.Status.String())
	assert.Contains(t, u.Message, "TrustedCaches")
	assert.Contains(t, u.Message, "trusted=1")
}
