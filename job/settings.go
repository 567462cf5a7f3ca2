package job

import (
	"maps"
	"slices"
	"time"
)

// The settings of a job beside its task: metadata, executor, health check,
// lifecycle, announcer, update, container, partition and SLA policies.
// Their zero values are Aurora's defaults (see defaults.go).

// Metadata is one key/value pair attached to the job's tasks.
type Metadata struct {
	Key, Value string
}

// ExecutorConfig names the executor that runs the tasks and its data. An
// empty Name means Aurora's default, the Thermos executor
// ("AuroraExecutor").
type ExecutorConfig struct {
	Name, Data string
}

// HealthCheck is how the executor checks an instance's health. Intervals
// and the timeout are converted to (fractional) seconds. Unset fields mean
// Aurora's defaults (see DefaultHealthCheck): the zero Checker is the HTTP
// checker of /health, a nil InitialInterval is 15s, and a zero Interval,
// MinConsecutiveSuccesses or Timeout is 10s, 1 and 1s (Aurora's zero for
// those would check without pause, count an instance healthy before any
// check, or time every check out), so the zero HealthCheck is Aurora's
// default one.
type HealthCheck struct {
	Checker                 HealthChecker
	InitialInterval         *time.Duration
	Interval                time.Duration
	MaxConsecutiveFailures  int
	MinConsecutiveSuccesses int
	Timeout                 time.Duration
}

// DefaultHealthCheck returns Aurora's defaults: HTTP GET /health expecting
// "ok", first check after 15s, then every 10s with a 1s timeout, no failure
// tolerated, one success needed.
func DefaultHealthCheck() HealthCheck {
	return HealthCheck{
		Checker:                 HTTPChecker("/health", "ok", 0),
		InitialInterval:         new(defaultInitialInterval),
		Interval:                defaultInterval,
		MinConsecutiveSuccesses: defaultMinSuccesses,
		Timeout:                 defaultHealthTimeout,
	}
}

func (h HealthCheck) clone() HealthCheck {
	h.Checker = h.Checker.clone()
	h.InitialInterval = clonePtr(h.InitialInterval)
	return h
}

// HealthChecker is one of HTTPChecker or ShellChecker. The zero
// HealthChecker is Aurora's default, HTTPChecker("/health", "ok", 0).
type HealthChecker struct {
	http  *HTTPHealthChecker
	shell *string
}

// HTTPHealthChecker is an HTTP health checker's settings. An empty Endpoint
// or ExpectedResponse means Aurora's default, "/health" or "ok".
type HTTPHealthChecker struct {
	Endpoint             string
	ExpectedResponse     string
	ExpectedResponseCode int // 0 = any
}

// HTTPChecker checks health with GET endpoint on the "health" port,
// expecting response (and, if code is not 0, that status code). An empty
// endpoint or response means Aurora's default, "/health" or "ok".
func HTTPChecker(endpoint, response string, code int) HealthChecker {
	return HealthChecker{http: &HTTPHealthChecker{Endpoint: endpoint, ExpectedResponse: response, ExpectedResponseCode: code}}
}

// ShellChecker checks health by running command (exit 0 = healthy).
func ShellChecker(command string) HealthChecker { return HealthChecker{shell: &command} }

func (c HealthChecker) clone() HealthChecker {
	c.http = clonePtr(c.http)
	c.shell = clonePtr(c.shell)
	return c
}

// Lifecycle is how the executor asks an instance to shut down. The zero
// Lifecycle is Aurora's default, DefaultLifecycle.
type Lifecycle struct {
	http     *HTTPLifecycle
	disabled bool
}

// HTTPLifecycle is the HTTP shutdown protocol: POST the graceful endpoint,
// wait, POST the shutdown endpoint, wait, then kill. Empty strings and nil
// waits mean Aurora's defaults (see DefaultHTTPLifecycle); a wait pointing
// at 0 means no wait.
type HTTPLifecycle struct {
	Port                     string
	GracefulShutdownEndpoint string
	ShutdownEndpoint         string
	GracefulShutdownWait     *time.Duration
	ShutdownWait             *time.Duration
}

// DefaultHTTPLifecycle returns Aurora's defaults: port "health",
// /quitquitquit, /abortabortabort, 5s and 5s.
func DefaultHTTPLifecycle() HTTPLifecycle {
	return HTTPLifecycle{
		Port:                     defaultLifecyclePort,
		GracefulShutdownEndpoint: defaultGracefulEndpoint,
		ShutdownEndpoint:         defaultShutdownEndpoint,
		GracefulShutdownWait:     new(defaultGracefulShutdownWait),
		ShutdownWait:             new(defaultShutdownWait),
	}
}

// DefaultLifecycle returns Aurora's DefaultLifecycleConfig (HTTP, with
// DefaultHTTPLifecycle).
func DefaultLifecycle() Lifecycle { return HTTPLifecycleConfig(DefaultHTTPLifecycle()) }

// HTTPLifecycleConfig returns the HTTP lifecycle with the given settings.
func HTTPLifecycleConfig(h HTTPLifecycle) Lifecycle { return Lifecycle{http: &h} }

// DisableLifecycle returns Aurora's DisableLifecycle: tasks are killed
// without the HTTP shutdown protocol.
func DisableLifecycle() Lifecycle { return Lifecycle{disabled: true} }

func (l Lifecycle) clone() Lifecycle {
	if l.http != nil {
		h := *l.http
		h.GracefulShutdownWait = clonePtr(h.GracefulShutdownWait)
		h.ShutdownWait = clonePtr(h.ShutdownWait)
		l.http = &h
	}
	return l
}

// Announcer registers instances in ZooKeeper (Aurora's Announcer).
// PrimaryPort is the port announced as the service endpoint; Portmap maps
// announced names to port names (aliases), or to static port numbers
// written as decimal strings (which need a "dedicated" constraint). A nil
// Portmap is Aurora's default, {"aurora": PrimaryPort}; a non-nil one
// replaces it. ZKPath, if set, overrides the announce path.
type Announcer struct {
	PrimaryPort string
	Portmap     map[string]string
	ZKPath      string
}

// NewAnnouncer returns Aurora's default Announcer: primary port "http",
// default portmap.
func NewAnnouncer() Announcer { return Announcer{PrimaryPort: defaultAnnouncePrimaryPort} }

func (a Announcer) clone() Announcer { a.Portmap = maps.Clone(a.Portmap); return a }

// Update is the job's update_config: how `aurora update start` rolls out a
// new configuration. It never appears in the payload. Unset fields mean
// Aurora's defaults (see DefaultUpdate): a zero BatchSize is 1, a nil Watch
// 45s and a nil RollbackOnFailure true, so the zero Update is Aurora's
// default one; Watch: new(time.Duration(0)) and RollbackOnFailure:
// new(false) ask for Aurora's zero.
type Update struct {
	BatchSize              int
	Watch                  *time.Duration
	MaxPerShardFailures    int
	MaxTotalFailures       int
	RollbackOnFailure      *bool
	WaitForBatchCompletion bool
	// PulseInterval, if not 0, makes the update wait for pulses at that
	// interval (whole seconds).
	PulseInterval time.Duration
	SLAAware      bool
	// Strategy, if set, overrides BatchSize (see QueueStrategy,
	// BatchStrategy, VariableBatchStrategy).
	Strategy *UpdateStrategy
}

// DefaultUpdate returns Aurora's UpdateConfig defaults: batches of one,
// 45s watch, no failures tolerated, rollback on failure.
func DefaultUpdate() Update {
	return Update{BatchSize: defaultBatchSize, Watch: new(defaultWatch), RollbackOnFailure: new(defaultRollbackOnFailure)}
}

func (u Update) clone() Update {
	u.Watch = clonePtr(u.Watch)
	u.RollbackOnFailure = clonePtr(u.RollbackOnFailure)
	if u.Strategy != nil {
		s := *u.Strategy
		s.sizes = slices.Clone(s.sizes)
		u.Strategy = &s
	}
	return u
}

// UpdateStrategy is one of QueueStrategy, BatchStrategy or
// VariableBatchStrategy.
type UpdateStrategy struct {
	kind      string // "queue", "batch", "variable"
	sizes     []int
	autopause bool
}

// QueueStrategy keeps size instances updating at any time.
func QueueStrategy(size int) *UpdateStrategy {
	return &UpdateStrategy{kind: "queue", sizes: []int{size}}
}

// BatchStrategy updates in batches of size, pausing after each batch if
// autopause is set.
func BatchStrategy(size int, autopause bool) *UpdateStrategy {
	return &UpdateStrategy{kind: "batch", sizes: []int{size}, autopause: autopause}
}

// VariableBatchStrategy updates in batches of the given sizes (the last
// size repeats), pausing after each batch if autopause is set.
func VariableBatchStrategy(autopause bool, sizes ...int) *UpdateStrategy {
	return &UpdateStrategy{kind: "variable", sizes: slices.Clone(sizes), autopause: autopause}
}

// Container is the container the tasks run in: DockerContainer,
// LegacyDockerContainer or MesosContainer.
type Container struct {
	kind    string // "docker", "legacy", "mesos"
	image   string
	params  []Parameter
	mesosIm *MesosImage
	volumes []Volume
}

// Parameter is a Docker command-line parameter (name=value).
type Parameter struct {
	Name, Value string
}

// DockerContainer runs the tasks in the Docker image with parameters
// (Aurora's Docker).
func DockerContainer(image string, params ...Parameter) Container {
	return Container{kind: "docker", image: image, params: slices.Clone(params)}
}

// LegacyDockerContainer is the deprecated Container(docker=Docker(...))
// form; its payload keeps the {"docker": ...} wrapper.
func LegacyDockerContainer(image string, params ...Parameter) Container {
	return Container{kind: "legacy", image: image, params: slices.Clone(params)}
}

// MesosImage is a Docker or Appc image for a Mesos container.
type MesosImage struct {
	appc      bool
	name, ref string
}

// DockerImage returns the Docker image name:tag for a Mesos container.
func DockerImage(name, tag string) MesosImage { return MesosImage{name: name, ref: tag} }

// AppcImage returns the Appc image with the given name and id.
func AppcImage(name, imageID string) MesosImage {
	return MesosImage{appc: true, name: name, ref: imageID}
}

// VolumeMode is a volume's access mode.
type VolumeMode string

// Volume modes.
const (
	ReadOnly  VolumeMode = "RO"
	ReadWrite VolumeMode = "RW"
)

// Volume mounts HostPath at ContainerPath in a Mesos container.
type Volume struct {
	ContainerPath, HostPath string
	Mode                    VolumeMode
}

// MesosContainer runs the tasks in a Mesos unified container, from image
// (nil = the agent's filesystem) with the given volumes (Aurora's Mesos).
func MesosContainer(image *MesosImage, volumes ...Volume) Container {
	c := Container{kind: "mesos", volumes: slices.Clone(volumes)}
	if image != nil {
		im := *image
		c.mesosIm = &im
	}
	return c
}

func (c Container) clone() Container {
	c.params = slices.Clone(c.params)
	c.volumes = slices.Clone(c.volumes)
	c.mesosIm = clonePtr(c.mesosIm)
	return c
}

// PartitionPolicy says whether a partitioned task is rescheduled, and after
// how long. A nil Reschedule means Aurora's default, true, so the zero
// PartitionPolicy is Aurora's default one; Reschedule: new(false) keeps a
// partitioned task from being rescheduled.
type PartitionPolicy struct {
	Reschedule *bool
	Delay      time.Duration
}

// DefaultPartitionPolicy returns Aurora's PartitionPolicy defaults:
// reschedule at once.
func DefaultPartitionPolicy() PartitionPolicy {
	return PartitionPolicy{Reschedule: new(defaultReschedule)}
}

// SLAPolicy is one of PercentageSLA, CountSLA or CoordinatorSLA.
type SLAPolicy struct {
	kind       string
	percentage float64
	count      int
	duration   time.Duration
	url, key   string
}

// PercentageSLA keeps percentage% of instances running for at least d.
func PercentageSLA(percentage float64, d time.Duration) SLAPolicy {
	return SLAPolicy{kind: "percentage", percentage: percentage, duration: d}
}

// CountSLA keeps count instances running for at least d.
func CountSLA(count int, d time.Duration) SLAPolicy {
	return SLAPolicy{kind: "count", count: count, duration: d}
}

// CoordinatorSLA asks the coordinator at url; statusKey "" means Aurora's
// default "drain".
func CoordinatorSLA(url, statusKey string) SLAPolicy {
	if statusKey == "" {
		statusKey = defaultCoordinatorStatusKey
	}
	return SLAPolicy{kind: "coordinator", url: url, key: statusKey}
}
