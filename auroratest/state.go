package auroratest

import (
	"crypto/rand"
	"fmt"
	"net"
	"regexp"
	"slices"
	"sort"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// jobKey is a comparable job key.
type jobKey struct{ role, env, name string }

func keyOf(k *aurora.JobKey) jobKey {
	if k == nil {
		return jobKey{}
	}
	return jobKey{k.Role, k.Environment, k.Name}
}

func (k jobKey) thrift() *aurora.JobKey {
	return &aurora.JobKey{Role: k.role, Environment: k.env, Name: k.name}
}

// String is Aurora's canonical form role/env/name.
func (k jobKey) String() string { return k.role + "/" + k.env + "/" + k.name }

// javaString is the Java toString of an IJobKey, as Aurora's messages
// print it.
func (k jobKey) javaString() string {
	return fmt.Sprintf("IJobKey{role=%s, environment=%s, name=%s}", k.role, k.env, k.name)
}

// config is a validated, populated TaskConfig, never mutated once stored,
// with its canonical (order-insensitive) serialisation as identity.
type config struct {
	tc  *aurora.TaskConfig
	key string
}

// taskRec is one task (one run of one instance).
type taskRec struct {
	id        string
	job       jobKey
	instance  int32
	cfg       *config
	status    aurora.ScheduleStatus
	events    []*aurora.TaskEvent
	host      string
	slaveID   string
	agent     *agent    // the agent it was assigned to
	req       resources // what it takes from the agent
	holds     bool      // req and ports are held on agent
	ports     map[string]int32
	failures  int32
	ancestor  string
	partition int32
	killing   bool      // went through KILLING (a permanent kill)
	throttle  time.Time // THROTTLED until then
	reason    string    // message of the latest event
	order     int64     // its place in state.tasks (taskIndex)
}

func (t *taskRec) lastEventTime() int64 {
	if len(t.events) == 0 {
		return 0
	}
	return t.events[len(t.events)-1].Timestamp
}

// state is everything the scheduler stores. It is guarded by the
// server's single lock (Server.mu): it is only touched with that lock
// held, so every transition is observed in order.
type state struct {
	s     *Server
	tasks []*taskRec
	byID  map[string]*taskRec
	byJob map[jobKey][]*taskRec // tasks of each job, in creation order
	cron  map[jobKey]*aurora.JobConfiguration
	// cronNext is each cron job's next fire time on the scheduler's
	// clock, cronRuns its KILL_EXISTING run waiting for the kill, and
	// cronWake the earliest fire time (zero: none).
	cronNext map[jobKey]time.Time
	cronRuns map[jobKey]*cronRun
	cronWake time.Time
	quotas   map[string]*aurora.ResourceAggregate
	updates  []*update
	ports    map[int32]bool

	agents   []*agent
	modes    map[string]aurora.MaintenanceMode // host -> mode
	fits     map[string][]veto                 // task group -> nearest fit
	reserved map[*agent]string                 // agent -> task group it is held for
	dirty    bool                              // placement has work
	rr       int
	idx      taskIndex
	maint    map[string]*maintRequest // host -> maintenance request
	asking   map[string]bool          // coordinator URLs being asked

	lastSearch, lastMaintPoll time.Time

	launches  []LaunchedTask
	kills     []string
	lastPrune time.Time

	store     *store   // nil: in memory only
	reconcile []string // tasks to reconcile with the executor
	restarted bool     // reconcile after a restart: unknown tasks are LOST
	implicit  bool     // an implicit reconciliation is asked for
}

func newState(s *Server, agents []*agent) *state {
	return &state{
		s:        s,
		byID:     map[string]*taskRec{},
		byJob:    map[jobKey][]*taskRec{},
		cron:     map[jobKey]*aurora.JobConfiguration{},
		cronNext: map[jobKey]time.Time{},
		cronRuns: map[jobKey]*cronRun{},
		quotas:   map[string]*aurora.ResourceAggregate{},
		ports:    map[int32]bool{},
		agents:   agents,
		modes:    map[string]aurora.MaintenanceMode{},
		fits:     map[string][]veto{},
		reserved: map[*agent]string{},
		maint:    map[string]*maintRequest{},
		asking:   map[string]bool{},
	}
}

var (
	activeStates   = setOf(aurora.ACTIVE_STATES)
	liveStates     = setOf(aurora.LIVE_STATES)
	terminalStates = setOf(aurora.TERMINAL_STATES)
	assignedStates = setOf(aurora.SLAVE_ASSIGNED_STATES)
)

func setOf(l []aurora.ScheduleStatus) map[aurora.ScheduleStatus]bool {
	m := map[aurora.ScheduleStatus]bool{}
	for _, s := range l {
		m[s] = true
	}
	return m
}

// transitions is Aurora's task state machine (TaskStateMachine.java).
var transitions = map[aurora.ScheduleStatus][]aurora.ScheduleStatus{
	aurora.ScheduleStatus_INIT:      {aurora.ScheduleStatus_PENDING, aurora.ScheduleStatus_THROTTLED},
	aurora.ScheduleStatus_THROTTLED: {aurora.ScheduleStatus_PENDING, aurora.ScheduleStatus_KILLING},
	aurora.ScheduleStatus_PENDING:   {aurora.ScheduleStatus_ASSIGNED, aurora.ScheduleStatus_KILLING},
	aurora.ScheduleStatus_ASSIGNED: {aurora.ScheduleStatus_STARTING, aurora.ScheduleStatus_RUNNING, aurora.ScheduleStatus_FINISHED,
		aurora.ScheduleStatus_FAILED, aurora.ScheduleStatus_RESTARTING, aurora.ScheduleStatus_DRAINING, aurora.ScheduleStatus_KILLED,
		aurora.ScheduleStatus_KILLING, aurora.ScheduleStatus_LOST, aurora.ScheduleStatus_PREEMPTING},
	aurora.ScheduleStatus_STARTING: {aurora.ScheduleStatus_RUNNING, aurora.ScheduleStatus_FINISHED, aurora.ScheduleStatus_FAILED,
		aurora.ScheduleStatus_RESTARTING, aurora.ScheduleStatus_DRAINING, aurora.ScheduleStatus_KILLING, aurora.ScheduleStatus_KILLED,
		aurora.ScheduleStatus_LOST, aurora.ScheduleStatus_PREEMPTING, aurora.ScheduleStatus_PARTITIONED},
	aurora.ScheduleStatus_RUNNING: {aurora.ScheduleStatus_FINISHED, aurora.ScheduleStatus_RESTARTING, aurora.ScheduleStatus_DRAINING,
		aurora.ScheduleStatus_FAILED, aurora.ScheduleStatus_KILLING, aurora.ScheduleStatus_KILLED, aurora.ScheduleStatus_LOST,
		aurora.ScheduleStatus_PREEMPTING, aurora.ScheduleStatus_PARTITIONED},
	aurora.ScheduleStatus_RESTARTING: {aurora.ScheduleStatus_FINISHED, aurora.ScheduleStatus_FAILED, aurora.ScheduleStatus_KILLING,
		aurora.ScheduleStatus_KILLED, aurora.ScheduleStatus_LOST, aurora.ScheduleStatus_PARTITIONED},
	aurora.ScheduleStatus_DRAINING: {aurora.ScheduleStatus_FINISHED, aurora.ScheduleStatus_FAILED, aurora.ScheduleStatus_KILLING,
		aurora.ScheduleStatus_KILLED, aurora.ScheduleStatus_LOST, aurora.ScheduleStatus_PARTITIONED},
	aurora.ScheduleStatus_PREEMPTING: {aurora.ScheduleStatus_FINISHED, aurora.ScheduleStatus_FAILED, aurora.ScheduleStatus_KILLING,
		aurora.ScheduleStatus_KILLED, aurora.ScheduleStatus_LOST, aurora.ScheduleStatus_PARTITIONED},
	aurora.ScheduleStatus_KILLING: {aurora.ScheduleStatus_FINISHED, aurora.ScheduleStatus_FAILED, aurora.ScheduleStatus_KILLED,
		aurora.ScheduleStatus_LOST, aurora.ScheduleStatus_PARTITIONED},
	aurora.ScheduleStatus_PARTITIONED: {aurora.ScheduleStatus_LOST, aurora.ScheduleStatus_FAILED, aurora.ScheduleStatus_FINISHED,
		aurora.ScheduleStatus_RUNNING, aurora.ScheduleStatus_ASSIGNED, aurora.ScheduleStatus_STARTING, aurora.ScheduleStatus_RESTARTING,
		aurora.ScheduleStatus_DRAINING, aurora.ScheduleStatus_PREEMPTING, aurora.ScheduleStatus_KILLING},
}

func allowed(from, to aurora.ScheduleStatus) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

var nonTaskIDChars = regexp.MustCompile(`[^\w-]`)

// insertTask adds a PENDING task for instance of job with cfg (Aurora's
// StateManagerImpl.insertPendingTasks and reschedule).
func (st *state) insertTask(job jobKey, instance int32, cfg *config, ancestor *taskRec, throttle time.Duration) *taskRec {
	id := fmt.Sprintf("%s-%s-%s-%d-%s", job.role, job.env, job.name, instance, newUUID())
	t := &taskRec{
		id:       taskID(id),
		job:      job,
		instance: instance,
		cfg:      cfg,
		status:   aurora.ScheduleStatus_INIT,
	}
	if ancestor != nil {
		t.ancestor = ancestor.id
		t.failures = ancestor.failures
	}
	st.tasks = append(st.tasks, t)
	st.byID[t.id] = t
	st.byJob[job] = append(st.byJob[job], t)
	st.indexNew(t)
	switch {
	case throttle > 0:
		t.throttle = st.s.now().Add(throttle)
		st.record(t, aurora.ScheduleStatus_THROTTLED, fmt.Sprintf("Rescheduled, penalized for %d ms for flapping", throttle.Milliseconds()))
	case ancestor != nil:
		st.record(t, aurora.ScheduleStatus_PENDING, "Rescheduled")
	default:
		st.record(t, aurora.ScheduleStatus_PENDING, "")
	}
	return t
}

func (st *state) record(t *taskRec, to aurora.ScheduleStatus, msg string) {
	ev := &aurora.TaskEvent{Timestamp: st.s.now().UnixMilli(), Status: to, Scheduler: thrift.StringPtr("auroratest")}
	if to == aurora.ScheduleStatus_PARTITIONED {
		t.partition++
		t.events = compactPartitionEvents(t.events)
	}
	if msg != "" {
		ev.Message = thrift.StringPtr(msg)
	}
	// Keep events ordered even when the clock does not advance.
	if n := len(t.events); n > 0 && ev.Timestamp < t.events[n-1].Timestamp {
		ev.Timestamp = t.events[n-1].Timestamp
	}
	t.events = append(t.events, ev)
	st.store.touch(t)
	st.s.logf("task %s %v -> %v %s", t.id, t.status, to, msg)
	st.indexStatus(t, to)
	t.status = to
	t.reason = msg
	if to == aurora.ScheduleStatus_PENDING {
		st.dirty = true
	}
	if to == aurora.ScheduleStatus_KILLING {
		t.killing = true
	}
}

// changeState moves t to the state to, applying Aurora's side effects:
// illegal transitions are ignored, PENDING tasks killed are deleted,
// KILLING and RESTARTING tasks are killed through the executor, and
// terminated tasks are rescheduled as Aurora's TaskStateMachine does. It
// reports whether the transition happened.
func (st *state) changeState(t *taskRec, to aurora.ScheduleStatus, msg string) bool {
	from := t.status
	if !allowed(from, to) {
		st.s.logf("ignoring illegal transition of %s from %v to %v", t.id, from, to)
		return false
	}
	if to == aurora.ScheduleStatus_KILLING && (from == aurora.ScheduleStatus_PENDING || from == aurora.ScheduleStatus_THROTTLED) {
		st.delete(t)
		return true
	}
	st.record(t, to, msg)
	switch to {
	case aurora.ScheduleStatus_KILLING, aurora.ScheduleStatus_RESTARTING, aurora.ScheduleStatus_DRAINING, aurora.ScheduleStatus_PREEMPTING:
		st.kill(t)
	case aurora.ScheduleStatus_LOST:
		if from == aurora.ScheduleStatus_PARTITIONED {
			st.kill(t)
		}
	}
	if terminalStates[to] {
		st.release(t)
		st.maybeReschedule(t, from)
		st.taskTerminated(t)
	}
	// An action on a partitioned task, or a partition during one, cannot
	// reach the agent: Aurora marks the task LOST at once.
	if to == aurora.ScheduleStatus_PARTITIONED && interrupting(from) || from == aurora.ScheduleStatus_PARTITIONED && interrupting(to) {
		st.changeState(t, aurora.ScheduleStatus_LOST, msgLostPartitioned)
	}
	st.s.wake()
	return true
}

// interrupting tells the states of an action on a task in progress.
func interrupting(s aurora.ScheduleStatus) bool {
	switch s {
	case aurora.ScheduleStatus_KILLING, aurora.ScheduleStatus_RESTARTING, aurora.ScheduleStatus_DRAINING, aurora.ScheduleStatus_PREEMPTING:
		return true
	}
	return false
}

// maybeReschedule implements the rescheduling rules of Aurora's
// TaskStateMachine for a task that just terminated coming from from.
func (st *state) maybeReschedule(t *taskRec, from aurora.ScheduleStatus) {
	to := t.status
	resched := false
	switch from {
	case aurora.ScheduleStatus_PARTITIONED:
		switch to {
		case aurora.ScheduleStatus_LOST:
			// Not when the task went KILLING -> PARTITIONED -> LOST.
			resched = !slices.ContainsFunc(t.events, func(e *aurora.TaskEvent) bool { return e.Status == aurora.ScheduleStatus_KILLING })
		case aurora.ScheduleStatus_FAILED:
			max := t.cfg.tc.MaxTaskFailures
			resched = t.cfg.tc.IsService || max == -1 || t.failures < max-1
		}
	case aurora.ScheduleStatus_RESTARTING, aurora.ScheduleStatus_DRAINING, aurora.ScheduleStatus_PREEMPTING:
		resched = true
	case aurora.ScheduleStatus_KILLING:
		resched = false
	default:
		switch to {
		case aurora.ScheduleStatus_KILLED, aurora.ScheduleStatus_LOST:
			resched = true
		case aurora.ScheduleStatus_FINISHED:
			resched = t.cfg.tc.IsService
		case aurora.ScheduleStatus_FAILED:
			max := t.cfg.tc.MaxTaskFailures
			resched = t.cfg.tc.IsService || max == -1 || t.failures < max-1
		}
	}
	if to == aurora.ScheduleStatus_FAILED {
		t.failures++
	}
	if !resched {
		return
	}
	st.insertTask(t.job, t.instance, t.cfg, t, st.flappingPenalty(t))
}

// Aurora's default -flapping_task_threshold, -initial_flapping_task_delay
// and -max_flapping_task_delay.
const (
	flappingThreshold    = 5 * time.Minute
	initialFlappingDelay = 30 * time.Second
	maxFlappingDelay     = 5 * time.Minute
)

// flapped is RescheduleCalculatorImpl's test: a task that was not
// interrupted (restarted, killed, drained) and ended less than the
// flapping threshold after it started RUNNING (or failed before).
func flapped(t *taskRec) bool {
	var running int64 = -1
	for _, e := range t.events {
		switch e.Status {
		case aurora.ScheduleStatus_RESTARTING, aurora.ScheduleStatus_KILLING, aurora.ScheduleStatus_DRAINING:
			return false
		case aurora.ScheduleStatus_RUNNING:
			if running < 0 {
				running = e.Timestamp
			}
		}
	}
	if !terminalStates[t.status] {
		return false
	}
	if running < 0 {
		// Aurora does not penalise a task that failed before RUNNING,
		// relying on Mesos' offer cycle to pace the retries; with an
		// executor that fails at once that would be a busy loop, so
		// auroratest treats it as a task that flapped after 0 s.
		return t.status == aurora.ScheduleStatus_FAILED || t.status == aurora.ScheduleStatus_FINISHED
	}
	return t.lastEventTime()-running < flappingThreshold.Milliseconds()
}

// flappingPenalty is RescheduleCalculatorImpl.getFlappingPenaltyMs: a
// truncated binary back-off over the chain of flapping ancestors.
func (st *state) flappingPenalty(t *taskRec) time.Duration {
	var penalty time.Duration
	for cur := t; cur != nil && flapped(cur); cur = st.byID[cur.ancestor] {
		if penalty == 0 {
			penalty = initialFlappingDelay
		} else {
			penalty = min(2*penalty, maxFlappingDelay)
		}
		if cur.ancestor == "" {
			break
		}
	}
	return penalty
}

func (st *state) delete(t *taskRec) {
	st.release(t)
	st.store.forget(t)
	st.indexStatus(t, -1)
	delete(st.byID, t.id)
	st.tasks = slices.DeleteFunc(st.tasks, func(x *taskRec) bool { return x == t })
	st.byJob[t.job] = slices.DeleteFunc(st.byJob[t.job], func(x *taskRec) bool { return x == t })
	if len(st.byJob[t.job]) == 0 {
		delete(st.byJob, t.job)
	}
}

// Aurora's task history pruning defaults (-history_prune_threshold,
// -history_max_per_job_threshold, -history_min_retention_threshold).
const (
	pruneInterval      = time.Minute
	pruneAfter         = 48 * time.Hour
	maxHistoryPerJob   = 100
	minHistoryRetained = time.Hour
)

// prune deletes terminal tasks as Aurora's TaskHistoryPruner does: those
// terminated more than pruneAfter ago, and the oldest beyond
// maxHistoryPerJob of a job once they are minHistoryRetained old.
func (st *state) prune(now time.Time) {
	for _, tasks := range st.byJob {
		var terminal []*taskRec
		for _, t := range tasks {
			if terminalStates[t.status] {
				terminal = append(terminal, t)
			}
		}
		sort.SliceStable(terminal, func(i, j int) bool { return terminal[i].lastEventTime() > terminal[j].lastEventTime() })
		for i, t := range terminal {
			age := now.Sub(time.UnixMilli(t.lastEventTime()))
			if age >= pruneAfter || (i >= maxHistoryPerJob && age >= minHistoryRetained) {
				st.delete(t)
			}
		}
	}
}

// activeTasks returns the active tasks of job, ordered by instance.
func (st *state) activeTasks(job jobKey) []*taskRec {
	var out []*taskRec
	for _, t := range st.byJob[job] {
		if activeStates[t.status] {
			out = append(out, t)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].instance < out[j].instance })
	return out
}

// activeTask returns the active task of one instance, or nil.
func (st *state) activeTask(job jobKey, instance int32) *taskRec {
	var found *taskRec
	for _, t := range st.byJob[job] {
		if t.instance == instance && activeStates[t.status] {
			found = t
		}
	}
	return found
}

// step does one round of the scheduler's work: throttled tasks become
// PENDING, PENDING tasks are assigned to hosts (and handed to the
// executor), and active updates are evaluated. It reports whether there is
// time-dependent work left.
func (st *state) step() bool {
	now := st.s.now()
	busy := false
	if now.Sub(st.lastPrune) >= pruneInterval {
		st.lastPrune = now
		st.prune(now)
	}
	busy = st.wakeTimed(now) || busy
	st.cronWake = st.fireCron(now)
	st.place()
	busy = st.preempt(now) || busy
	busy = st.pollMaintenance(now) || busy
	for _, u := range st.updates {
		if u.active() {
			u.evaluate()
			// Only rolling updates wait for time to pass; paused and
			// awaiting ones wait for a call.
			busy = busy || u.status == aurora.JobUpdateStatus_ROLLING_FORWARD || u.status == aurora.JobUpdateStatus_ROLLING_BACK
		}
	}
	return busy
}

func clonePorts(m map[string]int32) map[string]int32 {
	out := make(map[string]int32, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// freePort returns a loopback port that is free now and not allocated to
// another active task.
func (st *state) freePort() int32 {
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			break
		}
		p := int32(l.Addr().(*net.TCPAddr).Port)
		l.Close()
		if !st.ports[p] {
			st.ports[p] = true
			return p
		}
	}
	// No free port could be found: fall back to a high port nobody holds.
	for p := int32(31000); ; p++ {
		if !st.ports[p] {
			st.ports[p] = true
			return p
		}
	}
}

// report applies a status update from the executor.
func (s *Server) report(u StatusUpdate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st == nil {
		return
	}
	if t := s.st.byID[u.TaskID]; t != nil && s.st.hold(t, u) {
		return
	}
	s.st.apply(u)
}

// apply applies a status update from an agent, killing a task the
// scheduler does not want to run (killUnwanted).
func (st *state) apply(u StatusUpdate) {
	if st.killUnwanted(u) {
		return
	}
	t := st.byID[u.TaskID]
	if t == nil || terminalStates[t.status] || u.Status == t.status {
		return
	}
	st.changeState(t, u.Status, u.Message)
}

// loop is the scheduler's single background goroutine: it runs step and
// hands launches and kills to the executor, outside the lock, in order.
func (s *Server) loop() {
	defer close(s.loopDone)
	const tick = 2 * time.Millisecond
	timer := time.NewTimer(tick)
	defer timer.Stop()
	for {
		s.mu.Lock()
		busy := s.st.step()
		cronIn := time.Duration(-1)
		if !s.st.cronWake.IsZero() {
			cronIn = max(s.st.cronWake.Sub(s.now()), 0)
		}
		launches, kills := s.st.launches, s.st.kills
		s.st.launches, s.st.kills = nil, nil
		recon, restarted := s.st.reconciling(launches)
		implicit := s.st.implicit
		s.st.implicit = false
		s.commit()
		s.mu.Unlock()
		s.reconcile(recon, restarted)
		if implicit {
			s.reconcileImplicit()
		}
		for _, l := range launches {
			s.Executor.Launch(s.ctx, l, s.reporter(l.TaskID))
		}
		for _, id := range kills {
			s.Executor.Kill(id)
		}
		if len(launches) > 0 || len(kills) > 0 {
			continue
		}
		// Sleep until there is work: a call or a report kicks the loop;
		// rolling updates and throttled tasks need a tick; history is
		// pruned every pruneInterval of the scheduler's clock; cron jobs
		// fire at their next fire time.
		wait := max(s.realDuration(pruneInterval), tick)
		if busy {
			wait = tick
		}
		if cronIn >= 0 {
			wait = max(min(wait, s.realDuration(cronIn)), 0)
		}
		timer.Reset(wait)
		select {
		case <-s.ctx.Done():
			return
		case <-s.kick:
		case <-timer.C:
		}
	}
}
