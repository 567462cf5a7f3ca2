package nixrealis

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/paypal/gorealis/gen-go/apache/aurora"

	"github.com/nixrealis/nixrealis/job"
)

// thriftKey returns a fresh Thrift job key.
func thriftKey(k job.Key) *aurora.JobKey {
	return &aurora.JobKey{Role: k.Role, Environment: k.Environment, Name: k.Name}
}

func keyString(k job.Key) string { return k.Role + "/" + k.Environment + "/" + k.Name }

// jobExists reports whether the scheduler knows the job (as a service, ad-hoc
// or cron job).
func (c *Client) jobExists(ctx context.Context, op string, k job.Key) (bool, error) {
	cfg, err := c.jobConfig(ctx, op, k)
	return cfg != nil, err
}

// jobConfig returns the scheduler's configuration of the job, nil if it
// does not know the job.
func (c *Client) jobConfig(ctx context.Context, op string, k job.Key) (*aurora.JobConfiguration, error) {
	key := keyString(k)
	c.logger.Debug("nixrealis: scheduler call", "op", op, "job", key, "call", "getJobs")
	type jobsResult struct {
		resp *aurora.Response
		res  *aurora.GetJobsResult_
	}
	r, err := call(ctx, c, func() (jobsResult, error) {
		resp, res, err := c.r.GetJobs(k.Role)
		return jobsResult{resp, res}, err
	})
	if ctx.Err() != nil {
		return nil, ctxErr(op, key, ctx)
	}
	if err := c.translate(op, key, r.resp, err); err != nil {
		return nil, err
	}
	if r.res == nil {
		return nil, nil
	}
	for _, cfg := range r.res.Configs {
		if cfg.Key != nil && cfg.Key.Role == k.Role && cfg.Key.Environment == k.Environment && cfg.Key.Name == k.Name {
			return cfg, nil
		}
	}
	return nil, nil
}

// tasks lists the job's tasks in the given states (all states when nil).
func (c *Client) tasks(ctx context.Context, op string, k job.Key, states []aurora.ScheduleStatus, withConfigs bool) ([]*aurora.ScheduledTask, error) {
	key := keyString(k)
	q := &aurora.TaskQuery{JobKeys: []*aurora.JobKey{thriftKey(k)}, Statuses: states}
	what := "getTasksWithoutConfigs"
	if withConfigs {
		what = "getTasksStatus"
	}
	c.logger.Debug("nixrealis: scheduler call", "op", op, "job", key, "call", what)
	ts, err := call(ctx, c, func() ([]*aurora.ScheduledTask, error) {
		if withConfigs {
			return c.r.GetTaskStatus(q)
		}
		return c.r.GetTasksWithoutConfigs(q)
	})
	if ctx.Err() != nil {
		return nil, ctxErr(op, key, ctx)
	}
	if err != nil {
		return nil, c.translate(op, key, nil, err)
	}
	return ts, nil
}

// Kill kills the job, or only the given instances, and (unless NoWait is
// given) waits until they have no active task left (all KILLED, or
// otherwise terminal); killing a
// whole cron job also deschedules it. Killing a job that has no active
// task succeeds, as Aurora's killTasks does. With an
// active update it fails with ErrUpdateInProgress, naming the update, unless
// AbortActiveUpdate is given: then it aborts the update first.
func (c *Client) Kill(ctx context.Context, k job.Key, instances []int32, opts ...KillOption) error {
	o := killOpts(opts)
	key := keyString(k)
	active, err := c.activeUpdates(ctx, "kill", k)
	if err != nil {
		return err
	}
	for _, u := range active {
		if !o.abortUpdate {
			return opErr("kill", key, ErrUpdateInProgress, fmt.Sprintf("update %s is %s: abort it first (AbortActiveUpdate)", u.Key.ID, u.State.Status), nil)
		}
		if err := c.Abort(ctx, UpdateKey{Job: k, ID: u.Key.ID}, Message("aborted to kill the job")); err != nil {
			return err
		}
	}
	c.report(Progress{Op: "kill", Key: key, Stage: StageSubmit, Message: "killing"})
	var want map[int32]bool
	if len(instances) == 0 {
		// A cron job would start again at its next run: deschedule it.
		cfg, cerr := c.jobConfig(ctx, "kill", k)
		if cerr != nil {
			return cerr
		}
		if cfg != nil && cfg.CronSchedule != nil {
			if _, err := c.respCall(ctx, "kill", key, "descheduleCronJob", func() (*aurora.Response, error) { return c.r.DescheduleCronJob(thriftKey(k)) }); err != nil {
				return err
			}
			c.report(Progress{Op: "kill", Key: key, Stage: StageSubmit, Message: "cron job descheduled"})
		}
		_, err = c.respCall(ctx, "kill", key, "killTasks", func() (*aurora.Response, error) { return c.r.KillJob(thriftKey(k)) })
	} else {
		want = make(map[int32]bool)
		var ids []int32
		for _, i := range instances {
			if !want[i] { // a Thrift set: duplicates fail on write
				want[i] = true
				ids = append(ids, i)
			}
		}
		_, err = c.respCall(ctx, "kill", key, "killTasks", func() (*aurora.Response, error) { return c.r.KillInstances(thriftKey(k), ids...) })
	}
	if err != nil {
		return err
	}
	if o.noWait {
		return nil
	}
	if err := c.waitGone(ctx, "kill", k, want); err != nil {
		return err
	}
	c.report(Progress{Op: "kill", Key: key, Stage: StageDone, Message: "killed"})
	return nil
}

// Restart restarts the job's active instances (or the given ones) and,
// unless NoWait is given, waits until each runs again as a new task (or,
// for an ad-hoc job, ran to its end), failing with ErrTaskFailed when one
// fails instead, as Create's wait does.
func (c *Client) Restart(ctx context.Context, k job.Key, instances []int32, opts ...RestartOption) error {
	o := restartOpts(opts)
	wait := !o.noWait
	key := keyString(k)
	// Every task, terminal ones too: the wait ignores all that exist now
	// but the active tasks of instances not restarted. Their configuration
	// says whether the job is a service.
	all, err := c.tasks(ctx, "restart", k, nil, wait)
	if err != nil {
		return err
	}
	var ts []*aurora.ScheduledTask
	live := make(map[int32]bool)
	for _, t := range all {
		if t.AssignedTask != nil && activeState(t.Status) {
			ts = append(ts, t)
			live[t.AssignedTask.InstanceId] = true
		}
	}
	if len(live) == 0 {
		return opErr("restart", key, ErrNotFound, "the job has no active instances", nil)
	}
	ids := instances
	if len(ids) == 0 {
		for i := range live {
			ids = append(ids, i)
		}
	} else {
		seen := make(map[int32]bool)
		ids = nil
		for _, i := range instances {
			if !live[i] {
				return opErr("restart", key, ErrNotFound, fmt.Sprintf("instance %d is not active", i), nil)
			}
			if !seen[i] {
				seen[i] = true
				ids = append(ids, i)
			}
		}
	}
	restarted := make(map[int32]bool)
	for _, i := range ids {
		restarted[i] = true
	}
	w := waitFor{ignore: taskIDs(all), finished: true}
	for i := range live {
		w.instances = append(w.instances, i)
	}
	for _, t := range ts {
		if !restarted[t.AssignedTask.InstanceId] {
			delete(w.ignore, t.AssignedTask.TaskId)
		}
		if cfg := t.AssignedTask.Task; cfg != nil && cfg.IsService {
			w.finished = false
		}
	}
	c.report(Progress{Op: "restart", Key: key, Stage: StageSubmit, Message: fmt.Sprintf("restarting %d instances", len(ids))})
	if _, err := c.respCall(ctx, "restart", key, "restartShards", func() (*aurora.Response, error) { return c.r.RestartInstances(thriftKey(k), ids...) }); err != nil {
		return err
	}
	if wait {
		if err := c.waitInstances(ctx, "restart", k, w); err != nil {
			return err
		}
	}
	c.report(Progress{Op: "restart", Key: key, Stage: StageDone, Message: "restarted"})
	return nil
}

// Task is one task of a job as Status reports it.
type Task struct {
	Instance int32
	TaskID   string
	Status   aurora.ScheduleStatus
	Host     string
	// Ports maps named ports to the ports assigned on Host.
	Ports map[string]int32
	// FailureCount counts the instance's earlier failures.
	FailureCount int32
	// Message is the latest event's message, if any.
	Message string
	// Since is the time of the latest event.
	Since time.Time
	// PendingReason says why a PENDING task is not scheduled yet.
	PendingReason string
}

// JobStatus is what Status reports.
type JobStatus struct {
	Key job.Key
	// Tasks are all tasks the scheduler keeps for the job, by instance.
	Tasks []Task
	// ByState groups the tasks by their state.
	ByState map[aurora.ScheduleStatus][]Task
	// ActiveUpdate is the job's active update, if any.
	ActiveUpdate *UpdateKey
}

// Status lists the job's tasks by state, with the pending reasons of
// PENDING ones and the active update, if any. A job unknown to the
// scheduler has no tasks (no error).
func (c *Client) Status(ctx context.Context, k job.Key) (*JobStatus, error) {
	ts, err := c.tasks(ctx, "status", k, nil, false)
	if err != nil {
		return nil, err
	}
	st := &JobStatus{Key: k, ByState: make(map[aurora.ScheduleStatus][]Task)}
	pending := false
	for _, t := range ts {
		task := Task{Status: t.Status, FailureCount: t.FailureCount}
		if a := t.AssignedTask; a != nil {
			task.Instance, task.TaskID, task.Host, task.Ports = a.InstanceId, a.TaskId, a.SlaveHost, a.AssignedPorts
		}
		if n := len(t.TaskEvents); n > 0 {
			ev := t.TaskEvents[n-1]
			task.Since = time.UnixMilli(ev.Timestamp)
			if ev.Message != nil {
				task.Message = *ev.Message
			}
		}
		if t.Status == aurora.ScheduleStatus_PENDING {
			pending = true
		}
		st.Tasks = append(st.Tasks, task)
	}
	if pending {
		q := &aurora.TaskQuery{JobKeys: []*aurora.JobKey{thriftKey(k)}}
		reasons, err := call(ctx, c, func() ([]*aurora.PendingReason, error) { return c.r.GetPendingReason(q) })
		if ctx.Err() != nil {
			return nil, ctxErr("status", keyString(k), ctx)
		}
		if err != nil {
			return nil, c.translate("status", keyString(k), nil, err)
		}
		byID := make(map[string]string, len(reasons))
		for _, r := range reasons {
			byID[r.TaskId] = r.Reason
		}
		for i := range st.Tasks {
			st.Tasks[i].PendingReason = byID[st.Tasks[i].TaskID]
		}
	}
	sortTasks(st.Tasks)
	for _, t := range st.Tasks {
		st.ByState[t.Status] = append(st.ByState[t.Status], t)
	}
	active, err := c.activeUpdates(ctx, "status", k)
	if err != nil {
		return nil, err
	}
	if len(active) > 0 {
		st.ActiveUpdate = &UpdateKey{Job: k, ID: active[0].Key.ID}
	}
	return st, nil
}

// sortTasks orders tasks by instance, then by time.
func sortTasks(ts []Task) {
	slices.SortStableFunc(ts, func(a, b Task) int {
		if c := cmp.Compare(a.Instance, b.Instance); c != 0 {
			return c
		}
		return a.Since.Compare(b.Since)
	})
}
