//go:build linux

package thermosexec

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nixrealis/nixrealis/thermos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResolveTemplates(t *testing.T) {
	b := &bindings{ports: map[string]int{"http": 8080, "admin": 9090}, taskID: "t-1", user: "alice", instance: 2, hostname: "agent-9"}
	tests := []struct {
		in, want string
		err      string
	}{
		{in: "plain", want: "plain"},
		{in: "{{thermos.ports[http]}}", want: "8080"},
		{in: "a {{ mesos.instance }} b {{mesos.hostname}}/{{thermos.task_id}}/{{thermos.user}}:{{thermos.ports[admin]}}", want: "a 2 b agent-9/t-1/alice:9090"},
		{in: "{{role}}", err: "f: {{role}}: unbound template: Thermos binds only"},
		{in: "x {{thermos.ports[db]}}", err: `f: {{thermos.ports[db]}}: unbound template: port "db" was not assigned to the task (assigned: admin, http)`},
		{in: "{{thermos.ports}}", err: "bad port reference"},
		{in: "{{thermos.ports[]}}", err: "bad port reference"},
		// As Pystachio's MustacheParser: what is not a closed reference
		// without braces inside stays as written.
		{in: "{{mesos.instance", want: "{{mesos.instance"},
		{in: "awk '{{print $1}' {{mesos.instance}}", want: "awk '{{print $1}' 2"},
		{in: "{{{mesos.instance}}}", want: "{2}"},
		{in: "{{a {{mesos.instance}}", want: "{{a 2"},
		{in: "{{}}", want: "{{}}"},
		{in: "{{&mesos.instance}} {{&role&}}", want: "{{mesos.instance}} {{role}}"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := b.resolve(tc.in, "f")
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				assert.True(t, errors.Is(err, ErrUnboundTemplate))
				var te *TemplateError
				require.ErrorAs(t, err, &te)
				assert.Equal(t, "f", te.Path)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// Templates in non-string fields are resolved and parsed.
func TestResolveJobNumericTemplates(t *testing.T) {
	j := thermos.NewJob()
	p := thermos.NewProcess("p{{mesos.instance}}", "echo {{thermos.task_id}}")
	p.Templates = thermos.Templates{"max_failures": "{{mesos.instance}}", "daemon": "true"}
	j.Task.Processes = []thermos.Process{p}
	j.Task.Templates = thermos.Templates{"finalization_wait": "{{thermos.ports[http]}}"}
	b := &bindings{ports: map[string]int{"http": 7}, taskID: "id", instance: 3}
	require.NoError(t, resolveJob(j, b))
	got := j.Task.Processes[0]
	assert.Equal(t, "p3", got.Name)
	assert.Equal(t, "echo id", got.Cmdline)
	assert.Equal(t, 3, got.MaxFailures)
	assert.True(t, got.Daemon)
	assert.Equal(t, 7, j.Task.FinalizationWait)

	j.Task.Processes[0].Templates = thermos.Templates{"min_duration": "{{thermos.task_id}}"}
	err := resolveJob(j, b)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `task.processes[0].min_duration: {{thermos.task_id}}: unbound template: resolves to "id", not an integer`)
}

func TestResolvePorts(t *testing.T) {
	j := thermos.NewJob()
	j.Announce = &thermos.Announcer{Portmap: map[string]string{"aurora": "http", "health": "admin", "static": "80", "loop1": "loop2", "loop2": "loop1"}}
	got := resolvePorts(j, map[string]int32{"http": 1000, "admin": 2000})
	assert.Equal(t, map[string]int{"http": 1000, "admin": 2000, "aurora": 1000, "health": 2000, "static": 80}, got)
}

// healthState follows Aurora's ThreadedHealthChecker; the cases are those
// of its unit tests' logic.
func TestHealthState(t *testing.T) {
	type step struct {
		ok                 bool
		running, unhealthy bool
	}
	tests := []struct {
		name                      string
		initial, interval         float64
		maxFailures, minSuccesses int
		steps                     []step
	}{
		{"healthy at once", 15, 10, 0, 1, []step{{ok: true, running: true}}},
		{"failures in grace forgiven", 15, 10, 0, 1, []step{{}, {}, {ok: true, running: true}}},
		{"failure after grace", 15, 10, 0, 1, []step{{}, {}, {unhealthy: true}}},
		{"max consecutive failures", 10, 10, 2, 1, []step{{}, {ok: true, running: true}, {}, {}, {unhealthy: true}}},
		{"min consecutive successes", 10, 10, 1, 3, []step{{ok: true}, {ok: true}, {ok: true, running: true}}},
		{"fail fast when successes cannot come", 0, 10, 2, 3, []step{{ok: true}, {}, {unhealthy: true}}},
		{"out of attempts", 0, 10, 5, 2, []step{{ok: true}, {}, {ok: true}, {}, {ok: true}, {}, {ok: true}, {}, {unhealthy: true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newHealthState(tc.initial, tc.interval, tc.maxFailures, tc.minSuccesses)
			for i, st := range tc.steps {
				running, unhealthy, _ := s.record(st.ok, "reason")
				assert.Equal(t, st.running, running, "step %d running", i)
				assert.Equal(t, st.unhealthy, unhealthy, "step %d unhealthy", i)
			}
		})
	}
}

func TestPlanner(t *testing.T) {
	task := thermos.NewTask()
	a, b := thermos.NewProcess("a", "true"), thermos.NewProcess("b", "true")
	b.MaxFailures, b.MinDuration = 2, 5
	d := thermos.NewProcess("d", "true")
	d.Daemon = true
	f := thermos.NewProcess("f", "true")
	f.Final = true
	task.Processes = []thermos.Process{a, b, d, f}
	task.Constraints = []thermos.Constraint{{Order: []string{"a", "b"}}}
	p, err := newPlanner(&task, false, 1)
	require.NoError(t, err)
	now := time.Unix(1000, 0)
	assert.Equal(t, []string{"a", "d"}, p.runnable(now))
	p.setRunning("a")
	p.setRunning("d")
	assert.Empty(t, p.runnable(now))
	p.success("a", now)
	assert.Equal(t, []string{"b"}, p.runnable(now))
	p.setRunning("b")
	assert.False(t, p.failure("b", now), "first of 2 failures")
	assert.Empty(t, p.runnable(now.Add(4*time.Second)), "min_duration gate")
	w, ok := p.minWait(now.Add(4 * time.Second))
	assert.True(t, ok)
	assert.Equal(t, time.Second, w)
	assert.Equal(t, []string{"b"}, p.runnable(now.Add(5*time.Second)))
	p.setRunning("b")
	assert.True(t, p.failure("b", now), "second failure fails it")
	p.success("d", now)
	assert.False(t, p.finished["d"], "a daemon runs again after success")
	assert.False(t, p.complete())

	fin, err := newPlanner(&task, true, 1)
	require.NoError(t, err)
	assert.Equal(t, []string{"f"}, fin.order)
}

// FuzzResolveTemplates: resolving never panics, its errors wrap
// ErrUnboundTemplate, and a string holding no reference (Pystachio's
// pattern) is returned unchanged, an unclosed "{{" included.
func FuzzResolveTemplates(f *testing.F) {
	for _, s := range []string{"", "plain", "{{thermos.ports[http]}}", "{{mesos.instance}} {{x}}", "{{thermos.ports[", "}}{{", "{{{{mesos.hostname}}}}"} {
		f.Add(s)
	}
	b := &bindings{ports: map[string]int{"http": 80}, taskID: "t", user: "u", instance: 1, hostname: "h"}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := b.resolve(s, "f")
		if err != nil {
			if !errors.Is(err, ErrUnboundTemplate) {
				t.Fatalf("resolve(%q) error %v does not wrap ErrUnboundTemplate", s, err)
			}
			return
		}
		if !mustacheRE.MatchString(s) && out != s {
			t.Fatalf("resolve(%q) = %q changed a string without references", s, out)
		}
		if !strings.Contains(s, "&") && mustacheRE.MatchString(s) && out == s {
			t.Fatalf("resolve(%q) left its references unresolved", s)
		}
	})
}
