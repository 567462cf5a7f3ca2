//go:build linux

package main

import (
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/job"
)

// By default (no -run_as) a task runs as its role's user, not as root: a
// job of role www-data (a user Debian has) prints uid and user of www-data,
// and the devcluster says how tasks run.
func TestTaskRunsAsRoleUserByDefault(t *testing.T) {
	testenv.NeedRoot(t)
	dir := sandboxDir(t)
	d := runInProcess(t, "-port", "0", "-executor", "thermos", "-sandboxes", dir, "-hosts", "agent-one")
	require.Eventually(t, func() bool { return regexp.MustCompile(`tasks run as their role's user`).MatchString(d.out.String()) }, time.Minute, 5*time.Millisecond, "stdout: %s", &d.out)

	c, err := nixrealis.Dial(nixrealisOptions(d.url), nixrealis.WithPollInterval(20*time.Millisecond))
	require.NoError(t, err)
	defer c.Close()
	task := job.NewTask("who", job.NewProcess("main", `echo "$(id -u) $(id -un) $USER"; sleep 1000`)).
		WithResources(job.NewResources(0.1, 16*job.MiB, 16*job.MiB))
	_, err = c.Create(t.Context(), job.New(job.Key{Cluster: "devcluster", Role: "www-data", Environment: "devel", Name: "who"}, task))
	require.NoError(t, err)

	got := waitMainStdout(t, dir, func(got string) bool { return got != "" }, "the task printed nothing")
	assert.Regexp(t, `^[1-9][0-9]* www-data www-data\n$`, got, "the task runs as its role's user, not root")
}
