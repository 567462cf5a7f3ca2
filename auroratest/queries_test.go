package auroratest_test

import (
	"context"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"
	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/paypal/gorealis/response"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// adminClient is gorealis' generated Thrift client, for the calls the
// Realis interface does not expose (getJobSummary, getConfigSummary,
// populateJobConfig, getJobUpdateDiff, getTierConfigs).
func adminClient(t *testing.T, url string) *aurora.AuroraAdminClient {
	t.Helper()
	tr, err := thrift.NewTHttpClient(url + "/api")
	require.NoError(t, err)
	t.Cleanup(func() { tr.Close() })
	return aurora.NewAuroraAdminClientFactory(tr, thrift.NewTJSONProtocolFactory())
}

func TestQueries(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	r := client(t, srv)
	c := adminClient(t, srv.URL)
	ctx := context.Background()
	startService(t, r, "q", 3)

	resp, err := c.GetConfigSummary(ctx, key("q"))
	require.NoError(t, err)
	groups := resp.Result_.ConfigSummaryResult_.Summary.Groups
	require.Len(t, groups, 1)
	assert.Equal(t, []*aurora.Range{{First: 0, Last: 2}}, groups[0].Instances)
	resp, err = c.GetConfigSummary(ctx, key("missing"))
	require.NoError(t, err)
	assert.Equal(t, aurora.ResponseCode_OK, resp.ResponseCode)
	assert.Empty(t, resp.Result_.ConfigSummaryResult_.Summary.Groups)

	// Shrink to 2 instances with more RAM: one removed, two updated.
	req := &aurora.JobUpdateRequest{TaskConfig: newJob("q", 2).RAM(128).TaskConfig(), InstanceCount: 2, Settings: realis.NewUpdateSettings()}
	resp, err = c.GetJobUpdateDiff(ctx, req)
	require.NoError(t, err)
	diff := resp.Result_.GetJobUpdateDiffResult_
	assert.Empty(t, diff.Add)
	require.Len(t, diff.Remove, 1)
	assert.Equal(t, []*aurora.Range{{First: 2, Last: 2}}, diff.Remove[0].Instances)
	require.Len(t, diff.Update, 1)
	assert.Equal(t, []*aurora.Range{{First: 0, Last: 1}}, diff.Update[0].Instances)

	u := realis.NewDefaultUpdateJob(newJob("q", 2).RAM(128).TaskConfig()).InstanceCount(2).WatchTime(10)
	uresp, err := r.StartJobUpdate(u, "")
	require.NoError(t, err)
	waitUpdate(t, r, response.JobUpdateKey(uresp), aurora.JobUpdateStatus_ROLLED_FORWARD)
	ids, err := r.GetInstanceIds(key("q"), aurora.ACTIVE_STATES)
	require.NoError(t, err)
	assert.ElementsMatch(t, []int32{0, 1}, ids)

	resp, err = c.GetJobSummary(ctx, role)
	require.NoError(t, err)
	sums := resp.Result_.JobSummaryResult_.Summaries
	require.Len(t, sums, 1)
	assert.Equal(t, int32(2), sums[0].Stats.ActiveTaskCount)
	assert.Equal(t, int32(3), sums[0].Stats.FinishedTaskCount, "killed tasks count as finished, as in Aurora's JobStats")
	assert.Equal(t, int32(0), sums[0].Stats.FailedTaskCount)

	resp, err = c.PopulateJobConfig(ctx, newJob("p", 1).JobConfig())
	require.NoError(t, err)
	assert.Equal(t, "preemptible", resp.Result_.PopulateJobResult_.TaskConfig.GetTier())
	resp, err = c.PopulateJobConfig(ctx, newJob("p", 1).CPU(0).JobConfig())
	require.NoError(t, err)
	assert.Equal(t, aurora.ResponseCode_INVALID_REQUEST, resp.ResponseCode)
	assert.Equal(t, "Invalid configuration: num_cpus must be greater than 0.0", resp.Details[0].Message)

	resp, err = c.GetTierConfigs(ctx)
	require.NoError(t, err)
	tiers := resp.Result_.GetTierConfigResult_
	assert.Equal(t, "preemptible", tiers.DefaultTierName)
	require.Len(t, tiers.Tiers, 3)
	byName := map[string]map[string]string{}
	for _, tier := range tiers.Tiers {
		byName[tier.Name] = tier.Settings
	}
	assert.Equal(t, map[string]map[string]string{
		"preemptible": {"preemptible": "true", "revocable": "false"},
		"preferred":   {"preemptible": "false", "revocable": "false"},
		"revocable":   {"preemptible": "true", "revocable": "true"},
	}, byName)

	reasons, err := r.GetPendingReason(&aurora.TaskQuery{JobKeys: []*aurora.JobKey{key("q")}})
	require.NoError(t, err)
	assert.Empty(t, reasons, "nothing is pending")
	_, err = r.GetPendingReason(&aurora.TaskQuery{Statuses: []aurora.ScheduleStatus{aurora.ScheduleStatus_RUNNING}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Statuses is not supported in ")
}

// TestJobsByRole: getJobs and getJobSummary filter by role as Aurora's
// ReadOnlySchedulerImpl does, whose task store ignores a blank role
// (empty or whitespace) and whose cron template filter compares roles:
// for a blank role every job with tasks is listed (a cron job's run as a
// synthesised job, without its schedule) and no cron template; for a
// role, its jobs and its cron templates, which replace the synthesised
// configuration of their job. gorealis always sends the role, so
// GetJobs("") is a blank role, not Aurora's null (every template).
func TestJobsByRole(t *testing.T) {
	t.Parallel()
	srv := cronServer(t, "")
	defer srv.Close()
	r := client(t, srv)
	_, err := r.CreateJob(newJob("web", 2))
	require.NoError(t, err)
	_, err = r.CreateJob(newJob("svc", 1).Role("other"))
	require.NoError(t, err)
	_, err = r.ScheduleCronJob(cronJob("nightly", 1, "0 0 * * *", aurora.CronCollisionPolicy_KILL_EXISTING))
	require.NoError(t, err)
	_, err = r.ScheduleCronJob(cronJob("ran", 1, "0 0 * * *", aurora.CronCollisionPolicy_KILL_EXISTING))
	require.NoError(t, err)
	_, err = r.StartCronJob(key("ran"))
	require.NoError(t, err)
	waitInstances(t, r, key("ran"), 1, aurora.ScheduleStatus_RUNNING)

	// job names with a cron schedule marked "(cron)".
	names := func(cfgs []*aurora.JobConfiguration) []string {
		var out []string
		for _, c := range cfgs {
			n := c.Key.Role + "/" + c.Key.Name
			if c.CronSchedule != nil {
				n += " (cron)"
			}
			out = append(out, n)
		}
		return out
	}
	blank := []string{"vagrant/web", "other/svc", "vagrant/ran"}
	for _, tc := range []struct {
		role string
		want []string
	}{
		{"", blank},
		{" \t", blank},
		{role, []string{"vagrant/web", "vagrant/nightly (cron)", "vagrant/ran (cron)"}},
		{"other", []string{"other/svc"}},
		{"nobody", nil},
	} {
		t.Run(tc.role, func(t *testing.T) {
			_, jobs, err := r.GetJobs(tc.role)
			require.NoError(t, err)
			assert.ElementsMatch(t, tc.want, names(jobs.Configs), "getJobs")

			resp, err := adminClient(t, srv.URL).GetJobSummary(context.Background(), tc.role)
			require.NoError(t, err)
			var cfgs []*aurora.JobConfiguration
			for _, s := range resp.Result_.JobSummaryResult_.Summaries {
				cfgs = append(cfgs, s.Job)
				assert.Equal(t, s.Job.CronSchedule != nil, s.NextCronRunMs != nil, "nextCronRunMs of %s", s.Job.Key.Name)
			}
			assert.ElementsMatch(t, tc.want, names(cfgs), "getJobSummary")

			tasks, err := r.GetTaskStatus(&aurora.TaskQuery{Role: ptr(tc.role)})
			require.NoError(t, err)
			want := 0
			for _, n := range tc.want {
				want += map[string]int{"vagrant/web": 2, "other/svc": 1, "vagrant/ran": 1, "vagrant/ran (cron)": 1}[n]
			}
			assert.Len(t, tasks, want, "getTasksStatus")
		})
	}
}
