package auroratest

import (
	"context"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// An Executor runs the tasks the scheduler assigns, as a Mesos agent with
// Aurora's Thermos executor would. The scheduler calls Launch once for each
// task it has moved to ASSIGNED, and Kill when the task is to be killed.
//
// Implementations report every state change through the Report function
// given to Launch: STARTING, then RUNNING (for a task with health checks,
// only once it is healthy, as Aurora's executor does), and finally one
// terminal state (FINISHED, FAILED, KILLED or LOST). Report is safe for
// concurrent use and never blocks for long; calls after a terminal state are
// ignored. Launch and Kill must return promptly: the work happens in the
// background, stopped when ctx is done (the server closing).
type Executor interface {
	Launch(ctx context.Context, t LaunchedTask, report func(StatusUpdate))
	Kill(taskID string)
}

// LaunchedTask is what an executor is given to run one task instance.
type LaunchedTask struct {
	// TaskID is the scheduler's task id, unique across restarts.
	TaskID string
	// Role, Environment and Name form the job key.
	Role, Environment, Name string
	// Instance is the instance id within the job.
	Instance int32
	// Host is the host name of the simulated agent the task was assigned
	// to; agents may share a host name.
	Host string
	// AgentID is the Mesos agent id of that agent (the task's slaveId),
	// unique per agent.
	AgentID string
	// Ports maps each requested named port to the port allocated on Host.
	Ports map[string]int32
	// ExecutorName is TaskConfig.executorConfig.name ("AuroraExecutor" for
	// Thermos payloads).
	ExecutorName string
	// ExecutorID is the Mesos executor id Aurora gives the task: its
	// executor's task prefix followed by TaskID ("thermos-" for Thermos,
	// task_prefix for a custom executor).
	ExecutorID string
	// Executor is the configuration of the task's executor: Thermos' or
	// its -custom_executor_config entry (command, URIs, resources).
	Executor ExecutorConfig
	// Data is TaskConfig.executorConfig.data: the Thermos payload.
	Data string
	// Config is a deep copy of the task's configuration, for executors that
	// need more than the payload (resources, metadata).
	Config *aurora.TaskConfig
}

// StatusUpdate is one state change of a launched task.
type StatusUpdate struct {
	TaskID string
	// Status is the task's new state.
	Status aurora.ScheduleStatus
	// Message explains the change; for FAILED it names what failed.
	Message string
}
