//go:build linux

package thermosexec

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/nixrealis/nixrealis/thermos"
)

// ErrUnboundTemplate reports a {{...}} reference in the payload that
// Thermos does not bind at run time (or a port the task was not assigned).
var ErrUnboundTemplate = errors.New("unbound template")

// TemplateError is why a task failed to start because of a template: Ref is
// the reference as written ("{{foo.bar}}") and Path the payload field that
// holds it ("task.processes[1].cmdline").
type TemplateError struct {
	// Path is the JSON path of the field holding the reference.
	Path string
	// Ref is the reference, braces included.
	Ref string
	// Err wraps ErrUnboundTemplate and says why.
	Err error
}

// Error implements error.
func (e *TemplateError) Error() string {
	return fmt.Sprintf("%s: %s: %v", e.Path, e.Ref, e.Err)
}

// Unwrap returns e.Err.
func (e *TemplateError) Unwrap() error { return e.Err }

// bindings are the values Thermos binds at run time: the thermos namespace
// (ThermosContext: ports, task_id, user) and the mesos namespace
// (MesosContext: instance, hostname).
type bindings struct {
	ports    map[string]int
	taskID   string
	user     string
	instance int
	hostname string
}

const boundRefs = "{{thermos.ports[NAME]}}, {{thermos.task_id}}, {{thermos.user}}, {{mesos.instance}} and {{mesos.hostname}}"

// mustacheRE is Pystachio's MustacheParser pattern: a reference is "{{",
// an optional "&" (which makes it literal), one or more characters other
// than braces, and "}}". Anything else, such as a "{{" that is never
// closed, stays in the string as written.
var mustacheRE = regexp.MustCompile(`\{\{(&?)([^{}]+?)\}\}`)

// resolve replaces every {{ref}} in s as Pystachio does; {{&ref}} becomes
// the literal {{ref}}. path names the field in errors.
func (b *bindings) resolve(s, path string) (string, error) {
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	var out strings.Builder
	last := 0
	for _, m := range mustacheRE.FindAllStringSubmatchIndex(s, -1) {
		out.WriteString(s[last:m[0]])
		last = m[1]
		ref, inner := s[m[0]:m[1]], s[m[4]:m[5]]
		if m[3] > m[2] { // {{&ref}} or {{&ref&}}: the reference, literally
			out.WriteString("{{" + strings.TrimSuffix(inner, "&") + "}}")
			continue
		}
		v, err := b.lookup(strings.TrimSpace(inner))
		if err != nil {
			return "", &TemplateError{Path: path, Ref: ref, Err: err}
		}
		out.WriteString(v)
	}
	out.WriteString(s[last:])
	return out.String(), nil
}

func (b *bindings) lookup(ref string) (string, error) {
	switch ref {
	case "thermos.task_id":
		return b.taskID, nil
	case "thermos.user":
		return b.user, nil
	case "mesos.instance":
		return strconv.Itoa(b.instance), nil
	case "mesos.hostname":
		return b.hostname, nil
	}
	if name, ok := strings.CutPrefix(ref, "thermos.ports"); ok {
		if !strings.HasPrefix(name, "[") || !strings.HasSuffix(name, "]") || len(name) < 3 {
			return "", fmt.Errorf("%w: bad port reference, write {{thermos.ports[NAME]}}", ErrUnboundTemplate)
		}
		name = name[1 : len(name)-1]
		p, ok := b.ports[name]
		if !ok {
			return "", fmt.Errorf("%w: port %q was not assigned to the task (assigned: %s); request it in the job",
				ErrUnboundTemplate, name, strings.Join(slices.Sorted(maps.Keys(b.ports)), ", "))
		}
		return strconv.Itoa(p), nil
	}
	return "", fmt.Errorf("%w: Thermos binds only %s at run time; bind anything else in the job", ErrUnboundTemplate, boundRefs)
}

// resolver applies bindings to a payload, collecting the first error.
type resolver struct {
	b   *bindings
	err error
}

func (r *resolver) str(dst *string, path string) {
	if r.err != nil {
		return
	}
	v, err := r.b.resolve(*dst, path)
	if err != nil {
		r.err = err
		return
	}
	*dst = v
}

// tmpl resolves the template t[key], if any, and returns its value.
func (r *resolver) tmpl(t thermos.Templates, key, path string) (string, bool) {
	s, ok := t[key]
	if !ok || r.err != nil {
		return "", false
	}
	v, err := r.b.resolve(s, path+"."+key)
	if err != nil {
		r.err = err
		return "", false
	}
	return strings.TrimSpace(v), true
}

func (r *resolver) integer(dst *int, t thermos.Templates, key, path string) {
	if v, ok := r.tmpl(t, key, path); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			r.err = &TemplateError{Path: path + "." + key, Ref: t[key], Err: fmt.Errorf("%w: resolves to %q, not an integer", ErrUnboundTemplate, v)}
			return
		}
		*dst = n
	}
}

func (r *resolver) float(dst *float64, t thermos.Templates, key, path string) {
	if v, ok := r.tmpl(t, key, path); ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			r.err = &TemplateError{Path: path + "." + key, Ref: t[key], Err: fmt.Errorf("%w: resolves to %q, not a number", ErrUnboundTemplate, v)}
			return
		}
		*dst = f
	}
}

func (r *resolver) boolean(dst *bool, t thermos.Templates, key, path string) {
	if v, ok := r.tmpl(t, key, path); ok {
		switch strings.ToLower(v) {
		case "true", "1":
			*dst = true
		case "false", "0":
			*dst = false
		default:
			r.err = &TemplateError{Path: path + "." + key, Ref: t[key], Err: fmt.Errorf("%w: resolves to %q, not a boolean", ErrUnboundTemplate, v)}
		}
	}
}

// resolveJob binds the run-time templates in every field the executor uses:
// the task (names, cmdlines and numeric fields), the health checker and the
// lifecycle. It works on j in place.
func resolveJob(j *thermos.Job, b *bindings) error {
	r := &resolver{b: b}
	t := &j.Task
	r.str(&t.Name, "task.name")
	r.integer(&t.MaxFailures, t.Templates, "max_failures", "task")
	r.integer(&t.MaxConcurrency, t.Templates, "max_concurrency", "task")
	r.integer(&t.FinalizationWait, t.Templates, "finalization_wait", "task")
	for i := range t.Processes {
		p := &t.Processes[i]
		path := fmt.Sprintf("task.processes[%d]", i)
		r.str(&p.Name, path+".name")
		r.str(&p.Cmdline, path+".cmdline")
		r.integer(&p.MaxFailures, p.Templates, "max_failures", path)
		r.integer(&p.MinDuration, p.Templates, "min_duration", path)
		r.boolean(&p.Daemon, p.Templates, "daemon", path)
		r.boolean(&p.Ephemeral, p.Templates, "ephemeral", path)
		r.boolean(&p.Final, p.Templates, "final", path)
		if p.Logger != nil && p.Logger.Rotate != nil {
			rp := p.Logger.Rotate
			var size int
			r.integer(&size, rp.Templates, "log_size", path+".logger.rotate")
			if _, ok := rp.Templates["log_size"]; ok {
				rp.LogSize = int64(size)
			}
			r.integer(&rp.Backups, rp.Templates, "backups", path+".logger.rotate")
		}
	}
	for i := range t.Constraints {
		for k := range t.Constraints[i].Order {
			r.str(&t.Constraints[i].Order[k], fmt.Sprintf("task.constraints[%d].order[%d]", i, k))
		}
	}
	h := &j.HealthCheckConfig
	r.float(&h.InitialIntervalSecs, h.Templates, "initial_interval_secs", "health_check_config")
	r.float(&h.IntervalSecs, h.Templates, "interval_secs", "health_check_config")
	r.float(&h.TimeoutSecs, h.Templates, "timeout_secs", "health_check_config")
	r.integer(&h.MaxConsecutiveFailures, h.Templates, "max_consecutive_failures", "health_check_config")
	r.integer(&h.MinConsecutiveSuccesses, h.Templates, "min_consecutive_successes", "health_check_config")
	if c := h.HealthChecker.HTTP; c != nil {
		r.str(&c.Endpoint, "health_check_config.health_checker.http.endpoint")
		r.str(&c.ExpectedResponse, "health_check_config.health_checker.http.expected_response")
		r.integer(&c.ExpectedResponseCode, c.Templates, "expected_response_code", "health_check_config.health_checker.http")
	}
	if c := h.HealthChecker.Shell; c != nil {
		r.str(&c.ShellCommand, "health_check_config.health_checker.shell.shell_command")
	}
	if l := j.Lifecycle.HTTP; l != nil {
		r.str(&l.GracefulShutdownEndpoint, "lifecycle.http.graceful_shutdown_endpoint")
		r.str(&l.ShutdownEndpoint, "lifecycle.http.shutdown_endpoint")
		r.integer(&l.GracefulShutdownWaitSecs, l.Templates, "graceful_shutdown_wait_secs", "lifecycle.http")
		r.integer(&l.ShutdownWaitSecs, l.Templates, "shutdown_wait_secs", "lifecycle.http")
	}
	return r.err
}

// resolvePorts returns the task's full port map as Aurora's executor builds
// it (task_info.resolve_ports): the announce portmap, updated with the
// assigned ports, aliases followed to a number. Names that resolve to no
// number are left out.
func resolvePorts(j *thermos.Job, assigned map[string]int32) map[string]int {
	m := map[string]string{}
	if j.Announce != nil {
		maps.Copy(m, j.Announce.Portmap)
	}
	for k, v := range assigned {
		m[k] = strconv.Itoa(int(v))
	}
	out := make(map[string]int, len(m))
	for name := range m {
		v := m[name]
		seen := map[string]bool{name: true}
		for {
			if n, err := strconv.Atoi(v); err == nil {
				out[name] = n
				break
			}
			next, ok := m[v]
			if !ok || seen[v] {
				break
			}
			seen[v] = true
			v = next
		}
	}
	return out
}
