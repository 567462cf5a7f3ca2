//go:build linux

package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/auroratest/thermosexec"
	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/job"
)

const testPub = "cluster-1:owhzNC7uktpmQsjnAd+IOmeptbDLsfr+rJE3CbSBfWU="

// Bad values of the agents' trust flags are usage errors naming the flag.
func TestRunRejectsBadTrustFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-executor", "thermos", "-substituters", "file:///srv/cache?trusted=1"}, `-substituters: store URL turns off signature checks: "file:///srv/cache?trusted=1" has trusted=1`},
		{[]string{"-executor", "thermos", "-substituters", "https://c.example?require-sigs=false"}, `-substituters: store URL turns off signature checks: "https://c.example?require-sigs=false" has require-sigs=false`},
		{[]string{"-executor", "thermos", "-substituters", "notaurl"}, `-substituters: "notaurl" is not a store URL`},
		{[]string{"-executor", "thermos", "-trusted_public_keys", "notakey"}, `-trusted_public_keys: "notakey" is not a Nix public key`},
		{[]string{"-executor", "thermos", "-trusted_public_keys", "k:AAAA"}, `-trusted_public_keys: "k:AAAA" is not a Nix public key`},
		{[]string{"-substituters", "file:///srv/cache", "-trusted_public_keys", testPub}, "add -executor thermos"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut testenv.Buffer
			err := run(t.Context(), append([]string{"-port", "0"}, tt.args...), &out, &errOut)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "\n")
			assert.True(t, errors.As(err, new(usageError)), "a usage error (exit 2): %v", err)
		})
	}
}

// The command exits 2 for a trust flag it refuses, with one line naming it.
func TestBadTrustFlagExitsTwo(t *testing.T) {
	bin := buildDevcluster(t)
	cmd := exec.Command(bin, "-port", "0", "-executor", "thermos", "-substituters", "file:///srv/cache?trusted=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "exits with a status: %v", err)
	assert.Equal(t, 2, ee.ExitCode())
	assert.Regexp(t, `^devcluster: -substituters: .*turns off signature checks.*\n$`, stderr.String())
}

// Without root, agents with their own store cannot run: said at once.
func TestTrustNeedsRoot(t *testing.T) {
	ex := &thermosexec.Executor{}
	err := trust{caches: []string{"file:///srv/cache"}}.set(ex, auroratest.NewUnstartedServer(nil), func() int { return 1000 })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "needs root")
	assert.Nil(t, ex.Agents)

	ex = &thermosexec.Executor{Root: "/r"}
	srv := auroratest.NewUnstartedServer(nil)
	srv.Hosts = []string{"a", "b"}
	require.NoError(t, trust{caches: []string{"file:///srv/cache"}, keys: []string{testPub}}.set(ex, srv, func() int { return 0 }))
	assert.Equal(t, map[string]thermosexec.Agent{"a": {Store: "/r/a/store"}, "b": {Store: "/r/b/store"}}, ex.Agents)
	assert.Equal(t, []string{"file:///srv/cache"}, ex.TrustedCaches)
	assert.Equal(t, []string{testPub}, ex.TrustedKeys)

	// Agents that share a host name (both agents of Aurora's
	// docker-compose devcluster are localhost) get a store each, by agent id.
	ex = &thermosexec.Executor{Root: "/r"}
	srv = auroratest.NewUnstartedServer(nil)
	srv.Hosts = []string{"localhost", "other", "localhost"}
	require.NoError(t, trust{caches: []string{"file:///srv/cache"}, keys: []string{testPub}}.set(ex, srv, func() int { return 0 }))
	assert.Equal(t, map[string]thermosexec.Agent{
		auroratest.AgentID(0): {Store: "/r/localhost/" + auroratest.AgentID(0) + "/store"},
		"other":               {Store: "/r/other/store"},
		auroratest.AgentID(2): {Store: "/r/localhost/" + auroratest.AgentID(2) + "/store"},
	}, ex.Agents)
}

// With -substituters and -trusted_public_keys, Nix inside a task on an
// agent reads exactly the operator's caches and keys.
func TestAgentsTrustTheFlags(t *testing.T) {
	testenv.NeedNix(t)
	testenv.NeedRoot(t)
	dir := sandboxDir(t)
	d := runInProcess(t, "-port", "0", "-executor", "thermos", "-sandboxes", dir, "-hosts", "agent-one", "-run_as", "nobody",
		"-substituters", "file:///srv/operator-cache, https://cache.example", "-trusted_public_keys", testPub)

	c, err := nixrealis.Dial(nixrealisOptions(d.url), nixrealis.WithPollInterval(20*time.Millisecond))
	require.NoError(t, err)
	defer c.Close()
	task := job.NewTask("conf", job.NewProcess("main",
		`nix --extra-experimental-features nix-command show-config | grep -e '^substituters =' -e '^trusted-public-keys ='; sleep 1000`)).
		WithResources(job.NewResources(0.1, 16*job.MiB, 16*job.MiB))
	_, err = c.Create(t.Context(), job.New(job.Key{Cluster: "devcluster", Role: "vagrant", Environment: "devel", Name: "conf"}, task))
	require.NoError(t, err)

	want := "substituters = file:///srv/operator-cache https://cache.example\ntrusted-public-keys = " + testPub + "\n"
	waitMainStdout(t, dir, func(got string) bool { return got == want }, "the task's Nix never printed the operator's trust")
	_, err = os.Stat(filepath.Join(dir, "agent-one", "store", "etc", "nix", "nix.conf"))
	assert.NoError(t, err, "the agent's nix.conf is in its own store")
}
