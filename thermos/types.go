package thermos

// Templates carries unresolved template strings (such as "{{mesos.instance}}")
// that stand in for the value of a non-string field. Aurora's library path
// writes such a template verbatim, as a JSON string, into an Integer, Float or
// Boolean field when it is a runtime reference (SCHEMA.md §2); the CLI path
// rejects it. Keys are the JSON field names of the struct the map belongs to
// (for example "max_failures" on a Process). When a key is present, Marshal
// writes the string instead of the Go field's value, and Unmarshal fills the
// map whenever it finds a string holding "{{" in a non-string field, leaving
// the Go field at Aurora's default. A nil map means no templates.
type Templates map[string]string

// Job is Aurora's MesosJob: the document the Aurora client puts, as JSON, in
// TaskConfig.executorConfig.data (the Thermos payload). The payload is the
// whole job minus instances and update_config, which live outside it (see
// Config and UpdateConfig).
//
// Pointer fields are optional and absent from the JSON when nil; plain
// scalar fields have an Aurora default (applied by NewJob and Unmarshal) and
// are always written.
type Job struct {
	// Name is the job name ("name"); Aurora defaults it to the task name.
	Name string
	// Role is the job's role ("role"), required.
	Role string
	// Cluster is the cluster name ("cluster"), required.
	Cluster string
	// Environment is the environment ("environment"), required.
	Environment string
	// Contact is an optional contact e-mail ("contact").
	Contact *string
	// Task is the Thermos task every instance runs ("task").
	Task Task
	// Announce, when set, registers the job in ZooKeeper ("announce").
	Announce *Announcer
	// Tier is the optional scheduler tier ("tier").
	Tier *string
	// CronSchedule is the optional cron schedule ("cron_schedule").
	CronSchedule *string
	// CronCollisionPolicy is written as given ("cron_collision_policy");
	// Aurora's default is "KILL_EXISTING".
	CronCollisionPolicy string
	// Constraints are scheduling constraints ("constraints"): name to
	// "value[,value]", "!value" or "limit:N". Nil means absent.
	Constraints map[string]string
	// Metadata are key/value pairs ("metadata"), always written ([] if none).
	Metadata []Metadata
	// Service marks a long-running service ("service").
	Service bool
	// MaxTaskFailures is "max_task_failures" (default 1, -1 = unlimited).
	MaxTaskFailures int
	// Production is "production" (default false).
	Production bool
	// Priority is "priority" (default 0).
	Priority int
	// HealthCheckConfig is "health_check_config" (default
	// DefaultHealthCheckConfig()).
	HealthCheckConfig HealthCheckConfig
	// Lifecycle is "lifecycle" (default DefaultLifecycle(); LifecycleConfig{}
	// disables it and is written as {}).
	Lifecycle LifecycleConfig
	// TaskLinks is the optional "task_links" map. Nil means absent.
	TaskLinks map[string]string
	// ExecutorConfig is "executor_config" (default {"AuroraExecutor", ""}).
	ExecutorConfig ExecutorConfig
	// EnableHooks is "enable_hooks" (default false).
	EnableHooks bool
	// PartitionPolicy is the optional "partition_policy".
	PartitionPolicy *PartitionPolicy
	// SLAPolicy is the optional "sla_policy".
	SLAPolicy *SLAPolicy
	// Container is the optional "container".
	Container *Container
	// Templates holds unresolved templates in the job's non-string fields
	// (keys "service", "max_task_failures", "production", "priority",
	// "enable_hooks").
	Templates Templates
}

// Task is a Thermos task: the processes an instance runs and how.
type Task struct {
	// Name is "name"; Aurora defaults it to the first process's name.
	Name string
	// Processes are the task's processes ("processes").
	Processes []Process
	// Constraints are order constraints ("constraints"), always written.
	Constraints []Constraint
	// Resources are the task's resources ("resources").
	Resources *Resources
	// MaxFailures is "max_failures" (default 1).
	MaxFailures int
	// MaxConcurrency is "max_concurrency" (default 0 = unlimited).
	MaxConcurrency int
	// FinalizationWait is "finalization_wait" in seconds (default 30).
	FinalizationWait int
	// User is the optional "user" the task runs as.
	User *string
	// Templates holds unresolved templates in "max_failures",
	// "max_concurrency" and "finalization_wait".
	Templates Templates
}

// Process is one Thermos process.
type Process struct {
	// Name is "name", required.
	Name string
	// Cmdline is "cmdline", the shell command, required.
	Cmdline string
	// Resources is the optional per-process "resources" (reserved by Thermos).
	Resources *Resources
	// MaxFailures is "max_failures" (default 1, 0 = retry forever).
	MaxFailures int
	// Daemon is "daemon" (default false).
	Daemon bool
	// Ephemeral is "ephemeral" (default false).
	Ephemeral bool
	// MinDuration is "min_duration" in seconds (default 5).
	MinDuration int
	// Final is "final" (default false).
	Final bool
	// Logger is the optional "logger".
	Logger *Logger
	// Templates holds unresolved templates in "max_failures", "daemon",
	// "ephemeral", "min_duration" and "final".
	Templates Templates
}

// Resources are a task's (or process's) resources. RAM and Disk are bytes.
type Resources struct {
	// CPU is "cpu", a Float (always written with a decimal point).
	CPU float64
	// RAM is "ram" in bytes.
	RAM int64
	// Disk is "disk" in bytes.
	Disk int64
	// GPU is "gpu" (default 0, always written).
	GPU int64
	// Templates holds unresolved templates in "cpu", "ram", "disk", "gpu".
	Templates Templates
}

// Constraint is an order constraint: the processes in Order run one after
// the other.
type Constraint struct {
	// Order lists process names ("order").
	Order []string
}

// Logger configures where a process's stdout/stderr go.
type Logger struct {
	// Destination is "destination": file, console, both or none (default file).
	Destination string
	// Mode is "mode": standard or rotate (default standard).
	Mode string
	// Rotate is the optional "rotate" policy.
	Rotate *RotatePolicy
}

// RotatePolicy is a Logger's rotation policy.
type RotatePolicy struct {
	// LogSize is "log_size" in bytes (default 100 MiB).
	LogSize int64
	// Backups is "backups" (default 5).
	Backups int
	// Templates holds unresolved templates in "log_size" and "backups".
	Templates Templates
}

// HealthCheckConfig is a job's "health_check_config".
type HealthCheckConfig struct {
	// HealthChecker is "health_checker" (default: the HTTP checker).
	HealthChecker HealthCheckerConfig
	// InitialIntervalSecs is "initial_interval_secs", a Float (default 15.0).
	InitialIntervalSecs float64
	// IntervalSecs is "interval_secs", a Float (default 10.0).
	IntervalSecs float64
	// MaxConsecutiveFailures is "max_consecutive_failures" (default 0).
	MaxConsecutiveFailures int
	// MinConsecutiveSuccesses is "min_consecutive_successes" (default 1).
	MinConsecutiveSuccesses int
	// TimeoutSecs is "timeout_secs", a Float (default 1.0).
	TimeoutSecs float64
	// Templates holds unresolved templates in the numeric fields.
	Templates Templates
}

// HealthCheckerConfig selects the health checker: HTTP or Shell.
type HealthCheckerConfig struct {
	// HTTP is the optional "http" checker.
	HTTP *HTTPHealthChecker
	// Shell is the optional "shell" checker.
	Shell *ShellHealthChecker
}

// HTTPHealthChecker checks health over HTTP.
type HTTPHealthChecker struct {
	// Endpoint is "endpoint" (default "/health").
	Endpoint string
	// ExpectedResponse is "expected_response" (default "ok").
	ExpectedResponse string
	// ExpectedResponseCode is "expected_response_code" (default 0).
	ExpectedResponseCode int
	// Templates holds an unresolved template in "expected_response_code".
	Templates Templates
}

// ShellHealthChecker checks health by running a shell command.
type ShellHealthChecker struct {
	// ShellCommand is "shell_command", required.
	ShellCommand string
}

// LifecycleConfig is a job's "lifecycle". LifecycleConfig{} (HTTP nil) is
// Aurora's DisableLifecycle and is written as {}.
type LifecycleConfig struct {
	// HTTP is the optional "http" lifecycle.
	HTTP *HTTPLifecycleConfig
}

// HTTPLifecycleConfig is the HTTP graceful-shutdown protocol.
type HTTPLifecycleConfig struct {
	// Port is "port", a named port (default "health").
	Port string
	// GracefulShutdownEndpoint is "graceful_shutdown_endpoint" (default
	// "/quitquitquit").
	GracefulShutdownEndpoint string
	// ShutdownEndpoint is "shutdown_endpoint" (default "/abortabortabort").
	ShutdownEndpoint string
	// GracefulShutdownWaitSecs is "graceful_shutdown_wait_secs" (default 5).
	GracefulShutdownWaitSecs int
	// ShutdownWaitSecs is "shutdown_wait_secs" (default 5).
	ShutdownWaitSecs int
	// Templates holds unresolved templates in the two wait fields.
	Templates Templates
}

// Announcer registers the job's instances in ZooKeeper.
type Announcer struct {
	// PrimaryPort is "primary_port" (default "http").
	PrimaryPort string
	// Portmap is "portmap" (default {"aurora": PrimaryPort}); a user map
	// replaces the default.
	Portmap map[string]string
	// ZKPath is the optional "zk_path".
	ZKPath *string
}

// Metadata is one key/value metadata pair.
type Metadata struct {
	// Key is "key".
	Key string
	// Value is "value".
	Value string
}

// ExecutorConfig names the executor and its data.
type ExecutorConfig struct {
	// Name is "name" (default "AuroraExecutor").
	Name string
	// Data is "data" (default "").
	Data string
}

// PartitionPolicy says what happens to a partitioned task.
type PartitionPolicy struct {
	// Reschedule is "reschedule" (default true).
	Reschedule bool
	// DelaySecs is "delay_secs" (default 0).
	DelaySecs int
	// Templates holds unresolved templates in "reschedule" and "delay_secs".
	Templates Templates
}

// SLAPolicy is a choice: exactly one of Percentage, Count or Coordinator is
// set. In JSON the alternative is told apart by its keys alone.
type SLAPolicy struct {
	// Percentage is a PercentageSlaPolicy.
	Percentage *PercentageSLAPolicy
	// Count is a CountSlaPolicy.
	Count *CountSLAPolicy
	// Coordinator is a CoordinatorSlaPolicy.
	Coordinator *CoordinatorSLAPolicy
}

// PercentageSLAPolicy keeps a percentage of instances running.
type PercentageSLAPolicy struct {
	// Percentage is "percentage", a Float.
	Percentage float64
	// DurationSecs is "duration_secs".
	DurationSecs int
	// Templates holds unresolved templates in the two fields.
	Templates Templates
}

// CountSLAPolicy keeps a number of instances running.
type CountSLAPolicy struct {
	// Count is "count".
	Count int
	// DurationSecs is "duration_secs".
	DurationSecs int
	// Templates holds unresolved templates in the two fields.
	Templates Templates
}

// CoordinatorSLAPolicy asks an external coordinator.
type CoordinatorSLAPolicy struct {
	// CoordinatorURL is "coordinator_url".
	CoordinatorURL string
	// StatusKey is "status_key" (default "drain").
	StatusKey string
}

// Container is a choice: exactly one of Docker, Mesos or LegacyDocker is set.
// Docker and Mesos are written bare; LegacyDocker is the deprecated
// Container(docker=...) form, written as {"docker": {...}}.
type Container struct {
	// Docker is a Docker container.
	Docker *Docker
	// Mesos is a Mesos (unified) container.
	Mesos *Mesos
	// LegacyDocker is a Docker container in the deprecated wrapper.
	LegacyDocker *Docker
}

// Docker is a Docker container.
type Docker struct {
	// Image is "image", required.
	Image string
	// Parameters are "parameters" (always written, [] if none).
	Parameters []Parameter
}

// Parameter is a Docker command-line parameter.
type Parameter struct {
	// Name is "name".
	Name string
	// Value is "value".
	Value string
}

// Mesos is a Mesos unified container.
type Mesos struct {
	// Image is the optional "image".
	Image *Image
	// Volumes are "volumes" (always written, [] if none).
	Volumes []Volume
}

// Image is a choice: exactly one of Docker or Appc is set; in JSON it is
// told apart by its keys ("tag" or "image_id").
type Image struct {
	// Docker is a Docker image.
	Docker *DockerImage
	// Appc is an Appc image.
	Appc *AppcImage
}

// DockerImage is a Docker image reference.
type DockerImage struct {
	// Name is "name".
	Name string
	// Tag is "tag".
	Tag string
}

// AppcImage is an Appc image reference.
type AppcImage struct {
	// Name is "name".
	Name string
	// ImageID is "image_id".
	ImageID string
}

// Volume is a host path mounted into a Mesos container.
type Volume struct {
	// ContainerPath is "container_path".
	ContainerPath string
	// HostPath is "host_path".
	HostPath string
	// Mode is "mode": "RO" or "RW".
	Mode string
}

// UpdateConfig is a job's update_config. It is never in the payload; it is
// what `aurora update start` sends (SCHEMA.md §3.2).
type UpdateConfig struct {
	// BatchSize is "batch_size" (default 1).
	BatchSize int
	// WatchSecs is "watch_secs" (default 45).
	WatchSecs int
	// MaxPerShardFailures is "max_per_shard_failures" (default 0).
	MaxPerShardFailures int
	// MaxTotalFailures is "max_total_failures" (default 0).
	MaxTotalFailures int
	// RollbackOnFailure is "rollback_on_failure" (default true).
	RollbackOnFailure bool
	// WaitForBatchCompletion is "wait_for_batch_completion" (default false).
	WaitForBatchCompletion bool
	// PulseIntervalSecs is the optional "pulse_interval_secs".
	PulseIntervalSecs *int
	// SLAAware is "sla_aware" (default false).
	SLAAware bool
	// UpdateStrategy is the optional "update_strategy".
	UpdateStrategy *UpdateStrategy
}

// UpdateStrategy is a choice: exactly one of Queue, Batch or VariableBatch.
type UpdateStrategy struct {
	// Queue is a QueueUpdateStrategy.
	Queue *QueueUpdateStrategy
	// Batch is a BatchUpdateStrategy.
	Batch *BatchUpdateStrategy
	// VariableBatch is a VariableBatchUpdateStrategy.
	VariableBatch *VariableBatchUpdateStrategy
}

// QueueUpdateStrategy keeps BatchSize instances updating at a time.
type QueueUpdateStrategy struct {
	// BatchSize is "batch_size" (default 1).
	BatchSize int
}

// BatchUpdateStrategy updates in fixed batches.
type BatchUpdateStrategy struct {
	// BatchSize is "batch_size" (default 1).
	BatchSize int
	// AutopauseAfterBatch is "autopause_after_batch" (default false).
	AutopauseAfterBatch bool
}

// VariableBatchUpdateStrategy updates in batches of the given sizes.
type VariableBatchUpdateStrategy struct {
	// BatchSizes is "batch_sizes", required.
	BatchSizes []int
	// AutopauseAfterBatch is "autopause_after_batch" (default false).
	AutopauseAfterBatch bool
}

// AuroraExecutorName is the name of Aurora's Thermos executor, the default
// ExecutorConfig.Name.
const AuroraExecutorName = "AuroraExecutor"

// Byte units, as in Aurora's configuration DSL.
const (
	KB int64 = 1024
	MB       = 1024 * KB
	GB       = 1024 * MB
	TB       = 1024 * GB
)

// NewJob returns a Job with Aurora's defaults for every defaulted field:
// cron_collision_policy KILL_EXISTING, empty metadata, max_task_failures 1,
// the default health check and lifecycle, and the AuroraExecutor executor
// config. Name, Role, Cluster, Environment and Task are left for the caller.
func NewJob() *Job {
	j := new(Job)
	jobSchema.setDefaults(j)
	return j
}

// NewTask returns a Task with Aurora's defaults: max_failures 1,
// max_concurrency 0, finalization_wait 30 and an empty constraint list.
func NewTask() Task { return taskSchema.defaults() }

// NewProcess returns a Process with Aurora's defaults: max_failures 1,
// min_duration 5, not daemon, ephemeral or final, no logger.
func NewProcess(name, cmdline string) Process {
	p := processSchema.defaults()
	p.Name, p.Cmdline = name, cmdline
	return p
}

// DefaultHealthCheckConfig returns Aurora's default health_check_config: the
// HTTP checker on /health expecting "ok", initial interval 15 s, interval
// 10 s, timeout 1 s, no failures allowed, one success needed.
func DefaultHealthCheckConfig() HealthCheckConfig { return healthCheckSchema.defaults() }

// DefaultHTTPHealthChecker returns Aurora's HttpHealthChecker defaults.
func DefaultHTTPHealthChecker() *HTTPHealthChecker {
	h := httpHealthCheckerSchema.defaults()
	return &h
}

// DefaultLifecycle returns Aurora's DefaultLifecycleConfig: the HTTP
// lifecycle on the "health" port.
func DefaultLifecycle() LifecycleConfig {
	return LifecycleConfig{HTTP: DefaultHTTPLifecycle()}
}

// DefaultHTTPLifecycle returns Aurora's HttpLifecycleConfig defaults.
func DefaultHTTPLifecycle() *HTTPLifecycleConfig {
	h := httpLifecycleSchema.defaults()
	return &h
}

// DefaultUpdateConfig returns Aurora's UpdateConfig defaults: batch size 1,
// watch 45 s, no failures tolerated, rollback on failure.
func DefaultUpdateConfig() UpdateConfig { return updateConfigSchema.defaults() }

// DefaultLogger returns Aurora's Logger defaults: destination file, mode
// standard, no rotate policy.
func DefaultLogger() *Logger {
	l := loggerSchema.defaults()
	return &l
}

// DefaultRotatePolicy returns Aurora's RotatePolicy defaults: 100 MiB, 5
// backups.
func DefaultRotatePolicy() *RotatePolicy {
	r := rotatePolicySchema.defaults()
	return &r
}

// DefaultPartitionPolicy returns Aurora's PartitionPolicy defaults:
// reschedule, no delay.
func DefaultPartitionPolicy() *PartitionPolicy {
	p := partitionPolicySchema.defaults()
	return &p
}

// DefaultAnnouncer returns Aurora's Announcer defaults: primary port "http"
// and the portmap {"aurora": "http"} (the resolved default template).
func DefaultAnnouncer() *Announcer {
	return &Announcer{PrimaryPort: "http", Portmap: map[string]string{"aurora": "http"}}
}

// DefaultCoordinatorSLAPolicy returns Aurora's CoordinatorSlaPolicy
// defaults: status key "drain" and no coordinator URL (which is required).
func DefaultCoordinatorSLAPolicy() *CoordinatorSLAPolicy {
	c := coordinatorSLASchema.defaults()
	return &c
}

// NewConfig returns a whole job object with Aurora's defaults: NewJob(),
// one instance and DefaultUpdateConfig(), as UnmarshalConfig starts from.
func NewConfig() *Config { return newConfig() }
