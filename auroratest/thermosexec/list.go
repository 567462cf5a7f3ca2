//go:build linux

package thermosexec

import (
	"slices"
	"sort"

	"github.com/paypal/gorealis/gen-go/apache/aurora"

	"github.com/nixrealis/nixrealis/auroratest"
)

var _ auroratest.Lister = (*Executor)(nil)

// Statuses implements auroratest.Lister, as a Mesos agent answers the
// master's implicit reconciliation: every Thermos and custom task the
// executor holds that has not ended, launched or adopted by Recover, with
// the state its runner last reported from its processes (STARTING before
// the first report), in task id order. A task being killed is RUNNING
// until its processes are gone, as Thermos reports no KILLING.
func (e *Executor) Statuses() []auroratest.StatusUpdate {
	tasks, custom := e.held()
	var out []auroratest.StatusUpdate
	add := func(id, state string) {
		if u, ok := heldStatus(id, state); ok {
			out = append(out, u)
		}
	}
	for _, t := range tasks {
		t.mu.Lock()
		state := t.state
		t.mu.Unlock()
		add(t.lt.TaskID, state)
	}
	for _, r := range custom {
		r.mu.Lock()
		state, ended := r.state, r.ended
		r.mu.Unlock()
		if !ended {
			add(r.lt.TaskID, state)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TaskID < out[j].TaskID })
	return out
}

// heldStatus is the status of task id on its agent given the state last
// reported ("" before any), and false once the task has ended.
func heldStatus(id, state string) (auroratest.StatusUpdate, bool) {
	if state == "" {
		return auroratest.StatusUpdate{TaskID: id, Status: starting}, true
	}
	s, err := aurora.ScheduleStatusFromString(state)
	if err != nil || slices.Contains(aurora.TERMINAL_STATES, s) {
		return auroratest.StatusUpdate{}, false
	}
	return auroratest.StatusUpdate{TaskID: id, Status: s}, true
}

// endedOf is the terminal status of the Thermos task tk or, when tk is
// nil, of the custom task cr, and false while it has not ended.
func endedOf(tk *task, cr *customRun) (auroratest.StatusUpdate, bool) {
	var id, state string
	ended := true
	if tk != nil {
		tk.mu.Lock()
		id, state = tk.lt.TaskID, tk.state
		tk.mu.Unlock()
	} else {
		cr.mu.Lock()
		id, state, ended = cr.lt.TaskID, cr.state, cr.ended
		cr.mu.Unlock()
	}
	if _, live := heldStatus(id, state); live || !ended {
		return auroratest.StatusUpdate{}, false
	}
	s, err := aurora.ScheduleStatusFromString(state)
	return auroratest.StatusUpdate{TaskID: id, Status: s}, err == nil
}
