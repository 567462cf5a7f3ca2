package nixrealis

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/paypal/gorealis/gen-go/apache/aurora"

	"github.com/nixrealis/nixrealis/job"
)

// waitFor says what a wait for instances waits for.
type waitFor struct {
	// instances are the instances waited for.
	instances []int32
	// ignore holds the ids of tasks that existed before the operation
	// (a killed job's terminal tasks, the tasks a restart replaces): their
	// states say nothing about it.
	ignore map[string]bool
	// finished makes FINISHED end an instance's wait as RUNNING does (an
	// ad-hoc job's tasks may end before they are seen running; a
	// service's FINISHED task is replaced).
	finished bool
}

// taskIDs returns the ids of ts, for waitFor.ignore.
func taskIDs(ts []*aurora.ScheduledTask) map[string]bool {
	ids := make(map[string]bool, len(ts))
	for _, t := range ts {
		if t.AssignedTask != nil {
			ids[t.AssignedTask.TaskId] = true
		}
	}
	return ids
}

// instanceRange returns 0..n-1.
func instanceRange(n int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(i)
	}
	return out
}

// waitState is what one look at the job's tasks says about a wait.
type waitState struct {
	// done counts the instances that are RUNNING (or FINISHED, when that
	// counts).
	done int
	// failure, when not empty, says which instance failed and why: a task
	// of the operation FAILED or was LOST, or an instance was killed and
	// has no task left.
	failure string
}

// check looks at the job's tasks (every state) for w.
func (w waitFor) check(ts []*aurora.ScheduledTask) waitState {
	want := make(map[int32]bool, len(w.instances))
	for _, i := range w.instances {
		want[i] = true
	}
	done := map[int32]bool{}
	active := map[int32]bool{}
	killed := map[int32]*aurora.ScheduledTask{}
	var failed []*aurora.ScheduledTask
	for _, t := range ts {
		a := t.AssignedTask
		if a == nil || w.ignore[a.TaskId] || !want[a.InstanceId] {
			continue
		}
		switch t.Status {
		case aurora.ScheduleStatus_RUNNING:
			done[a.InstanceId] = true
		case aurora.ScheduleStatus_FINISHED:
			if w.finished {
				done[a.InstanceId] = true
			}
		case aurora.ScheduleStatus_FAILED, aurora.ScheduleStatus_LOST:
			failed = append(failed, t)
		case aurora.ScheduleStatus_KILLED:
			killed[a.InstanceId] = t
		}
		if activeState(t.Status) {
			active[a.InstanceId] = true
		}
	}
	// An instance killed with no task left (no replacement) will not run.
	for i, t := range killed {
		if !done[i] && !active[i] {
			failed = append(failed, t)
		}
	}
	st := waitState{done: len(done)}
	if len(failed) > 0 {
		sort.Slice(failed, func(i, j int) bool {
			a, b := failed[i].AssignedTask, failed[j].AssignedTask
			if a.InstanceId != b.InstanceId {
				return a.InstanceId < b.InstanceId
			}
			return a.TaskId < b.TaskId
		})
		st.failure = taskFailure(failed[0])
	}
	return st
}

// taskFailure says which task ended how, with its last status message
// (the executor's, naming the failed process and its cause).
func taskFailure(t *aurora.ScheduledTask) string {
	msg := "no status message"
	if n := len(t.TaskEvents); n > 0 && t.TaskEvents[n-1].GetMessage() != "" {
		msg = t.TaskEvents[n-1].GetMessage()
	}
	return fmt.Sprintf("instance %d (task %s) %s: %s", t.AssignedTask.InstanceId, t.AssignedTask.TaskId, t.Status, msg)
}

func activeState(s aurora.ScheduleStatus) bool {
	for _, a := range aurora.ACTIVE_STATES {
		if a == s {
			return true
		}
	}
	return false
}

// waitInstances polls the job's tasks until every instance of w is RUNNING
// (or FINISHED, when w.finished), or one of them failed: then the error is
// ErrTaskFailed with the task's last status message.
func (c *Client) waitInstances(ctx context.Context, op string, k job.Key, w waitFor) error {
	key := keyString(k)
	n := len(w.instances)
	what := "RUNNING"
	if w.finished {
		what = "RUNNING or FINISHED"
	}
	last := -1
	for {
		ts, err := c.tasks(ctx, op, k, nil, false)
		if err != nil {
			return err
		}
		st := w.check(ts)
		if st.failure != "" {
			return opErr(op, key, ErrTaskFailed, st.failure, nil)
		}
		if st.done != last {
			last = st.done
			c.report(Progress{Op: op, Key: key, Stage: StageWait, Message: fmt.Sprintf("%d of %d instances %s", st.done, n, what), Done: st.done, Total: n})
		}
		if st.done == n {
			return nil
		}
		if err := sleep(ctx, c.poll); err != nil {
			return ctxErr(op, key, ctx)
		}
	}
}

// failedTask returns what taskFailure says of the first task of the
// operation (not in ignore) that FAILED or was LOST, "" if none did.
func (c *Client) failedTask(ctx context.Context, op string, k job.Key, ignore map[string]bool) string {
	ts, err := c.tasks(ctx, op, k, []aurora.ScheduleStatus{aurora.ScheduleStatus_FAILED, aurora.ScheduleStatus_LOST}, false)
	if err != nil {
		return ""
	}
	var all []int32
	for _, t := range ts {
		if t.AssignedTask != nil {
			all = append(all, t.AssignedTask.InstanceId)
		}
	}
	return waitFor{instances: all, ignore: ignore}.check(ts).failure
}

// waitGone polls until none of the given instances (all when nil) has an
// active task.
func (c *Client) waitGone(ctx context.Context, op string, k job.Key, instances map[int32]bool) error {
	key := keyString(k)
	for {
		ts, err := c.tasks(ctx, op, k, aurora.ACTIVE_STATES, false)
		if err != nil {
			return err
		}
		left := 0
		for _, t := range ts {
			if instances == nil || (t.AssignedTask != nil && instances[t.AssignedTask.InstanceId]) {
				left++
			}
		}
		if left == 0 {
			return nil
		}
		c.report(Progress{Op: op, Key: key, Stage: StageWait, Message: fmt.Sprintf("%d tasks still active", left), Done: 0, Total: left})
		if err := sleep(ctx, c.poll); err != nil {
			return ctxErr(op, key, ctx)
		}
	}
}

// withTaskFailure adds to err, the error of a creating update that did not
// roll forward, which task of the operation failed and why, when one did;
// errors.Is then finds both ErrUpdateFailed and ErrTaskFailed.
func (c *Client) withTaskFailure(ctx context.Context, k job.Key, ignore map[string]bool, err error) error {
	var oe *OpError
	if !errors.As(err, &oe) || oe.Kind != ErrUpdateFailed {
		return err
	}
	if f := c.failedTask(ctx, oe.Op, k, ignore); f != "" {
		e := *oe
		e.Message += "; " + f
		e.Err = opErr(oe.Op, oe.Key, ErrTaskFailed, f, nil)
		return &e
	}
	return err
}
