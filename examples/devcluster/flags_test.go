//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/internal/testenv"
)

// serve runs the devcluster in this process on a free port with args
// until the test ends, and returns a gorealis client for it and its URL.
func serve(t *testing.T, args ...string) (realis.Realis, string) {
	t.Helper()
	d := runInProcess(t, append([]string{"-port", "0"}, args...)...)
	url := d.url
	r, err := realis.NewRealisClient(append(nixrealisOptions(url), realis.SetLogger(realis.NoopLogger{}))...)
	require.NoError(t, err)
	t.Cleanup(r.Close)
	_, err = r.SetQuota("vagrant", thrift.Float64Ptr(16), thrift.Int64Ptr(16384), thrift.Int64Ptr(65536))
	require.NoError(t, err)
	return r, url
}

// flagJob is a small service job of role vagrant.
func flagJob(env, name string, instances int32) realis.Job {
	return realis.NewJob().Environment(env).Role("vagrant").Name(name).
		ExecutorName(aurora.AURORA_EXECUTOR_NAME).ExecutorData("{}").
		CPU(0.25).RAM(16).Disk(16).IsService(true).InstanceCount(instances)
}

func writeFile(t *testing.T, name, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	return p
}

// TestTierConfigFlag: with -tier_config the scheduler has the file's
// tiers, as Aurora's: getTierConfigs reports them, a job naming one is
// accepted (production as the tier says), a job naming none gets the
// file's default, and a tier of Aurora's default file that the custom
// one lacks is refused with Aurora's message.
func TestTierConfigFlag(t *testing.T) {
	t.Parallel()
	custom := writeFile(t, "tiers.json", `{"default": "batch", "tiers": {
  "batch": {"preemptible": true, "revocable": false},
  "critical": {"preemptible": false, "revocable": false}}}`)
	type jobRow struct {
		tier, wantErr, wantTier string
		wantProd                bool
	}
	for _, tt := range []struct {
		name        string
		args        []string
		wantDefault string
		wantTiers   map[string]map[string]string
		jobs        []jobRow
	}{
		{name: "default", wantDefault: "preemptible",
			wantTiers: map[string]map[string]string{
				"preemptible": {"preemptible": "true", "revocable": "false"},
				"preferred":   {"preemptible": "false", "revocable": "false"},
				"revocable":   {"preemptible": "true", "revocable": "true"},
			},
			jobs: []jobRow{
				{tier: "preferred", wantTier: "preferred", wantProd: true},
				{tier: "", wantTier: "preemptible"},
				{tier: "critical", wantErr: "Invalid tier 'critical' in TaskConfig."},
			}},
		{name: "custom", args: []string{"-tier_config", custom}, wantDefault: "batch",
			wantTiers: map[string]map[string]string{
				"batch":    {"preemptible": "true", "revocable": "false"},
				"critical": {"preemptible": "false", "revocable": "false"},
			},
			jobs: []jobRow{
				{tier: "critical", wantTier: "critical", wantProd: true},
				{tier: "", wantTier: "batch"},
				{tier: "preferred", wantErr: "Invalid tier 'preferred' in TaskConfig."},
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, url := serve(t, tt.args...)
			tr, err := thrift.NewTHttpClient(url + "/api")
			require.NoError(t, err)
			defer tr.Close()
			resp, err := aurora.NewReadOnlySchedulerClientFactory(tr, thrift.NewTJSONProtocolFactory()).GetTierConfigs(t.Context())
			require.NoError(t, err)
			got := resp.Result_.GetTierConfigResult_
			assert.Equal(t, tt.wantDefault, got.DefaultTierName)
			tiers := map[string]map[string]string{}
			for _, tier := range got.Tiers {
				tiers[tier.Name] = tier.Settings
			}
			assert.Equal(t, tt.wantTiers, tiers)

			for i, j := range tt.jobs {
				name := fmt.Sprintf("tiered%d", i)
				job := flagJob("devel", name, 1)
				if j.tier != "" {
					job.Tier(j.tier)
				}
				_, err := r.CreateJob(job)
				if j.wantErr != "" {
					require.Error(t, err, "tier %q", j.tier)
					assert.Contains(t, err.Error(), j.wantErr)
					continue
				}
				require.NoError(t, err, "tier %q", j.tier)
				cfg, err := r.FetchTaskConfig(aurora.InstanceKey{JobKey: job.JobKey(), InstanceId: 0})
				require.NoError(t, err)
				assert.Equal(t, j.wantTier, cfg.GetTier())
				assert.Equal(t, j.wantProd, cfg.GetProduction(), "tier %q", j.tier)
			}
		})
	}
}

// TestAllowedJobEnvironmentsFlag: -allowed_job_environments replaces
// Aurora's default pattern: an environment the default refuses is
// accepted when the custom pattern matches it, and one the custom pattern
// does not match is refused with Aurora's message naming the pattern.
func TestAllowedJobEnvironmentsFlag(t *testing.T) {
	t.Parallel()
	custom := []string{"-allowed_job_environments", `^(qa|prod)$`}
	for _, tt := range []struct {
		name    string
		args    []string
		env     string
		wantErr string
	}{
		{name: "default refuses qa", env: "qa", wantErr: `Job environment qa doesn't match: ^(prod|devel|test|staging\d*)$`},
		{name: "default accepts devel", env: "devel"},
		{name: "custom accepts qa", args: custom, env: "qa"},
		{name: "custom refuses devel", args: custom, env: "devel", wantErr: `Job environment devel doesn't match: ^(qa|prod)$`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, _ := serve(t, tt.args...)
			_, err := r.CreateJob(flagJob(tt.env, "envjob", 1))
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			_, jobs, err := r.GetJobs("vagrant")
			require.NoError(t, err)
			require.Len(t, jobs.Configs, 1)
			assert.Equal(t, tt.env, jobs.Configs[0].Key.Environment)
		})
	}
}

// TestMinRequiredInstancesForSLACheckFlag: Aurora's SlaManager skips the
// SLA of a production job with fewer active instances than
// -min_required_instances_for_sla_check, so slaDrainHosts drains its
// tasks at once, and holds a job at the minimum to the policy (here the
// request's default: 2 of 3 instances RUNNING for 30 min, which a job
// just started cannot meet). Every task of the one agent is decided in
// the same maintenance poll, so once the small job's tasks drained, the
// big job's were held. The flag also bounds which jobs may have a Count
// policy of their own, with Aurora's message.
func TestMinRequiredInstancesForSLACheckFlag(t *testing.T) {
	t.Parallel()
	agents := writeFile(t, "agents.json", `[{"host": "agent-one", "resources": "cpus:8;mem:8192;disk:20000"}]`)
	policy := &aurora.SlaPolicy{CountSlaPolicy: &aurora.CountSlaPolicy{Count: 2, DurationSecs: 1800}}
	for _, tt := range []struct {
		name      string
		args      []string
		bigHeld   bool
		policyErr string // creating a 3-instance job with its own Count policy
	}{
		{name: "default 20", bigHeld: false, policyErr: "Job with fewer than 20 instances cannot have Percentage/Count SlaPolicy."},
		{name: "3", args: []string{"-min_required_instances_for_sla_check", "3"}, bigHeld: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, _ := serve(t, append([]string{"-agents", agents}, tt.args...)...)
			_, err := r.CreateJob(flagJob("prod", "own", 3).Tier("preferred").SlaPolicy(policy))
			if tt.policyErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.policyErr)
			} else {
				require.NoError(t, err)
				_, err = r.KillJob(flagJob("prod", "own", 3).JobKey())
				require.NoError(t, err)
			}
			running := func(name string) []string {
				tasks, err := r.GetTaskStatus(&aurora.TaskQuery{Role: thrift.StringPtr("vagrant"), JobName: thrift.StringPtr(name),
					Statuses: []aurora.ScheduleStatus{aurora.ScheduleStatus_RUNNING}})
				require.NoError(t, err)
				var ids []string
				for _, tk := range tasks {
					ids = append(ids, tk.AssignedTask.TaskId)
				}
				return ids
			}
			jobs := map[string]int32{"small": 2, "big": 3}
			started := map[string][]string{}
			for name, n := range jobs {
				_, err := r.CreateJob(flagJob("prod", name, n).Tier("preferred"))
				require.NoError(t, err)
				testenv.Eventually(t, time.Minute, 5*time.Millisecond, func() (bool, error) {
					started[name] = running(name)
					return len(started[name]) == int(n), nil
				}, "%s runs", name)
			}

			_, err = r.SLADrainHosts(policy, 3600, "agent-one")
			require.NoError(t, err)
			stillRunning := func(ids []string) int {
				tasks, err := r.GetTaskStatus(&aurora.TaskQuery{TaskIds: ids})
				require.NoError(t, err)
				n := 0
				for _, tk := range tasks {
					if tk.Status == aurora.ScheduleStatus_RUNNING {
						n++
					}
				}
				return n
			}
			testenv.Eventually(t, time.Minute, 5*time.Millisecond, func() (bool, error) {
				return stillRunning(started["small"]) == 0, nil
			}, "the small job (below the minimum) is drained")
			if !tt.bigHeld {
				testenv.Eventually(t, time.Minute, 5*time.Millisecond, func() (bool, error) {
					_, hs, err := r.MaintenanceStatus("agent-one")
					return err == nil && len(hs.Statuses) == 1 && hs.Statuses[0].Mode == aurora.MaintenanceMode_DRAINED, err
				}, "every task drained, the host is DRAINED")
				assert.Zero(t, stillRunning(started["big"]))
				return
			}
			assert.Equal(t, 3, stillRunning(started["big"]), "the big job (at the minimum) is held by the SLA")
			_, hs, err := r.MaintenanceStatus("agent-one")
			require.NoError(t, err)
			require.Len(t, hs.Statuses, 1)
			assert.Equal(t, aurora.MaintenanceMode_DRAINING, hs.Statuses[0].Mode)
		})
	}
}
