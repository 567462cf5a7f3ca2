package nixrealis

import (
	"testing"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
)

func schedTask(id string, instance int32, s aurora.ScheduleStatus, msg string) *aurora.ScheduledTask {
	return &aurora.ScheduledTask{
		AssignedTask: &aurora.AssignedTask{TaskId: id, InstanceId: instance},
		Status:       s,
		TaskEvents:   []*aurora.TaskEvent{{Status: s, Message: &msg}},
	}
}

// TestWaitForCheck pins when a wait for instances ends, from the job's
// tasks in every state.
func TestWaitForCheck(t *testing.T) {
	const (
		pending  = aurora.ScheduleStatus_PENDING
		running  = aurora.ScheduleStatus_RUNNING
		finished = aurora.ScheduleStatus_FINISHED
		failed   = aurora.ScheduleStatus_FAILED
		lost     = aurora.ScheduleStatus_LOST
		killed   = aurora.ScheduleStatus_KILLED
	)
	two := instanceRange(2)
	tests := []struct {
		name    string
		w       waitFor
		tasks   []*aurora.ScheduledTask
		done    int
		failure string
	}{
		{"all running", waitFor{instances: two},
			[]*aurora.ScheduledTask{schedTask("a", 0, running, ""), schedTask("b", 1, running, "")}, 2, ""},
		{"one pending", waitFor{instances: two},
			[]*aurora.ScheduledTask{schedTask("a", 0, running, ""), schedTask("b", 1, pending, "")}, 1, ""},
		{"ad-hoc finished counts", waitFor{instances: two, finished: true},
			[]*aurora.ScheduledTask{schedTask("a", 0, finished, "Task finished."), schedTask("b", 1, running, "")}, 2, ""},
		{"a service's finished task is replaced, not done", waitFor{instances: two},
			[]*aurora.ScheduledTask{schedTask("a", 0, finished, ""), schedTask("a2", 0, pending, ""), schedTask("b", 1, running, "")}, 1, ""},
		{"failed ends the wait with its message", waitFor{instances: two},
			[]*aurora.ScheduledTask{schedTask("a", 0, running, ""), schedTask("b", 1, failed, `Task failed: process "main" failed`)},
			1, `instance 1 (task b) FAILED: Task failed: process "main" failed`},
		{"failed even when replaced", waitFor{instances: two},
			[]*aurora.ScheduledTask{schedTask("a", 0, failed, "boom"), schedTask("a2", 0, running, ""), schedTask("b", 1, running, "")},
			2, "instance 0 (task a) FAILED: boom"},
		{"lost", waitFor{instances: two},
			[]*aurora.ScheduledTask{schedTask("a", 0, lost, ""), schedTask("b", 1, running, "")},
			1, "instance 0 (task a) LOST: no status message"},
		{"lowest instance first", waitFor{instances: two},
			[]*aurora.ScheduledTask{schedTask("b", 1, failed, "one"), schedTask("a", 0, failed, "zero")},
			0, "instance 0 (task a) FAILED: zero"},
		{"killed and not replaced", waitFor{instances: two},
			[]*aurora.ScheduledTask{schedTask("a", 0, killed, "Killed by vagrant."), schedTask("b", 1, running, "")},
			1, "instance 0 (task a) KILLED: Killed by vagrant."},
		{"killed and replaced (preempted)", waitFor{instances: two},
			[]*aurora.ScheduledTask{schedTask("a", 0, killed, ""), schedTask("a2", 0, pending, ""), schedTask("b", 1, running, "")}, 1, ""},
		{"earlier tasks are ignored", waitFor{instances: two, ignore: map[string]bool{"old0": true, "old1": true}},
			[]*aurora.ScheduledTask{schedTask("old0", 0, failed, "old"), schedTask("old1", 1, running, ""), schedTask("a", 0, running, ""), schedTask("b", 1, pending, "")}, 1, ""},
		{"other instances are ignored", waitFor{instances: []int32{1}},
			[]*aurora.ScheduledTask{schedTask("a", 0, failed, "not ours"), schedTask("b", 1, running, "")}, 1, ""},
		{"no assigned task", waitFor{instances: two},
			[]*aurora.ScheduledTask{{Status: failed}}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.w.check(tt.tasks)
			assert.Equal(t, tt.done, st.done)
			assert.Equal(t, tt.failure, st.failure)
		})
	}
}
