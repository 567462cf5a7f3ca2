package job

import (
	"maps"
	"time"
)

// Bytes is an amount of memory or disk. Aurora's units are binary:
// MB is 1024*1024 bytes, as in Aurora's configuration DSL.
type Bytes int64

// Units of Bytes. KB/MB/GB/TB are Aurora's names for the same binary units.
//
// They are untyped constants, so that fractions of a unit work as they do
// in .aurora files: 7.5*GB and 1.25*GB are whole numbers of bytes and give
// a Bytes wherever one is expected.
const (
	Byte = 1
	KiB  = 1 << 10
	MiB  = 1 << 20
	GiB  = 1 << 30
	TiB  = 1 << 40

	KB = KiB
	MB = MiB
	GB = GiB
	TB = TiB
)

// Resources are what a task (or, reserved by Aurora for future use, a
// process) needs: CPU cores (fractional allowed), RAM and disk in bytes, and
// GPUs. The zero value is "no resources".
type Resources struct {
	CPU  float64
	RAM  Bytes
	Disk Bytes
	GPU  int
}

// NewResources returns Resources with the given CPU, RAM and disk and no GPU.
func NewResources(cpu float64, ram, disk Bytes) Resources {
	return Resources{CPU: cpu, RAM: ram, Disk: disk}
}

// WithGPU returns r with n GPUs.
func (r Resources) WithGPU(n int) Resources { r.GPU = n; return r }

// LoggerDestination is where Thermos sends a process's stdout and stderr.
type LoggerDestination string

// Logger destinations.
const (
	LogToFile    LoggerDestination = "file"
	LogToConsole LoggerDestination = "console"
	LogToBoth    LoggerDestination = "both"
	LogToNone    LoggerDestination = "none"
)

// LoggerMode is how Thermos writes log files.
type LoggerMode string

// Logger modes.
const (
	LogStandard LoggerMode = "standard"
	LogRotate   LoggerMode = "rotate"
)

// Logger configures a process's logs. Empty Destination and Mode mean
// Aurora's defaults ("file", "standard"). Rotate applies with LogRotate; nil
// leaves it out of the payload (Thermos then uses 100 MiB and 5 backups).
// The zero Logger is Aurora's default logger.
type Logger struct {
	Destination LoggerDestination
	Mode        LoggerMode
	Rotate      *RotatePolicy
}

// RotatePolicy is the log rotation of a Logger in LogRotate mode. A zero
// LogSize or Backups means Aurora's default, 100 MiB and 5 backups.
type RotatePolicy struct {
	LogSize Bytes
	Backups int
}

// DefaultRotatePolicy returns Aurora's default: 100 MiB, 5 backups.
func DefaultRotatePolicy() RotatePolicy {
	return RotatePolicy{LogSize: defaultLogSize, Backups: defaultBackups}
}

func (l Logger) clone() Logger {
	l.Rotate = clonePtr(l.Rotate)
	return l
}

// Process is one command line Thermos runs inside a task. It is an immutable
// value: every With method returns a modified copy and leaves the receiver
// unchanged, so one Process can serve as the template of many. The zero
// Process has Aurora's defaults, like NewProcess: what a With method has
// not set is Aurora's default.
type Process struct {
	name, cmdline string
	maxFailures   opt[int]
	daemon        bool
	ephemeral     bool
	final         bool
	minDuration   opt[time.Duration]
	logger        *Logger
	resources     *Resources
	vars          []Vars
	templates     map[string]string
}

// NewProcess returns a process with Aurora's defaults: max_failures 1,
// min_duration 5s, not daemon, not ephemeral, not final, no logger.
// Both values may contain templates ({{name}} is the process's name).
// It is the same as Process{}.WithName(name).WithCmdline(cmdline).
func NewProcess(name, cmdline string) Process {
	return Process{name: name, cmdline: cmdline}
}

// Name returns the process name as written (templates unresolved).
func (p Process) Name() string { return p.name }

// Cmdline returns the command line as written (templates unresolved).
func (p Process) Cmdline() string { return p.cmdline }

// Daemon reports whether the process is a daemon.
func (p Process) Daemon() bool { return p.daemon }

// Ephemeral reports whether the process is ephemeral.
func (p Process) Ephemeral() bool { return p.ephemeral }

// Final reports whether the process is a finalizer.
func (p Process) Final() bool { return p.final }

// WithName returns p renamed. A later call replaces the name.
func (p Process) WithName(name string) Process { p.name = name; return p }

// WithCmdline returns p with another command line. A later call replaces it.
func (p Process) WithCmdline(cmdline string) Process { p.cmdline = cmdline; return p }

// WithMaxFailures returns p retried up to n times (0 = retry forever).
func (p Process) WithMaxFailures(n int) Process { p.maxFailures = some(n); return p }

// WithDaemon returns p marked as a daemon (restarted even on success).
func (p Process) WithDaemon(daemon bool) Process { p.daemon = daemon; return p }

// WithEphemeral returns p marked ephemeral (the task does not wait for it).
func (p Process) WithEphemeral(ephemeral bool) Process { p.ephemeral = ephemeral; return p }

// WithFinal returns p marked as a finalizing process (runs at task end).
func (p Process) WithFinal(final bool) Process { p.final = final; return p }

// WithMinDuration returns p with the minimum time between restarts.
// Aurora counts whole seconds; fractions are truncated.
func (p Process) WithMinDuration(d time.Duration) Process { p.minDuration = some(d); return p }

// WithLogger returns p with its own logger configuration. A later call
// replaces it.
func (p Process) WithLogger(l Logger) Process { l = l.clone(); p.logger = &l; return p }

// WithResources returns p with per-process resources ("reserved for future
// use" by Aurora; written to the payload but not enforced).
func (p Process) WithResources(r Resources) Process { p.resources = &r; return p }

// Bind returns p with template values visible to its own fields, like
// Pystachio's Process.bind(). Bindings of later calls win over earlier
// ones; the process's own fields ({{name}}, {{cmdline}}) win over both.
func (p Process) Bind(vars Vars) Process {
	p.vars = bind(p.vars, vars)
	return p
}

// WithTemplate returns p with a template in place of a numeric or boolean
// field, by its Aurora name: one of thermos.TemplatedFields(&thermos.Process{})
// ("max_failures", "min_duration", "daemon", "ephemeral", "final") or
// "resources." and one of thermos.TemplatedFields(&thermos.Resources{}). The template must resolve from bindings when the job is
// built (Aurora's CLI rejects run-time templates in such fields).
func (p Process) WithTemplate(field, template string) Process {
	p.templates = cloneSet(p.templates, field, template)
	return p
}

func cloneSet(m map[string]string, k, v string) map[string]string {
	m = maps.Clone(m)
	if m == nil {
		m = make(map[string]string, 1)
	}
	m[k] = v
	return m
}

// MaxFailures returns how often the process may fail (0 = retry forever).
func (p Process) MaxFailures() int { return p.maxFailures.or(defaultProcessMaxFailures) }

// MinDuration returns the minimum time between restarts.
func (p Process) MinDuration() time.Duration { return p.minDuration.or(defaultProcessMinDuration) }

// Logger returns the process's logger and whether it has one.
func (p Process) Logger() (Logger, bool) {
	if p.logger == nil {
		return Logger{}, false
	}
	return p.logger.clone(), true
}

// Resources returns the per-process resources and whether they are set.
func (p Process) Resources() (Resources, bool) {
	if p.resources == nil {
		return Resources{}, false
	}
	return *p.resources, true
}
