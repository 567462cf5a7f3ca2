package auroratest

import (
	"context"
	"fmt"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// CreateJob implements createJob.
func (a *api) CreateJob(ctx context.Context, description *aurora.JobConfiguration) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	job, err := a.s.validateJob(description)
	if err != nil {
		return a.fromErr(err), nil
	}
	key := keyOf(job.Key)
	if job.CronSchedule != nil {
		return a.invalid("Cron jobs may only be created/updated by calling scheduleCronJob."), nil
	}
	if st.activeUpdate(key) != nil {
		return a.updating(), nil
	}
	if len(st.activeTasks(key)) > 0 || st.cron[key] != nil {
		return a.invalid(fmt.Sprintf("Job %s already exists", key)), nil
	}
	if err := a.s.validateTaskLimits(key, int(job.InstanceCount)); err != nil {
		return a.fromErr(err), nil
	}
	if err := st.checkInstanceAddition(job.TaskConfig, int(job.InstanceCount)); err != nil {
		return a.fromErr(err), nil
	}
	cfg := newConfig(job.TaskConfig)
	for i := range job.InstanceCount {
		st.insertTask(keyOf(cfg.tc.Job), i, cfg, nil, 0)
	}
	a.s.wake()
	return a.ok(nil), nil
}

func killedBy(user, message string) string {
	return "Killed by " + user + ".\n" + message
}

// KillTasks implements killTasks.
func (a *api) KillTasks(ctx context.Context, job *aurora.JobKey, instances []int32, message string) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	key, bad := a.keyToChange(st, job)
	if bad != nil {
		return bad, nil
	}
	n := 0
	for _, t := range st.activeTasks(key) {
		if len(instances) > 0 && !contains(instances, t.instance) {
			continue
		}
		if st.changeState(t, aurora.ScheduleStatus_KILLING, killedBy(userOf(ctx), message)) {
			n++
		}
	}
	if n == 0 {
		return a.ok(nil, "No tasks to kill."), nil
	}
	return a.ok(nil), nil
}

// RestartShards implements restartShards.
func (a *api) RestartShards(ctx context.Context, job *aurora.JobKey, shardIds []int32) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if !validKey(job) {
		return a.badKey(), nil
	}
	if len(shardIds) == 0 {
		return a.respond(aurora.ResponseCode_ERROR, "Argument cannot be blank"), nil
	}
	key := keyOf(job)
	if st.activeUpdate(key) != nil {
		return a.updating(), nil
	}
	var match []*taskRec
	for _, t := range st.activeTasks(key) {
		if contains(shardIds, t.instance) {
			match = append(match, t)
		}
	}
	if len(match) != len(shardIds) {
		return a.invalid("Not all requested shards are active."), nil
	}
	for _, t := range match {
		if t.status == aurora.ScheduleStatus_PENDING || t.status == aurora.ScheduleStatus_THROTTLED {
			continue // nothing runs yet: Aurora ignores the illegal transition
		}
		st.changeState(t, aurora.ScheduleStatus_RESTARTING, "Restarted by "+userOf(ctx))
	}
	return a.ok(nil), nil
}

// AddInstances implements addInstances.
func (a *api) AddInstances(ctx context.Context, key *aurora.InstanceKey, count int32) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if key == nil || !validKey(key.JobKey) {
		return a.badKey(), nil
	}
	if count <= 0 {
		return a.invalid("Instance count must be positive."), nil
	}
	job := keyOf(key.JobKey)
	if st.cron[job] != nil {
		return a.invalid("Instances may not be added to cron jobs."), nil
	}
	if st.activeUpdate(job) != nil {
		return a.updating(), nil
	}
	active := st.activeTasks(job)
	var tmpl *taskRec
	maxID := int32(-1)
	for _, t := range active {
		if t.instance == key.InstanceId {
			tmpl = t
		}
		maxID = max(maxID, t.instance)
	}
	if tmpl == nil {
		return a.invalid("No active task found for a given instance ID."), nil
	}
	if err := a.s.validateTaskLimits(job, len(active)+int(count)); err != nil {
		return a.fromErr(err), nil
	}
	if err := st.checkInstanceAddition(tmpl.cfg.tc, int(count)); err != nil {
		return a.fromErr(err), nil
	}
	for i := range count {
		st.insertTask(job, maxID+1+i, tmpl.cfg, nil, 0)
	}
	a.s.wake()
	return a.ok(nil), nil
}

// backfillStrategy is ThriftBackfill.backfillUpdateStrategy.
