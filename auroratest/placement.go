package auroratest

import (
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// Placement follows Aurora's TaskScheduler and SchedulingFilterImpl: each
// PENDING task (highest priority first, then oldest) is matched against
// the agents as Aurora matches it against offers, and goes to the first one
// that vetoes nothing. The vetoes of the agents that refused a task group
// are kept as Aurora's NearestFit keeps them: the set with the lowest
// score is the group's pending reason.

// A veto is one of Aurora's SchedulingFilter.Veto: its reason as
// getPendingReason reports it, and its score.
type veto struct {
	reason string
	score  int
}

// Aurora's veto scores (SchedulingFilter.VetoType).
const (
	scoreResources   = 1000
	scoreConstraint  = 10000
	scoreMaintenance = 100000
	scoreDedicated   = 1000000
)

// resourceType is one of Aurora's ResourceType values, in their order:
// the name vetoes and quota messages give, the unit of quota messages and
// the scaling range of veto scores.
type resourceType struct {
	name, unit string
	scale      float64
	get        func(resources) float64
	veto       string // the reason of its veto
}

var resourceTypes = []resourceType{
	{"CPU", "core(s)", 16, func(r resources) float64 { return r.cpus }, "Insufficient: CPU"},
	{"RAM", "MB", 24 * 1024, func(r resources) float64 { return r.ram }, "Insufficient: RAM"},
	{"disk", "MB", 450 * 1024, func(r resources) float64 { return r.disk }, "Insufficient: disk"},
	{"ports", "count", 1000, func(r resources) float64 { return float64(r.ports) }, "Insufficient: ports"},
	{"GPU", "core(s)", 4, func(r resources) float64 { return r.gpus }, "Insufficient: GPU"},
}

// taskResources is the task's resources as its config asks for them.
func taskResources(tc *aurora.TaskConfig) resources { return sumResources(tc.Resources) }

// sumResources adds up a list of Aurora resources.
func sumResources(rs []*aurora.Resource) resources {
	var r resources
	for _, res := range rs {
		switch {
		case res.NumCpus != nil:
			r.cpus += *res.NumCpus
		case res.RamMb != nil:
			r.ram += float64(*res.RamMb)
		case res.DiskMb != nil:
			r.disk += float64(*res.DiskMb)
		case res.NumGpus != nil:
			r.gpus += float64(*res.NumGpus)
		case res.NamedPort != nil:
			r.ports++
		}
	}
	return r
}

// request is what placing the task takes from an agent: its resources
// plus its executor's overhead (executorOverhead), as Aurora's
// ResourceManager bagFromTask computes it.
func (st *state) request(tc *aurora.TaskConfig) resources {
	r := taskResources(tc)
	cpus, ram := st.s.executorOverhead(tc)
	r.cpus += cpus
	r.ram += ram
	return r
}

func isDedicated(tc *aurora.TaskConfig) bool {
	for _, c := range tc.Constraints {
		if c != nil && c.Name == dedicatedAttribute {
			return true
		}
	}
	return false
}

// jobAttrs counts, for one job, the tasks in SLAVE_ASSIGNED_STATES on
// agents with each attribute value (Aurora's AttributeAggregate).
type jobAttrs map[attrKey]int

// attrKey is one attribute value of an agent.
type attrKey struct{ name, value string }

func (j jobAttrs) add(a *agent, n int) {
	for name, values := range a.attrs {
		for _, v := range values {
			j[attrKey{name, v}] += n
		}
	}
}

// vetoes is SchedulingFilterImpl.filter: the vetoes of placing a task of
// tc, asking for req, on a with free resources free, given the job's
// attribute aggregate, checked in Aurora's order with its early returns.
func (st *state) vetoes(a *agent, free resources, tc *aurora.TaskConfig, req resources, agg jobAttrs) []veto {
	if a.dedicated && !isDedicated(tc) {
		return []veto{{"Host is dedicated", scoreDedicated}}
	}
	switch st.hostMode(a.host) {
	case aurora.MaintenanceMode_DRAINING:
		return []veto{{"Host draining for maintenance", scoreMaintenance}}
	case aurora.MaintenanceMode_DRAINED:
		return []veto{{"Host drained for maintenance", scoreMaintenance}}
	}
	// Value constraints first, then limits; the first veto wins.
	for pass := 0; pass < 2; pass++ {
		for _, c := range tc.Constraints {
			if c == nil || c.Constraint == nil {
				continue
			}
			values, has := a.attrs[c.Name]
			switch {
			case pass == 0 && c.Constraint.Value != nil:
				vc := c.Constraint.Value
				match := false
				for _, v := range vc.Values {
					if contains(values, v) {
						match = true
						break
					}
				}
				if vc.Negated == match {
					return []veto{{"Constraint not satisfied: " + c.Name, scoreConstraint}}
				}
			case pass == 1 && c.Constraint.Limit != nil:
				if !has {
					return []veto{{"Constraint not satisfied: " + c.Name, scoreConstraint}}
				}
				for _, v := range values {
					if int(c.Constraint.Limit.Limit) <= agg[attrKey{c.Name, v}] {
						return []veto{{"Limit not satisfied: " + c.Name, scoreConstraint}}
					}
				}
			}
		}
	}
	var out []veto
	for _, rt := range resourceTypes {
		if tooLarge := rt.get(req) - rt.get(free); tooLarge > 0 {
			score := min(scoreResources, int(scoreResources*tooLarge)/int(rt.scale))
			out = append(out, veto{rt.veto, score})
		}
	}
	return out
}

func vetoScore(vs []veto) int {
	n := 0
	for _, v := range vs {
		n += v.score
	}
	return n
}

func vetoReason(vs []veto) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.reason
	}
	return strings.Join(parts, ",")
}

// group is one task group (tasks of the same config) during a placement
// pass: the agents still worth trying and the nearest fit seen.
//
// Its candidates are the agents starting at start, from which those that
// refused the group are dropped by moving the last candidate into their
// place. The list is not copied: candidate i is agents[(start+i) mod
// len(agents)] unless an agent was moved there (moved), so a group costs
// what its tasks try, not the number of agents. A group refused by many
// agents (an eighth of them: it has computed as many vetoes) has its list
// copied (cands) once, as maps cost more than slices.
type group struct {
	key     string
	agents  []*agent
	start   int
	n       int            // candidates left
	moved   map[int]*agent // candidates moved from the end by drop
	cands   []*agent       // the candidates, once copied
	pos     int
	best    []veto
	seen    bool
	pending bool
}

// copyAfterDrops is how many moved candidates a group keeps in its map
// before it copies its list, at least: an eighth of the agents, so that
// the copy costs less than the vetoes that led to it.
const copyAfterDrops = 32

// at is candidate i.
func (g *group) at(i int) *agent {
	if g.cands != nil {
		return g.cands[i]
	}
	if a, ok := g.moved[i]; ok {
		return a
	}
	return g.agents[(g.start+i)%len(g.agents)]
}

// place runs one placement pass when something changed since the last:
// tasks became PENDING, resources were freed, hosts changed maintenance
// mode. Within a pass an agent that refused a group never accepts it
// later (placing only takes resources), so it is dropped from the group's
// candidates: a pass costs O(pending·log(pending) + the vetoes computed),
// at most one veto per task placed plus one per group and agent.
func (st *state) place() {
	if !st.dirty {
		return
	}
	st.dirty = false
	pending := st.pendingByPriority()
	if len(pending) == 0 {
		return
	}
	groups := map[string]*group{}
	aggs := map[jobKey]jobAttrs{}
	for _, t := range pending {
		g := groups[t.cfg.key]
		if g == nil {
			// Start each group at a different agent to spread jobs:
			// the one after the last agent given a task (next fit), so
			// that groups do not all try the agents earlier groups
			// filled (which made a pass cost groups² vetoes).
			g = &group{key: t.cfg.key, agents: st.agents, n: len(st.agents)}
			if len(st.agents) > 0 {
				g.start = st.rr % len(st.agents)
			}
			st.rr++
			groups[t.cfg.key] = g
		}
		agg := aggs[t.job]
		if agg == nil {
			agg = st.jobAttrs(t.job)
			aggs[t.job] = agg
		}
		req := st.request(t.cfg.tc)
		placed := false
		for g.n > 0 {
			if g.pos >= g.n {
				g.pos = 0
			}
			a := g.at(g.pos)
			if a.cut != nil {
				g.drop() // a partitioned agent makes no offers
				continue
			}
			if r, ok := st.reserved[a]; ok && r != g.key {
				g.drop()
				continue
			}
			vs := st.vetoes(a, a.free(), t.cfg.tc, req, agg)
			if len(vs) == 0 {
				st.assign(t, a, req)
				st.rr = a.index + 1
				agg.add(a, 1)
				if st.reserved[a] == g.key {
					delete(st.reserved, a)
				}
				g.pos++
				placed = true
				break
			}
			if !g.seen || vetoScore(vs) < vetoScore(g.best) {
				g.best, g.seen = vs, true
			}
			g.drop()
		}
		if !placed {
			g.pending = true
		}
	}
	for key, g := range groups {
		if g.pending {
			st.fits[key] = g.best
		} else {
			delete(st.fits, key)
		}
	}
}

// drop removes the current candidate, moving the last one in its place.
func (g *group) drop() {
	last := g.n - 1
	if g.cands != nil {
		g.cands[g.pos] = g.cands[last]
		g.cands = g.cands[:last]
		g.n = last
		return
	}
	if len(g.moved) >= max(copyAfterDrops, len(g.agents)/8) {
		cands := make([]*agent, g.n)
		for i := range cands {
			cands[i] = g.at(i)
		}
		g.cands, g.moved = cands, nil
		g.drop()
		return
	}
	if g.pos != last {
		if g.moved == nil {
			g.moved = map[int]*agent{}
		}
		g.moved[g.pos] = g.at(last)
	}
	delete(g.moved, last)
	g.n = last
}

// jobAttrs builds the attribute aggregate of a job's assigned tasks.
func (st *state) jobAttrs(job jobKey) jobAttrs {
	agg := jobAttrs{}
	for _, t := range st.byJob[job] {
		if t.agent != nil && t.holds {
			agg.add(t.agent, 1)
		}
	}
	return agg
}

// assign moves t to ASSIGNED on a: it takes req from the agent, allocates
// its named ports from the agent's ranges and queues its launch.
func (st *state) assign(t *taskRec, a *agent, req resources) {
	t.agent, t.host, t.slaveID = a, a.host, a.id
	t.req, t.holds = req, true
	a.used = a.used.add(req)
	a.tasks[t] = true
	t.ports = map[string]int32{}
	var names []string
	for _, r := range t.cfg.tc.Resources {
		if r.NamedPort != nil {
			names = append(names, *r.NamedPort)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		p := st.agentPort(a)
		a.ports[p] = true
		t.ports[n] = p
	}
	st.record(t, aurora.ScheduleStatus_ASSIGNED, "")
	st.launches = append(st.launches, st.launchOf(t))
}

// launchOf is what the executor is given to run t.
func (st *state) launchOf(t *taskRec) LaunchedTask {
	l := LaunchedTask{
		TaskID:       t.id,
		Role:         t.job.role,
		Environment:  t.job.env,
		Name:         t.job.name,
		Instance:     t.instance,
		Host:         t.host,
		AgentID:      t.slaveID,
		Ports:        clonePorts(t.ports),
		ExecutorName: t.cfg.tc.GetExecutorConfig().GetName(),
		Data:         t.cfg.tc.GetExecutorConfig().GetData(),
		Config:       clone(t.cfg.tc),
	}
	st.s.describeExecutor(&l)
	return l
}

// agentPort picks a port of a's ranges that no task holds (on any agent:
// all simulated agents share this machine's loopback interface) and that
// can be bound on 127.0.0.1 now, so that an executor running real
// processes can listen on it. When every port of the ranges is taken by
// something else on this machine it falls back to a free ephemeral port.
func (st *state) agentPort(a *agent) int32 {
	for _, r := range a.ranges {
		for p := r.first; p <= r.last; p++ {
			if a.ports[p] || st.ports[p] {
				continue
			}
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(p))))
			if err != nil {
				continue
			}
			l.Close()
			st.ports[p] = true
			return p
		}
	}
	return st.freePort()
}

// release gives back what t holds on its agent, once it is terminal or
// deleted, and moves a DRAINING host with no task left to DRAINED.
func (st *state) release(t *taskRec) {
	for _, p := range t.ports {
		delete(st.ports, p)
		if t.agent != nil {
			delete(t.agent.ports, p)
		}
	}
	if t.agent == nil || !t.holds {
		return
	}
	a := t.agent
	t.holds = false
	a.used = a.used.sub(t.req)
	delete(a.tasks, t)
	st.dirty = true
	st.maybeDrained(a.host)
}

// pendingReason is the reason getPendingReason gives for t.
func (st *state) pendingReason(t *taskRec) string {
	return vetoReason(st.fits[t.cfg.key])
}
