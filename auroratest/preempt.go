package auroratest

import (
	"sort"
	"time"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// Aurora's -preemption_delay and -preemption_slot_search_interval
// defaults.
const (
	preemptionDelay    = 3 * time.Minute
	slotSearchInterval = time.Minute
)

// preemptible reports whether a pending task of config p may preempt a
// task of config v (PreemptionVictimFilter.preemptionFilter): a
// non-preemptible (production) task preempts preemptible ones; between
// tasks of equal preemptibility only a higher priority of the same role
// preempts.
func (s *Server) preemptible(p, v *aurora.TaskConfig) bool {
	pp, vp := s.Tiers[p.GetTier()].Preemptible, s.Tiers[v.GetTier()].Preemptible
	switch {
	case !pp && vp:
		return true
	case pp == vp:
		return p.GetJob().GetRole() == v.GetJob().GetRole() && p.Priority > v.Priority
	}
	return false
}

// preempt is Aurora's PendingTaskProcessor and Preemptor: every
// slotSearchInterval, each task PENDING for longer than preemptionDelay
// looks for an agent where preempting some tasks (the largest first)
// would make room; those tasks go PREEMPTING with Aurora's message and the
// agent is held for the pending task's group until it is placed. It
// reports whether pending tasks may preempt later.
func (st *state) preempt(now time.Time) bool {
	if len(st.reserved) > 0 {
		waiting := map[string]bool{}
		for t := range st.idx.pending {
			waiting[t.cfg.key] = true
		}
		for a, key := range st.reserved {
			if !waiting[key] {
				delete(st.reserved, a)
			}
		}
	}
	if len(st.idx.pending) == 0 {
		return false
	}
	if now.Sub(st.lastSearch) < slotSearchInterval {
		return true
	}
	st.lastSearch = now
	held := map[string]bool{}
	for _, key := range st.reserved {
		held[key] = true
	}
	// A search that found nothing for a task finds nothing for the other
	// tasks of its group in this pass: they ask the same of the same
	// agents, and only a successful search changes anything.
	failed := map[string]bool{}
	for _, t := range st.pendingByPriority() {
		if held[t.cfg.key] || failed[t.cfg.key] || now.Sub(time.UnixMilli(t.lastEventTime())) < preemptionDelay {
			continue
		}
		if st.preemptFor(t) {
			held[t.cfg.key] = true
		} else {
			failed[t.cfg.key] = true
		}
	}
	return true
}

// preemptFor finds victims for t on one agent and preempts them.
func (st *state) preemptFor(t *taskRec) bool {
	req := st.request(t.cfg.tc)
	agg := st.jobAttrs(t.job)
	for _, a := range st.agents {
		if _, ok := st.reserved[a]; ok || a.cut != nil {
			continue
		}
		var victims []*taskRec
		for v := range a.tasks {
			switch v.status {
			case aurora.ScheduleStatus_ASSIGNED, aurora.ScheduleStatus_STARTING, aurora.ScheduleStatus_RUNNING:
				if st.s.preemptible(t.cfg.tc, v.cfg.tc) {
					victims = append(victims, v)
				}
			}
		}
		if len(victims) == 0 {
			continue
		}
		sort.Slice(victims, func(i, j int) bool {
			if c := compareResources(victims[i].req, victims[j].req); c != 0 {
				return c > 0
			}
			return victims[i].id < victims[j].id
		})
		free := a.free()
		for i, v := range victims {
			free = free.add(v.req)
			if len(st.vetoes(a, free, t.cfg.tc, req, agg)) > 0 {
				continue
			}
			for _, v := range victims[:i+1] {
				st.changeState(v, aurora.ScheduleStatus_PREEMPTING, "Preempting in favor of "+t.id)
			}
			st.reserved[a] = t.cfg.key
			return true
		}
	}
	return false
}

// compareResources orders bags as Aurora's PreemptionVictimFilter.ORDER:
// by each resource type in turn.
func compareResources(a, b resources) int {
	for _, rt := range resourceTypes {
		x, y := rt.get(a), rt.get(b)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}
