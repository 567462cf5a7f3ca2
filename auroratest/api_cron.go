package auroratest

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

var cronField = regexp.MustCompile(`^[0-9A-Za-z*?/,#-]+$`)

// validCron accepts five-field cron schedules as Aurora's cron parser
// does, checking the field count and characters only.
func validCron(s string) bool {
	f := strings.Fields(s)
	if len(f) != 5 {
		return false
	}
	for _, x := range f {
		if !cronField.MatchString(x) {
			return false
		}
	}
	return true
}

// ScheduleCronJob implements scheduleCronJob. auroratest stores the
// template but never fires it on its schedule: startCronJob runs it.
func (a *api) ScheduleCronJob(ctx context.Context, description *aurora.JobConfiguration) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	return a.cronUpsert(description, false), nil
}

// ReplaceCronTemplate implements replaceCronTemplate.
func (a *api) ReplaceCronTemplate(ctx context.Context, config *aurora.JobConfiguration) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	return a.cronUpsert(config, true), nil
}

func (a *api) cronUpsert(description *aurora.JobConfiguration, mustExist bool) *aurora.Response {
	st := a.lock()
	defer a.unlock()
	job, err := a.s.validateJob(description)
	if err != nil {
		return a.fromErr(err)
	}
	key := keyOf(job.Key)
	if job.CronSchedule == nil || *job.CronSchedule == "" {
		return a.invalid(fmt.Sprintf("Job %s has no cron schedule", key))
	}
	if st.activeUpdate(key) != nil {
		return a.updating()
	}
	if mustExist && st.cron[key] == nil {
		return a.invalid(fmt.Sprintf("No cron template found for the given key: %s", key))
	}
	if st.cron[key] == nil && len(st.activeTasks(key)) > 0 {
		return a.invalid(fmt.Sprintf("Job %s already exists", key))
	}
	if job.CronCollisionPolicy == aurora.CronCollisionPolicy_RUN_OVERLAP {
		return a.invalid("The RUN_OVERLAP collision policy has been removed (AURORA-38).")
	}
	if !validCron(*job.CronSchedule) {
		return a.invalid("Invalid cron schedule: " + *job.CronSchedule)
	}
	if err := st.checkCronUpdate(job); err != nil {
		return a.fromErr(err)
	}
	st.cron[key] = job
	return a.ok(nil)
}

// DescheduleCronJob implements descheduleCronJob.
func (a *api) DescheduleCronJob(ctx context.Context, job *aurora.JobKey) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if !validKey(job) {
		return a.badKey(), nil
	}
	key := keyOf(job)
	if st.cron[key] == nil {
		return a.ok(nil, fmt.Sprintf("Job %s is not scheduled with cron", key)), nil
	}
	delete(st.cron, key)
	return a.ok(nil), nil
}

// StartCronJob implements startCronJob: the job's instances are started
// now. With KILL_EXISTING active tasks are killed first; with CANCEL_NEW
// the run is skipped while tasks are active.
func (a *api) StartCronJob(ctx context.Context, job *aurora.JobKey) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if !validKey(job) {
		return a.badKey(), nil
	}
	key := keyOf(job)
	tmpl := st.cron[key]
	if tmpl == nil {
		return a.invalid(fmt.Sprintf("Failed to start cron job - No cron job found for %s.", key)), nil
	}
	active := st.activeTasks(key)
	if len(active) > 0 {
		if tmpl.CronCollisionPolicy == aurora.CronCollisionPolicy_CANCEL_NEW {
			return a.ok(nil), nil
		}
		for _, t := range active {
			st.changeState(t, aurora.ScheduleStatus_KILLING, "Killed by cron collision policy KILL_EXISTING.")
		}
	}
	cfg := newConfig(tmpl.TaskConfig)
	for i := range tmpl.InstanceCount {
		st.insertTask(key, i, cfg, nil, 0)
	}
	a.s.wake()
	return a.ok(nil), nil
}
