package nixrealis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"

	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/nix"
)

// Created describes a created job.
type Created struct {
	// Key is the job's key (the name defaulted from the task if unset).
	Key job.Key
	// Spec is what was built and sent.
	Spec job.Spec
	// Update is the update that created a service, nil otherwise.
	Update *UpdateKey
}

// thriftKey returns a fresh Thrift job key.
func thriftKey(k job.Key) *aurora.JobKey {
	return &aurora.JobKey{Role: k.Role, Environment: k.Environment, Name: k.Name}
}

func keyString(k job.Key) string { return k.Role + "/" + k.Environment + "/" + k.Name }

// build runs the Nix step (if any) and job.Build, and renders the result.
func (c *Client) build(ctx context.Context, op string, j job.Job, publish bool) (job.Spec, realis.Job, *aurora.JobUpdateSettings, error) {
	key := keyString(j.Key())
	// Validate before any Nix work: a job that cannot build is reported at
	// once, with every problem.
	spec, err := j.Build()
	if err != nil {
		return job.Spec{}, nil, nil, opErr(op, key, ErrInvalidJob, "", err)
	}
	// A custom executor runs no Thermos processes: nothing for Nix to do.
	if c.prep != nil && !j.IsCustomExecutor() {
		c.report(Progress{Op: op, Key: key, Stage: StagePrepare, Message: "preparing the Nix sandbox"})
		progress := func(ev nix.Event) {
			c.report(Progress{Op: op, Key: key, Stage: StagePrepare, Message: ev.Text, Nix: &ev})
		}
		pj, err := c.prep.Prepare(ctx, j, publish, progress)
		if err != nil {
			return job.Spec{}, nil, nil, nixErr(op, key, err)
		}
		if spec, err = pj.Build(); err != nil {
			return job.Spec{}, nil, nil, opErr(op, key, ErrInvalidJob, "", err)
		}
	}
	if c.tiers != nil {
		spec = spec.WithTiers(*c.tiers)
	}
	key = keyString(spec.Key())
	settings, err := UpdateSettings(spec.Update)
	if err != nil {
		return job.Spec{}, nil, nil, opErr(op, key, ErrInvalidJob, "", err)
	}
	rj, err := RenderJob(spec, c.owner)
	if err != nil {
		return job.Spec{}, nil, nil, opErr(op, key, ErrInvalidJob, "", err)
	}
	return spec, rj, settings, nil
}

// Create prepares the job's sandbox (evaluate, build, sign, push the
// closure), builds and renders the job, and submits it: ScheduleCronJob for
// a cron job; for a service, what gorealis' CreateService does (a
// startJobUpdate with the job's update_config, which creates the job);
// CreateJob otherwise.
//
// Then, unless NoWait is given, it waits for the job's instances. The wait
// ends at the first of:
//   - every instance RUNNING, or FINISHED for an ad-hoc job (an instance
//     that ran to its end succeeded): success;
//   - an instance FAILED or LOST (or killed and not replaced): an error
//     of kind ErrTaskFailed naming the instance and carrying its task's
//     last status message, which for the Thermos executor names the
//     failed process and, for init_sandbox, its one-line cause;
//   - the context's end: ErrTimeout.
//
// A service is followed through its creating update first: the update
// watches every instance for its watch_secs, so an instance that fails
// within them fails the update and the Create (ErrUpdateFailed and
// ErrTaskFailed, with the failed task's message). A cron job has nothing
// to wait for.
//
// Aurora reports a task RUNNING when the executor has started it (after
// its health checks passed, when the job has them), not when init_sandbox
// is done: without a health check, an ad-hoc job whose init_sandbox fails
// may be seen RUNNING, and the wait succeed, before it fails. Give the job
// a health check, or a service an update watch time, to have such
// failures reported by Create.
//
// Create returns a nil *Created with an error that happened before the job
// was submitted, and a non-nil one with an error of the wait: the job (and,
// for a service, its update, Created.Update) then exists on the scheduler;
// Kill it to undo the Create.
//
// Create is correct under gorealis' retries. It first checks that the job
// does not exist (ErrAlreadyExists otherwise). When a createJob whose first
// attempt went through unanswered is retried and answered "already
// exists", it confirms that the job the scheduler holds is this one and
// succeeds; when a retried startJobUpdate finds the update its first
// attempt started, it adopts that update (or, if it already finished,
// confirms the job). Either way exactly one job is created.
func (c *Client) Create(ctx context.Context, j job.Job, opts ...CreateOption) (*Created, error) {
	o := createOpts(opts)
	wait := !o.noWait
	spec, rj, settings, err := c.build(ctx, "create", j, true)
	if err != nil {
		return nil, err
	}
	k := spec.Key()
	key := keyString(k)
	out := &Created{Key: k, Spec: spec}

	exists, err := c.jobExists(ctx, "create", k)
	if err != nil {
		return nil, err
	}
	if exists {
		return nil, opErr("create", key, ErrAlreadyExists, "kill it first, or use Update to change it", nil)
	}
	// The tasks of an earlier job of this key (terminal ones the scheduler
	// still keeps) say nothing about this one.
	var before map[string]bool
	if wait {
		ts, err := c.tasks(ctx, "create", k, nil, false)
		if err != nil {
			return nil, err
		}
		before = taskIDs(ts)
	}

	jc := rj.JobConfig()
	c.report(Progress{Op: "create", Key: key, Stage: StageSubmit, Message: "submitting to the scheduler"})
	switch {
	case jc.CronSchedule != nil:
		if _, err := c.respCall(ctx, "create", key, "scheduleCronJob", func() (*aurora.Response, error) { return c.r.ScheduleCronJob(rj) }); err != nil {
			return nil, err
		}
		c.report(Progress{Op: "create", Key: key, Stage: StageDone, Message: "cron job scheduled: " + *jc.CronSchedule})
		return out, nil

	case jc.TaskConfig.IsService:
		uk, err := c.startUpdate(ctx, "create", k, rj, settings, spec.Instances, "")
		if err != nil {
			return nil, err
		}
		if uk == nil {
			// A no-op: gorealis retried a startJobUpdate whose first attempt
			// created the job and finished. The job did not exist before,
			// so it is ours if it holds our configuration.
			same, err := c.holdsConfig(ctx, k, jc.TaskConfig)
			if err != nil {
				return nil, err
			}
			if !same {
				return nil, opErr("create", key, ErrScheduler, "the scheduler reported no change, yet the job did not exist before and does not hold this configuration", nil)
			}
			c.logger.Info("nixrealis: startJobUpdate was retried after its first attempt created the job", "job", key)
		} else {
			out.Update = uk
			c.report(Progress{Op: "create", Key: key, Stage: StageSubmit, Message: "service created by update " + uk.ID})
			if wait {
				if _, err := c.follow(ctx, "create", *uk); err != nil {
					return out, c.withTaskFailure(ctx, k, before, err)
				}
			}
		}

	default:
		_, err := c.respCall(ctx, "create", key, "createJob", func() (*aurora.Response, error) { return c.r.CreateJob(rj) })
		if err != nil {
			var oe *OpError
			// gorealis retried a createJob whose first attempt reached the
			// scheduler (its own check after a timeout is inverted in
			// v1.25.0): the job did not exist before, so it is ours if the
			// scheduler holds our configuration.
			if errors.As(err, &oe) && oe.Code != nil && strings.Contains(oe.Message, "already exists") {
				same, cerr := c.holdsConfig(ctx, k, jc.TaskConfig)
				if cerr != nil {
					return nil, cerr
				}
				if !same {
					return nil, err
				}
				c.logger.Info("nixrealis: createJob was retried after its first attempt went through; the job is ours", "job", key)
			} else {
				return nil, err
			}
		}
		c.report(Progress{Op: "create", Key: key, Stage: StageSubmit, Message: "job created"})
	}
	if wait {
		w := waitFor{instances: instanceRange(spec.Instances), ignore: before, finished: !jc.TaskConfig.IsService}
		if err := c.waitInstances(ctx, "create", k, w); err != nil {
			return out, err
		}
	}
	c.report(Progress{Op: "create", Key: key, Stage: StageDone, Message: "created"})
	return out, nil
}

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

// holdsConfig reports whether the scheduler's active tasks of the job carry
// the given configuration (compared as Diff does).
func (c *Client) holdsConfig(ctx context.Context, k job.Key, want *aurora.TaskConfig) (bool, error) {
	tasks, err := c.tasks(ctx, "create", k, aurora.ACTIVE_STATES, true)
	if err != nil {
		return false, err
	}
	if len(tasks) == 0 {
		return false, nil
	}
	for _, t := range tasks {
		if t.AssignedTask == nil || t.AssignedTask.Task == nil {
			return false, nil
		}
		if d := diffTaskConfigs(want, t.AssignedTask.Task); d != "" {
			return false, nil
		}
	}
	return true, nil
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
