package auroratest

import (
	"context"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// A Recoverer is an Executor that can tell whether it knows a task, and
// take back tasks it ran before the scheduler restarted, as Mesos agents
// and Thermos' checkpoints let Aurora's tasks outlive a scheduler restart.
//
// The scheduler calls Recover for every task it has on an agent (ASSIGNED
// to KILLING) when it starts on a DataDir that holds such tasks, and on
// triggerExplicitTaskReconciliation. Recover returns true when the task is
// known: launched by this executor, or still running from before and
// adopted, its later updates then going through report as after Launch.
// A known task that has ended on its agent is reported, before Recover
// returns, in its terminal state with the message LatestTaskState, as the
// Mesos master answers an explicit reconciliation with a task's latest
// state: the scheduler applies it as any report, so a task a recovered
// backup had RUNNING that has FINISHED since is FINISHED. False makes the
// scheduler mark the task LOST, as Mesos' reconciliation reports a task
// its agent does not know; Aurora then reschedules it. Recover must return
// promptly.
//
// After a restart, the tasks of an Executor that is not a Recoverer are
// all LOST.
type Recoverer interface {
	Executor
	Recover(ctx context.Context, t LaunchedTask, report func(StatusUpdate)) bool
}

// lostOnReconciliation is the message of a task its agent does not know,
// as Mesos' master words it.
const lostOnReconciliation = "Reconciliation: Task is unknown to the agent"

type reconItem struct {
	l    LaunchedTask
	kill bool // a kill was asked for before the restart
}

// openStorage opens DataDir and loads the state in it; the tasks that
// were on agents are reconciled by the loop. The lock is held.
func (s *Server) openStorage() error {
	db, err := openDB(s.DataDir)
	if err != nil {
		return err
	}
	st, _, clock, err := s.readState(db)
	if err != nil {
		db.Close()
		return err
	}
	if clock.After(s.epoch) {
		s.epoch = clock
	}
	s.st = st
	st.queueReconcile(true)
	return nil
}

// queueReconcile asks the loop to reconcile every task on an agent.
func (st *state) queueReconcile(restarted bool) {
	for _, t := range st.tasks {
		if assignedStates[t.status] && !terminalStates[t.status] {
			st.reconcile = append(st.reconcile, t.id)
		}
	}
	st.restarted = st.restarted || restarted
	st.s.wake()
}

// reconciling takes the queued reconciliation, but for the tasks about
// to be launched, which the executor cannot know yet.
func (st *state) reconciling(launching []LaunchedTask) ([]reconItem, bool) {
	if len(st.reconcile) == 0 {
		return nil, false
	}
	skip := map[string]bool{}
	for _, l := range launching {
		skip[l.TaskID] = true
	}
	var out []reconItem
	for _, id := range st.reconcile {
		t := st.byID[id]
		if t == nil || terminalStates[t.status] || !assignedStates[t.status] || skip[id] {
			continue
		}
		kill := false
		switch t.status {
		case aurora.ScheduleStatus_KILLING, aurora.ScheduleStatus_RESTARTING, aurora.ScheduleStatus_DRAINING, aurora.ScheduleStatus_PREEMPTING:
			kill = true
		}
		out = append(out, reconItem{l: st.launchOf(t), kill: kill})
	}
	restarted := st.restarted
	st.reconcile, st.restarted = nil, false
	return out, restarted
}

// reconcile asks the executor about each task, outside the lock: unknown
// tasks are LOST; adopted tasks a kill was asked for are killed again.
func (s *Server) reconcile(items []reconItem, restarted bool) {
	rec, ok := s.Executor.(Recoverer)
	for _, it := range items {
		id := it.l.TaskID
		if !ok && !restarted {
			continue // an executor in this process loses no task
		}
		if ok && rec.Recover(s.ctx, it.l, s.reporter(id)) {
			if it.kill && restarted {
				s.Executor.Kill(id)
			}
			continue
		}
		s.report(StatusUpdate{TaskID: id, Status: aurora.ScheduleStatus_LOST, Message: lostOnReconciliation})
	}
}

// reporter is the report function given to the executor for task id.
func (s *Server) reporter(id string) func(StatusUpdate) {
	return func(u StatusUpdate) {
		if u.TaskID == "" {
			u.TaskID = id
		}
		s.report(u)
	}
}

// commit writes the state's changes to storage, when there is storage.
// The lock is held.
func (s *Server) commit() {
	if s.st == nil || s.st.store == nil {
		return
	}
	if err := s.st.store.commit(s.st); err != nil {
		if s.Logger != nil {
			s.Logger.Error("auroratest: writing to storage: " + err.Error())
		}
	}
}
