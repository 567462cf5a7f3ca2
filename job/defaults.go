package job

import "github.com/nixrealis/nixrealis/thermos"

// The package's one rule for defaults (see "Defaults" in the package doc):
// what is not set is Aurora's default. Aurora's defaults are thermos'
// (thermos/schema.go states them once, as Pystachio's Default(...) in
// Aurora's schema); they are read here from thermos' constructors, in this
// package's types, and applied by opt.or (Process, Task, Job) and the
// canonical methods (the plain structs).

// The payload structs holding Aurora's defaults.
var (
	wireProcess     = thermos.NewProcess("", "")
	wireTask        = thermos.NewTask()
	wireJob         = thermos.NewJob()
	wireConfig      = thermos.NewConfig()
	wireHealth      = thermos.DefaultHealthCheckConfig()
	wireHTTPChecker = thermos.DefaultHTTPHealthChecker()
	wireLifecycle   = thermos.DefaultHTTPLifecycle()
	wireRotate      = thermos.DefaultRotatePolicy()
	wirePartition   = thermos.DefaultPartitionPolicy()
	wireAnnouncer   = thermos.DefaultAnnouncer()
	wireCoordinator = thermos.DefaultCoordinatorSLAPolicy()
)

// Aurora's defaults in this package's types.
var (
	defaultProcessMaxFailures   = wireProcess.MaxFailures
	defaultProcessMinDuration   = dur(wireProcess.MinDuration)
	defaultTaskMaxFailures      = wireTask.MaxFailures
	defaultFinalizationWait     = dur(wireTask.FinalizationWait)
	defaultInstances            = wireConfig.Instances
	defaultMaxTaskFailures      = wireJob.MaxTaskFailures
	defaultCronCollision        = CronCollisionPolicy(wireJob.CronCollisionPolicy)
	defaultExecutorName         = wireJob.ExecutorConfig.Name
	defaultBatchSize            = wireConfig.UpdateConfig.BatchSize
	defaultWatch                = dur(wireConfig.UpdateConfig.WatchSecs)
	defaultRollbackOnFailure    = wireConfig.UpdateConfig.RollbackOnFailure
	defaultInitialInterval      = fdur(wireHealth.InitialIntervalSecs)
	defaultInterval             = fdur(wireHealth.IntervalSecs)
	defaultMinSuccesses         = wireHealth.MinConsecutiveSuccesses
	defaultHealthTimeout        = fdur(wireHealth.TimeoutSecs)
	defaultHealthEndpoint       = wireHTTPChecker.Endpoint
	defaultExpectedResponse     = wireHTTPChecker.ExpectedResponse
	defaultLifecyclePort        = wireLifecycle.Port
	defaultGracefulEndpoint     = wireLifecycle.GracefulShutdownEndpoint
	defaultShutdownEndpoint     = wireLifecycle.ShutdownEndpoint
	defaultGracefulShutdownWait = dur(wireLifecycle.GracefulShutdownWaitSecs)
	defaultShutdownWait         = dur(wireLifecycle.ShutdownWaitSecs)
	defaultLogSize              = Bytes(wireRotate.LogSize)
	defaultBackups              = wireRotate.Backups
	defaultReschedule           = wirePartition.Reschedule
	defaultAnnouncePrimaryPort  = wireAnnouncer.PrimaryPort
	defaultCoordinatorStatusKey = wireCoordinator.StatusKey
)

// opt is a field of Process, Task or Job that a With method may have set;
// unset, it means Aurora's default.
type opt[T comparable] struct {
	v   T
	set bool
}

func some[T comparable](v T) opt[T] { return opt[T]{v: v, set: true} }

// or returns the value if it was set, def otherwise.
func (o opt[T]) or(def T) T {
	if o.set {
		return o.v
	}
	return def
}

// orZero returns v, or def if v is the zero value.
func orZero[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// deref returns *p, or def if p is nil.
func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// The canonical forms below replace every unset field with Aurora's
// default; Build and the accessors use them, so the defaults live here
// only.

func (u Update) canonical() Update {
	u = u.clone()
	u.BatchSize = orZero(u.BatchSize, defaultBatchSize)
	u.Watch = new(deref(u.Watch, defaultWatch))
	u.RollbackOnFailure = new(deref(u.RollbackOnFailure, defaultRollbackOnFailure))
	return u
}

func (h HealthCheck) canonical() HealthCheck {
	h = h.clone()
	h.Checker = h.Checker.canonical()
	h.InitialInterval = new(deref(h.InitialInterval, defaultInitialInterval))
	h.Interval = orZero(h.Interval, defaultInterval)
	h.MinConsecutiveSuccesses = orZero(h.MinConsecutiveSuccesses, defaultMinSuccesses)
	h.Timeout = orZero(h.Timeout, defaultHealthTimeout)
	return h
}

func (c HealthChecker) canonical() HealthChecker {
	if c.shell != nil {
		return c.clone()
	}
	var h HTTPHealthChecker
	if c.http != nil {
		h = *c.http
	}
	return HTTPChecker(orZero(h.Endpoint, defaultHealthEndpoint), orZero(h.ExpectedResponse, defaultExpectedResponse), h.ExpectedResponseCode)
}

func (l Lifecycle) canonical() Lifecycle {
	if l.disabled {
		return l
	}
	var h HTTPLifecycle
	if l.http != nil {
		h = *l.http
	}
	return HTTPLifecycleConfig(HTTPLifecycle{
		Port:                     orZero(h.Port, defaultLifecyclePort),
		GracefulShutdownEndpoint: orZero(h.GracefulShutdownEndpoint, defaultGracefulEndpoint),
		ShutdownEndpoint:         orZero(h.ShutdownEndpoint, defaultShutdownEndpoint),
		GracefulShutdownWait:     new(deref(h.GracefulShutdownWait, defaultGracefulShutdownWait)),
		ShutdownWait:             new(deref(h.ShutdownWait, defaultShutdownWait)),
	})
}

// canonical returns r with Aurora's defaults in place of unset fields.
func (r RotatePolicy) canonical() RotatePolicy {
	return RotatePolicy{LogSize: orZero(r.LogSize, defaultLogSize), Backups: orZero(r.Backups, defaultBackups)}
}

func (p PartitionPolicy) canonical() PartitionPolicy {
	p.Reschedule = new(deref(p.Reschedule, defaultReschedule))
	return p
}

func (e ExecutorConfig) canonical() ExecutorConfig {
	e.Name = orZero(e.Name, defaultExecutorName)
	return e
}
