package auroratest

import (
	"fmt"
	"sort"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// Update states, after Aurora's JobUpdateStateMachine.
var (
	activeUpdateStates = map[aurora.JobUpdateStatus]bool{}
	updateTransitions  = map[aurora.JobUpdateStatus][]aurora.JobUpdateStatus{
		aurora.JobUpdateStatus_ROLLING_FORWARD: {aurora.JobUpdateStatus_ROLLING_BACK, aurora.JobUpdateStatus_ROLL_FORWARD_PAUSED,
			aurora.JobUpdateStatus_ROLL_FORWARD_AWAITING_PULSE, aurora.JobUpdateStatus_ROLLED_FORWARD, aurora.JobUpdateStatus_ABORTED,
			aurora.JobUpdateStatus_FAILED, aurora.JobUpdateStatus_ERROR},
		aurora.JobUpdateStatus_ROLLING_BACK: {aurora.JobUpdateStatus_ROLL_BACK_PAUSED, aurora.JobUpdateStatus_ROLL_BACK_AWAITING_PULSE,
			aurora.JobUpdateStatus_ROLLED_BACK, aurora.JobUpdateStatus_ABORTED, aurora.JobUpdateStatus_ERROR, aurora.JobUpdateStatus_FAILED},
		aurora.JobUpdateStatus_ROLL_FORWARD_PAUSED: {aurora.JobUpdateStatus_ROLLING_BACK, aurora.JobUpdateStatus_ROLLING_FORWARD,
			aurora.JobUpdateStatus_ROLL_FORWARD_AWAITING_PULSE, aurora.JobUpdateStatus_ABORTED, aurora.JobUpdateStatus_ERROR},
		aurora.JobUpdateStatus_ROLL_BACK_PAUSED: {aurora.JobUpdateStatus_ROLLING_BACK, aurora.JobUpdateStatus_ROLL_BACK_AWAITING_PULSE,
			aurora.JobUpdateStatus_ABORTED, aurora.JobUpdateStatus_ERROR},
		aurora.JobUpdateStatus_ROLL_FORWARD_AWAITING_PULSE: {aurora.JobUpdateStatus_ROLLING_BACK, aurora.JobUpdateStatus_ROLLING_FORWARD,
			aurora.JobUpdateStatus_ROLL_FORWARD_PAUSED, aurora.JobUpdateStatus_ABORTED, aurora.JobUpdateStatus_ERROR},
		aurora.JobUpdateStatus_ROLL_BACK_AWAITING_PULSE: {aurora.JobUpdateStatus_ROLLING_BACK, aurora.JobUpdateStatus_ROLL_BACK_PAUSED,
			aurora.JobUpdateStatus_ABORTED, aurora.JobUpdateStatus_ERROR},
	}
	pauseMap = map[aurora.JobUpdateStatus]aurora.JobUpdateStatus{
		aurora.JobUpdateStatus_ROLLING_FORWARD:             aurora.JobUpdateStatus_ROLL_FORWARD_PAUSED,
		aurora.JobUpdateStatus_ROLLING_BACK:                aurora.JobUpdateStatus_ROLL_BACK_PAUSED,
		aurora.JobUpdateStatus_ROLL_FORWARD_AWAITING_PULSE: aurora.JobUpdateStatus_ROLL_FORWARD_PAUSED,
		aurora.JobUpdateStatus_ROLL_BACK_AWAITING_PULSE:    aurora.JobUpdateStatus_ROLL_BACK_PAUSED,
		aurora.JobUpdateStatus_ROLL_FORWARD_PAUSED:         aurora.JobUpdateStatus_ROLL_FORWARD_PAUSED,
		aurora.JobUpdateStatus_ROLL_BACK_PAUSED:            aurora.JobUpdateStatus_ROLL_BACK_PAUSED,
	}
	resumeActiveMap = map[aurora.JobUpdateStatus]aurora.JobUpdateStatus{
		aurora.JobUpdateStatus_ROLL_FORWARD_PAUSED: aurora.JobUpdateStatus_ROLLING_FORWARD,
		aurora.JobUpdateStatus_ROLL_BACK_PAUSED:    aurora.JobUpdateStatus_ROLLING_BACK,
		aurora.JobUpdateStatus_ROLLING_FORWARD:     aurora.JobUpdateStatus_ROLLING_FORWARD,
		aurora.JobUpdateStatus_ROLLING_BACK:        aurora.JobUpdateStatus_ROLLING_BACK,
	}
	resumeBlockedMap = map[aurora.JobUpdateStatus]aurora.JobUpdateStatus{
		aurora.JobUpdateStatus_ROLL_FORWARD_PAUSED:         aurora.JobUpdateStatus_ROLL_FORWARD_AWAITING_PULSE,
		aurora.JobUpdateStatus_ROLL_BACK_PAUSED:            aurora.JobUpdateStatus_ROLL_BACK_AWAITING_PULSE,
		aurora.JobUpdateStatus_ROLL_FORWARD_AWAITING_PULSE: aurora.JobUpdateStatus_ROLL_FORWARD_AWAITING_PULSE,
		aurora.JobUpdateStatus_ROLL_BACK_AWAITING_PULSE:    aurora.JobUpdateStatus_ROLL_BACK_AWAITING_PULSE,
	}
)

func init() {
	for _, s := range aurora.ACTIVE_JOB_UPDATE_STATES {
		activeUpdateStates[s] = true
	}
}

func updateAllowed(from, to aurora.JobUpdateStatus) bool {
	for _, s := range updateTransitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Instance phases within one pass (forward or back) of an update.
const (
	instWaiting = iota // not yet started by the strategy
	instWorking
	instSucceeded
	instFailed
)

type instState struct {
	phase    int
	failures int32
}

// update is one job update and its progress.
type update struct {
	st       *state
	job      jobKey
	id       string
	user     string
	metadata []*aurora.Metadata
	settings *aurora.JobUpdateSettings
	instr    *aurora.JobUpdateInstructions
	events   []*aurora.JobUpdateEvent
	ievents  []*aurora.JobInstanceUpdateEvent
	status   aurora.JobUpdateStatus

	initial   map[int32]*config // instance -> config before the update
	desired   map[int32]*config // instance -> config the update rolls to
	instances []int32           // every instance the update touches, sorted

	forward   bool
	inst      map[int32]*instState
	group     int // current batch (Batch and VariableBatch strategies)
	failed    int // failed instances in this pass
	lastPulse time.Time
	recorded  map[int32]map[aurora.JobUpdateAction]bool
	// lastFailure describes the latest failed instance.
	lastFailure string
}

func (u *update) active() bool { return activeUpdateStates[u.status] }

func (u *update) key() *aurora.JobUpdateKey {
	return &aurora.JobUpdateKey{Job: u.job.thrift(), ID: u.id}
}

// javaKey is the Java toString of the update's key, as Aurora's messages
// print it.
func (u *update) javaKey() string {
	return fmt.Sprintf("IJobUpdateKey{job=%s, id=%s}", u.job.javaString(), u.id)
}

func (u *update) coordinated() bool {
	return u.settings.BlockIfNoPulsesAfterMs != nil && *u.settings.BlockIfNoPulsesAfterMs > 0
}

func (u *update) pulseExpired() bool {
	if !u.coordinated() {
		return false
	}
	timeout := time.Duration(*u.settings.BlockIfNoPulsesAfterMs) * time.Millisecond
	return u.lastPulse.IsZero() || u.st.s.now().Sub(u.lastPulse) >= timeout
}

// setStatus records an update event.
func (u *update) setStatus(to aurora.JobUpdateStatus, user, msg string) {
	ev := &aurora.JobUpdateEvent{Status: to, TimestampMs: u.st.s.now().UnixMilli()}
	if user != "" {
		ev.User = thrift.StringPtr(user)
	}
	if msg != "" {
		ev.Message = thrift.StringPtr(msg)
	}
	u.events = append(u.events, ev)
	u.st.s.logf("update %s of %s: %v -> %v %s", u.id, u.job, u.status, to, msg)
	wasForward := u.forward
	u.status = to
	switch to {
	case aurora.JobUpdateStatus_ROLLING_BACK, aurora.JobUpdateStatus_ROLL_BACK_PAUSED, aurora.JobUpdateStatus_ROLL_BACK_AWAITING_PULSE:
		u.forward = false
	}
	if wasForward && !u.forward {
		u.startPass()
	}
	u.st.s.wake()
}

// startPass resets the per-instance progress for a new direction.
func (u *update) startPass() {
	u.inst = map[int32]*instState{}
	for _, i := range u.instances {
		u.inst[i] = &instState{}
	}
	u.group = 0
	u.failed = 0
}

// order is the instances in the order the current pass visits them.
func (u *update) order() []int32 {
	out := append([]int32(nil), u.instances...)
	if !u.forward {
		sort.Slice(out, func(i, j int) bool { return out[i] > out[j] })
	}
	return out
}

func (u *update) target(i int32) *config {
	if u.forward {
		return u.desired[i]
	}
	return u.initial[i]
}

func (u *update) recordInstance(i int32, action aurora.JobUpdateAction, msg string) {
	m := u.recorded[i]
	if m == nil {
		m = map[aurora.JobUpdateAction]bool{}
		u.recorded[i] = m
	}
	if m[action] {
		return
	}
	m[action] = true
	ev := &aurora.JobInstanceUpdateEvent{InstanceId: i, TimestampMs: u.st.s.now().UnixMilli(), Action: action}
	if msg != "" {
		ev.Message = thrift.StringPtr(msg)
	}
	u.ievents = append(u.ievents, ev)
}

func (u *update) action(outcome int) aurora.JobUpdateAction {
	switch {
	case outcome == instWorking && u.forward:
		return aurora.JobUpdateAction_INSTANCE_UPDATING
	case outcome == instWorking:
		return aurora.JobUpdateAction_INSTANCE_ROLLING_BACK
	case outcome == instSucceeded && u.forward:
		return aurora.JobUpdateAction_INSTANCE_UPDATED
	case outcome == instSucceeded:
		return aurora.JobUpdateAction_INSTANCE_ROLLED_BACK
	case u.forward:
		return aurora.JobUpdateAction_INSTANCE_UPDATE_FAILED
	}
	return aurora.JobUpdateAction_INSTANCE_ROLLBACK_FAILED
}

// groups splits the pass's instances into the strategy's batches. For
// the queue strategy every instance is its own group of the queue size.
func (u *update) groups() [][]int32 {
	order := u.order()
	s := u.settings.UpdateStrategy
	var sizes []int32
	switch {
	case s.BatchStrategy != nil:
		sizes = []int32{s.BatchStrategy.GroupSize}
	case s.VarBatchStrategy != nil:
		sizes = s.VarBatchStrategy.GroupSizes
	default:
		return [][]int32{order}
	}
	var out [][]int32
	for k := 0; len(order) > 0; k++ {
		n := int(sizes[min(k, len(sizes)-1)])
		n = min(max(n, 1), len(order))
		out = append(out, order[:n])
		order = order[n:]
	}
	return out
}

func (u *update) autopause() bool {
	s := u.settings.UpdateStrategy
	return (s.BatchStrategy != nil && s.BatchStrategy.AutopauseAfterBatch) ||
		(s.VarBatchStrategy != nil && s.VarBatchStrategy.AutopauseAfterBatch)
}

// evaluate advances a ROLLING_FORWARD or ROLLING_BACK update, as Aurora's
// JobUpdateControllerImpl and InstanceUpdater do.
func (u *update) evaluate() {
	if u.status != aurora.JobUpdateStatus_ROLLING_FORWARD && u.status != aurora.JobUpdateStatus_ROLLING_BACK {
		return
	}
	if u.pulseExpired() {
		to := aurora.JobUpdateStatus_ROLL_FORWARD_AWAITING_PULSE
		if !u.forward {
			to = aurora.JobUpdateStatus_ROLL_BACK_AWAITING_PULSE
		}
		u.setStatus(to, "", "Pulses from external service have timed out.")
		return
	}
	if u.checkFailed() {
		return
	}
	groups := u.groups()
	queue := u.settings.UpdateStrategy.QueueStrategy != nil
	if queue {
		// At most GroupSize instances in flight.
		limit := int(u.settings.UpdateStrategy.QueueStrategy.GroupSize)
		inflight := 0
		for _, i := range groups[0] {
			if u.inst[i].phase == instWorking {
				inflight++
			}
		}
		for _, i := range groups[0] {
			if inflight >= limit {
				break
			}
			if u.inst[i].phase == instWaiting {
				u.inst[i].phase = instWorking
				inflight++
			}
		}
	} else if u.group < len(groups) {
		for _, i := range groups[u.group] {
			if u.inst[i].phase == instWaiting {
				u.inst[i].phase = instWorking
			}
		}
	}
	for _, i := range u.order() {
		if u.inst[i].phase == instWorking {
			u.evaluateInstance(i)
		}
	}
	if u.checkFailed() {
		return
	}
	done := func(g []int32) bool {
		for _, i := range g {
			if p := u.inst[i].phase; p != instSucceeded && p != instFailed {
				return false
			}
		}
		return true
	}
	if !queue {
		for u.group < len(groups) && done(groups[u.group]) {
			u.group++
			if u.group < len(groups) {
				if u.autopause() && u.forward {
					u.setStatus(aurora.JobUpdateStatus_ROLL_FORWARD_PAUSED, "", "Update auto paused")
					return
				}
				for _, i := range groups[u.group] {
					u.inst[i].phase = instWorking
				}
				for _, i := range groups[u.group] {
					u.evaluateInstance(i)
				}
			}
		}
	}
	if done(u.instances) {
		if u.forward {
			u.setStatus(aurora.JobUpdateStatus_ROLLED_FORWARD, "", "")
		} else {
			u.setStatus(aurora.JobUpdateStatus_ROLLED_BACK, "", "")
		}
	}
}

// checkFailed ends the pass when more instances failed than the update
// tolerates: a forward pass rolls back (if asked to) or fails, a rollback
// fails.
func (u *update) checkFailed() bool {
	if u.failed <= int(u.settings.MaxFailedInstances) {
		return false
	}
	msg := "Latest failure: " + u.lastFailure
	if u.forward && u.settings.RollbackOnFailure {
		u.setStatus(aurora.JobUpdateStatus_ROLLING_BACK, "", msg)
	} else {
		u.setStatus(aurora.JobUpdateStatus_FAILED, "", msg)
	}
	return true
}

// evaluateInstance is Aurora's InstanceUpdater.evaluate for one working
// instance.
func (u *update) evaluateInstance(i int32) {
	st := u.st
	want := u.target(i)
	t := st.activeTask(u.job, i)
	switch {
	case want != nil && t != nil:
		if t.cfg.key == want.key {
			if t.status == aurora.ScheduleStatus_RUNNING {
				minWait := time.Duration(u.settings.MinWaitInInstanceRunningMs) * time.Millisecond
				if st.s.now().UnixMilli()-t.lastEventTime() >= minWait.Milliseconds() {
					u.succeed(i)
				}
			}
			return
		}
		if t.status != aurora.ScheduleStatus_KILLING {
			u.working(i)
			st.changeState(t, aurora.ScheduleStatus_KILLING, "Killed for job update "+u.id)
		}
	case want != nil:
		u.working(i)
		st.insertTask(u.job, i, want, nil, 0)
	case t != nil:
		if t.status != aurora.ScheduleStatus_KILLING {
			u.working(i)
			st.changeState(t, aurora.ScheduleStatus_KILLING, "Killed for job update "+u.id)
		}
	default:
		u.succeed(i)
	}
}

func (u *update) working(i int32) {
	u.recordInstance(i, u.action(instWorking), "")
}

func (u *update) succeed(i int32) {
	u.inst[i].phase = instSucceeded
	if len(u.recorded[i]) > 0 {
		u.recordInstance(i, u.action(instSucceeded), "")
	}
}

// taskTerminated tells the job's active update that one of its tasks
// ended: a task running the configuration the update wants that ends
// (other than by the update's own kill) is a failure of its instance.
func (st *state) taskTerminated(t *taskRec) {
	for _, u := range st.updates {
		if u.job != t.job {
			continue
		}
		if u.status != aurora.JobUpdateStatus_ROLLING_FORWARD && u.status != aurora.JobUpdateStatus_ROLLING_BACK {
			continue
		}
		is := u.inst[t.instance]
		want := u.target(t.instance)
		if is == nil || is.phase != instWorking || want == nil || t.cfg.key != want.key || t.killing {
			continue
		}
		is.failures++
		if is.failures > u.settings.MaxPerInstanceFailures {
			is.phase = instFailed
			u.failed++
			u.lastFailure = fmt.Sprintf("instance %d %s", t.instance, t.reason)
			u.recordInstance(t.instance, u.action(instFailed), "")
		}
	}
}
