package job

import "time"

// The package's one rule for defaults (see "Defaults" in the package doc):
// what is not set is Aurora's default. Aurora's defaults are written here
// only, and applied by opt.or (Process, Task, Job) and the canonical
// methods (the plain structs).

// Aurora's defaults (Pystachio's Default(...) in Aurora's schema).
const (
	defaultProcessMaxFailures   = 1
	defaultProcessMinDuration   = 5 * time.Second
	defaultTaskMaxFailures      = 1
	defaultFinalizationWait     = 30 * time.Second
	defaultInstances            = 1
	defaultMaxTaskFailures      = 1
	defaultCronCollision        = KillExisting
	defaultExecutorName         = "AuroraExecutor"
	defaultBatchSize            = 1
	defaultWatch                = 45 * time.Second
	defaultRollbackOnFailure    = true
	defaultInitialInterval      = 15 * time.Second
	defaultInterval             = 10 * time.Second
	defaultMinSuccesses         = 1
	defaultHealthTimeout        = time.Second
	defaultHealthEndpoint       = "/health"
	defaultExpectedResponse     = "ok"
	defaultLifecyclePort        = "health"
	defaultGracefulEndpoint     = "/quitquitquit"
	defaultShutdownEndpoint     = "/abortabortabort"
	defaultShutdownWait         = 5 * time.Second
	defaultLogSize              = 100 * MiB
	defaultBackups              = 5
	defaultReschedule           = true
	defaultAnnouncePrimaryPort  = "http"
	defaultCoordinatorStatusKey = "drain"
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
		GracefulShutdownWait:     new(deref(h.GracefulShutdownWait, defaultShutdownWait)),
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
