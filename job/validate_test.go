package job_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/thermos"
)

func okTask(procs ...job.Process) job.Task {
	if len(procs) == 0 {
		procs = []job.Process{job.NewProcess("p", "true")}
	}
	return job.NewTask("", procs...).WithResources(job.NewResources(1, 64*job.MiB, 64*job.MiB))
}

func okJob(t job.Task) job.Job { return job.New(key("devel", "j"), t) }

type wantErr struct {
	path string
	err  error
	text string
}

// assertBuildErrors checks that err, what Build returned, holds exactly
// the problems of want, each a *job.FieldError at its path, of its kind
// (errors.Is) and with its text in the message; msgAndArgs name the case.
func assertBuildErrors(t *testing.T, err error, want []wantErr, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	got := unjoin(err)
	for _, e := range got {
		var fe *job.FieldError
		require.True(t, errors.As(e, &fe), "%v is not a FieldError", e)
	}
	for _, w := range want {
		var match *job.FieldError
		for _, e := range got {
			var fe *job.FieldError
			if errors.As(e, &fe) && fe.Path == w.path {
				match = fe
				break
			}
		}
		if !assert.NotNil(t, match, "no error at %s; got:\n%v", w.path, err) {
			continue
		}
		assert.ErrorIs(t, match, w.err, w.path)
		assert.Contains(t, match.Error(), w.text, w.path)
	}
	assert.Len(t, got, len(want), "got:\n%v", err)
}

func TestBuildValidation(t *testing.T) {
	a := job.NewProcess("a", "true")
	b := job.NewProcess("b", "true")
	c := job.NewProcess("c", "true")
	tests := []struct {
		name   string
		reason string
		job    job.Job
		want   []wantErr // empty: Build must succeed
	}{
		{
			name: "valid", job: okJob(okTask()),
		},
		{
			name: "every problem at once", reason: "Build reports all problems, not the first",
			job: job.New(job.Key{}, job.NewTask("", job.NewProcess("", ""), job.NewProcess(".hidden", "x"))),
			want: []wantErr{
				{"cluster", job.ErrRequired, "needs a cluster"},
				{"role", job.ErrRequired, "needs a role"},
				{"environment", job.ErrRequired, "needs an environment"},
				{"name", job.ErrRequired, ""},
				{"task.resources", job.ErrRequired, "must specify resources"},
				{"task.processes[0].name", job.ErrRequired, "needs a name"},
				{"task.processes[0].cmdline", job.ErrRequired, "command line"},
				{"task.processes[1].name", job.ErrInvalid, `".hidden"`},
				{"task.name", job.ErrRequired, ""},
			},
		},
		{
			name: "no processes", reason: "the default names are not reported as unbound templates",
			job: job.New(key("devel", ""), job.NewTask("")),
			want: []wantErr{
				{"name", job.ErrRequired, "set Key.Name"},
				{"task.processes", job.ErrRequired, "at least one process"},
				{"task.resources", job.ErrRequired, ""},
			},
		},
		{
			name: "duplicate process names", reason: "Thermos addresses processes by name",
			job:  okJob(okTask(a, b, a.WithCmdline("false"))),
			want: []wantErr{{"task.processes[2].name", job.ErrDuplicate, "task.processes[0]"}},
		},
		{
			name: "non-ephemeral after ephemeral",
			job:  okJob(okTask(a.WithEphemeral(true), b).WithConstraints(job.Order("a", "b"))),
			want: []wantErr{{"task.constraints[0]", job.ErrInvalidPlan, "non-ephemeral process b may not depend upon ephemeral process a"}},
		},
		{
			name: "ephemeral after ephemeral is fine",
			job:  okJob(okTask(a.WithEphemeral(true), b.WithEphemeral(true)).WithConstraints(job.Order("a", "b"))),
		},
		{
			name: "final and non-final mixed", reason: "the planner checks final and regular processes separately",
			job:  okJob(okTask(a, b.WithFinal(true)).WithConstraints(job.Order("a", "b"))),
			want: []wantErr{{"task.constraints[0]", job.ErrInvalidPlan, "final and not final"}},
		},
		{
			name: "unknown next to known process",
			job:  okJob(okTask(a, b).WithConstraints(job.Order("a", "zz"))),
			want: []wantErr{{"task.constraints[0]", job.ErrInvalidPlan, "do not exist"}},
		},
		{
			name: "only unknown processes are ignored", reason: "Thermos silently accepts it",
			job: okJob(okTask(a, b).WithConstraints(job.Order("x", "y"))),
		},
		{
			name: "empty order",
			job:  okJob(okTask(a).WithConstraints(job.Order())),
			want: []wantErr{{"task.constraints[0]", job.ErrInvalidPlan, "at least one process"}},
		},
		{
			name: "three-process cycle",
			job: okJob(okTask(a, b, c).WithConstraints(
				job.Order("a", "b"), job.Order("b", "c"), job.Order("c", "a"))),
			want: []wantErr{{"task.constraints", job.ErrInvalidPlan, "a, b, c"}},
		},
		{
			name: "diamond is not a cycle",
			job: okJob(okTask(a, b, c, job.NewProcess("d", "true")).WithConstraints(
				job.Order("a", "b", "d"), job.Order("a", "c", "d"))),
		},
		{
			name: "negative numbers",
			job: okJob(okTask(a.WithMaxFailures(-1).WithMinDuration(-time.Second)).
				WithMaxFailures(-1).WithMaxConcurrency(-1).WithFinalizationWait(-time.Second)),
			want: []wantErr{
				{"task.max_failures", job.ErrInvalid, ""},
				{"task.max_concurrency", job.ErrInvalid, ""},
				{"task.finalization_wait", job.ErrInvalid, ""},
				{"task.processes[0].max_failures", job.ErrInvalid, ""},
				{"task.processes[0].min_duration", job.ErrInvalid, ""},
			},
		},
		{
			name: "resources",
			job:  okJob(job.NewTask("", a).WithResources(job.Resources{CPU: 0, RAM: 64 * job.MiB, Disk: job.MiB - 1, GPU: -1})),
			want: []wantErr{
				{"task.resources.cpu", job.ErrInvalid, "positive"},
				{"task.resources.disk", job.ErrInvalid, "at least 1 MiB"},
				{"task.resources.gpu", job.ErrInvalid, ""},
			},
		},
		{
			name: "negative health and update values", reason: "Aurora's client exits on them",
			job: func() job.Job {
				h := job.DefaultHealthCheck()
				h.InitialInterval, h.Interval, h.MaxConsecutiveFailures, h.MinConsecutiveSuccesses = new(time.Duration(-1)), -1, -1, -1
				u := job.DefaultUpdate()
				u.Watch = new(-time.Second)
				return okJob(okTask()).WithHealthCheck(h).WithUpdate(u)
			}(),
			want: []wantErr{
				{"health_check_config.initial_interval_secs", job.ErrInvalid, "negative"},
				{"health_check_config.interval_secs", job.ErrInvalid, "negative"},
				{"health_check_config.max_consecutive_failures", job.ErrInvalid, "negative"},
				{"health_check_config.min_consecutive_successes", job.ErrInvalid, "negative"},
				{"update_config.watch_secs", job.ErrInvalid, "negative"},
			},
		},
		{
			name: "dedicated job must tolerate 2% failures",
			job:  okJob(okTask()).WithDedicated("www-data/j").WithInstances(100),
			want: []wantErr{{"update_config.max_total_failures", job.ErrInvalid, "at least 2 failures"}},
		},
		{
			name: "empty variable batch",
			job: func() job.Job {
				u := job.DefaultUpdate()
				u.Strategy = job.VariableBatchStrategy(false)
				return okJob(okTask()).WithUpdate(u)
			}(),
			want: []wantErr{{"update_config.update_strategy.batch_sizes", job.ErrRequired, ""}},
		},
		{
			name: "queue strategy of batch size 0",
			job:  okJob(okTask()).WithUpdate(job.Update{Strategy: job.QueueStrategy(0)}),
			want: []wantErr{{"update_config.update_strategy.batch_size", job.ErrInvalid, "batch size 0: must be at least 1"}},
		},
		{
			name: "batch strategy of batch size -1",
			job:  okJob(okTask()).WithUpdate(job.Update{Strategy: job.BatchStrategy(-1, false)}),
			want: []wantErr{{"update_config.update_strategy.batch_size", job.ErrInvalid, "batch size -1: must be at least 1"}},
		},
		{
			name: "variable batch strategy with a 0",
			job:  okJob(okTask()).WithUpdate(job.Update{Strategy: job.VariableBatchStrategy(false, 2, 0)}),
			want: []wantErr{{"update_config.update_strategy.batch_sizes[1]", job.ErrInvalid, "batch size 0: must be at least 1"}},
		},
		{
			name: "dedicated to another role", reason: "the scheduler rejects it",
			job:  okJob(okTask()).WithDedicated("other/j"),
			want: []wantErr{{"constraints[dedicated]", job.ErrInvalid, `"www-data/<group>"`}},
		},
		{
			name: "dedicated to any role",
			job:  okJob(okTask()).WithDedicated("*/gpu"),
		},
		{
			name: "invalid tier",
			job:  okJob(okTask()).WithTier("gold tier"),
			want: []wantErr{{"tier", job.ErrInvalid, "invalid tier"}},
		},
		{
			name: "zero instances",
			job:  okJob(okTask()).WithInstances(0),
			want: []wantErr{{"instances", job.ErrInvalid, "at least 1"}},
		},
		{
			name: "bad cron collision policy, cron service",
			job:  okJob(okTask()).WithCron("* * * * *").WithService(true).WithCronCollisionPolicy("bogus"),
			want: []wantErr{
				{"cron_collision_policy", job.ErrInvalid, `"bogus"`},
				{"cron_schedule", job.ErrInvalid, "service cannot be a cron job"},
			},
		},
		{
			name: "cron collision policy is case-insensitive",
			job:  okJob(okTask()).WithCron("* * * * *").WithCronCollisionPolicy("cancel_new"),
		},
		{
			name: "bad limit constraint",
			job:  okJob(okTask()).WithConstraint("host", "limit:x"),
			want: []wantErr{{"constraints[host]", job.ErrInvalid, "not a valid limit value"}},
		},
		{
			name: "portmap alias cycle",
			job:  okJob(okTask()).WithAnnounce(job.Announcer{Portmap: map[string]string{"a": "b", "b": "a"}}),
			want: []wantErr{
				{"announce.portmap[a]", job.ErrInvalid, "cycle"},
				{"announce.portmap[b]", job.ErrInvalid, "cycle"},
			},
		},
		{
			name: "unbound in a numeric template",
			job:  okJob(okTask(a.WithTemplate("max_failures", "{{retries}}"))),
			want: []wantErr{{"task.processes[0].max_failures", job.ErrTemplateInNumericField, "{{retries}}"}},
		},
		{
			name: "numeric template that is not a number",
			job:  okJob(okTask(a.WithTemplate("daemon", "{{x}}")).Bind(job.Vars{"x": "maybe"})),
			want: []wantErr{{"task.processes[0].daemon", job.ErrInvalid, "not a boolean"}},
		},
		{
			name: "bad logger",
			job:  okJob(okTask(a.WithLogger(job.Logger{Destination: "syslog", Mode: "fast", Rotate: &job.RotatePolicy{LogSize: -1}}))),
			want: []wantErr{
				{"task.processes[0].logger.destination", job.ErrInvalid, "file, console, both or none"},
				{"task.processes[0].logger.mode", job.ErrInvalid, "standard or rotate"},
				{"task.processes[0].logger.rotate.log_size", job.ErrInvalid, "positive"},
			},
		},
		{
			name: "unknown template field",
			job:  okJob(okTask()).WithTemplate("nope", "1"),
			want: []wantErr{{"template.nope", job.ErrInvalid, "no templated field"}},
		},
		{
			name: "unusable binding value",
			job:  okJob(okTask()).Bind(job.Vars{"x": []int{1}}),
			want: []wantErr{{"bind[0][x]", job.ErrInvalid, "[]int"}},
		},
		{
			name: "bad volume and empty image",
			job:  okJob(okTask()).WithContainer(job.MesosContainer(nil, job.Volume{Mode: "rw"})),
			want: []wantErr{
				{"container.volumes[0].container_path", job.ErrRequired, ""},
				{"container.volumes[0].host_path", job.ErrRequired, ""},
				{"container.volumes[0].mode", job.ErrInvalid, "job.ReadWrite"},
			},
		},
		{
			name: "invalid template reference",
			job:  okJob(okTask(job.NewProcess("p", "echo {{ spaced }}"))),
			want: []wantErr{{"task.processes[0].cmdline", job.ErrInvalid, "not a template reference"}},
		},
		{
			name: "self-referencing binding", reason: "must end with an error, not loop",
			job:  okJob(okTask(job.NewProcess("p", "echo {{a}}"))).Bind(job.Vars{"a": "{{a}}{{a}}"}),
			want: []wantErr{{"task.processes[0].cmdline", job.ErrInvalid, "template"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.job.Build()
			if len(tt.want) == 0 {
				require.NoError(t, err, tt.reason)
				return
			}
			assertBuildErrors(t, err, tt.want, tt.reason)
		})
	}
}

func TestImmutability(t *testing.T) {
	base := job.NewTask("base", job.NewProcess("a", "true")).WithResources(job.NewResources(1, job.GiB, job.GiB))
	// Appending to a task that has spare capacity must not leak into siblings.
	base = base.AddProcesses(job.NewProcess("b", "true"))
	x := base.AddProcesses(job.NewProcess("x", "true"))
	y := base.AddProcesses(job.NewProcess("y", "true"))
	assert.Equal(t, "x", x.Processes()[2].Name())
	assert.Equal(t, "y", y.Processes()[2].Name())
	assert.Len(t, base.Processes(), 2)

	procs := []job.Process{job.NewProcess("p", "true")}
	task := job.NewTask("", procs...)
	procs[0] = job.NewProcess("changed", "true")
	assert.Equal(t, "p", task.Processes()[0].Name(), "NewTask must copy its slice")

	shared := job.NewProcess("shared", "echo {{v}}")
	t1 := job.NewTask("", shared.Bind(job.Vars{"v": 1})).WithResources(job.NewResources(1, job.GiB, job.GiB))
	t2 := job.NewTask("", shared.Bind(job.Vars{"v": 2})).WithResources(job.NewResources(1, job.GiB, job.GiB))
	s1, err := okJob(t1).Build()
	require.NoError(t, err)
	s2, err := okJob(t2).Build()
	require.NoError(t, err)
	assert.Equal(t, "echo 1", s1.Payload.Task.Processes[0].Cmdline)
	assert.Equal(t, "echo 2", s2.Payload.Task.Processes[0].Cmdline)

	nested := job.Vars{"k": "before"}
	jb := okJob(okTask(job.NewProcess("p", "echo {{n.k}}"))).Bind(job.Vars{"n": nested})
	nested["k"] = "after"
	sb, err := jb.Build()
	require.NoError(t, err)
	assert.Equal(t, "echo before", sb.Payload.Task.Processes[0].Cmdline, "Bind must copy nested Vars")

	pm := map[string]string{"aurora": "http"}
	j := okJob(okTask()).WithAnnounce(job.Announcer{Portmap: pm})
	pm["aurora"] = "changed"
	s, err := j.Build()
	require.NoError(t, err)
	assert.Equal(t, "http", s.Payload.Announce.Portmap["aurora"], "WithAnnounce must copy the portmap")

	j1 := okJob(okTask()).AddMetadata("a", "1")
	j2 := j1.AddMetadata("b", "2")
	j3 := j1.AddMetadata("c", "3")
	s2b, err := j2.Build()
	require.NoError(t, err)
	s3, err := j3.Build()
	require.NoError(t, err)
	assert.Equal(t, "b", s2b.Payload.Metadata[1].Key)
	assert.Equal(t, "c", s3.Payload.Metadata[1].Key)

	// Building twice gives the same result: Build does not modify the job.
	j4 := okJob(okTask()).WithTemplate("instances", "{{n}}").Bind(job.Vars{"n": 3})
	a1, err := j4.Build()
	require.NoError(t, err)
	a2, err := j4.Build()
	require.NoError(t, err)
	assert.Equal(t, 3, a1.Instances)
	assert.Equal(t, a1, a2)
	assert.Equal(t, 1, j4.Instances())
}

func TestTemplates(t *testing.T) {
	tests := []struct {
		name string
		proc job.Process
		task func(job.Task) job.Task
		job  func(job.Job) job.Job
		want string
	}{
		{name: "own name", proc: job.NewProcess("srv", "run {{name}}"), want: "run srv"},
		{name: "self", proc: job.NewProcess("srv", "run {{self.name}} {{self.min_duration}}"), want: "run srv 5"},
		{name: "job fields", proc: job.NewProcess("p", "{{role}}/{{environment}}/{{cluster}}/{{name}}"), want: "www-data/devel/devcluster/p"},
		{name: "job and task names", proc: job.NewProcess("p", "{{task.name}} {{processes[0].name}}"), want: "p p"},
		{name: "deprecated names", proc: job.NewProcess("p", "{{mesos.role}} {{mesos.cluster}} {{thermos.user}}"), want: "www-data devcluster www-data"},
		{name: "runtime kept", proc: job.NewProcess("p", "{{mesos.instance}} {{mesos.hostname}} {{thermos.task_id}} {{thermos.ports[http]}}"),
			want: "{{mesos.instance}} {{mesos.hostname}} {{thermos.task_id}} {{thermos.ports[http]}}"},
		{name: "nested", proc: job.NewProcess("p", "{{a{{b}}}}"), job: func(j job.Job) job.Job { return j.Bind(job.Vars{"b": "x", "ax": "ok"}) }, want: "ok"},
		{name: "closer binding wins", proc: job.NewProcess("p", "{{v}}").Bind(job.Vars{"v": "process"}),
			task: func(t job.Task) job.Task { return t.Bind(job.Vars{"v": "task"}) },
			job:  func(j job.Job) job.Job { return j.Bind(job.Vars{"v": "job"}) }, want: "process"},
		{name: "task binding over job binding", proc: job.NewProcess("p", "{{v}}"),
			task: func(t job.Task) job.Task { return t.Bind(job.Vars{"v": "task"}) },
			job:  func(j job.Job) job.Job { return j.Bind(job.Vars{"v": "job"}) }, want: "task"},
		{name: "own fields win over bindings", proc: job.NewProcess("p", "{{name}}").Bind(job.Vars{"name": "bound"}), want: "p"},
		{name: "later bind wins", proc: job.NewProcess("p", "{{v}}"),
			job: func(j job.Job) job.Job { return j.Bind(job.Vars{"v": 1}).Bind(job.Vars{"v": 2.5}) }, want: "2.5"},
		{name: "bound value with a job reference", proc: job.NewProcess("p", "{{v}}"),
			job: func(j job.Job) job.Job { return j.Bind(job.Vars{"v": "{{role}}-x"}) }, want: "www-data-x"},
		{name: "numeric fields as variables", proc: job.NewProcess("p", "{{max_failures}} {{daemon}} {{instances}} {{resources.ram}}"),
			want: "1 False 1 67108864"},
		{name: "index into a binding", proc: job.NewProcess("p", "{{m[k-1]}} {{m.k2}}"),
			job: func(j job.Job) job.Job { return j.Bind(job.Vars{"m": map[string]any{"k-1": "a", "k2": true}}) }, want: "a True"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := job.NewTask("", tt.proc).WithResources(job.NewResources(1, 64*job.MiB, 64*job.MiB))
			if tt.task != nil {
				task = tt.task(task)
			}
			j := job.New(key("devel", ""), task)
			if tt.job != nil {
				j = tt.job(j)
			}
			spec, err := j.Build()
			require.NoError(t, err)
			assert.Equal(t, tt.want, spec.Payload.Task.Processes[0].Cmdline)
		})
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		in, want string
		vars     job.Vars
		err      error
	}{
		{in: "plain", want: "plain"},
		{in: "{{x}}", vars: job.Vars{"x": 1}, want: "1"},
		{in: "{{x}}", vars: job.Vars{"x": 1.0}, want: "1.0"},
		{in: "{{x}}", vars: job.Vars{"x": 1e16}, want: "1e+16"},
		{in: "{{x}}", vars: job.Vars{"x": false}, want: "False"},
		{in: "{{{x}}}", vars: job.Vars{"x": "y"}, want: "{y}"},
		{in: "{{&x}}", vars: job.Vars{"x": "y"}, want: "y"},
		{in: "{{x}}", err: job.ErrUnbound},
		{in: "{{&x}}", err: job.ErrUnbound},
		{in: "{{thermos.ports.http}}", err: job.ErrInvalid},
		{in: "{{thermos.ports[http]}}", want: "{{thermos.ports[http]}}"},
		{in: "{{1x}}", err: job.ErrInvalid},
		{in: "{{}} {{ }}", err: job.ErrInvalid},
		{in: "{{a}}", vars: job.Vars{"a": "{{a}}"}, err: job.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := job.Render(tt.in, tt.vars)
			if tt.err != nil {
				assert.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestTiers(t *testing.T) {
	base := okJob(okTask())
	custom := job.Tiers{Default: "fallback", Tiers: []job.Tier{{Name: "only-revocable", Preemptible: false, Revocable: true}}}
	tests := []struct {
		name     string
		job      job.Job
		tiers    job.Tiers
		wantTier string
		wantProd bool
	}{
		{"non-production gets preemptible", base, job.DefaultTiers(), "preemptible", false},
		{"production gets preferred", base.WithProduction(true), job.DefaultTiers(), "preferred", true},
		{"explicit tier sets production", base.WithTier("preferred"), job.DefaultTiers(), "preferred", true},
		{"unknown tier left alone", base.WithTier("gold").WithProduction(true), job.DefaultTiers(), "gold", true},
		{"no match uses the default", base, custom, "fallback", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := tt.job.Build()
			require.NoError(t, err)
			got := spec.WithTiers(tt.tiers)
			require.NotNil(t, got.Payload.Tier)
			assert.Equal(t, tt.wantTier, *got.Payload.Tier)
			assert.Equal(t, tt.wantProd, got.Payload.Production)
		})
	}
}

func TestCombineConcatSemantics(t *testing.T) {
	shared := job.NewProcess("shared", "true")
	a := job.NewTask("a", shared, job.NewProcess("a1", "true")).WithResources(job.Resources{CPU: 1, RAM: job.GiB, Disk: job.GiB, GPU: 1}).
		WithFinalizationWait(10 * time.Second).WithMaxFailures(5)
	b := job.NewTask("b", shared, job.NewProcess("b1", "true")).WithFinalizationWait(20 * time.Second).WithUser("svc")

	comb := job.Combine(a, b)
	assert.Equal(t, "b", comb.Name(), "base is the last task")
	assert.Len(t, comb.Processes(), 3, "identical processes are merged")
	r, ok := comb.Resources()
	require.True(t, ok)
	assert.Equal(t, job.Resources{CPU: 1, RAM: job.GiB, Disk: job.GiB, GPU: 1}, r, "a task without resources counts as zero")

	cat := job.Concat(a, b)
	var pairs []string
	for _, c := range cat.Constraints() {
		pairs = append(pairs, strings.Join(c.Names(), ">"))
	}
	assert.ElementsMatch(t, []string{"shared>b1", "a1>shared", "a1>b1"}, pairs, "one pair per process of consecutive tasks, except a process with itself")

	sa, err := okJob(comb.WithResources(job.NewResources(1, job.GiB, job.GiB))).Build()
	require.NoError(t, err)
	assert.Equal(t, 20, sa.Payload.Task.FinalizationWait, "combine takes the maximum wait")
	assert.Equal(t, 1, sa.Payload.Task.MaxFailures, "other fields come from the last task")
	require.NotNil(t, sa.Payload.Task.User)
	assert.Equal(t, "svc", *sa.Payload.Task.User)
	sc, err := okJob(cat).Build()
	require.NoError(t, err)
	assert.Equal(t, 30, sc.Payload.Task.FinalizationWait, "concat sums the waits")
	assert.Equal(t, 1.0, sc.Payload.Task.Resources.CPU, "concat takes the maximum")
}

func TestZeroValuesDoNotPanic(t *testing.T) {
	assert.NotPanics(t, func() {
		_, err := job.Job{}.Build()
		assert.Error(t, err)
		_, err = job.New(job.Key{}, job.Task{}).Build()
		assert.Error(t, err)
		_, err = job.New(key("devel", "z"), job.NewTask("", job.Process{}).WithResources(job.Resources{})).
			WithContainer(job.Container{}).WithSLAPolicy(job.SLAPolicy{}).
			WithUpdate(job.Update{Strategy: &job.UpdateStrategy{}}).
			WithHealthCheck(job.HealthCheck{}).WithLifecycle(job.Lifecycle{}).Build()
		assert.Error(t, err)
		_ = job.Combine()
		_ = job.Concat()
		_, err = job.FromThermos(nil)
		assert.ErrorIs(t, err, job.ErrRequired)
		j, err := job.FromThermos(&thermos.Job{})
		require.NoError(t, err)
		_, err = j.Build()
		assert.Error(t, err)
	})
}

func TestFromThermosTemplates(t *testing.T) {
	payload := []byte(`{"name": "j", "role": "r", "cluster": "c", "environment": "devel",
		"task": {"name": "t", "processes": [{"name": "p", "cmdline": "x", "max_failures": "{{mesos.instance}}"}],
		         "resources": {"cpu": 1.0, "ram": 1048576, "disk": 1048576}},
		"health_check_config": {"interval_secs": "{{mesos.instance}}"}}`)
	p, err := thermos.Unmarshal(payload)
	require.NoError(t, err)
	_, err = job.FromThermos(p)
	var fe *job.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "health_check_config.interval_secs", fe.Path)
	assert.ErrorIs(t, err, job.ErrTemplateInNumericField)

	p.HealthCheckConfig.Templates = nil
	j, err := job.FromThermos(p)
	require.NoError(t, err)
	_, err = j.Build()
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "task.processes[0].max_failures", fe.Path, "kept as a template, rejected like the CLI does")
}

// TestConcurrentBuild builds one shared job from many goroutines (run with
// -race): Build only reads its receiver.
func TestConcurrentBuild(t *testing.T) {
	j := job.New(key("devel", "bulk"), workers(50)).
		WithTemplate("instances", "{{n}}").Bind(job.Vars{"n": 2, "p": job.Vars{"x": "{{n}}"}}).
		WithAnnounce(job.NewAnnouncer())
	want, err := j.Build()
	require.NoError(t, err)
	wantData, err := want.ExecutorData()
	require.NoError(t, err)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			spec, err := j.Build()
			if err == nil {
				var data []byte
				data, err = spec.ExecutorData()
				if err == nil && string(data) != string(wantData) {
					err = errors.New("different payload")
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		assert.NoError(t, <-errs)
	}
}

func TestNumericTemplates(t *testing.T) {
	p := job.NewProcess("p", "true").WithTemplate("final", "{{yes}}").WithTemplate("resources.gpu", "{{n}}").
		WithResources(job.Resources{CPU: 1, RAM: job.MiB, Disk: job.MiB})
	task := okTask(p).WithTemplate("max_concurrency", "{{n}}").WithTemplate("finalization_wait", " {{n}} ").
		WithTemplate("resources.ram", "{{ram}}")
	spec, err := okJob(task).WithTemplate("priority", "{{n}}").WithTemplate("production", "{{yes}}").
		WithTemplate("enable_hooks", "0").WithTemplate("instances", "{{n}}").
		Bind(job.Vars{"n": 2, "yes": true, "ram": int64(job.GiB)}).Build()
	require.NoError(t, err)
	pl := spec.Payload
	assert.True(t, pl.Task.Processes[0].Final)
	assert.Equal(t, int64(2), pl.Task.Processes[0].Resources.GPU)
	assert.Equal(t, 2, pl.Task.MaxConcurrency)
	assert.Equal(t, 2, pl.Task.FinalizationWait)
	assert.Equal(t, int64(job.GiB), pl.Task.Resources.RAM)
	assert.Equal(t, 2, pl.Priority)
	assert.True(t, pl.Production)
	assert.False(t, pl.EnableHooks)
	assert.Equal(t, 2, spec.Instances)
}
