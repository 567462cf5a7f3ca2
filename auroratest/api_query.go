package auroratest

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

func (a *api) tasks(q *aurora.TaskQuery, withData bool) *aurora.Response {
	st := a.lock()
	defer a.unlock()
	out := []*aurora.ScheduledTask{}
	for _, t := range st.query(q) {
		out = append(out, t.scheduledTask(withData))
	}
	return a.ok(&aurora.Result_{ScheduleStatusResult_: &aurora.ScheduleStatusResult_{Tasks: out}})
}

// GetTasksStatus implements getTasksStatus.
func (a *api) GetTasksStatus(ctx context.Context, query *aurora.TaskQuery) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	return a.tasks(query, true), nil
}

// GetTasksWithoutConfigs implements getTasksWithoutConfigs: the whole
// TaskConfig is returned, with only the executor data stripped: the reply
// leaves executorConfig.data unset on the wire, as Aurora does (see
// unsetDataProtocol).
func (a *api) GetTasksWithoutConfigs(ctx context.Context, query *aurora.TaskQuery) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	return a.tasks(query, false), nil
}

// GetPendingReason implements getPendingReason. Through apiHandler the
// reasons are written by the reply's protocol (see reasonsProtocol).
func (a *api) GetPendingReason(ctx context.Context, query *aurora.TaskQuery) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if query == nil {
		query = &aurora.TaskQuery{}
	}
	if len(query.SlaveHosts) > 0 {
		return a.invalid("SlaveHosts are not supported in " + query.String()), nil
	}
	if len(query.Statuses) > 0 {
		return a.invalid("Statuses is not supported in " + query.String()), nil
	}
	q := clone(query)
	q.Statuses = []aurora.ScheduleStatus{aurora.ScheduleStatus_PENDING}
	reasons := []*aurora.PendingReason{}
	for _, t := range st.query(q) {
		reasons = append(reasons, &aurora.PendingReason{TaskId: t.id, Reason: st.pendingReason(t)})
	}
	return a.ok(&aurora.Result_{GetPendingReasonResult_: &aurora.GetPendingReasonResult_{Reasons: replyReasons(ctx, reasons)}}), nil
}

// jobConfigs synthesises Aurora's getJobs view: one configuration per job
// with active tasks (from its latest active task) of the role, every
// role's when it is blank (Aurora's task store ignores a blank role), and
// the role's cron templates, which replace the synthesised configuration
// of their job; allCron takes every cron template instead. As in Aurora,
// whose template filter compares roles, getJobs("") lists no templates,
// but a cron job's active run as a synthesised job.
func (st *state) jobConfigs(role string, allCron bool) []*aurora.JobConfiguration {
	withTemplate := func(k jobKey) bool { return st.cron[k] != nil && (allCron || k.role == role) }
	latest := map[jobKey]*taskRec{}
	count := map[jobKey]int32{}
	var order []jobKey
	for _, t := range st.tasks {
		if !activeStates[t.status] || !roleMatches(role, t.job.role) {
			continue
		}
		if _, ok := latest[t.job]; !ok {
			order = append(order, t.job)
		}
		latest[t.job] = t
		count[t.job]++
	}
	out := []*aurora.JobConfiguration{}
	for _, k := range order {
		if withTemplate(k) {
			continue
		}
		t := latest[k]
		out = append(out, &aurora.JobConfiguration{
			Key:           k.thrift(),
			Owner:         clone(t.cfg.tc.Owner),
			TaskConfig:    clone(t.cfg.tc),
			InstanceCount: count[k],
		})
	}
	var keys []jobKey
	for k := range st.cron {
		if withTemplate(k) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	for _, k := range keys {
		out = append(out, clone(st.cron[k]))
	}
	return out
}

// GetJobs implements getJobs.
func (a *api) GetJobs(ctx context.Context, ownerRole string) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	return a.ok(&aurora.Result_{GetJobsResult_: &aurora.GetJobsResult_{Configs: st.jobConfigs(ownerRole, false)}}), nil
}

// GetJobSummary implements getJobSummary: every job with tasks (terminal
// ones included) or a cron schedule, with Aurora's JobStats (KILLED counts
// as finished, LOST as failed).
func (a *api) GetJobSummary(ctx context.Context, role string) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	stats := map[jobKey]*aurora.JobStats{}
	latest := map[jobKey]*taskRec{}
	var order []jobKey
	for _, t := range st.tasks {
		if !roleMatches(role, t.job.role) {
			continue
		}
		s := stats[t.job]
		if s == nil {
			s = &aurora.JobStats{}
			stats[t.job] = s
			order = append(order, t.job)
		}
		latest[t.job] = t
		switch {
		case t.status == aurora.ScheduleStatus_PENDING || t.status == aurora.ScheduleStatus_THROTTLED:
			s.PendingTaskCount++
		case activeStates[t.status]:
			s.ActiveTaskCount++
		case t.status == aurora.ScheduleStatus_FINISHED || t.status == aurora.ScheduleStatus_KILLED:
			s.FinishedTaskCount++
		default:
			s.FailedTaskCount++
		}
	}
	sums := []*aurora.JobSummary{}
	for _, k := range order {
		job := st.cron[k]
		if job == nil || k.role != role {
			t := latest[k]
			job = &aurora.JobConfiguration{Key: k.thrift(), Owner: t.cfg.tc.Owner, TaskConfig: t.cfg.tc,
				InstanceCount: int32(len(st.activeTasks(k)))}
		}
		sums = append(sums, st.jobSummary(job, stats[k]))
	}
	for k, job := range st.cron {
		if stats[k] == nil && k.role == role {
			sums = append(sums, st.jobSummary(job, &aurora.JobStats{}))
		}
	}
	return a.ok(&aurora.Result_{JobSummaryResult_: &aurora.JobSummaryResult_{Summaries: sums}}), nil
}

// jobSummary is one JobSummary; a cron job's has nextCronRunMs, its
// schedule's next fire time after now (CronPredictorImpl).
func (st *state) jobSummary(job *aurora.JobConfiguration, stats *aurora.JobStats) *aurora.JobSummary {
	sum := &aurora.JobSummary{Job: clone(job), Stats: stats}
	if job.CronSchedule != nil {
		if next, ok := nextCron(*job.CronSchedule, st.s.now()); ok {
			ms := next.UnixMilli()
			sum.NextCronRunMs = &ms
		}
	}
	return sum
}

// GetConfigSummary implements getConfigSummary.
func (a *api) GetConfigSummary(ctx context.Context, job *aurora.JobKey) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if !validKey(job) {
		return a.respond(aurora.ResponseCode_ERROR, ""), nil
	}
	d := jobDiff{current: map[int32]*taskRec{}}
	var ids []int32
	for _, t := range st.activeTasks(keyOf(job)) {
		d.current[t.instance] = t
		ids = append(ids, t.instance)
	}
	return a.ok(&aurora.Result_{ConfigSummaryResult_: &aurora.ConfigSummaryResult_{Summary: &aurora.ConfigSummary{
		Key: clone(job), Groups: d.groupCurrent(ids),
	}}}), nil
}

// PopulateJobConfig implements populateJobConfig.
func (a *api) PopulateJobConfig(ctx context.Context, description *aurora.JobConfiguration) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	a.lock()
	defer a.unlock()
	job, err := a.s.validateJob(description)
	if err != nil {
		var inv invalid
		if errors.As(err, &inv) {
			return a.invalid("Invalid configuration: " + string(inv)), nil
		}
		return a.fromErr(err), nil
	}
	return a.ok(&aurora.Result_{PopulateJobResult_: &aurora.PopulateJobResult_{TaskConfig: job.TaskConfig}}), nil
}

// GetTierConfigs implements getTierConfigs.
func (a *api) GetTierConfigs(ctx context.Context) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	var names []string
	for n := range a.s.Tiers {
		names = append(names, n)
	}
	sort.Strings(names)
	tiers := []*aurora.TierConfig{}
	for _, n := range names {
		t := a.s.Tiers[n]
		tiers = append(tiers, &aurora.TierConfig{Name: n, Settings: map[string]string{
			"preemptible": fmt.Sprint(t.Preemptible),
			"revocable":   fmt.Sprint(t.Revocable),
		}})
	}
	return a.ok(&aurora.Result_{GetTierConfigResult_: &aurora.GetTierConfigResult_{DefaultTierName: a.s.DefaultTier, Tiers: tiers}}), nil
}

// GetRoleSummary implements getRoleSummary: per role, the number of jobs
// with tasks and of cron jobs.
func (a *api) GetRoleSummary(ctx context.Context) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	jobs := map[string]map[jobKey]bool{}
	crons := map[string]int32{}
	for k := range st.byJob {
		if jobs[k.role] == nil {
			jobs[k.role] = map[jobKey]bool{}
		}
		if st.cron[k] == nil {
			jobs[k.role][k] = true
		}
	}
	for k := range st.cron {
		if jobs[k.role] == nil {
			jobs[k.role] = map[jobKey]bool{}
		}
		crons[k.role]++
	}
	var roles []string
	for role := range jobs {
		roles = append(roles, role)
	}
	sort.Strings(roles)
	sums := []*aurora.RoleSummary{}
	for _, role := range roles {
		sums = append(sums, &aurora.RoleSummary{Role: role, JobCount: int32(len(jobs[role])), CronJobCount: crons[role]})
	}
	return a.ok(&aurora.Result_{RoleSummaryResult_: &aurora.RoleSummaryResult_{Summaries: sums}}), nil
}
