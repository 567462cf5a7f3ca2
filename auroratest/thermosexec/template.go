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

// resolveJob binds the run-time templates in the parts of the payload the
// executor uses, as Thermos interpolates them: the task, the health check
// and the lifecycle, every string and every template in a non-string field
// (which is parsed into the field), found by walking thermos' schema. It
// works on j in place.
func resolveJob(j *thermos.Job, b *bindings) error {
	vis := thermos.Visitor{
		String: func(path string, s *string) error {
			v, err := b.resolve(*s, path)
			if err != nil {
				return err
			}
			*s = v
			return nil
		},
		Templates: func(path string, t thermos.Templates, owner any) error {
			for _, key := range thermos.TemplatedFields(owner) {
				s, ok := t[key]
				if !ok {
					continue
				}
				fp := path + "." + key
				v, err := b.resolve(s, fp)
				if err != nil {
					return err
				}
				v = strings.TrimSpace(v)
				if err := thermos.SetField(owner, key, v); err != nil {
					return &TemplateError{Path: fp, Ref: s, Err: fmt.Errorf("%w: resolves to %q, %v", ErrUnboundTemplate, v, err)}
				}
			}
			return nil
		},
	}
	for _, part := range []struct {
		v    any
		path string
	}{{&j.Task, "task"}, {&j.HealthCheckConfig, "health_check_config"}, {&j.Lifecycle, "lifecycle"}} {
		if err := thermos.Walk(part.v, part.path, vis); err != nil {
			return err
		}
	}
	return nil
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
