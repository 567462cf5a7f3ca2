package auroratest

import (
	"sort"
	"time"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// The scheduling loop runs after every call and status update; what it
// looks at each round is indexed by state, so that a round costs what is
// PENDING, THROTTLED or PARTITIONED, not every task the scheduler holds.

// taskIndex is the tasks the scheduling loop works on, kept up to date by
// state.indexStatus as tasks change state.
type taskIndex struct {
	next    int64             // order of the next task inserted
	pending map[*taskRec]bool // PENDING tasks
	timed   map[*taskRec]bool // THROTTLED and PARTITIONED tasks: they wait for a time
}

// indexStatus records that t goes from its status to to (to -1: t is
// deleted).
func (st *state) indexStatus(t *taskRec, to aurora.ScheduleStatus) {
	if st.idx.pending == nil {
		st.idx.pending, st.idx.timed = map[*taskRec]bool{}, map[*taskRec]bool{}
	}
	delete(st.idx.pending, t)
	delete(st.idx.timed, t)
	switch to {
	case aurora.ScheduleStatus_PENDING:
		st.idx.pending[t] = true
	case aurora.ScheduleStatus_THROTTLED, aurora.ScheduleStatus_PARTITIONED:
		st.idx.timed[t] = true
	}
}

// indexNew gives t, just appended to st.tasks, its order and indexes its
// status.
func (st *state) indexNew(t *taskRec) {
	t.order = st.idx.next
	st.idx.next++
	st.indexStatus(t, t.status)
}

// byOrder returns the tasks of set in st.tasks' order.
func byOrder(set map[*taskRec]bool) []*taskRec {
	out := make([]*taskRec, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].order < out[j].order })
	return out
}

// pendingByPriority returns the PENDING tasks in Aurora's scheduling
// order: highest priority first, then oldest, then first inserted.
func (st *state) pendingByPriority() []*taskRec {
	out := make([]*taskRec, 0, len(st.idx.pending))
	for t := range st.idx.pending {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		pi, pj := out[i].cfg.tc.Priority, out[j].cfg.tc.Priority
		if pi != pj {
			return pi > pj
		}
		if ei, ej := out[i].lastEventTime(), out[j].lastEventTime(); ei != ej {
			return ei < ej
		}
		return out[i].order < out[j].order
	})
	return out
}

// wakeTimed moves THROTTLED tasks whose penalty is over to PENDING and
// PARTITIONED ones partitioned for too long to LOST, and reports whether
// some still wait.
func (st *state) wakeTimed(now time.Time) bool {
	busy := false
	for _, t := range byOrder(st.idx.timed) {
		switch t.status {
		case aurora.ScheduleStatus_THROTTLED:
			if !now.Before(t.throttle) {
				st.changeState(t, aurora.ScheduleStatus_PENDING, "")
			} else {
				busy = true
			}
		case aurora.ScheduleStatus_PARTITIONED:
			if due, ok := partitionDue(t); ok && !now.Before(due) {
				st.changeState(t, aurora.ScheduleStatus_LOST, msgPartitionedTooLong)
			} else if ok {
				busy = true
			}
		}
	}
	return busy
}

// taskID is id with every character other than a letter, digit, _ or -
// replaced by -, as Aurora's task ids have; ids that need no replacing
// (the usual ones) skip the regular expression.
func taskID(id string) string {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return nonTaskIDChars.ReplaceAllString(id, "-")
		}
	}
	return id
}
