package job_test

import (
	"testing"

	"github.com/nixrealis/nixrealis/job"
)

// FuzzRender checks that rendering never panics, always terminates, and is
// idempotent on its output: whatever Render leaves in place (run-time
// references) renders to itself again.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		"plain", "{{a}}", "{{b}}", "{{a{{c}}}}", "{{&a}}", "{{n.k}} {{n[k]}}", "{{{a}}}", "{{a}}}}{{",
		"{{mesos.instance}} {{thermos.ports[http]}} {{thermos.ports.http}}", "{{ x }}", "{{&}}", "{{&&}}",
		"{{self}}", "{{loop1}}", "{{x}}",
	} {
		f.Add(s, "v")
	}
	f.Add("{{x}}", "{{x}}{{x}}")
	f.Add("{{x}}", "{{a}}-{{n.k}}")
	f.Fuzz(func(t *testing.T, s, x string) {
		vars := job.Vars{
			"a": "A", "b": "{{a}}", "c": "b", "ab": "AB",
			"n":     job.Vars{"k": "v", "ref": "{{k}}"},
			"self":  "{{self}}",
			"loop1": "{{loop2}}", "loop2": "{{loop1}}",
			"x": x,
		}
		out, err := job.Render(s, vars)
		if err != nil {
			return
		}
		again, err := job.Render(out, vars)
		if err != nil {
			t.Fatalf("Render(%q) = %q, but rendering that fails: %v", s, out, err)
		}
		if again != out {
			t.Fatalf("Render(%q) = %q, but Render(%q) = %q", s, out, out, again)
		}
	})
}

// FuzzBuild checks that Build never panics on arbitrary strings in the
// fields users write, and that a successful build marshals.
func FuzzBuild(f *testing.F) {
	f.Add("devcluster", "www-data", "devel", "hello", "p", "echo {{name}} {{mesos.instance}}", "a,b", "http")
	f.Add("", "www data", "", "", "", "", "limit:x", "80")
	f.Add("c", "r", "e", "{{task.name}}", "{{x}}", "{{&y}}", "!", "{{primary_port}}")
	f.Fuzz(func(t *testing.T, cluster, role, env, name, proc, cmd, constraint, port string) {
		p := job.NewProcess(proc, cmd)
		task := job.NewTask("", p, job.NewProcess(proc+"2", cmd)).
			WithConstraints(job.Order(proc, proc+"2"), job.Order(constraint)).
			WithResources(job.NewResources(1, job.MiB, job.MiB))
		j := job.New(job.Key{Cluster: cluster, Role: role, Environment: env, Name: name}, task).
			WithConstraint("c", constraint).
			WithAnnounce(job.Announcer{PrimaryPort: port, Portmap: map[string]string{port: constraint}}).
			Bind(job.Vars{"x": cmd})
		spec, err := j.Build()
		if err != nil {
			return
		}
		if _, err := spec.ExecutorData(); err != nil {
			t.Fatalf("built job does not marshal: %v", err)
		}
	})
}
