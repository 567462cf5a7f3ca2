package auroratest

import (
	"slices"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// thermosConfig is the Thermos executor's entry, as Aurora's
// ExecutorModule makes it: task prefix "thermos-" and the
// -thermos_executor_cpu/-thermos_executor_ram overhead. Its command is
// left empty: the simulated agents need no executor binary.
func (s *Server) thermosConfig() ExecutorConfig {
	cpu, ram := s.ThermosExecutorCPU, s.ThermosExecutorRAMMB
	if cpu == 0 {
		cpu = DefaultThermosExecutorCPU
	}
	if ram == 0 {
		ram = DefaultThermosExecutorRAMMB
	}
	return ExecutorConfig{
		Name:       aurora.AURORA_EXECUTOR_NAME,
		Resources:  []ExecutorResource{{Name: "cpus", Scalar: max(cpu, 0)}, {Name: "mem", Scalar: max(ram, 0)}},
		TaskPrefix: ThermosTaskPrefix,
	}
}

// executorConfig returns the configuration of the executor named name, and
// whether the scheduler knows it: Thermos, a CustomExecutors entry, or a
// name listed in Executors (configured with nothing: no overhead, no task
// prefix).
func (s *Server) executorConfig(name string) (ExecutorConfig, bool) {
	for _, c := range s.CustomExecutors {
		if c.Name == name {
			c.Resources = slices.Clone(c.Resources)
			c.VolumeMounts = slices.Clone(c.VolumeMounts)
			c.Command.Arguments = slices.Clone(c.Command.Arguments)
			c.Command.URIs = slices.Clone(c.Command.URIs)
			return c, true
		}
	}
	if !contains(s.Executors, name) {
		return ExecutorConfig{}, false
	}
	if name == aurora.AURORA_EXECUTOR_NAME {
		return s.thermosConfig(), true
	}
	return ExecutorConfig{Name: name}, true
}

// knowsExecutor reports whether jobs may name the executor.
func (s *Server) knowsExecutor(name string) bool {
	_, ok := s.executorConfig(name)
	return ok
}

// executorOverhead is what Aurora's ExecutorSettings.getExecutorOverhead
// adds to a task's resources when it is matched against an offer: the
// resources of the task's executor (none for a task without an executor
// config, such as a Docker task run without one, or for an unknown
// executor).
func (s *Server) executorOverhead(tc *aurora.TaskConfig) (cpus, ramMB float64) {
	if tc.ExecutorConfig == nil {
		return 0, 0
	}
	c, ok := s.executorConfig(tc.ExecutorConfig.Name)
	if !ok {
		return 0, 0
	}
	return c.CPUs(), c.RAMMB()
}

// describeExecutor fills in what the launched task's executor is: its
// configuration and its Mesos executor id (task prefix + task id, as
// Aurora's MesosTaskFactory makes it). A task without an executor config
// has neither.
func (s *Server) describeExecutor(l *LaunchedTask) {
	if c, ok := s.executorConfig(l.ExecutorName); ok && l.Config.GetExecutorConfig() != nil {
		l.Executor = c
		l.ExecutorID = c.TaskPrefix + l.TaskID
	}
}
