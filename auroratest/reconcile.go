package auroratest

import (
	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// A Lister is an Executor that can list the tasks its agents hold, as a
// Mesos master answers implicit reconciliation (Aurora sends it an empty
// task list) with the latest status of every task its agents know.
//
// Statuses returns the latest status of every task the executor's agents
// hold, each once: launched, or adopted by Recover, and not ended, with
// the state it is in on its agent (STARTING for one not started yet, as
// Aurora reads Mesos' TASK_STAGING). An executor that can lose reports
// may list a task that ended meanwhile with its terminal state. The
// message is ignored: Mesos' master words every status of an implicit
// reconciliation LatestTaskState.
// Statuses is called on triggerImplicitTaskReconciliation, outside the
// scheduler's lock; it must return promptly and may run concurrently
// with Launch, Kill and the reports.
//
// The scheduler applies each status as Aurora's state machine applies a
// status update (it does the same for every report): a task it holds that
// can move to the status does (one RUNNING on the agent that FINISHED
// while its report was lost is FINISHED); a task reported ASSIGNED,
// STARTING or RUNNING that the scheduler does not hold (pruned, or left
// out of the backup a recovery committed), holds in a terminal state (as
// forceTaskState leaves it) or is killing, restarting, draining or
// preempting, is killed through Kill, as Aurora kills such a task.
//
// With an Executor that is not a Lister, implicit reconciliation changes
// nothing: the scheduler learns of a task only through its reports.
type Lister interface {
	Executor
	Statuses() []StatusUpdate
}

// LatestTaskState is the message of every status the Mesos master sends
// in answer to a reconciliation of a task it knows, implicit or explicit.
// A Recoverer reports a task that has ended on its agent with it.
const LatestTaskState = "Reconciliation: Latest task state"

// aliveStates are the states of a task that runs, or is about to, on its
// agent.
var aliveStates = map[aurora.ScheduleStatus]bool{
	aurora.ScheduleStatus_ASSIGNED: true,
	aurora.ScheduleStatus_STARTING: true,
	aurora.ScheduleStatus_RUNNING:  true,
}

// killUnwanted kills the task of u, reported alive by its agent, when the
// scheduler does not want it to run: it has no such task, has it in a
// terminal state, or is already taking it down. Aurora's TaskStateMachine
// adds a KILL for each of these (a task it does not hold starts in its
// DELETED state). It reports whether it killed. The lock is held.
func (st *state) killUnwanted(u StatusUpdate) bool {
	if !aliveStates[u.Status] {
		return false
	}
	t := st.byID[u.TaskID]
	switch {
	case t == nil:
		st.kills = append(st.kills, u.TaskID)
	case terminalStates[t.status] || interrupting(t.status):
		st.kill(t)
	default:
		return false
	}
	st.s.logf("killing %s, reported %v by its agent", u.TaskID, u.Status)
	st.s.wake()
	return true
}

// reconcileImplicit asks the executor, outside the lock, for the latest
// status of every task it holds, and applies each as Mesos' answer to an
// implicit reconciliation.
func (s *Server) reconcileImplicit() {
	l, ok := s.Executor.(Lister)
	if !ok {
		return
	}
	for _, u := range l.Statuses() {
		u.Message = LatestTaskState
		s.report(u)
	}
}
