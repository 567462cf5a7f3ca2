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
	var e encoder
	e.path = e.pathBuf[:0]
	b := e.job(dst, j)
	if e.err != nil {
		return dst, e.err
	}
	return b, nil
}

type encoder struct {
	path    pathStack
	pathBuf [8]pathElem
	err     error
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
func key(b []byte, first *bool, name string) []byte {
	if *first {
		*first = false
	} else {
		b = append(b, ", "...)
	}
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `": `...)
	return b
}

func strField(b []byte, first *bool, name, v string) []byte {
	b = key(b, first, name)
	b = appendString(b, v)
	return b
}

func (e *encoder) intField(b []byte, first *bool, name string, v int64, t Templates) []byte {
	b = key(b, first, name)
	if t != nil {
		if s, ok := t[name]; ok {
			b = appendString(b, s)
			return b
		}
	}
	b = strconv.AppendInt(b, v, 10)
	return b
}

func (e *encoder) boolField(b []byte, first *bool, name string, v bool, t Templates) []byte {
	b = key(b, first, name)
	if t != nil {
		if s, ok := t[name]; ok {
			b = appendString(b, s)
			return b
		}
	}
	if v {
		b = append(b, "true"...)
	} else {
		b = append(b, "false"...)
	}
	return b
}

func (e *encoder) floatField(b []byte, first *bool, name string, v float64, t Templates) []byte {
	b = key(b, first, name)
	if t != nil {
		if s, ok := t[name]; ok {
			b = appendString(b, s)
			return b
		}
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		e.fail(name, fmt.Errorf("%v is not a JSON number: %w", v, ErrInvalid))
		b = append(b, '0')
		return b
	}
	b = appendFloat(b, v)
	return b
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

// appendFloat appends f as Python's repr writes a float: the shortest
// representation that round-trips, always with a decimal point or an
// exponent ("1.0", "0.25", "1e-05", "1e+16"). NaN and infinities are
// written as Python does (NaN, Infinity, -Infinity), which is not JSON;
// Marshal rejects them before.
func appendFloat(b []byte, f float64) []byte {
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

// plainASCII marks the bytes Python's json.dumps writes as they are:
// printable ASCII except '"' and '\\'. It is never modified.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString appends s as a JSON string the way Python 2's json.dumps
// writes it with ensure_ascii: printable ASCII as is (including <, >, &, /),
// short escapes for " \ \n \r \t \b \f, everything else (DEL, other control
// characters, non-ASCII) as \uXXXX with lowercase hex digits and surrogate
// pairs beyond the BMP. Invalid UTF-8 is written as \ufffd.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainASCII[c] {
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

func appendStringMap(b []byte, m map[string]string) []byte {
	b = append(b, '{')
	keys := sortedKeys(m)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendString(b, k)
		b = append(b, ": "...)
		b = appendString(b, m[k])
	}
	b = append(b, '}')
	return b
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (e *encoder) job(b []byte, j *Job) []byte {
	e.checkTemplates(j.Templates, "service", "max_task_failures", "production", "priority", "enable_hooks")
	first := true
	b = append(b, '{')
	if j.Announce != nil {
		b = key(b, &first, "announce")
		e.path.push("announce")
		b = e.announcer(b, j.Announce)
		e.path.pop()
	}
	b = strField(b, &first, "cluster", j.Cluster)
	if j.Constraints != nil {
		b = key(b, &first, "constraints")
		b = appendStringMap(b, j.Constraints)
	}
	if j.Contact != nil {
		b = strField(b, &first, "contact", *j.Contact)
	}
	if j.Container != nil {
		b = key(b, &first, "container")
		e.path.push("container")
		b = e.container(b, j.Container)
		e.path.pop()
	}
	b = strField(b, &first, "cron_collision_policy", j.CronCollisionPolicy)
	if j.CronSchedule != nil {
		b = strField(b, &first, "cron_schedule", *j.CronSchedule)
	}
	b = e.boolField(b, &first, "enable_hooks", j.EnableHooks, j.Templates)
	b = strField(b, &first, "environment", j.Environment)
	b = key(b, &first, "executor_config")
	b = append(b, `{"data": `...)
	b = appendString(b, j.ExecutorConfig.Data)
	b = append(b, `, "name": `...)
	b = appendString(b, j.ExecutorConfig.Name)
	b = append(b, '}')
	b = key(b, &first, "health_check_config")
	e.path.push("health_check_config")
	b = e.healthCheck(b, &j.HealthCheckConfig)
	e.path.pop()
	b = key(b, &first, "lifecycle")
	e.path.push("lifecycle")
	b = e.lifecycle(b, &j.Lifecycle)
	e.path.pop()
	b = e.intField(b, &first, "max_task_failures", int64(j.MaxTaskFailures), j.Templates)
	b = key(b, &first, "metadata")
	b = append(b, '[')
	for i := range j.Metadata {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, `{"key": `...)
		b = appendString(b, j.Metadata[i].Key)
		b = append(b, `, "value": `...)
		b = appendString(b, j.Metadata[i].Value)
		b = append(b, '}')
	}
	b = append(b, ']')
	b = strField(b, &first, "name", j.Name)
	if j.PartitionPolicy != nil {
		b = key(b, &first, "partition_policy")
		e.path.push("partition_policy")
		p := j.PartitionPolicy
		e.checkTemplates(p.Templates, "delay_secs", "reschedule")
		f := true
		b = append(b, '{')
		b = e.intField(b, &f, "delay_secs", int64(p.DelaySecs), p.Templates)
		b = e.boolField(b, &f, "reschedule", p.Reschedule, p.Templates)
		b = append(b, '}')
		e.path.pop()
	}
	b = e.intField(b, &first, "priority", int64(j.Priority), j.Templates)
	b = e.boolField(b, &first, "production", j.Production, j.Templates)
	b = strField(b, &first, "role", j.Role)
	b = e.boolField(b, &first, "service", j.Service, j.Templates)
	if j.SLAPolicy != nil {
		b = key(b, &first, "sla_policy")
		e.path.push("sla_policy")
		b = e.slaPolicy(b, j.SLAPolicy)
		e.path.pop()
	}
	b = key(b, &first, "task")
	e.path.push("task")
	b = e.task(b, &j.Task)
	e.path.pop()
	if j.TaskLinks != nil {
		b = key(b, &first, "task_links")
		b = appendStringMap(b, j.TaskLinks)
	}
	if j.Tier != nil {
		b = strField(b, &first, "tier", *j.Tier)
	}
	b = append(b, '}')
	return b
}

func (e *encoder) announcer(b []byte, a *Announcer) []byte {
	b = append(b, `{"portmap": `...)
	if a.Portmap == nil {
		b = append(b, `{"aurora": `...)
		b = appendString(b, a.PrimaryPort)
		b = append(b, '}')
	} else {
		b = appendStringMap(b, a.Portmap)
	}
	b = append(b, `, "primary_port": `...)
	b = appendString(b, a.PrimaryPort)
	if a.ZKPath != nil {
		b = append(b, `, "zk_path": `...)
		b = appendString(b, *a.ZKPath)
	}
	b = append(b, '}')
	return b
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

func (e *encoder) container(b []byte, c *Container) []byte {
	if n := count(c.Docker != nil, c.Mesos != nil, c.LegacyDocker != nil); n != 1 {
		e.choiceError(n, "Docker, Mesos or LegacyDocker")
		b = append(b, "{}"...)
		return b
	}
	switch {
	case c.Docker != nil:
		b = e.docker(b, c.Docker)
	case c.LegacyDocker != nil:
		b = append(b, `{"docker": `...)
		b = e.docker(b, c.LegacyDocker)
		b = append(b, '}')
	default:
		m := c.Mesos
		first := true
		b = append(b, '{')
		if m.Image != nil {
			b = key(b, &first, "image")
			img := m.Image
			if n := count(img.Docker != nil, img.Appc != nil); n != 1 {
				e.path.push("image")
				e.choiceError(n, "Docker or Appc")
				e.path.pop()
				b = append(b, "{}"...)
			} else if img.Docker != nil {
				b = append(b, `{"name": `...)
				b = appendString(b, img.Docker.Name)
				b = append(b, `, "tag": `...)
				b = appendString(b, img.Docker.Tag)
				b = append(b, '}')
			} else {
				b = append(b, `{"image_id": `...)
				b = appendString(b, img.Appc.ImageID)
				b = append(b, `, "name": `...)
				b = appendString(b, img.Appc.Name)
				b = append(b, '}')
			}
		}
		b = key(b, &first, "volumes")
		b = append(b, '[')
		for i, v := range m.Volumes {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = append(b, `{"container_path": `...)
			b = appendString(b, v.ContainerPath)
			b = append(b, `, "host_path": `...)
			b = appendString(b, v.HostPath)
			b = append(b, `, "mode": `...)
			b = appendString(b, v.Mode)
			b = append(b, '}')
		}
		b = append(b, "]}"...)
	}
	return b
}

func (e *encoder) docker(b []byte, d *Docker) []byte {
	b = append(b, `{"image": `...)
	b = appendString(b, d.Image)
	b = append(b, `, "parameters": [`...)
	for i, p := range d.Parameters {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, `{"name": `...)
		b = appendString(b, p.Name)
		b = append(b, `, "value": `...)
		b = appendString(b, p.Value)
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	return b
}

func (e *encoder) slaPolicy(b []byte, s *SLAPolicy) []byte {
	if n := count(s.Percentage != nil, s.Count != nil, s.Coordinator != nil); n != 1 {
		e.choiceError(n, "Percentage, Count or Coordinator")
		b = append(b, "{}"...)
		return b
	}
	first := true
	b = append(b, '{')
	switch {
	case s.Percentage != nil:
		p := s.Percentage
		e.checkTemplates(p.Templates, "duration_secs", "percentage")
		b = e.intField(b, &first, "duration_secs", int64(p.DurationSecs), p.Templates)
		b = e.floatField(b, &first, "percentage", p.Percentage, p.Templates)
	case s.Count != nil:
		c := s.Count
		e.checkTemplates(c.Templates, "count", "duration_secs")
		b = e.intField(b, &first, "count", int64(c.Count), c.Templates)
		b = e.intField(b, &first, "duration_secs", int64(c.DurationSecs), c.Templates)
	default:
		c := s.Coordinator
		b = strField(b, &first, "coordinator_url", c.CoordinatorURL)
		b = strField(b, &first, "status_key", c.StatusKey)
	}
	b = append(b, '}')
	return b
}

func (e *encoder) healthCheck(b []byte, h *HealthCheckConfig) []byte {
	e.checkTemplates(h.Templates, "initial_interval_secs", "interval_secs", "max_consecutive_failures", "min_consecutive_successes", "timeout_secs")
	first := true
	b = append(b, '{')
	b = key(b, &first, "health_checker")
	hc := &h.HealthChecker
	f := true
	b = append(b, '{')
	if hc.HTTP != nil {
		b = key(b, &f, "http")
		e.path.push("health_checker")
		e.path.push("http")
		x := hc.HTTP
		e.checkTemplates(x.Templates, "expected_response_code")
		g := true
		b = append(b, '{')
		b = strField(b, &g, "endpoint", x.Endpoint)
		b = strField(b, &g, "expected_response", x.ExpectedResponse)
		b = e.intField(b, &g, "expected_response_code", int64(x.ExpectedResponseCode), x.Templates)
		b = append(b, '}')
		e.path.pop()
		e.path.pop()
	}
	if hc.Shell != nil {
		b = key(b, &f, "shell")
		b = append(b, `{"shell_command": `...)
		b = appendString(b, hc.Shell.ShellCommand)
		b = append(b, '}')
	}
	b = append(b, '}')
	b = e.floatField(b, &first, "initial_interval_secs", h.InitialIntervalSecs, h.Templates)
	b = e.floatField(b, &first, "interval_secs", h.IntervalSecs, h.Templates)
	b = e.intField(b, &first, "max_consecutive_failures", int64(h.MaxConsecutiveFailures), h.Templates)
	b = e.intField(b, &first, "min_consecutive_successes", int64(h.MinConsecutiveSuccesses), h.Templates)
	b = e.floatField(b, &first, "timeout_secs", h.TimeoutSecs, h.Templates)
	b = append(b, '}')
	return b
}

func (e *encoder) lifecycle(b []byte, l *LifecycleConfig) []byte {
	if l.HTTP == nil {
		b = append(b, "{}"...)
		return b
	}
	h := l.HTTP
	e.path.push("http")
	e.checkTemplates(h.Templates, "graceful_shutdown_wait_secs", "shutdown_wait_secs")
	first := true
	b = append(b, `{"http": {`...)
	b = strField(b, &first, "graceful_shutdown_endpoint", h.GracefulShutdownEndpoint)
	b = e.intField(b, &first, "graceful_shutdown_wait_secs", int64(h.GracefulShutdownWaitSecs), h.Templates)
	b = strField(b, &first, "port", h.Port)
	b = strField(b, &first, "shutdown_endpoint", h.ShutdownEndpoint)
	b = e.intField(b, &first, "shutdown_wait_secs", int64(h.ShutdownWaitSecs), h.Templates)
	b = append(b, "}}"...)
	e.path.pop()
	return b
}

func (e *encoder) resources(b []byte, r *Resources) []byte {
	e.checkTemplates(r.Templates, "cpu", "disk", "gpu", "ram")
	first := true
	b = append(b, '{')
	b = e.floatField(b, &first, "cpu", r.CPU, r.Templates)
	b = e.intField(b, &first, "disk", r.Disk, r.Templates)
	b = e.intField(b, &first, "gpu", r.GPU, r.Templates)
	b = e.intField(b, &first, "ram", r.RAM, r.Templates)
	b = append(b, '}')
	return b
}

func (e *encoder) task(b []byte, t *Task) []byte {
	e.checkTemplates(t.Templates, "finalization_wait", "max_concurrency", "max_failures")
	first := true
	b = append(b, '{')
	b = key(b, &first, "constraints")
	b = append(b, '[')
	for i := range t.Constraints {
		if i > 0 {
			b = append(b, ", "...)
		}
		c := &t.Constraints[i]
		if c.Order == nil {
			b = append(b, "{}"...)
			continue
		}
		b = append(b, `{"order": [`...)
		for k, name := range c.Order {
			if k > 0 {
				b = append(b, ", "...)
			}
			b = appendString(b, name)
		}
		b = append(b, "]}"...)
	}
	b = append(b, ']')
	b = e.intField(b, &first, "finalization_wait", int64(t.FinalizationWait), t.Templates)
	b = e.intField(b, &first, "max_concurrency", int64(t.MaxConcurrency), t.Templates)
	b = e.intField(b, &first, "max_failures", int64(t.MaxFailures), t.Templates)
	b = strField(b, &first, "name", t.Name)
	b = key(b, &first, "processes")
	e.path.push("processes")
	b = append(b, '[')
	for i := range t.Processes {
		if i > 0 {
			b = append(b, ", "...)
		}
		e.path.pushIdx(i)
		b = e.process(b, &t.Processes[i])
		e.path.pop()
	}
	b = append(b, ']')
	e.path.pop()
	if t.Resources != nil {
		b = key(b, &first, "resources")
		e.path.push("resources")
		b = e.resources(b, t.Resources)
		e.path.pop()
	}
	if t.User != nil {
		b = strField(b, &first, "user", *t.User)
	}
	b = append(b, '}')
	return b
}

func (e *encoder) process(b []byte, p *Process) []byte {
	e.checkTemplates(p.Templates, "daemon", "ephemeral", "final", "max_failures", "min_duration")
	first := true
	b = append(b, '{')
	b = strField(b, &first, "cmdline", p.Cmdline)
	b = e.boolField(b, &first, "daemon", p.Daemon, p.Templates)
	b = e.boolField(b, &first, "ephemeral", p.Ephemeral, p.Templates)
	b = e.boolField(b, &first, "final", p.Final, p.Templates)
	if p.Logger != nil {
		b = key(b, &first, "logger")
		l := p.Logger
		b = append(b, `{"destination": `...)
		b = appendString(b, l.Destination)
		b = append(b, `, "mode": `...)
		b = appendString(b, l.Mode)
		if l.Rotate != nil {
			e.path.push("logger")
			e.path.push("rotate")
			r := l.Rotate
			e.checkTemplates(r.Templates, "backups", "log_size")
			f := false
			b = key(b, &f, "rotate")
			g := true
			b = append(b, '{')
			b = e.intField(b, &g, "backups", int64(r.Backups), r.Templates)
			b = e.intField(b, &g, "log_size", r.LogSize, r.Templates)
			b = append(b, '}')
			e.path.pop()
			e.path.pop()
		}
		b = append(b, '}')
	}
	b = e.intField(b, &first, "max_failures", int64(p.MaxFailures), p.Templates)
	b = e.intField(b, &first, "min_duration", int64(p.MinDuration), p.Templates)
	b = strField(b, &first, "name", p.Name)
	if p.Resources != nil {
		b = key(b, &first, "resources")
		e.path.push("resources")
		b = e.resources(b, p.Resources)
		e.path.pop()
	}
	b = append(b, '}')
	return b
}

// MarshalConfig writes a whole job object (see Config): the payload's fields
// plus "instances" and "update_config", as Aurora's --read-json and
// nix-aurora's config.json carry them. UnmarshalConfig reads it back.
func MarshalConfig(c *Config) ([]byte, error) {
	if c == nil || c.Job == nil {
		return nil, &FieldError{Err: fmt.Errorf("nil Config or Config.Job: %w", ErrInvalid)}
	}
	b, err := Marshal(c.Job)
	if err != nil {
		return nil, err
	}
	b = b[:len(b)-1] // reopen the top-level object
	u := &c.UpdateConfig
	b = append(b, `, "instances": `...)
	b = strconv.AppendInt(b, int64(c.Instances), 10)
	b = append(b, `, "update_config": {`...)
	first := true
	var e encoder
	b = e.intField(b, &first, "batch_size", int64(u.BatchSize), nil)
	b = e.intField(b, &first, "max_per_shard_failures", int64(u.MaxPerShardFailures), nil)
	b = e.intField(b, &first, "max_total_failures", int64(u.MaxTotalFailures), nil)
	if u.PulseIntervalSecs != nil {
		b = e.intField(b, &first, "pulse_interval_secs", int64(*u.PulseIntervalSecs), nil)
	}
	b = e.boolField(b, &first, "rollback_on_failure", u.RollbackOnFailure, nil)
	b = e.boolField(b, &first, "sla_aware", u.SLAAware, nil)
	if s := u.UpdateStrategy; s != nil {
		b = key(b, &first, "update_strategy")
		if n := count(s.Queue != nil, s.Batch != nil, s.VariableBatch != nil); n != 1 {
			e.path.push("update_config")
			e.path.push("update_strategy")
			e.choiceError(n, "Queue, Batch or VariableBatch")
			return nil, e.err
		}
		f := true
		b = append(b, '{')
		switch {
		case s.Queue != nil:
			b = e.intField(b, &f, "batch_size", int64(s.Queue.BatchSize), nil)
		case s.Batch != nil:
			b = e.boolField(b, &f, "autopause_after_batch", s.Batch.AutopauseAfterBatch, nil)
			b = e.intField(b, &f, "batch_size", int64(s.Batch.BatchSize), nil)
		default:
			b = e.boolField(b, &f, "autopause_after_batch", s.VariableBatch.AutopauseAfterBatch, nil)
			b = key(b, &f, "batch_sizes")
			b = append(b, '[')
			for i, n := range s.VariableBatch.BatchSizes {
				if i > 0 {
					b = append(b, ", "...)
				}
				b = strconv.AppendInt(b, int64(n), 10)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	b = e.boolField(b, &first, "wait_for_batch_completion", u.WaitForBatchCompletion, nil)
	b = e.intField(b, &first, "watch_secs", int64(u.WatchSecs), nil)
	return append(b, "}}"...), nil
}
