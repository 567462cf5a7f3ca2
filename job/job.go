package job

import (
	"maps"
	"slices"
	"strconv"
	"strings"
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
	j.vars = bind(j.vars, vars)
	return j
}

// WithTemplate returns j with a template in place of a numeric or boolean
// field, by its Aurora name: "instances" or one of the job's templated
// fields, thermos.TemplatedFields(&thermos.Job{}) ("service", "production",
// "priority", "max_task_failures", "enable_hooks"; see
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
