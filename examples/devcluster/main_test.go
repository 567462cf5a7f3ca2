//go:build linux

package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/nixrealis/nixrealis/internal/testenv"
	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunServesUntilCancelled(t *testing.T) {
	d := runInProcess(t, "-port", "0", "-user", "aurora", "-password", "secret")
	r, err := realis.NewRealisClient(realis.SchedulerUrl(d.url),
		realis.BasicAuth("aurora", "secret"), realis.SetLogger(realis.NoopLogger{}))
	require.NoError(t, err)
	defer r.Close()
	_, jobs, err := r.GetJobs("")
	require.NoError(t, err)
	assert.Empty(t, jobs.Configs)

	require.NoError(t, d.stop())
	assert.Contains(t, d.out.String(), "stopping")
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-executor", "docker"}, `-executor "docker": must be nop or thermos`},
		{[]string{"-user", "aurora"}, "-user and -password: give both"},
		{[]string{"-port", "70000"}, "-port 70000: must be between 0 and 65535"},
		{[]string{"-timescale", "0"}, "-timescale 0: must be positive"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-run_as", "nobody"}, "add -executor thermos"},
		{[]string{"-executor", "thermos", "-run_as", "no-such-user-here"}, `-run_as "no-such-user-here": no such user on this machine`},
		{[]string{"-executor", "thermos", "-run_as", "root"}, `-run_as "root" is root (uid 0): tasks never run as root`},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut testenv.Buffer
			err := run(t.Context(), tt.args, &out, &errOut)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assertUsage(t, err)
		})
	}
}

// assertUsage checks that err is what main exits 2 with (or the flag
// package's help, which also exits 2), said on one line.
func assertUsage(t *testing.T, err error) {
	t.Helper()
	assert.True(t, errors.As(err, new(usageError)) || errors.Is(err, flag.ErrHelp), "a usage error (exit 2): %v", err)
	assert.NotContains(t, err.Error(), "\n", "one line")
}

func TestRunWithAgentsFileShowsPendingReasons(t *testing.T) {
	dir := t.TempDir()
	agents := filepath.Join(dir, "agents.json")
	require.NoError(t, os.WriteFile(agents, []byte(`[
  {"host": "localhost", "attributes": "zone:west;host:agent-one", "resources": "cpus:1;mem:1024;disk:10000;ports:[31000-31009]"},
  {"host": "localhost", "attributes": "zone:east;host:agent-two", "resources": "cpus:1;mem:1024;disk:10000;ports:[31010-31019]"}
]`), 0o644))
	d := runInProcess(t, "-port", "0", "-agents", agents, "-latency", "1ms", "-min_required_instances_for_sla_check", "5")
	r, err := realis.NewRealisClient(realis.SchedulerUrl(d.url), realis.SetLogger(realis.NoopLogger{}))
	require.NoError(t, err)
	defer r.Close()
	job := realis.NewJob().Environment("devel").Role("vagrant").Name("big").
		ExecutorName(aurora.AURORA_EXECUTOR_NAME).ExecutorData("{}").
		CPU(2).RAM(64).Disk(100).InstanceCount(1)
	_, err = r.CreateJob(job)
	require.NoError(t, err)
	var reasons []*aurora.PendingReason
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() (bool, error) {
		reasons, err = r.GetPendingReason(&aurora.TaskQuery{Role: thrift.StringPtr("vagrant")})
		return len(reasons) == 1 && reasons[0].Reason != "", err
	}, "want one pending task with a reason, have %v", &reasons)
	require.Len(t, reasons, 1)
	assert.Equal(t, "Insufficient: CPU", reasons[0].Reason)
	require.NoError(t, d.stop())
}

func TestRunRejectsBadClusterFiles(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`[{"host": "a", "resources": "cpus:many"}]`), 0o644))
	tiers := filepath.Join(dir, "tiers.json")
	require.NoError(t, os.WriteFile(tiers, []byte(`{"default": "nope", "tiers": {"preferred": {"preemptible": false, "revocable": false}}}`), 0o644))
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-agents", bad}, `cpus: "many" is not a non-negative number`},
		{[]string{"-agents", filepath.Join(dir, "missing.json")}, "-agents: open"},
		{[]string{"-tier_config", tiers}, `default tier "nope" is not among the tiers`},
		{[]string{"-allowed_job_environments", "("}, "-allowed_job_environments"},
		{[]string{"-min_required_instances_for_sla_check", "0"}, "must be positive"},
		{[]string{"-latency", "-1s"}, "-latency -1s: must not be negative"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut testenv.Buffer
			err := run(t.Context(), append([]string{"-port", "0"}, tt.args...), &out, &errOut)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assertUsage(t, err)
		})
	}
}
