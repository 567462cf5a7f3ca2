package nixrealis

import (
	"context"
	"errors"

	"github.com/paypal/gorealis/gen-go/apache/aurora"

	"github.com/nixrealis/nixrealis/job"
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
			if errors.As(err, &oe) && oe.Code != nil && errors.Is(err, ErrAlreadyExists) {
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
