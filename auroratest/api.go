package auroratest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// api implements Aurora's AuroraAdmin Thrift service over the server's
// state. Every method answers a Response carrying ServerInfo, never a Go
// error: gorealis retries transport errors and Thrift exceptions.
type api struct{ s *Server }

var _ aurora.AuroraAdmin = (*api)(nil)

func (a *api) info() *aurora.ServerInfo {
	return &aurora.ServerInfo{ClusterName: a.s.Cluster, StatsUrlPrefix: ""}
}

func (a *api) respond(code aurora.ResponseCode, msgs ...string) *aurora.Response {
	r := &aurora.Response{ResponseCode: code, ServerInfo: a.info(), Details: []*aurora.ResponseDetail{}}
	for _, m := range msgs {
		r.Details = append(r.Details, &aurora.ResponseDetail{Message: m})
	}
	return r
}

func (a *api) ok(res *aurora.Result_, msgs ...string) *aurora.Response {
	r := a.respond(aurora.ResponseCode_OK, msgs...)
	r.Result_ = res
	return r
}

func (a *api) invalid(msg string) *aurora.Response {
	return a.respond(aurora.ResponseCode_INVALID_REQUEST, msg)
}

// fromErr turns a validation error into INVALID_REQUEST and anything else
// into ERROR, as Aurora's interceptors do.
func (a *api) fromErr(err error) *aurora.Response {
	var inv invalid
	if errors.As(err, &inv) {
		return a.invalid(string(inv))
	}
	return a.respond(aurora.ResponseCode_ERROR, err.Error())
}

// guard turns a panic in a call (a bug in auroratest) into an ERROR
// response naming it, so that gorealis does not retry a dropped
// connection.
func (a *api) guard(r **aurora.Response, err *error) {
	if p := recover(); p != nil {
		a.s.logf("panic: %v", p)
		*r = a.respond(aurora.ResponseCode_ERROR, fmt.Sprintf("auroratest: internal error: %v", p))
		*err = nil
	}
}

func (a *api) updating() *aurora.Response {
	return a.respond(aurora.ResponseCode_JOB_UPDATING_ERROR, "Job is currently updating")
}

// badKey answers a call whose job key is missing or invalid: with
// authentication on Aurora's authorizing interceptor rejects it first;
// with it off JobKeys.assertValid throws an exception without message.
func (a *api) badKey() *aurora.Response {
	if a.s.Username != "" {
		return a.invalid("Missing or invalid job key from request.")
	}
	return a.respond(aurora.ResponseCode_ERROR, "")
}

func userOf(ctx context.Context) string {
	if u, ok := ctx.Value(userKey).(string); ok {
		return u
	}
	return "UNSECURE"
}

func (a *api) lock() *state {
	a.s.mu.Lock()
	return a.s.st
}

// unlock writes the call's changes to storage and releases the lock.
func (a *api) unlock() {
	a.s.commit()
	a.s.mu.Unlock()
}

// activeUpdate returns the job's active update, or nil.
func (st *state) activeUpdate(job jobKey) *update {
	for _, u := range st.updates {
		if u.job == job && u.active() {
			return u
		}
	}
	return nil
}

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
	if !validKey(job) {
		return a.badKey(), nil
	}
	key := keyOf(job)
	if st.activeUpdate(key) != nil {
		return a.updating(), nil
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
func backfillStrategy(s *aurora.JobUpdateSettings) {
	if s.UpdateStrategy != nil && (s.UpdateStrategy.QueueStrategy != nil || s.UpdateStrategy.BatchStrategy != nil || s.UpdateStrategy.VarBatchStrategy != nil) {
		return
	}
	if s.WaitForBatchCompletion {
		s.UpdateStrategy = &aurora.JobUpdateStrategy{BatchStrategy: &aurora.BatchJobUpdateStrategy{GroupSize: s.UpdateGroupSize}}
	} else {
		s.UpdateStrategy = &aurora.JobUpdateStrategy{QueueStrategy: &aurora.QueueJobUpdateStrategy{GroupSize: s.UpdateGroupSize}}
	}
}

// checkSettings is the strategy sanity check of Aurora's startJobUpdate.
func (a *api) checkSettings(s *aurora.JobUpdateSettings, instanceCount int32) error {
	var sizes []int32
	switch st := s.UpdateStrategy; {
	case st.QueueStrategy != nil:
		sizes = []int32{st.QueueStrategy.GroupSize}
	case st.BatchStrategy != nil:
		sizes = []int32{st.BatchStrategy.GroupSize}
	case st.VarBatchStrategy != nil:
		sizes = st.VarBatchStrategy.GroupSizes
		for _, g := range sizes {
			if g <= 0 {
				return invalid("All update group sizes must be positive.")
			}
		}
	default:
		return invalid("Update strategy provided is unknown.")
	}
	total := int64(0)
	for _, g := range sizes {
		total += int64(g)
	}
	if total <= 0 {
		return invalid("Update results in no instance being modified.")
	}
	if s.MaxPerInstanceFailures < 0 {
		return invalid("maxPerInstanceFailures must be non-negative.")
	}
	if s.MaxFailedInstances < 0 {
		return invalid("maxFailedInstances must be non-negative.")
	}
	if int64(s.MaxPerInstanceFailures)*int64(instanceCount) > int64(a.s.MaxUpdateInstanceFailures) {
		return invalid("Your update allows too many failures to occur, consider decreasing the per-instance failures or maxFailedInstances.")
	}
	if s.MinWaitInInstanceRunningMs < 0 {
		return invalid("minWaitInInstanceRunningMs must be non-negative.")
	}
	if s.BlockIfNoPulsesAfterMs != nil && *s.BlockIfNoPulsesAfterMs < 0 {
		return invalid("blockIfNoPulsesAfterMs must be positive.")
	}
	return nil
}

// jobDiff is Aurora's JobDiff: current active tasks against instances
// 0..count-1 running want, restricted to scope when it is not empty.
type jobDiff struct {
	added, removed, updated, unchanged []int32
	current                            map[int32]*taskRec
	outOfScope                         []int32
}

func (st *state) diff(job jobKey, want *config, count int32, scope []*aurora.Range) jobDiff {
	d := jobDiff{current: map[int32]*taskRec{}}
	for _, t := range st.activeTasks(job) {
		d.current[t.instance] = t
	}
	inScope := func(i int32) bool {
		if len(scope) == 0 {
			return true
		}
		for _, r := range scope {
			if r != nil && i >= r.First && i <= r.Last {
				return true
			}
		}
		return false
	}
	for i := range count {
		t := d.current[i]
		switch {
		case !inScope(i):
		case t == nil:
			d.added = append(d.added, i)
		case t.cfg.key != want.key:
			d.updated = append(d.updated, i)
		default:
			d.unchanged = append(d.unchanged, i)
		}
	}
	for i := range d.current {
		if i >= count && inScope(i) {
			d.removed = append(d.removed, i)
		}
	}
	for _, r := range scope {
		if r == nil {
			continue
		}
		for i := r.First; i <= r.Last && i-r.First < 100000; i++ {
			if d.current[i] == nil && i >= count {
				d.outOfScope = append(d.outOfScope, i)
			}
		}
	}
	sortIDs(d.added, d.removed, d.updated, d.unchanged)
	return d
}

func sortIDs(ls ...[]int32) {
	for _, l := range ls {
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	}
}

// groupConfigs groups the instances by their current config.
func (d jobDiff) groupCurrent(ids []int32) []*aurora.ConfigGroup {
	byKey := map[string]*aurora.ConfigGroup{}
	idsByKey := map[string][]int32{}
	var order []string
	for _, i := range ids {
		t := d.current[i]
		if _, ok := byKey[t.cfg.key]; !ok {
			byKey[t.cfg.key] = &aurora.ConfigGroup{Config: clone(t.cfg.tc)}
			order = append(order, t.cfg.key)
		}
		idsByKey[t.cfg.key] = append(idsByKey[t.cfg.key], i)
	}
	out := []*aurora.ConfigGroup{}
	for _, k := range order {
		g := byKey[k]
		g.Instances = toRanges(idsByKey[k])
		out = append(out, g)
	}
	return out
}

// StartJobUpdate implements startJobUpdate.
func (a *api) StartJobUpdate(ctx context.Context, request *aurora.JobUpdateRequest, message string) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if request == nil || request.TaskConfig == nil {
		return a.respond(aurora.ResponseCode_ERROR, ""), nil
	}
	if !request.TaskConfig.IsService {
		return a.invalid("Updates are not supported for non-service tasks."), nil
	}
	if request.Settings == nil {
		return a.respond(aurora.ResponseCode_ERROR, ""), nil
	}
	settings := clone(request.Settings)
	backfillStrategy(settings)
	if err := a.checkSettings(settings, request.InstanceCount); err != nil {
		return a.fromErr(err), nil
	}
	if settings.SlaAware != nil && *settings.SlaAware && request.TaskConfig.SlaPolicy == nil {
		return a.invalid("slaAware is true, but no task slaPolicy is specified."), nil
	}
	tc, err := a.s.validateTask(request.TaskConfig, request.InstanceCount)
	if err != nil {
		return a.fromErr(err), nil
	}
	job := keyOf(tc.Job)
	if st.cron[job] != nil {
		return a.invalid("Cron jobs may only be created/updated by calling scheduleCronJob."), nil
	}
	if request.InstanceCount < 0 {
		return a.respond(aurora.ResponseCode_ERROR, fmt.Sprintf("Invalid instance count: %d", request.InstanceCount)), nil
	}
	want := newConfig(tc)
	d := st.diff(job, want, request.InstanceCount, settings.UpdateOnlyTheseInstances)
	if len(d.outOfScope) > 0 {
		return a.invalid("The update request attempted to update specific instances, but some are irrelevant to the update and current job state: " + javaSet(d.outOfScope)), nil
	}
	if len(d.added)+len(d.removed)+len(d.updated) == 0 {
		return a.ok(nil, "Job is unchanged by proposed update."), nil
	}
	if err := a.s.validateTaskLimits(job, int(request.InstanceCount)); err != nil {
		return a.fromErr(err), nil
	}
	if err := st.checkJobUpdate(job, tc, request.InstanceCount); err != nil {
		return a.fromErr(err), nil
	}
	if u := st.activeUpdate(job); u != nil {
		r := a.invalid("An active update already exists for this job, please terminate it before starting another. Active updates are those in states [ROLLING_FORWARD, ROLLING_BACK, ROLL_FORWARD_PAUSED, ROLL_BACK_PAUSED, ROLL_FORWARD_AWAITING_PULSE, ROLL_BACK_AWAITING_PULSE]")
		r.Result_ = &aurora.Result_{StartJobUpdateResult_: &aurora.StartJobUpdateResult_{Key: u.key(), UpdateSummary: u.summary()}}
		return r, nil
	}
	replaced := append(append([]int32(nil), d.removed...), d.updated...)
	replacements := append(append([]int32(nil), d.added...), d.updated...)
	sortIDs(replaced, replacements)
	u := &update{
		st:       st,
		job:      job,
		id:       newUUID(),
		user:     userOf(ctx),
		metadata: clone(request.Metadata),
		settings: settings,
		initial:  map[int32]*config{},
		desired:  map[int32]*config{},
		forward:  true,
		recorded: map[int32]map[aurora.JobUpdateAction]bool{},
	}
	u.instr = &aurora.JobUpdateInstructions{InitialState: d.groupCurrentTasks(replaced), Settings: settings}
	if len(replacements) > 0 {
		u.instr.DesiredState = &aurora.InstanceTaskConfig{Task: tc, Instances: toRanges(append([]int32(nil), replacements...))}
	}
	seen := map[int32]bool{}
	for _, i := range replaced {
		u.initial[i] = d.current[i].cfg
		seen[i] = true
	}
	for _, i := range replacements {
		u.desired[i] = want
		seen[i] = true
	}
	for i := range seen {
		u.instances = append(u.instances, i)
	}
	sortIDs(u.instances)
	u.startPass()
	first := aurora.JobUpdateStatus_ROLLING_FORWARD
	if u.coordinated() {
		first = aurora.JobUpdateStatus_ROLL_FORWARD_AWAITING_PULSE
	}
	u.setStatus(first, u.user, message)
	st.updates = append(st.updates, u)
	return a.ok(&aurora.Result_{StartJobUpdateResult_: &aurora.StartJobUpdateResult_{
		Key:           u.key(),
		UpdateSummary: u.summary(),
	}}), nil
}

func (d jobDiff) groupCurrentTasks(ids []int32) []*aurora.InstanceTaskConfig {
	out := []*aurora.InstanceTaskConfig{}
	for _, g := range d.groupCurrent(ids) {
		out = append(out, &aurora.InstanceTaskConfig{Task: g.Config, Instances: g.Instances})
	}
	return out
}

// summary is the update's JobUpdateSummary with its state.
func (u *update) summary() *aurora.JobUpdateSummary {
	return &aurora.JobUpdateSummary{Key: u.key(), User: u.user, Metadata: clone(u.metadata), State: u.state()}
}

func (u *update) state() *aurora.JobUpdateState {
	s := &aurora.JobUpdateState{Status: u.status}
	if len(u.events) > 0 {
		s.CreatedTimestampMs = u.events[0].TimestampMs
		s.LastModifiedTimestampMs = u.events[len(u.events)-1].TimestampMs
	}
	if n := len(u.ievents); n > 0 && u.ievents[n-1].TimestampMs > s.LastModifiedTimestampMs {
		s.LastModifiedTimestampMs = u.ievents[n-1].TimestampMs
	}
	return s
}

func (u *update) details() *aurora.JobUpdateDetails {
	return &aurora.JobUpdateDetails{
		Update:         &aurora.JobUpdate{Summary: u.summary(), Instructions: clone(u.instr)},
		UpdateEvents:   clone(u.events),
		InstanceEvents: clone(u.ievents),
	}
}

// findUpdate returns the update with key, or nil.
func (st *state) findUpdate(key *aurora.JobUpdateKey) *update {
	for _, u := range st.updates {
		if u.id == key.ID && u.job == keyOf(key.Job) {
			return u
		}
	}
	return nil
}

// changeUpdate is Aurora's changeJobUpdateState for pause, resume, abort
// and rollback.
func (a *api) changeUpdate(ctx context.Context, key *aurora.JobUpdateKey, message, op string) *aurora.Response {
	st := a.lock()
	defer a.unlock()
	if key == nil || !validKey(key.Job) {
		return a.badKey()
	}
	u := st.findUpdate(key)
	if u == nil {
		sep := " "
		if op == "resume" {
			sep = ": "
		}
		return a.invalid("Update does not exist" + sep + fmt.Sprintf("IJobUpdateKey{job=%s, id=%s}", keyOf(key.Job).javaString(), key.ID))
	}
	var to aurora.JobUpdateStatus
	var ok bool
	switch op {
	case "pause":
		to, ok = pauseMap[u.status]
	case "resume":
		if u.coordinated() && u.pulseExpired() {
			to, ok = resumeBlockedMap[u.status]
		} else {
			to, ok = resumeActiveMap[u.status]
		}
	case "abort":
		to, ok = aurora.JobUpdateStatus_ABORTED, true
	case "rollback":
		to, ok = aurora.JobUpdateStatus_ROLLING_BACK, true
	}
	if !ok {
		return a.invalid(fmt.Sprintf("Cannot transition update from %v to null", u.status))
	}
	if to == u.status {
		return a.ok(nil)
	}
	if !updateAllowed(u.status, to) {
		return a.invalid(fmt.Sprintf("Cannot transition update from %v to %v", u.status, to))
	}
	u.setStatus(to, userOf(ctx), message)
	return a.ok(nil)
}

// PauseJobUpdate implements pauseJobUpdate.
func (a *api) PauseJobUpdate(ctx context.Context, key *aurora.JobUpdateKey, message string) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	return a.changeUpdate(ctx, key, message, "pause"), nil
}

// ResumeJobUpdate implements resumeJobUpdate.
func (a *api) ResumeJobUpdate(ctx context.Context, key *aurora.JobUpdateKey, message string) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	return a.changeUpdate(ctx, key, message, "resume"), nil
}

// AbortJobUpdate implements abortJobUpdate.
func (a *api) AbortJobUpdate(ctx context.Context, key *aurora.JobUpdateKey, message string) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	return a.changeUpdate(ctx, key, message, "abort"), nil
}

// RollbackJobUpdate implements rollbackJobUpdate.
func (a *api) RollbackJobUpdate(ctx context.Context, key *aurora.JobUpdateKey, message string) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	return a.changeUpdate(ctx, key, message, "rollback"), nil
}

// PulseJobUpdate implements pulseJobUpdate.
func (a *api) PulseJobUpdate(ctx context.Context, key *aurora.JobUpdateKey) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if key == nil || !validKey(key.Job) || strings.TrimSpace(key.ID) == "" {
		return a.respond(aurora.ResponseCode_ERROR, ""), nil
	}
	finished := a.ok(&aurora.Result_{PulseJobUpdateResult_: &aurora.PulseJobUpdateResult_{Status: aurora.JobUpdatePulseStatus_FINISHED}})
	u := st.findUpdate(key)
	if u == nil || !u.active() || !u.coordinated() {
		return finished, nil
	}
	u.lastPulse = a.s.now()
	switch u.status {
	case aurora.JobUpdateStatus_ROLL_FORWARD_AWAITING_PULSE:
		u.setStatus(aurora.JobUpdateStatus_ROLLING_FORWARD, "", "")
	case aurora.JobUpdateStatus_ROLL_BACK_AWAITING_PULSE:
		u.setStatus(aurora.JobUpdateStatus_ROLLING_BACK, "", "")
	}
	return a.ok(&aurora.Result_{PulseJobUpdateResult_: &aurora.PulseJobUpdateResult_{Status: aurora.JobUpdatePulseStatus_OK}}), nil
}

// queryUpdates is MemJobUpdateStore.performQuery.
func (st *state) queryUpdates(q *aurora.JobUpdateQuery) []*update {
	var out []*update
	for _, u := range st.updates {
		if q.Role != nil && *q.Role != u.job.role {
			continue
		}
		if q.Key != nil && (q.Key.ID != u.id || keyOf(q.Key.Job) != u.job) {
			continue
		}
		if q.JobKey != nil && keyOf(q.JobKey) != u.job {
			continue
		}
		if q.User != nil && *q.User != u.user {
			continue
		}
		if len(q.UpdateStatuses) > 0 && !contains(q.UpdateStatuses, u.status) {
			continue
		}
		out = append(out, u)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].state().LastModifiedTimestampMs > out[j].state().LastModifiedTimestampMs
	})
	if q.Offset > 0 {
		if int(q.Offset) >= len(out) {
			out = nil
		} else {
			out = out[q.Offset:]
		}
	}
	if q.Limit > 0 && int(q.Limit) < len(out) {
		out = out[:q.Limit]
	}
	return out
}

// GetJobUpdateSummaries implements getJobUpdateSummaries.
func (a *api) GetJobUpdateSummaries(ctx context.Context, q *aurora.JobUpdateQuery) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if q == nil {
		q = &aurora.JobUpdateQuery{}
	}
	sums := []*aurora.JobUpdateSummary{}
	for _, u := range st.queryUpdates(q) {
		sums = append(sums, u.summary())
	}
	return a.ok(&aurora.Result_{GetJobUpdateSummariesResult_: &aurora.GetJobUpdateSummariesResult_{UpdateSummaries: sums}}), nil
}

// GetJobUpdateDetails implements getJobUpdateDetails.
func (a *api) GetJobUpdateDetails(ctx context.Context, q *aurora.JobUpdateQuery) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if q == nil {
		return a.respond(aurora.ResponseCode_ERROR, "Either key or query must be set."), nil
	}
	list := []*aurora.JobUpdateDetails{}
	for _, u := range st.queryUpdates(q) {
		list = append(list, u.details())
	}
	return a.ok(&aurora.Result_{GetJobUpdateDetailsResult_: &aurora.GetJobUpdateDetailsResult_{DetailsList: list}}), nil
}

// GetJobUpdateDiff implements getJobUpdateDiff.
func (a *api) GetJobUpdateDiff(ctx context.Context, request *aurora.JobUpdateRequest) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if request == nil || request.TaskConfig == nil {
		return a.respond(aurora.ResponseCode_ERROR, ""), nil
	}
	tc, err := a.s.validateTask(request.TaskConfig, request.InstanceCount)
	if err != nil {
		return a.fromErr(err), nil
	}
	job := keyOf(tc.Job)
	if st.cron[job] != nil {
		return a.invalid("Cron jobs are not supported."), nil
	}
	var scope []*aurora.Range
	if request.Settings != nil {
		scope = request.Settings.UpdateOnlyTheseInstances
	}
	want := newConfig(tc)
	d := st.diff(job, want, request.InstanceCount, scope)
	add := []*aurora.ConfigGroup{}
	if len(d.added) > 0 {
		add = append(add, &aurora.ConfigGroup{Config: clone(tc), Instances: toRanges(d.added)})
	}
	return a.ok(&aurora.Result_{GetJobUpdateDiffResult_: &aurora.GetJobUpdateDiffResult_{
		Add:       add,
		Remove:    d.groupCurrent(d.removed),
		Update:    d.groupCurrent(d.updated),
		Unchanged: d.groupCurrent(d.unchanged),
	}}), nil
}

func (a *api) tasks(q *aurora.TaskQuery, withData bool) *aurora.Response {
	st := a.lock()
	defer a.unlock()
	out := []*aurora.ScheduledTask{}
	for _, t := range st.query(q) {
		out = append(out, t.scheduledTask(withData))
	}
	return a.ok(&aurora.Result_{ScheduleStatusResult_: &aurora.ScheduleStatusResult_{Tasks: out}})
}

// GetTasksStatus implements getTasksStatus.
func (a *api) GetTasksStatus(ctx context.Context, query *aurora.TaskQuery) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	return a.tasks(query, true), nil
}

// GetTasksWithoutConfigs implements getTasksWithoutConfigs: the whole
// TaskConfig is returned, with only the executor data stripped.
func (a *api) GetTasksWithoutConfigs(ctx context.Context, query *aurora.TaskQuery) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	return a.tasks(query, false), nil
}

// GetPendingReason implements getPendingReason.
func (a *api) GetPendingReason(ctx context.Context, query *aurora.TaskQuery) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if query == nil {
		query = &aurora.TaskQuery{}
	}
	if len(query.SlaveHosts) > 0 {
		return a.invalid("SlaveHosts are not supported in " + query.String()), nil
	}
	if len(query.Statuses) > 0 {
		return a.invalid("Statuses is not supported in " + query.String()), nil
	}
	q := clone(query)
	q.Statuses = []aurora.ScheduleStatus{aurora.ScheduleStatus_PENDING}
	reasons := []*aurora.PendingReason{}
	for _, t := range st.query(q) {
		reasons = append(reasons, &aurora.PendingReason{TaskId: t.id, Reason: st.pendingReason(t)})
	}
	return a.ok(&aurora.Result_{GetPendingReasonResult_: &aurora.GetPendingReasonResult_{Reasons: reasons}}), nil
}

// jobConfigs synthesises Aurora's getJobs view: one configuration per job
// with active tasks (from its latest active task), plus cron templates.
func (st *state) jobConfigs(role string, withCron bool) []*aurora.JobConfiguration {
	latest := map[jobKey]*taskRec{}
	count := map[jobKey]int32{}
	var order []jobKey
	for _, t := range st.tasks {
		if !activeStates[t.status] || (role != "" && t.job.role != role) {
			continue
		}
		if _, ok := latest[t.job]; !ok {
			order = append(order, t.job)
		}
		latest[t.job] = t
		count[t.job]++
	}
	out := []*aurora.JobConfiguration{}
	for _, k := range order {
		if st.cron[k] != nil {
			continue
		}
		t := latest[k]
		out = append(out, &aurora.JobConfiguration{
			Key:           k.thrift(),
			Owner:         clone(t.cfg.tc.Owner),
			TaskConfig:    clone(t.cfg.tc),
			InstanceCount: count[k],
		})
	}
	if withCron {
		var keys []jobKey
		for k := range st.cron {
			if role == "" || k.role == role {
				keys = append(keys, k)
			}
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			out = append(out, clone(st.cron[k]))
		}
	}
	return out
}

// GetJobs implements getJobs.
func (a *api) GetJobs(ctx context.Context, ownerRole string) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	return a.ok(&aurora.Result_{GetJobsResult_: &aurora.GetJobsResult_{Configs: st.jobConfigs(ownerRole, ownerRole != "")}}), nil
}

// GetJobSummary implements getJobSummary: every job with tasks (terminal
// ones included) or a cron schedule, with Aurora's JobStats (KILLED counts
// as finished, LOST as failed).
func (a *api) GetJobSummary(ctx context.Context, role string) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	stats := map[jobKey]*aurora.JobStats{}
	latest := map[jobKey]*taskRec{}
	var order []jobKey
	for _, t := range st.tasks {
		if role != "" && t.job.role != role {
			continue
		}
		s := stats[t.job]
		if s == nil {
			s = &aurora.JobStats{}
			stats[t.job] = s
			order = append(order, t.job)
		}
		latest[t.job] = t
		switch {
		case t.status == aurora.ScheduleStatus_PENDING || t.status == aurora.ScheduleStatus_THROTTLED:
			s.PendingTaskCount++
		case activeStates[t.status]:
			s.ActiveTaskCount++
		case t.status == aurora.ScheduleStatus_FINISHED || t.status == aurora.ScheduleStatus_KILLED:
			s.FinishedTaskCount++
		default:
			s.FailedTaskCount++
		}
	}
	sums := []*aurora.JobSummary{}
	for _, k := range order {
		job := st.cron[k]
		if job == nil {
			t := latest[k]
			job = &aurora.JobConfiguration{Key: k.thrift(), Owner: t.cfg.tc.Owner, TaskConfig: t.cfg.tc,
				InstanceCount: int32(len(st.activeTasks(k)))}
		}
		sums = append(sums, &aurora.JobSummary{Job: clone(job), Stats: stats[k]})
	}
	for k, job := range st.cron {
		if stats[k] == nil && (role == "" || k.role == role) {
			sums = append(sums, &aurora.JobSummary{Job: clone(job), Stats: &aurora.JobStats{}})
		}
	}
	return a.ok(&aurora.Result_{JobSummaryResult_: &aurora.JobSummaryResult_{Summaries: sums}}), nil
}

// GetConfigSummary implements getConfigSummary.
func (a *api) GetConfigSummary(ctx context.Context, job *aurora.JobKey) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if !validKey(job) {
		return a.respond(aurora.ResponseCode_ERROR, ""), nil
	}
	d := jobDiff{current: map[int32]*taskRec{}}
	var ids []int32
	for _, t := range st.activeTasks(keyOf(job)) {
		d.current[t.instance] = t
		ids = append(ids, t.instance)
	}
	return a.ok(&aurora.Result_{ConfigSummaryResult_: &aurora.ConfigSummaryResult_{Summary: &aurora.ConfigSummary{
		Key: clone(job), Groups: d.groupCurrent(ids),
	}}}), nil
}

// PopulateJobConfig implements populateJobConfig.
func (a *api) PopulateJobConfig(ctx context.Context, description *aurora.JobConfiguration) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	a.lock()
	defer a.unlock()
	job, err := a.s.validateJob(description)
	if err != nil {
		var inv invalid
		if errors.As(err, &inv) {
			return a.invalid("Invalid configuration: " + string(inv)), nil
		}
		return a.fromErr(err), nil
	}
	return a.ok(&aurora.Result_{PopulateJobResult_: &aurora.PopulateJobResult_{TaskConfig: job.TaskConfig}}), nil
}

// GetTierConfigs implements getTierConfigs.
func (a *api) GetTierConfigs(ctx context.Context) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	var names []string
	for n := range a.s.Tiers {
		names = append(names, n)
	}
	sort.Strings(names)
	tiers := []*aurora.TierConfig{}
	for _, n := range names {
		t := a.s.Tiers[n]
		tiers = append(tiers, &aurora.TierConfig{Name: n, Settings: map[string]string{
			"preemptible": fmt.Sprint(t.Preemptible),
			"revocable":   fmt.Sprint(t.Revocable),
		}})
	}
	return a.ok(&aurora.Result_{GetTierConfigResult_: &aurora.GetTierConfigResult_{DefaultTierName: a.s.DefaultTier, Tiers: tiers}}), nil
}

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

// GetRoleSummary implements getRoleSummary: per role, the number of jobs
// with tasks and of cron jobs.
func (a *api) GetRoleSummary(ctx context.Context) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	jobs := map[string]map[jobKey]bool{}
	crons := map[string]int32{}
	for k := range st.byJob {
		if jobs[k.role] == nil {
			jobs[k.role] = map[jobKey]bool{}
		}
		if st.cron[k] == nil {
			jobs[k.role][k] = true
		}
	}
	for k := range st.cron {
		if jobs[k.role] == nil {
			jobs[k.role] = map[jobKey]bool{}
		}
		crons[k.role]++
	}
	var roles []string
	for role := range jobs {
		roles = append(roles, role)
	}
	sort.Strings(roles)
	sums := []*aurora.RoleSummary{}
	for _, role := range roles {
		sums = append(sums, &aurora.RoleSummary{Role: role, JobCount: int32(len(jobs[role])), CronJobCount: crons[role]})
	}
	return a.ok(&aurora.Result_{RoleSummaryResult_: &aurora.RoleSummaryResult_{Summaries: sums}}), nil
}

// SetQuota implements setQuota: the quota is stored, reported by getQuota
// and enforced on production jobs (quota.go).
func (a *api) SetQuota(ctx context.Context, ownerRole string, quota *aurora.ResourceAggregate) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if !isGoodIdentifier(ownerRole) {
		return a.invalid("Invalid role: " + ownerRole), nil
	}
	if quota == nil {
		return a.respond(aurora.ResponseCode_ERROR, ""), nil
	}
	st.quotas[ownerRole] = clone(quota)
	return a.ok(nil), nil
}

// GetQuota implements getQuota: the role's quota (empty when never set)
// and the resources its active tasks consume, split as Aurora splits them
// into production and non-production, shared and dedicated.
func (a *api) GetQuota(ctx context.Context, ownerRole string) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	quota := st.quotas[ownerRole]
	if quota == nil {
		quota = aggregate(0, 0, 0)
	}
	var use [4]struct {
		cpu       float64
		ram, disk int64
	}
	for _, t := range st.tasks {
		if t.job.role != ownerRole || !activeStates[t.status] {
			continue
		}
		i := 0
		if !t.cfg.tc.GetProduction() {
			i = 1
		}
		for _, c := range t.cfg.tc.Constraints {
			if c != nil && c.Name == "dedicated" {
				i += 2
				break
			}
		}
		for _, res := range t.cfg.tc.Resources {
			switch {
			case res.NumCpus != nil:
				use[i].cpu += *res.NumCpus
			case res.RamMb != nil:
				use[i].ram += *res.RamMb
			case res.DiskMb != nil:
				use[i].disk += *res.DiskMb
			}
		}
	}
	agg := func(i int) *aurora.ResourceAggregate { return aggregate(use[i].cpu, use[i].ram, use[i].disk) }
	return a.ok(&aurora.Result_{GetQuotaResult_: &aurora.GetQuotaResult_{
		Quota:                       clone(quota),
		ProdSharedConsumption:       agg(0),
		NonProdSharedConsumption:    agg(1),
		ProdDedicatedConsumption:    agg(2),
		NonProdDedicatedConsumption: agg(3),
	}}), nil
}

func aggregate(cpu float64, ram, disk int64) *aurora.ResourceAggregate {
	return &aurora.ResourceAggregate{Resources: []*aurora.Resource{{NumCpus: &cpu}, {RamMb: &ram}, {DiskMb: &disk}}}
}
