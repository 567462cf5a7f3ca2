package thermos

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Marshal returns the Thermos payload for j exactly as Aurora's client
// writes it (executorConfig.data): every defaulted field present, optional
// fields only when set, Float fields with a decimal point or exponent as
// Python's repr writes them (1.0, 0.25, 1e-05), Integer fields without, and
// Python's json.dumps byte style: ", " and ": " separators, every non-ASCII
// character as a \uXXXX escape (surrogate pairs beyond the BMP), "<>&/"
// unescaped. Object keys are sorted; nothing depends on key order.
//
// A nil Metadata, Task.Constraints, Task.Processes, Docker.Parameters or
// Mesos.Volumes is written as [], a nil Announcer.Portmap as Aurora's
// default {"aurora": PrimaryPort}. An entry in a Templates map is written
// in place of its field's value.
//
// Marshal fails, with a *FieldError naming the field, on a NaN or infinite
// float, a choice (Container, SLAPolicy, Image) with no or several
// alternatives set, or a Templates entry that names no field of its struct or
// holds no "{{".
func Marshal(j *Job) ([]byte, error) {
	if j == nil {
		return Append(nil, j)
	}
	b, err := Append(make([]byte, 0, 2048+256*len(j.Task.Processes)), j)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Append appends the payload Marshal would return to dst and returns the
// extended slice. On error it returns dst unchanged.
func Append(dst []byte, j *Job) ([]byte, error) {
	if j == nil {
		return dst, &FieldError{Err: fmt.Errorf("nil Job: %w", ErrInvalid)}
	}
	e := encoder{b: dst}
	e.job(j)
	if e.err != nil {
		return dst, e.err
	}
	return e.b, nil
}

type encoder struct {
	b    []byte
	path pathStack
	err  error
}

func (e *encoder) fail(key string, err error) {
	if e.err != nil {
		return
	}
	if key != "" {
		e.path.push(key)
	}
	e.err = &FieldError{Path: e.path.String(), Err: err}
	if key != "" {
		e.path.pop()
	}
}

// key writes the separator (unless first) and "name": .
func (e *encoder) key(first *bool, name string) {
	if *first {
		*first = false
	} else {
		e.b = append(e.b, ", "...)
	}
	e.b = append(e.b, '"')
	e.b = append(e.b, name...)
	e.b = append(e.b, `": `...)
}

func (e *encoder) strField(first *bool, name, v string) {
	e.key(first, name)
	e.str(v)
}

func (e *encoder) intField(first *bool, name string, v int64, t Templates) {
	e.key(first, name)
	if t != nil {
		if s, ok := t[name]; ok {
			e.str(s)
			return
		}
	}
	e.b = strconv.AppendInt(e.b, v, 10)
}

func (e *encoder) boolField(first *bool, name string, v bool, t Templates) {
	e.key(first, name)
	if t != nil {
		if s, ok := t[name]; ok {
			e.str(s)
			return
		}
	}
	if v {
		e.b = append(e.b, "true"...)
	} else {
		e.b = append(e.b, "false"...)
	}
}

func (e *encoder) floatField(first *bool, name string, v float64, t Templates) {
	e.key(first, name)
	if t != nil {
		if s, ok := t[name]; ok {
			e.str(s)
			return
		}
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		e.fail(name, fmt.Errorf("%v is not a JSON number: %w", v, ErrInvalid))
		e.b = append(e.b, '0')
		return
	}
	e.b = AppendFloat(e.b, v)
}

// checkTemplates verifies that every key of t is one of the struct's
// non-string fields and that every value is a template.
func (e *encoder) checkTemplates(t Templates, fields ...string) {
	if len(t) == 0 || e.err != nil {
		return
	}
	for k, v := range t {
		known := false
		for _, f := range fields {
			if f == k {
				known = true
				break
			}
		}
		if !known {
			e.fail("", fmt.Errorf("Templates[%q]: no such non-string field (want one of %s): %w",
				k, strings.Join(fields, ", "), ErrInvalid))
			return
		}
		if !strings.Contains(v, "{{") {
			e.fail(k, fmt.Errorf("template %q holds no {{...}} reference; set the field's value instead: %w", v, ErrInvalid))
			return
		}
	}
}

// AppendFloat appends f as Python's repr writes a float: the shortest
// representation that round-trips, always with a decimal point or an
// exponent ("1.0", "0.25", "1e-05", "1e+16"). NaN and infinities are
// written as Python does (NaN, Infinity, -Infinity), which is not JSON;
// Marshal rejects them before.
func AppendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e16 {
		// Integral and below 1e16: Python writes all digits plus ".0".
		if math.Abs(f) < 1<<53 {
			if f == 0 && math.Signbit(f) {
				return append(b, "-0.0"...)
			}
			b = strconv.AppendInt(b, int64(f), 10)
			return append(b, ".0"...)
		}
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-4 || abs >= 1e16) {
		return strconv.AppendFloat(b, f, 'e', -1, 64)
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'f', -1, 64)
	for _, c := range b[start:] {
		if c == '.' {
			return b
		}
	}
	return append(b, ".0"...)
}

const hexDigits = "0123456789abcdef"

// str writes s as a JSON string the way Python 2's json.dumps does with
// ensure_ascii: printable ASCII as is (including <, >, &, /), short escapes
// for " \ \n \r \t \b \f, everything else as \uXXXX with lowercase hex and
// surrogate pairs. Invalid UTF-8 is written as \ufffd.
func (e *encoder) str(s string) {
	e.b = appendString(e.b, s)
}

// AppendString appends s as a JSON string in the byte style of Python 2's
// json.dumps with ensure_ascii=True (see Marshal).
func AppendString(b []byte, s string) []byte { return appendString(b, s) }

func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, `\"`...)
			i++
		case '\\':
			b = append(b, `\\`...)
			i++
		case '\n':
			b = append(b, `\n`...)
			i++
		case '\r':
			b = append(b, `\r`...)
			i++
		case '\t':
			b = append(b, `\t`...)
			i++
		case '\b':
			b = append(b, `\b`...)
			i++
		case '\f':
			b = append(b, `\f`...)
			i++
		default:
			r, size := rune(c), 1
			if c >= utf8.RuneSelf {
				r, size = utf8.DecodeRuneInString(s[i:])
			}
			i += size
			if r > 0xffff {
				r1, r2 := surrogates(r)
				b = appendU(b, r1)
				b = appendU(b, r2)
			} else {
				b = appendU(b, r)
			}
		}
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

func (e *encoder) stringMap(m map[string]string) {
	e.b = append(e.b, '{')
	keys := sortedKeys(m)
	for i, k := range keys {
		if i > 0 {
			e.b = append(e.b, ", "...)
		}
		e.str(k)
		e.b = append(e.b, ": "...)
		e.str(m[k])
	}
	e.b = append(e.b, '}')
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (e *encoder) job(j *Job) {
	e.checkTemplates(j.Templates, "service", "max_task_failures", "production", "priority", "enable_hooks")
	first := true
	e.b = append(e.b, '{')
	if j.Announce != nil {
		e.key(&first, "announce")
		e.path.push("announce")
		e.announcer(j.Announce)
		e.path.pop()
	}
	e.strField(&first, "cluster", j.Cluster)
	if j.Constraints != nil {
		e.key(&first, "constraints")
		e.stringMap(j.Constraints)
	}
	if j.Contact != nil {
		e.strField(&first, "contact", *j.Contact)
	}
	if j.Container != nil {
		e.key(&first, "container")
		e.path.push("container")
		e.container(j.Container)
		e.path.pop()
	}
	e.strField(&first, "cron_collision_policy", j.CronCollisionPolicy)
	if j.CronSchedule != nil {
		e.strField(&first, "cron_schedule", *j.CronSchedule)
	}
	e.boolField(&first, "enable_hooks", j.EnableHooks, j.Templates)
	e.strField(&first, "environment", j.Environment)
	e.key(&first, "executor_config")
	e.b = append(e.b, `{"data": `...)
	e.str(j.ExecutorConfig.Data)
	e.b = append(e.b, `, "name": `...)
	e.str(j.ExecutorConfig.Name)
	e.b = append(e.b, '}')
	e.key(&first, "health_check_config")
	e.path.push("health_check_config")
	e.healthCheck(&j.HealthCheckConfig)
	e.path.pop()
	e.key(&first, "lifecycle")
	e.path.push("lifecycle")
	e.lifecycle(&j.Lifecycle)
	e.path.pop()
	e.intField(&first, "max_task_failures", int64(j.MaxTaskFailures), j.Templates)
	e.key(&first, "metadata")
	e.b = append(e.b, '[')
	for i := range j.Metadata {
		if i > 0 {
			e.b = append(e.b, ", "...)
		}
		e.b = append(e.b, `{"key": `...)
		e.str(j.Metadata[i].Key)
		e.b = append(e.b, `, "value": `...)
		e.str(j.Metadata[i].Value)
		e.b = append(e.b, '}')
	}
	e.b = append(e.b, ']')
	e.strField(&first, "name", j.Name)
	if j.PartitionPolicy != nil {
		e.key(&first, "partition_policy")
		e.path.push("partition_policy")
		p := j.PartitionPolicy
		e.checkTemplates(p.Templates, "delay_secs", "reschedule")
		f := true
		e.b = append(e.b, '{')
		e.intField(&f, "delay_secs", int64(p.DelaySecs), p.Templates)
		e.boolField(&f, "reschedule", p.Reschedule, p.Templates)
		e.b = append(e.b, '}')
		e.path.pop()
	}
	e.intField(&first, "priority", int64(j.Priority), j.Templates)
	e.boolField(&first, "production", j.Production, j.Templates)
	e.strField(&first, "role", j.Role)
	e.boolField(&first, "service", j.Service, j.Templates)
	if j.SLAPolicy != nil {
		e.key(&first, "sla_policy")
		e.path.push("sla_policy")
		e.slaPolicy(j.SLAPolicy)
		e.path.pop()
	}
	e.key(&first, "task")
	e.path.push("task")
	e.task(&j.Task)
	e.path.pop()
	if j.TaskLinks != nil {
		e.key(&first, "task_links")
		e.stringMap(j.TaskLinks)
	}
	if j.Tier != nil {
		e.strField(&first, "tier", *j.Tier)
	}
	e.b = append(e.b, '}')
}

func (e *encoder) announcer(a *Announcer) {
	e.b = append(e.b, `{"portmap": `...)
	if a.Portmap == nil {
		e.b = append(e.b, `{"aurora": `...)
		e.str(a.PrimaryPort)
		e.b = append(e.b, '}')
	} else {
		e.stringMap(a.Portmap)
	}
	e.b = append(e.b, `, "primary_port": `...)
	e.str(a.PrimaryPort)
	if a.ZKPath != nil {
		e.b = append(e.b, `, "zk_path": `...)
		e.str(*a.ZKPath)
	}
	e.b = append(e.b, '}')
}

func (e *encoder) choiceError(n int, alternatives string) {
	if n == 0 {
		e.fail("", fmt.Errorf("no alternative set: set one of %s: %w", alternatives, ErrInvalid))
	} else {
		e.fail("", fmt.Errorf("%d alternatives set: set exactly one of %s: %w", n, alternatives, ErrInvalid))
	}
}

func count(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func (e *encoder) container(c *Container) {
	if n := count(c.Docker != nil, c.Mesos != nil, c.LegacyDocker != nil); n != 1 {
		e.choiceError(n, "Docker, Mesos or LegacyDocker")
		e.b = append(e.b, "{}"...)
		return
	}
	switch {
	case c.Docker != nil:
		e.docker(c.Docker)
	case c.LegacyDocker != nil:
		e.b = append(e.b, `{"docker": `...)
		e.docker(c.LegacyDocker)
		e.b = append(e.b, '}')
	default:
		m := c.Mesos
		first := true
		e.b = append(e.b, '{')
		if m.Image != nil {
			e.key(&first, "image")
			img := m.Image
			if n := count(img.Docker != nil, img.Appc != nil); n != 1 {
				e.path.push("image")
				e.choiceError(n, "Docker or Appc")
				e.path.pop()
				e.b = append(e.b, "{}"...)
			} else if img.Docker != nil {
				e.b = append(e.b, `{"name": `...)
				e.str(img.Docker.Name)
				e.b = append(e.b, `, "tag": `...)
				e.str(img.Docker.Tag)
				e.b = append(e.b, '}')
			} else {
				e.b = append(e.b, `{"image_id": `...)
				e.str(img.Appc.ImageID)
				e.b = append(e.b, `, "name": `...)
				e.str(img.Appc.Name)
				e.b = append(e.b, '}')
			}
		}
		e.key(&first, "volumes")
		e.b = append(e.b, '[')
		for i, v := range m.Volumes {
			if i > 0 {
				e.b = append(e.b, ", "...)
			}
			e.b = append(e.b, `{"container_path": `...)
			e.str(v.ContainerPath)
			e.b = append(e.b, `, "host_path": `...)
			e.str(v.HostPath)
			e.b = append(e.b, `, "mode": `...)
			e.str(v.Mode)
			e.b = append(e.b, '}')
		}
		e.b = append(e.b, "]}"...)
	}
}

func (e *encoder) docker(d *Docker) {
	e.b = append(e.b, `{"image": `...)
	e.str(d.Image)
	e.b = append(e.b, `, "parameters": [`...)
	for i, p := range d.Parameters {
		if i > 0 {
			e.b = append(e.b, ", "...)
		}
		e.b = append(e.b, `{"name": `...)
		e.str(p.Name)
		e.b = append(e.b, `, "value": `...)
		e.str(p.Value)
		e.b = append(e.b, '}')
	}
	e.b = append(e.b, "]}"...)
}

func (e *encoder) slaPolicy(s *SLAPolicy) {
	if n := count(s.Percentage != nil, s.Count != nil, s.Coordinator != nil); n != 1 {
		e.choiceError(n, "Percentage, Count or Coordinator")
		e.b = append(e.b, "{}"...)
		return
	}
	first := true
	e.b = append(e.b, '{')
	switch {
	case s.Percentage != nil:
		p := s.Percentage
		e.checkTemplates(p.Templates, "duration_secs", "percentage")
		e.intField(&first, "duration_secs", int64(p.DurationSecs), p.Templates)
		e.floatField(&first, "percentage", p.Percentage, p.Templates)
	case s.Count != nil:
		c := s.Count
		e.checkTemplates(c.Templates, "count", "duration_secs")
		e.intField(&first, "count", int64(c.Count), c.Templates)
		e.intField(&first, "duration_secs", int64(c.DurationSecs), c.Templates)
	default:
		c := s.Coordinator
		e.strField(&first, "coordinator_url", c.CoordinatorURL)
		e.strField(&first, "status_key", c.StatusKey)
	}
	e.b = append(e.b, '}')
}

func (e *encoder) healthCheck(h *HealthCheckConfig) {
	e.checkTemplates(h.Templates, "initial_interval_secs", "interval_secs", "max_consecutive_failures", "min_consecutive_successes", "timeout_secs")
	first := true
	e.b = append(e.b, '{')
	e.key(&first, "health_checker")
	hc := &h.HealthChecker
	f := true
	e.b = append(e.b, '{')
	if hc.HTTP != nil {
		e.key(&f, "http")
		e.path.push("health_checker")
		e.path.push("http")
		x := hc.HTTP
		e.checkTemplates(x.Templates, "expected_response_code")
		g := true
		e.b = append(e.b, '{')
		e.strField(&g, "endpoint", x.Endpoint)
		e.strField(&g, "expected_response", x.ExpectedResponse)
		e.intField(&g, "expected_response_code", int64(x.ExpectedResponseCode), x.Templates)
		e.b = append(e.b, '}')
		e.path.pop()
		e.path.pop()
	}
	if hc.Shell != nil {
		e.key(&f, "shell")
		e.b = append(e.b, `{"shell_command": `...)
		e.str(hc.Shell.ShellCommand)
		e.b = append(e.b, '}')
	}
	e.b = append(e.b, '}')
	e.floatField(&first, "initial_interval_secs", h.InitialIntervalSecs, h.Templates)
	e.floatField(&first, "interval_secs", h.IntervalSecs, h.Templates)
	e.intField(&first, "max_consecutive_failures", int64(h.MaxConsecutiveFailures), h.Templates)
	e.intField(&first, "min_consecutive_successes", int64(h.MinConsecutiveSuccesses), h.Templates)
	e.floatField(&first, "timeout_secs", h.TimeoutSecs, h.Templates)
	e.b = append(e.b, '}')
}

func (e *encoder) lifecycle(l *LifecycleConfig) {
	if l.HTTP == nil {
		e.b = append(e.b, "{}"...)
		return
	}
	h := l.HTTP
	e.path.push("http")
	e.checkTemplates(h.Templates, "graceful_shutdown_wait_secs", "shutdown_wait_secs")
	first := true
	e.b = append(e.b, `{"http": {`...)
	e.strField(&first, "graceful_shutdown_endpoint", h.GracefulShutdownEndpoint)
	e.intField(&first, "graceful_shutdown_wait_secs", int64(h.GracefulShutdownWaitSecs), h.Templates)
	e.strField(&first, "port", h.Port)
	e.strField(&first, "shutdown_endpoint", h.ShutdownEndpoint)
	e.intField(&first, "shutdown_wait_secs", int64(h.ShutdownWaitSecs), h.Templates)
	e.b = append(e.b, "}}"...)
	e.path.pop()
}

func (e *encoder) resources(r *Resources) {
	e.checkTemplates(r.Templates, "cpu", "disk", "gpu", "ram")
	first := true
	e.b = append(e.b, '{')
	e.floatField(&first, "cpu", r.CPU, r.Templates)
	e.intField(&first, "disk", r.Disk, r.Templates)
	e.intField(&first, "gpu", r.GPU, r.Templates)
	e.intField(&first, "ram", r.RAM, r.Templates)
	e.b = append(e.b, '}')
}

func (e *encoder) task(t *Task) {
	e.checkTemplates(t.Templates, "finalization_wait", "max_concurrency", "max_failures")
	first := true
	e.b = append(e.b, '{')
	e.key(&first, "constraints")
	e.b = append(e.b, '[')
	for i := range t.Constraints {
		if i > 0 {
			e.b = append(e.b, ", "...)
		}
		c := &t.Constraints[i]
		if c.Order == nil {
			e.b = append(e.b, "{}"...)
			continue
		}
		e.b = append(e.b, `{"order": [`...)
		for k, name := range c.Order {
			if k > 0 {
				e.b = append(e.b, ", "...)
			}
			e.str(name)
		}
		e.b = append(e.b, "]}"...)
	}
	e.b = append(e.b, ']')
	e.intField(&first, "finalization_wait", int64(t.FinalizationWait), t.Templates)
	e.intField(&first, "max_concurrency", int64(t.MaxConcurrency), t.Templates)
	e.intField(&first, "max_failures", int64(t.MaxFailures), t.Templates)
	e.strField(&first, "name", t.Name)
	e.key(&first, "processes")
	e.path.push("processes")
	e.b = append(e.b, '[')
	for i := range t.Processes {
		if i > 0 {
			e.b = append(e.b, ", "...)
		}
		e.path.pushIdx(i)
		e.process(&t.Processes[i])
		e.path.pop()
	}
	e.b = append(e.b, ']')
	e.path.pop()
	if t.Resources != nil {
		e.key(&first, "resources")
		e.path.push("resources")
		e.resources(t.Resources)
		e.path.pop()
	}
	if t.User != nil {
		e.strField(&first, "user", *t.User)
	}
	e.b = append(e.b, '}')
}

func (e *encoder) process(p *Process) {
	e.checkTemplates(p.Templates, "daemon", "ephemeral", "final", "max_failures", "min_duration")
	first := true
	e.b = append(e.b, '{')
	e.strField(&first, "cmdline", p.Cmdline)
	e.boolField(&first, "daemon", p.Daemon, p.Templates)
	e.boolField(&first, "ephemeral", p.Ephemeral, p.Templates)
	e.boolField(&first, "final", p.Final, p.Templates)
	if p.Logger != nil {
		e.key(&first, "logger")
		l := p.Logger
		e.b = append(e.b, `{"destination": `...)
		e.str(l.Destination)
		e.b = append(e.b, `, "mode": `...)
		e.str(l.Mode)
		if l.Rotate != nil {
			e.path.push("logger")
			e.path.push("rotate")
			r := l.Rotate
			e.checkTemplates(r.Templates, "backups", "log_size")
			f := false
			e.key(&f, "rotate")
			g := true
			e.b = append(e.b, '{')
			e.intField(&g, "backups", int64(r.Backups), r.Templates)
			e.intField(&g, "log_size", r.LogSize, r.Templates)
			e.b = append(e.b, '}')
			e.path.pop()
			e.path.pop()
		}
		e.b = append(e.b, '}')
	}
	e.intField(&first, "max_failures", int64(p.MaxFailures), p.Templates)
	e.intField(&first, "min_duration", int64(p.MinDuration), p.Templates)
	e.strField(&first, "name", p.Name)
	if p.Resources != nil {
		e.key(&first, "resources")
		e.path.push("resources")
		e.resources(p.Resources)
		e.path.pop()
	}
	e.b = append(e.b, '}')
}
