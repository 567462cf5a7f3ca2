package nixrealis

import (
	"context"
	"fmt"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/paypal/gorealis/response"

	"github.com/nixrealis/nixrealis/job"
)

// noOpUpdateMessage is what the scheduler answers to an update that would
// change nothing (OK, with no result).
const noOpUpdateMessage = "Job is unchanged by proposed update."

// UpdateKey names one job update.
type UpdateKey struct {
	Job job.Key
	ID  string
}

// String returns "role/environment/name/id".
func (u UpdateKey) String() string { return keyString(u.Job) + "/" + u.ID }

func (u UpdateKey) thrift() *aurora.JobUpdateKey {
	return &aurora.JobUpdateKey{Job: thriftKey(u.Job), ID: u.ID}
}

// UpdateResult is how an update ended (or stands, with NoWait).
type UpdateResult struct {
	// Key is the update; nil for a no-op.
	Key *UpdateKey
	// Status is the update's last known status.
	Status aurora.JobUpdateStatus
	// NoOp is true when the scheduler found nothing to change ("Job is
	// unchanged by proposed update."); that is a success.
	NoOp bool
	// Message is the scheduler's message for the update's last state.
	Message string
}

// Update prepares and builds the job, then starts an update with the job's
// update_config (and instance count) and, unless NoWait is given, follows
// it to its end by polling the update's status (never gorealis'
// Monitor.JobUpdate, which panics on a timeout in v1.25.0). It succeeds when
// the update rolled forward, or was a no-op; an update that ended otherwise
// (rolled back, aborted, failed) gives ErrUpdateFailed with the result. A
// job that does not exist yet is created by the update (Aurora's
// startJobUpdate does that for services). A cron job is updated by
// replacing its template (scheduleCronJob), as Aurora requires. While the update is paused or
// waits for pulses, Update keeps waiting (Resume and Pulse from another
// goroutine move it on) until the context ends: give it a deadline.
// Message sets the message the scheduler records with the update.
func (c *Client) Update(ctx context.Context, j job.Job, opts ...UpdateOption) (*UpdateResult, error) {
	o := updateOpts(opts)
	spec, rj, settings, err := c.build(ctx, "update", j, true)
	if err != nil {
		return nil, err
	}
	k := spec.Key()
	if jc := rj.JobConfig(); jc.CronSchedule != nil {
		// Aurora updates cron jobs by replacing their template
		// (startJobUpdate refuses them), as `aurora cron schedule` does.
		key := keyString(k)
		if _, err := c.respCall(ctx, "update", key, "scheduleCronJob", func() (*aurora.Response, error) { return c.r.ScheduleCronJob(rj) }); err != nil {
			return nil, err
		}
		msg := "cron template replaced; the next run uses it"
		c.report(Progress{Op: "update", Key: key, Stage: StageDone, Message: msg})
		return &UpdateResult{Status: aurora.JobUpdateStatus_ROLLED_FORWARD, Message: msg}, nil
	}
	uk, err := c.startUpdate(ctx, "update", k, rj, settings, spec.Instances, o.message)
	if err != nil {
		return nil, err
	}
	if uk == nil {
		c.report(Progress{Op: "update", Key: keyString(k), Stage: StageDone, Message: noOpUpdateMessage})
		return &UpdateResult{NoOp: true, Status: aurora.JobUpdateStatus_ROLLED_FORWARD, Message: noOpUpdateMessage}, nil
	}
	if o.noWait {
		return &UpdateResult{Key: uk, Status: aurora.JobUpdateStatus_ROLLING_FORWARD}, nil
	}
	return c.follow(ctx, "update", *uk)
}

// startUpdate sends startJobUpdate; it returns nil (and no error) for a
// no-op. After a timeout or a retried request it adopts the update the
// scheduler started for it.
func (c *Client) startUpdate(ctx context.Context, op string, k job.Key, rj realis.Job, settings *aurora.JobUpdateSettings, instances int, msg string) (*UpdateKey, error) {
	key := keyString(k)
	// An update already active is refused by the scheduler anyway; knowing
	// there is none lets an update found after an unanswered request be
	// recognised as this one, without comparing clocks.
	before, err := c.activeUpdates(ctx, op, k)
	if err != nil {
		return nil, err
	}
	if len(before) > 0 {
		s := before[0]
		return nil, opErr(op, key, ErrUpdateInProgress, fmt.Sprintf("update %s is %s: wait for it, or abort it first", s.Key.ID, s.State.GetStatus()), nil)
	}
	u := realis.NewUpdateJob(rj.TaskConfig(), settings)
	u.InstanceCount(int32(instances))
	for attempt := 0; ; attempt++ {
		c.logger.Debug("nixrealis: scheduler call", "op", op, "job", key, "call", "startJobUpdate")
		resp, err := call(ctx, c, func() (*aurora.Response, error) { return c.r.StartJobUpdate(u, msg) })
		if ctx.Err() != nil {
			return nil, ctxErr(op, key, ctx)
		}
		if err == nil {
			uk := response.JobUpdateKey(resp)
			if uk == nil {
				return nil, opErr(op, key, ErrScheduler, "startJobUpdate returned no update key", nil)
			}
			return &UpdateKey{Job: k, ID: uk.ID}, nil
		}
		if resp != nil && resp.GetResponseCode() == aurora.ResponseCode_OK && resp.GetResult_() == nil {
			// gorealis reports "no result in response" for the scheduler's
			// successful no-op.
			c.logger.Info("nixrealis: update is a no-op", "job", key, "message", response.CombineMessage(resp))
			return nil, nil
		}
		timedOut := realis.IsTimeout(err) && resp == nil
		if !timedOut && !(resp != nil && isActiveUpdateConflict(resp)) {
			return nil, c.translate(op, key, resp, err)
		}
		// The request may have reached the scheduler: there was no active
		// update before it, so one active now is the one it started.
		active, aerr := c.activeUpdates(ctx, op, k)
		if aerr != nil {
			return nil, aerr
		}
		if len(active) > 0 {
			s := active[0]
			c.logger.Info("nixrealis: adopted the update started by an unanswered request", "job", key, "update", s.Key.ID)
			return &UpdateKey{Job: k, ID: s.Key.ID}, nil
		}
		if !timedOut || attempt >= 2 {
			return nil, c.translate(op, key, resp, err)
		}
	}
}

// isActiveUpdateConflict reports whether the scheduler refused an update
// because one is already active for the job (classification's
// ErrUpdateInProgress).
func isActiveUpdateConflict(resp *aurora.Response) bool {
	return classify(resp.GetResponseCode(), response.CombineMessage(resp)) == ErrUpdateInProgress
}

// activeUpdates lists the job's active updates.
func (c *Client) activeUpdates(ctx context.Context, op string, k job.Key) ([]*aurora.JobUpdateSummary, error) {
	return c.updateSummaries(ctx, op, k, &aurora.JobUpdateQuery{JobKey: thriftKey(k), UpdateStatuses: aurora.ACTIVE_JOB_UPDATE_STATES})
}

func (c *Client) updateSummaries(ctx context.Context, op string, k job.Key, q *aurora.JobUpdateQuery) ([]*aurora.JobUpdateSummary, error) {
	resp, err := c.respCall(ctx, op, keyString(k), "getJobUpdateSummaries", func() (*aurora.Response, error) { return c.r.GetJobUpdateSummaries(q) })
	if err != nil {
		return nil, err
	}
	var out []*aurora.JobUpdateSummary
	for _, s := range response.JobUpdateSummaries(resp) {
		if s != nil && s.Key != nil {
			out = append(out, s)
		}
	}
	return out, nil
}

// terminal reports whether an update status is final.
func terminal(s aurora.JobUpdateStatus) bool {
	switch s {
	case aurora.JobUpdateStatus_ROLLED_FORWARD, aurora.JobUpdateStatus_ROLLED_BACK,
		aurora.JobUpdateStatus_ABORTED, aurora.JobUpdateStatus_ERROR, aurora.JobUpdateStatus_FAILED:
		return true
	}
	return false
}

// follow polls the update's details (getJobUpdateDetails) until it
// reaches a terminal state, reporting its status and how many instances
// are done.
func (c *Client) follow(ctx context.Context, op string, uk UpdateKey) (*UpdateResult, error) {
	key := keyString(uk.Job)
	var last aurora.JobUpdateStatus = -1
	lastDone := -1
	for {
		d, err := c.updateDetails(ctx, op, uk)
		if err != nil {
			return nil, err
		}
		if d.Update == nil || d.Update.Summary == nil || d.Update.Summary.State == nil {
			return nil, opErr(op, key, ErrScheduler, "update "+uk.ID+" has no state", nil)
		}
		st := d.Update.Summary.State.Status
		done, total := updateProgress(d, st)
		if st != last || done != lastDone {
			last, lastDone = st, done
			c.report(Progress{Op: op, Key: key, Stage: StageUpdate, Done: done, Total: total,
				Message: fmt.Sprintf("update %s %s: %d of %d instances done", uk.ID, st, done, total)})
		}
		if terminal(st) {
			res := &UpdateResult{Key: &uk, Status: st}
			if n := len(d.UpdateEvents); n > 0 && d.UpdateEvents[n-1].Message != nil {
				res.Message = *d.UpdateEvents[n-1].Message
			}
			if st != aurora.JobUpdateStatus_ROLLED_FORWARD {
				msg := fmt.Sprintf("update %s ended %s", uk.ID, st)
				if res.Message != "" {
					msg += ": " + res.Message
				}
				return res, opErr(op, key, ErrUpdateFailed, msg, nil)
			}
			// A create that follows its update goes on waiting: its own
			// StageDone comes last.
			stage := StageDone
			if op == "create" {
				stage = StageUpdate
			}
			c.report(Progress{Op: op, Key: key, Stage: stage, Message: "update " + uk.ID + " rolled forward"})
			return res, nil
		}
		if err := sleep(ctx, c.poll); err != nil {
			return &UpdateResult{Key: &uk, Status: st}, ctxErr(op, key, ctx)
		}
	}
}

// updateDetails fetches one update's details.
func (c *Client) updateDetails(ctx context.Context, op string, uk UpdateKey) (*aurora.JobUpdateDetails, error) {
	key := keyString(uk.Job)
	resp, err := c.respCall(ctx, op, key, "getJobUpdateDetails", func() (*aurora.Response, error) {
		return c.r.JobUpdateDetails(aurora.JobUpdateQuery{Key: uk.thrift()})
	})
	if err != nil {
		return nil, err
	}
	d := response.JobUpdateDetails(resp)
	if len(d) == 0 || d[0] == nil {
		return nil, opErr(op, key, ErrNotFound, "update "+uk.ID+" is unknown to the scheduler", nil)
	}
	return d[0], nil
}

// updateProgress counts the instances an update has finished (updated, or
// rolled back while rolling back) against those it changes.
func updateProgress(d *aurora.JobUpdateDetails, st aurora.JobUpdateStatus) (done, total int) {
	if in := d.Update.Instructions; in != nil {
		seen := map[int32]bool{}
		if in.DesiredState != nil {
			for _, r := range in.DesiredState.Instances {
				for i := r.First; i <= r.Last; i++ {
					seen[i] = true
				}
			}
		}
		for _, s := range in.InitialState {
			for _, r := range s.Instances {
				for i := r.First; i <= r.Last; i++ {
					seen[i] = true
				}
			}
		}
		total = len(seen)
	}
	want := aurora.JobUpdateAction_INSTANCE_UPDATED
	switch st {
	case aurora.JobUpdateStatus_ROLLING_BACK, aurora.JobUpdateStatus_ROLL_BACK_PAUSED,
		aurora.JobUpdateStatus_ROLL_BACK_AWAITING_PULSE, aurora.JobUpdateStatus_ROLLED_BACK:
		want = aurora.JobUpdateAction_INSTANCE_ROLLED_BACK
	}
	finished := map[int32]bool{}
	for _, ev := range d.InstanceEvents {
		if ev.Action == want {
			finished[ev.InstanceId] = true
		}
	}
	return len(finished), total
}

// Follow follows an update started elsewhere (or with NoWait) to its end,
// as Update does.
func (c *Client) Follow(ctx context.Context, uk UpdateKey) (*UpdateResult, error) {
	return c.follow(ctx, "update", uk)
}

// Pause pauses an active update (Message records why).
func (c *Client) Pause(ctx context.Context, uk UpdateKey, opts ...ControlOption) error {
	message := controlOpts(opts).message
	_, err := c.respCall(ctx, "pause", keyString(uk.Job), "pauseJobUpdate", func() (*aurora.Response, error) { return c.r.PauseJobUpdate(uk.thrift(), message) })
	return err
}

// Resume resumes a paused update (Message records why).
func (c *Client) Resume(ctx context.Context, uk UpdateKey, opts ...ControlOption) error {
	message := controlOpts(opts).message
	_, err := c.respCall(ctx, "resume", keyString(uk.Job), "resumeJobUpdate", func() (*aurora.Response, error) { return c.r.ResumeJobUpdate(uk.thrift(), message) })
	return err
}

// Rollback rolls an active update back (Message records why).
func (c *Client) Rollback(ctx context.Context, uk UpdateKey, opts ...ControlOption) error {
	message := controlOpts(opts).message
	_, err := c.respCall(ctx, "rollback", keyString(uk.Job), "rollbackJobUpdate", func() (*aurora.Response, error) { return c.r.RollbackJobUpdate(*uk.thrift(), message) })
	return err
}

// Pulse sends a pulse to an update that waits for them
// (update_config.pulse_interval_secs).
func (c *Client) Pulse(ctx context.Context, uk UpdateKey) error {
	_, err := c.respCall(ctx, "pulse", keyString(uk.Job), "pulseJobUpdate", func() (*aurora.Response, error) { return c.r.PulseJobUpdate(uk.thrift()) })
	return err
}

// Abort aborts an active update. gorealis waits until the scheduler reports
// it ABORTED, polling every five seconds, so Abort takes at least that
// long. Message records why.
func (c *Client) Abort(ctx context.Context, uk UpdateKey, opts ...ControlOption) error {
	message := controlOpts(opts).message
	key := keyString(uk.Job)
	c.report(Progress{Op: "abort", Key: key, Stage: StageSubmit, Message: "aborting update " + uk.ID})
	_, err := c.respCall(ctx, "abort", key, "abortJobUpdate", func() (*aurora.Response, error) { return c.r.AbortJobUpdate(*uk.thrift(), message) })
	return err
}

// UpdateInfo returns the scheduler's details of an update: its settings,
// state, and instance and update events.
func (c *Client) UpdateInfo(ctx context.Context, uk UpdateKey) (*aurora.JobUpdateDetails, error) {
	return c.updateDetails(ctx, "info", uk)
}
