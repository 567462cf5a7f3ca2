package auroratest

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

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
