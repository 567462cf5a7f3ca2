package job

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Key identifies a job: Aurora's cluster/role/environment/name. An empty
// Name means Aurora's default, the task's name.
type Key struct {
	Cluster, Role, Environment, Name string
}

// String returns "cluster/role/environment/name".
func (k Key) String() string {
	return k.Cluster + "/" + k.Role + "/" + k.Environment + "/" + k.Name
}

// CronCollisionPolicy says what a cron run does when the previous run is
// still active. Aurora matches the name case-insensitively and writes it to
// the payload as given.
type CronCollisionPolicy string

// Cron collision policies.
const (
	KillExisting CronCollisionPolicy = "KILL_EXISTING"
	CancelNew    CronCollisionPolicy = "CANCEL_NEW"
	RunOverlap   CronCollisionPolicy = "RUN_OVERLAP"
)

// Job is an Aurora job (a MesosJob): a task run as Instances copies on a
// cluster, with scheduling, health and update settings. It is an immutable
// value: every With/Add method returns a modified copy, so a base job can be
// shared and varied freely. The zero Job has Aurora's defaults, like New:
// what a With method has not set is Aurora's default.
type Job struct {
	key             Key
	task            Task
	instances       opt[int]
	service         bool
	cronSchedule    *string
	cronCollision   CronCollisionPolicy
	contact         *string
	tier            *string
	production      bool
	priority        int
	maxTaskFailures opt[int]
	constraints     map[string]string
	metadata        []Metadata
	healthCheck     HealthCheck
	lifecycle       Lifecycle
	announce        *Announcer
	update          Update
	container       *Container
	enableHooks     bool
	partitionPolicy *PartitionPolicy
	slaPolicy       *SLAPolicy
	executor        ExecutorConfig
	uris            []URI
	ports           []string
	taskLinks       map[string]string
	vars            []Vars
	templates       map[string]string
}

// New returns a job running task under key, with Aurora's defaults: one
// instance, not a service, cron collision policy KILL_EXISTING,
// max_task_failures 1, the default health check and lifecycle, the default
// update config and the Thermos executor. It is the same as
// Job{}.WithKey(key).WithTask(task).
func New(key Key, task Task) Job {
	return Job{key: key, task: task}
}

// Service returns New(key, task) marked as a service (Aurora's Service):
// its instances are restarted whatever their exit status.
func Service(key Key, task Task) Job { return New(key, task).WithService(true) }

// Key returns the job key as written (Name "" = the task's name).
func (j Job) Key() Key { return j.key }

// Task returns the job's task.
func (j Job) Task() Task { return j.task }

// Instances returns the instance count.
func (j Job) Instances() int { return j.instances.or(defaultInstances) }

// Update returns the job's update configuration, with Aurora's defaults in
// place of unset fields.
func (j Job) Update() Update { return j.update.canonical() }

// HealthCheck returns the job's health check configuration, with Aurora's
// defaults in place of unset fields.
func (j Job) HealthCheck() HealthCheck { return j.healthCheck.canonical() }

// Announce returns the job's announcer and whether it is announced.
func (j Job) Announce() (Announcer, bool) {
	if j.announce == nil {
		return Announcer{}, false
	}
	return j.announce.clone(), true
}

// Constraints returns a copy of the job's scheduling constraints.
func (j Job) Constraints() map[string]string { return maps.Clone(j.constraints) }

// Metadata returns a copy of the job's metadata.
func (j Job) Metadata() []Metadata { return slices.Clone(j.metadata) }

// WithKey returns j under another key.
func (j Job) WithKey(k Key) Job { j.key = k; return j }

// WithCluster returns j on another cluster.
func (j Job) WithCluster(c string) Job { j.key.Cluster = c; return j }

// WithRole returns j with another role.
func (j Job) WithRole(r string) Job { j.key.Role = r; return j }

// WithEnvironment returns j in another environment.
func (j Job) WithEnvironment(e string) Job { j.key.Environment = e; return j }

// WithName returns j with another name ("" = the task's name).
func (j Job) WithName(n string) Job { j.key.Name = n; return j }

// WithTask returns j running another task.
func (j Job) WithTask(t Task) Job { j.task = t; return j }

// WithInstances returns j with n instances.
func (j Job) WithInstances(n int) Job { j.instances = some(n); return j }

// WithService returns j marked (or not) as a service.
func (j Job) WithService(s bool) Job { j.service = s; return j }

// WithCron returns j as a cron job with the given schedule (a crontab
// expression such as "15 3 * * *"); "" makes it an ordinary job again.
func (j Job) WithCron(schedule string) Job {
	if schedule == "" {
		j.cronSchedule = nil
	} else {
		j.cronSchedule = &schedule
	}
	return j
}

// WithCronCollisionPolicy returns j with the given cron collision policy.
func (j Job) WithCronCollisionPolicy(p CronCollisionPolicy) Job { j.cronCollision = p; return j }

// WithContact returns j with a contact e-mail ("" removes it).
func (j Job) WithContact(c string) Job { j.contact = optString(c); return j }

// WithTier returns j on a scheduler tier ("" removes it).
func (j Job) WithTier(t string) Job { j.tier = optString(t); return j }

// WithProduction returns j marked (or not) as production.
func (j Job) WithProduction(p bool) Job { j.production = p; return j }

// WithPriority returns j with a priority.
func (j Job) WithPriority(p int) Job { j.priority = p; return j }

// WithMaxTaskFailures returns j with the number of task failures after which
// the job fails (-1 = unlimited).
func (j Job) WithMaxTaskFailures(n int) Job { j.maxTaskFailures = some(n); return j }

// WithConstraint returns j with the scheduling constraint name=value,
// replacing an earlier value for name. value is Aurora's syntax: "a,b"
// (one of the values), "!a,b" (none of them), "limit:N" (at most N
// instances per value); see Values, NotValues and Limit.
func (j Job) WithConstraint(name, value string) Job {
	j.constraints = cloneSet(j.constraints, name, value)
	return j
}

// WithDedicated returns j with the "dedicated" constraint, which places it
// on machines reserved for value (usually "role/name").
func (j Job) WithDedicated(value string) Job { return j.WithConstraint("dedicated", value) }

// Values returns the constraint value matching any of vals.
func Values(vals ...string) string { return strings.Join(vals, ",") }

// NotValues returns the constraint value matching none of vals.
func NotValues(vals ...string) string { return "!" + strings.Join(vals, ",") }

// Limit returns the constraint value allowing at most n instances per
// attribute value.
func Limit(n int) string { return "limit:" + strconv.Itoa(n) }

// AddMetadata returns j with one more metadata pair.
func (j Job) AddMetadata(key, value string) Job {
	j.metadata = append(slices.Clip(j.metadata), Metadata{Key: key, Value: value})
	return j
}

// WithHealthCheck returns j with another health check configuration.
func (j Job) WithHealthCheck(h HealthCheck) Job { j.healthCheck = h.clone(); return j }

// WithLifecycle returns j with another lifecycle (see DefaultLifecycle,
// DisableLifecycle).
func (j Job) WithLifecycle(l Lifecycle) Job { j.lifecycle = l.clone(); return j }

// WithAnnounce returns j announced in ZooKeeper with a. An empty
// PrimaryPort means Aurora's default, "http".
func (j Job) WithAnnounce(a Announcer) Job {
	a = a.clone()
	if a.PrimaryPort == "" {
		a.PrimaryPort = defaultAnnouncePrimaryPort
	}
	j.announce = &a
	return j
}

// WithUpdate returns j with another update configuration.
func (j Job) WithUpdate(u Update) Job { j.update = u.clone(); return j }

// WithContainer returns j run in a container.
func (j Job) WithContainer(c Container) Job { c = c.clone(); j.container = &c; return j }

// WithEnableHooks returns j with client hooks enabled (or not).
func (j Job) WithEnableHooks(e bool) Job { j.enableHooks = e; return j }

// WithPartitionPolicy returns j with a partition policy.
func (j Job) WithPartitionPolicy(p PartitionPolicy) Job {
	p.Reschedule = clonePtr(p.Reschedule)
	j.partitionPolicy = &p
	return j
}

// WithSLAPolicy returns j with an SLA policy.
func (j Job) WithSLAPolicy(p SLAPolicy) Job { j.slaPolicy = &p; return j }

// WithExecutor returns j run by a custom executor: the payload is then data,
// verbatim, instead of the Thermos job.
func (j Job) WithExecutor(name, data string) Job {
	j.executor = ExecutorConfig{Name: name, Data: data}
	return j
}

// WithTaskLink returns j with a task link (Aurora's task_links; unsupported
// by the scheduler, AURORA-739).
func (j Job) WithTaskLink(name, url string) Job {
	j.taskLinks = cloneSet(j.taskLinks, name, url)
	return j
}

// Bind returns j with template values visible everywhere in the job, like
// Pystachio's .bind() or the CLI's --bind. Later calls win over earlier
// ones; bindings on the task or a process win over the job's.
func (j Job) Bind(vars Vars) Job {
	j.vars = append(slices.Clone(j.vars), cloneVars(vars))
	return j
}

// WithTemplate returns j with a template in place of a numeric or boolean
// field, by its Aurora name: "instances", "service", "production",
// "priority", "max_task_failures", "enable_hooks" (see
// Process.WithTemplate).
func (j Job) WithTemplate(field, template string) Job {
	j.templates = cloneSet(j.templates, field, template)
	return j
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

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
	if c.http != nil {
		h := *c.http
		c.http = &h
	}
	if c.shell != nil {
		s := *c.shell
		c.shell = &s
	}
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
		GracefulShutdownWait:     new(defaultShutdownWait),
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
	if c.mesosIm != nil {
		im := *c.mesosIm
		c.mesosIm = &im
	}
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

// IsService reports whether the job is a service.
func (j Job) IsService() bool { return j.service }

// Cron returns the cron schedule ("" for an ordinary job).
func (j Job) Cron() string {
	if j.cronSchedule == nil {
		return ""
	}
	return *j.cronSchedule
}

// CronCollisionPolicy returns the cron collision policy.
func (j Job) CronCollisionPolicy() CronCollisionPolicy {
	return orZero(j.cronCollision, defaultCronCollision)
}

// Contact returns the contact e-mail ("" if none).
func (j Job) Contact() string {
	if j.contact == nil {
		return ""
	}
	return *j.contact
}

// Tier returns the tier ("" if none).
func (j Job) Tier() string {
	if j.tier == nil {
		return ""
	}
	return *j.tier
}

// Production reports whether the job is marked production.
func (j Job) Production() bool { return j.production }

// Priority returns the job's priority.
func (j Job) Priority() int { return j.priority }

// MaxTaskFailures returns the number of task failures after which the job
// fails (-1 = unlimited).
func (j Job) MaxTaskFailures() int { return j.maxTaskFailures.or(defaultMaxTaskFailures) }

// Lifecycle returns the job's lifecycle, with Aurora's defaults in place of
// unset fields.
func (j Job) Lifecycle() Lifecycle { return j.lifecycle.canonical() }

// Container returns the job's container and whether it has one.
func (j Job) Container() (Container, bool) {
	if j.container == nil {
		return Container{}, false
	}
	return j.container.clone(), true
}

// Executor returns the executor configuration.
func (j Job) Executor() ExecutorConfig { return j.executor.canonical() }

// EnableHooks reports whether client hooks are enabled.
func (j Job) EnableHooks() bool { return j.enableHooks }
