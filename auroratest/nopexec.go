package auroratest

import (
	"context"
	"sort"
	"sync"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// NopExecutor is the default Executor: it runs nothing, reporting each
// launched task STARTING and then RUNNING at once, and KILLED when it is
// killed. The zero value is ready to use.
type NopExecutor struct {
	// Fail, if not nil, is asked about every launched task; a non-empty
	// answer makes the task FAILED with that message right after
	// STARTING, as if its processes had failed.
	Fail func(LaunchedTask) string

	mu      sync.Mutex
	reports map[string]func(StatusUpdate)
}

var (
	_ Recoverer = (*NopExecutor)(nil)
	_ Lister    = (*NopExecutor)(nil)
)

// Launch reports t STARTING and then RUNNING, or FAILED if Fail says so.
func (e *NopExecutor) Launch(ctx context.Context, t LaunchedTask, report func(StatusUpdate)) {
	report(StatusUpdate{TaskID: t.TaskID, Status: aurora.ScheduleStatus_STARTING, Message: "Initializing sandbox."})
	if e.Fail != nil {
		if msg := e.Fail(t); msg != "" {
			report(StatusUpdate{TaskID: t.TaskID, Status: aurora.ScheduleStatus_FAILED, Message: msg})
			return
		}
	}
	e.mu.Lock()
	if e.reports == nil {
		e.reports = map[string]func(StatusUpdate){}
	}
	e.reports[t.TaskID] = report
	e.mu.Unlock()
	report(StatusUpdate{TaskID: t.TaskID, Status: aurora.ScheduleStatus_RUNNING})
}

// Kill reports the task KILLED.
func (e *NopExecutor) Kill(taskID string) {
	e.mu.Lock()
	report := e.reports[taskID]
	delete(e.reports, taskID)
	e.mu.Unlock()
	if report != nil {
		report(StatusUpdate{TaskID: taskID, Status: aurora.ScheduleStatus_KILLED, Message: "Killed by the executor."})
	}
}

// Recover knows every task: those it launched, and, after a scheduler
// restart, those launched before, which it takes back as still RUNNING
// (nothing of theirs runs to be lost).
func (e *NopExecutor) Recover(ctx context.Context, t LaunchedTask, report func(StatusUpdate)) bool {
	e.mu.Lock()
	if e.reports == nil {
		e.reports = map[string]func(StatusUpdate){}
	}
	_, known := e.reports[t.TaskID]
	if !known {
		e.reports[t.TaskID] = report
	}
	e.mu.Unlock()
	if !known {
		report(StatusUpdate{TaskID: t.TaskID, Status: aurora.ScheduleStatus_RUNNING})
	}
	return true
}

// Statuses lists every task the executor runs, RUNNING, in task id order:
// those launched and not killed or failed, and those recovered.
func (e *NopExecutor) Statuses() []StatusUpdate {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]StatusUpdate, 0, len(e.reports))
	for id := range e.reports {
		out = append(out, StatusUpdate{TaskID: id, Status: aurora.ScheduleStatus_RUNNING})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TaskID < out[j].TaskID })
	return out
}
