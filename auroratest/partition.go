package auroratest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// Network partitions, as Mesos and Aurora 0.23 handle them. A partitioned
// agent is one the Mesos master cannot reach: it makes no offers, its
// tasks are reported TASK_UNREACHABLE (Aurora's PARTITIONED), and what its
// executor reports meanwhile — the tasks keep running — is held, as the
// agent's status update manager holds unacknowledged updates, until the
// agent is restored. Kills the scheduler sends it are held too.
//
// Aurora's PartitionManager then moves a PARTITIONED task to LOST ("Task
// partitioned for too long.", rescheduled) delay_secs after it was
// partitioned when its PartitionPolicy says reschedule, or when it has no
// policy (delay 0); with reschedule=false it stays PARTITIONED. On restore
// a task still PARTITIONED gets the agent's held updates, or, when there
// are none, goes back to the state it was in; a task the scheduler has
// meanwhile given up on is killed. A task partitioned while being killed,
// restarted, drained or preempted (or killed while partitioned) goes LOST
// at once ("Action performed on partitioned task, marking as LOST."),
// bypassing its policy, as Aurora's TaskStateMachine does.

// Aurora's messages: PartitionManager.TRANSITION_MESSAGE and
// StateManagerImpl's TRANSITION_TO_LOST.
const (
	msgPartitionedTooLong = "Task partitioned for too long."
	msgLostPartitioned    = "Action performed on partitioned task, marking as LOST."
)

// ErrUnknownAgent is returned by Partition and Restore for a host or agent
// id no agent has.
var ErrUnknownAgent = errors.New("auroratest: no such agent")

// unreachable is the message of a task's PARTITIONED event: the Mesos
// master's TASK_UNREACHABLE update (reason REASON_SLAVE_REMOVED).
func unreachable(a *agent) string {
	return fmt.Sprintf("Agent %s (%s) is unreachable", a.id, a.host)
}

// partitionState is what a partitioned agent holds until it is restored.
type partitionState struct {
	Cut   []string       // ids of the tasks on the agent when it was cut off
	Held  []StatusUpdate // executor updates not yet delivered, in order
	Kills []string       // kills not yet delivered, in order
}

// Partition cuts off every agent on host from the scheduler, as a network
// partition between the Mesos master and the agents would: their tasks go
// PARTITIONED and are handled per their job's PartitionPolicy, the tasks
// keep running, and their status updates are held until Restore. Two
// agents may share a host; PartitionAgent cuts off one of them.
// Partitioning a partitioned agent changes nothing.
func (s *Server) Partition(host string) error {
	return s.partitionWhere(func(a *agent) bool { return a.host == host }, "host "+host, true)
}

// Restore reconnects every agent on host cut off by Partition: the held
// status updates are delivered, PARTITIONED tasks with none go back to the
// state they were in, and tasks the scheduler gave up on meanwhile (LOST
// and replaced) are killed on the agent. Restoring a connected agent
// changes nothing.
func (s *Server) Restore(host string) error {
	return s.partitionWhere(func(a *agent) bool { return a.host == host }, "host "+host, false)
}

// PartitionAgent is Partition for the one agent with Mesos agent id id
// (a task's slaveId, LaunchedTask.AgentID).
func (s *Server) PartitionAgent(id string) error {
	return s.partitionWhere(func(a *agent) bool { return a.id == id }, "agent id "+id, true)
}

// RestoreAgent is Restore for the one agent with Mesos agent id id.
func (s *Server) RestoreAgent(id string) error {
	return s.partitionWhere(func(a *agent) bool { return a.id == id }, "agent id "+id, false)
}

func (s *Server) partitionWhere(match func(*agent) bool, what string, cut bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st == nil || s.closed {
		return errors.New("auroratest: Partition/Restore: the server is not running: call Start first")
	}
	var found []*agent
	for _, a := range s.st.agents {
		if match(a) {
			found = append(found, a)
		}
	}
	if len(found) == 0 {
		return fmt.Errorf("%w: %s: name a host or agent id of Server.Agents", ErrUnknownAgent, what)
	}
	for _, a := range found {
		if cut {
			s.st.partition(a)
		} else {
			s.st.restore(a)
		}
	}
	s.commit()
	s.wake()
	return nil
}

// partition cuts a off: its active tasks go PARTITIONED (ASSIGNED ones
// cannot, in Aurora's state machine, and stay ASSIGNED).
func (st *state) partition(a *agent) {
	if a.cut != nil {
		return
	}
	tasks := make([]*taskRec, 0, len(a.tasks))
	for t := range a.tasks {
		tasks = append(tasks, t)
	}
	sort.Slice(tasks, func(i, j int) bool { return tasks[i].id < tasks[j].id })
	a.cut = &partitionState{Cut: []string{}}
	for _, t := range tasks {
		a.cut.Cut = append(a.cut.Cut, t.id)
		st.changeState(t, aurora.ScheduleStatus_PARTITIONED, unreachable(a))
	}
	st.s.logf("agent %s (%s) partitioned with %d tasks", a.id, a.host, len(tasks))
}

// restore reconnects a.
func (st *state) restore(a *agent) {
	p := a.cut
	if p == nil {
		return
	}
	a.cut = nil
	held := map[string][]StatusUpdate{}
	for _, u := range p.Held {
		held[u.TaskID] = append(held[u.TaskID], u)
	}
	for _, id := range p.Cut {
		t := st.byID[id]
		if t == nil || t.status != aurora.ScheduleStatus_PARTITIONED || len(held[id]) > 0 {
			continue
		}
		st.changeState(t, previousStatus(t), "")
	}
	for _, u := range p.Held {
		st.apply(u)
	}
	st.kills = append(st.kills, p.Kills...)
	st.dirty = true
	st.s.logf("agent %s (%s) restored", a.id, a.host)
}

// previousStatus is the state t was in before it was last partitioned.
func previousStatus(t *taskRec) aurora.ScheduleStatus {
	for i := len(t.events) - 1; i > 0; i-- {
		if t.events[i].Status == aurora.ScheduleStatus_PARTITIONED {
			return t.events[i-1].Status
		}
	}
	return aurora.ScheduleStatus_RUNNING
}

// hold keeps u when t's agent is partitioned, and reports whether it did.
func (st *state) hold(t *taskRec, u StatusUpdate) bool {
	if t.agent == nil || t.agent.cut == nil {
		return false
	}
	t.agent.cut.Held = append(t.agent.cut.Held, u)
	return true
}

// kill sends a kill for t to its agent, or holds it while the agent is
// partitioned.
func (st *state) kill(t *taskRec) {
	if t.agent != nil && t.agent.cut != nil {
		t.agent.cut.Kills = append(t.agent.cut.Kills, t.id)
		return
	}
	st.kills = append(st.kills, t.id)
}

// partitionDue is when PartitionManager moves a PARTITIONED task to LOST,
// and false when its policy keeps it PARTITIONED. The delay counts from
// the PARTITIONED event, so after a restart the remaining delay is what
// it was, as Aurora computes it on failover.
func partitionDue(t *taskRec) (time.Time, bool) {
	policy := t.cfg.tc.PartitionPolicy
	if policy != nil && !policy.Reschedule {
		return time.Time{}, false
	}
	var delay time.Duration
	if policy != nil {
		delay = time.Duration(policy.GetDelaySecs()) * time.Second
	}
	return time.UnixMilli(t.lastEventTime()).Add(delay), true
}

// compactPartitionEvents drops a PARTITIONED -> X cycle before a new
// PARTITIONED event (X, PARTITIONED, X becomes X), as Aurora's
// StateManagerImpl does to bound the events of a flapping agent's tasks.
func compactPartitionEvents(events []*aurora.TaskEvent) []*aurora.TaskEvent {
	n := len(events)
	if n >= 3 && events[n-2].Status == aurora.ScheduleStatus_PARTITIONED && events[n-3].Status == events[n-1].Status {
		return slices.Clip(events[:n-2])
	}
	return events
}

// partitionRecords are the partitioned agents, for storage: the Mesos
// master's registry of unreachable agents and what their status update
// managers hold.
func (st *state) partitionRecords() map[string]string {
	out := map[string]string{}
	for _, a := range st.agents {
		if a.cut != nil {
			out[a.id] = mustJSON(a.cut)
		}
	}
	return out
}

// loadPartition restores a partitioned agent from storage.
func (st *state) loadPartition(id string, v []byte) error {
	var p partitionState
	if err := json.Unmarshal(v, &p); err != nil {
		return fmt.Errorf("partition of agent %s: %w", id, err)
	}
	for _, a := range st.agents {
		if a.id == id {
			a.cut = &p
		}
	}
	return nil
}

// partitionHandler serves POST /admin/partition and /admin/restore with
// host=H or agent=ID: the devcluster's control of partitions. With basic
// authentication on, it needs the credentials.
func (s *Server) partitionHandler(cut bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		if s.Username != "" {
			if u, p, ok := r.BasicAuth(); !ok || u != s.Username || p != s.Password {
				w.Header().Set("WWW-Authenticate", `Basic realm="auroratest"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		host, id := r.FormValue("host"), r.FormValue("agent")
		var err error
		switch {
		case (host == "") == (id == ""):
			http.Error(w, "give exactly one of host=HOST or agent=AGENT_ID", http.StatusBadRequest)
			return
		case host != "" && cut:
			err = s.Partition(host)
		case host != "":
			err = s.Restore(host)
		case cut:
			err = s.PartitionAgent(id)
		default:
			err = s.RestoreAgent(id)
		}
		if errors.Is(err, ErrUnknownAgent) {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "OK")
	})
}
