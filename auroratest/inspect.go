package auroratest

import (
	"fmt"
	"sort"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// Jobs returns the jobs the scheduler knows, as getJobs("") plus every cron
// job would: one configuration per job with active tasks, built from its
// latest task, and the cron templates. The result is a deep copy.
func (s *Server) Jobs() []*aurora.JobConfiguration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st == nil {
		return nil
	}
	return s.st.jobConfigs("", true)
}

// Tasks returns every task of the job role/env/name, terminal ones
// included, ordered by instance id and then by creation. The result is a
// deep copy.
func (s *Server) Tasks(role, env, name string) []*aurora.ScheduledTask {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st == nil {
		return nil
	}
	k := jobKey{role, env, name}
	var out []*aurora.ScheduledTask
	for _, t := range s.st.byJob[k] {
		out = append(out, t.scheduledTask(true))
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].AssignedTask.InstanceId < out[j].AssignedTask.InstanceId
	})
	return out
}

// FailTask makes an assigned task FAILED with msg, as if its executor had
// reported the failure; Aurora's rescheduling rules then apply. It returns
// an error if no such task is assigned to an agent.
func (s *Server) FailTask(taskID, msg string) error {
	return s.setTaskState(taskID, aurora.ScheduleStatus_FAILED, msg)
}

// LoseTask makes an assigned task LOST, as when its agent disappears.
func (s *Server) LoseTask(taskID, msg string) error {
	return s.setTaskState(taskID, aurora.ScheduleStatus_LOST, msg)
}

func (s *Server) setTaskState(taskID string, to aurora.ScheduleStatus, msg string) error {
	s.mu.Lock()
	if s.st == nil {
		s.mu.Unlock()
		return fmt.Errorf("auroratest: server not started")
	}
	t := s.st.byID[taskID]
	if t == nil || !assignedStates[t.status] {
		s.mu.Unlock()
		return fmt.Errorf("auroratest: no task %q assigned to an agent", taskID)
	}
	s.st.changeState(t, to, msg)
	s.mu.Unlock()
	s.Executor.Kill(taskID)
	return nil
}
