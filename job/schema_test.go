package job_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/thermos"
)

// The resolvers' coverage of thermos' schema: every templated field of the
// job, task, process and resources (as thermos lists them) takes a
// template, and every scalar field can be referenced from a template, so a
// field added to the schema reaches Build without an edit here.

// pyStr formats a payload value as Pystachio's str() does, for the values
// these tests use.
func pyStr(x any) string {
	switch x := x.(type) {
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		s := strconv.FormatFloat(x, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	panic(x)
}

// templateFor returns a template for a field whose zero value is zero (as
// thermos.Field gives it) and whether v is what it renders to: 1 (true),
// or 1 MiB for the int64 fields (bytes, of which Aurora wants whole MiB).
func templateFor(zero any) (string, func(v any) bool) {
	if _, ok := zero.(int64); ok {
		return "{{mib}}", func(v any) bool { return v == any(int64(job.MiB)) }
	}
	return "{{one}}", func(v any) bool { return v == any(1) || v == any(1.0) || v == any(true) }
}

func schemaJob() (job.Job, job.Task, job.Process) {
	p := job.NewProcess("p", "run").WithResources(job.NewResources(0.5, 64*job.MiB, 64*job.MiB))
	t := job.NewTask("t", p).WithResources(job.NewResources(1, job.GiB, job.GiB)).WithUser("svc")
	j := job.New(key("devel", "schema"), t).Bind(job.Vars{"one": 1, "mib": int64(job.MiB)})
	return j, t, p
}

func TestEveryTemplatedFieldBuilds(t *testing.T) {
	type target struct {
		name string
		zero any // the payload struct, zero, for its field names and kinds
		with func(field, tmpl string) job.Job
		got  func(spec job.Spec) any
	}
	j, task, proc := schemaJob()
	targets := []target{
		{"job", &thermos.Job{},
			func(f, tm string) job.Job { return j.WithTemplate(f, tm) },
			func(s job.Spec) any { return s.Payload }},
		{"task", &thermos.Task{},
			func(f, tm string) job.Job { return j.WithTask(task.WithTemplate(f, tm)) },
			func(s job.Spec) any { return &s.Payload.Task }},
		{"process", &thermos.Process{},
			func(f, tm string) job.Job { return j.WithTask(task.WithProcesses(proc.WithTemplate(f, tm))) },
			func(s job.Spec) any { return &s.Payload.Task.Processes[0] }},
		{"task resources", &thermos.Resources{},
			func(f, tm string) job.Job { return j.WithTask(task.WithTemplate("resources."+f, tm)) },
			func(s job.Spec) any { return s.Payload.Task.Resources }},
		{"process resources", &thermos.Resources{},
			func(f, tm string) job.Job {
				return j.WithTask(task.WithProcesses(proc.WithTemplate("resources."+f, tm)))
			},
			func(s job.Spec) any { return s.Payload.Task.Processes[0].Resources }},
	}
	for _, tg := range targets {
		names := thermos.TemplatedFields(tg.zero)
		require.NotEmpty(t, names, tg.name)
		for _, f := range names {
			t.Run(tg.name+"."+f, func(t *testing.T) {
				zero, _ := thermos.Field(tg.zero, f)
				tm, want := templateFor(zero)
				spec, err := tg.with(f, tm).Build()
				require.NoError(t, err)
				got, ok := thermos.Field(tg.got(spec), f)
				require.True(t, ok)
				assert.True(t, want(got), "%s.%s = %v, not what %s renders to", tg.name, f, got, tm)
			})
		}
	}
	_, err := j.WithTemplate("no_such_field", "{{one}}").Build()
	assert.ErrorIs(t, err, job.ErrInvalid)
}

// TestEveryScalarFieldInScope references every scalar field of the job,
// the task and its process from a task link (resolved in the job's scope)
// and finds the built payload's value.
func TestEveryScalarFieldInScope(t *testing.T) {
	j, _, _ := schemaJob()
	j = j.WithContact("a@b.c").WithTier("preferred").WithCron("0 * * * *").WithPriority(3)
	spec, err := j.Build()
	require.NoError(t, err)
	refs := map[string]string{} // reference -> want
	add := func(prefix string, v any) {
		for _, f := range thermos.FieldNames(v) {
			if x, ok := thermos.Field(v, f); ok {
				refs[prefix+f] = pyStr(x)
			}
		}
	}
	add("", spec.Payload)
	add("task.", &spec.Payload.Task)
	add("task.processes[0].", &spec.Payload.Task.Processes[0])
	add("task.resources.", spec.Payload.Task.Resources)
	for ref := range refs {
		j = j.WithTaskLink(ref, "{{"+ref+"}}")
	}
	spec, err = j.Build()
	require.NoError(t, err)
	for ref, want := range refs {
		assert.Equal(t, want, spec.Payload.TaskLinks[ref], "{{%s}}", ref)
	}
	assert.Contains(t, refs, "max_task_failures")
	assert.Contains(t, refs, "task.processes[0].min_duration")
}
