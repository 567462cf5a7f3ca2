package auroratest

import (
	"context"
	"fmt"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// ScheduleCronJob implements scheduleCronJob: the template is stored and
// fires on its schedule, on the scheduler's clock (see fireCron).
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
	if err := st.checkCronUpdate(job); err != nil {
		return a.fromErr(err)
	}
	// CronJobManagerImpl.updateJob when the template exists (or for
	// replaceCronTemplate), createJob after checkJobExists otherwise;
	// both parse the schedule (SanitizedCronJob) and refuse RUN_OVERLAP.
	exists := st.cron[key] != nil
	if !mustExist && !exists && len(st.activeTasks(key)) > 0 {
		return a.invalid(fmt.Sprintf("Job %s already exists", key))
	}
	if _, ok := parseCron(*job.CronSchedule); !ok {
		return a.invalid("Invalid cron schedule: " + *job.CronSchedule)
	}
	if job.CronCollisionPolicy == aurora.CronCollisionPolicy_RUN_OVERLAP {
		return a.invalid("The RUN_OVERLAP collision policy has been removed (AURORA-38).")
	}
	if mustExist && !exists {
		return a.invalid(fmt.Sprintf("No cron job found for %s.", key))
	}
	st.cron[key] = job
	st.scheduleCron(key)
	a.s.wake()
	return a.ok(nil)
}

// DescheduleCronJob implements descheduleCronJob: as Aurora's, it is
// refused with JOB_UPDATING_ERROR while the key has an active update
// (jobUpdateController.assertNotUpdating comes first, so even a key
// without a cron template gets it), and leaves a run already started,
// and a KILL_EXISTING run waiting for its kill, alone.
func (a *api) DescheduleCronJob(ctx context.Context, job *aurora.JobKey) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	key, bad := a.keyToChange(st, job)
	if bad != nil {
		return bad, nil
	}
	if st.cron[key] == nil {
		return a.ok(nil, fmt.Sprintf("Job %s is not scheduled with cron", key)), nil
	}
	delete(st.cron, key)
	st.scheduleCron(key)
	return a.ok(nil), nil
}

// StartCronJob implements startCronJob: the cron job runs now, as when
// its schedule fires (triggerCron), with its collision policy.
func (a *api) StartCronJob(ctx context.Context, job *aurora.JobKey) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	key, bad := a.key(job)
	if bad != nil {
		return bad, nil
	}
	if st.cron[key] == nil {
		return a.invalid(fmt.Sprintf("Failed to start cron job - No cron job found for %s.", key)), nil
	}
	st.triggerCron(key)
	a.s.wake()
	return a.ok(nil), nil
}
