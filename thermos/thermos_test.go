package thermos_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/thermos"
)

func TestAppendFloat(t *testing.T) {
	// Expected strings are Python 2.7's repr(float).
	tests := []struct {
		in   float64
		want string
	}{
		{1, "1.0"},
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{0.25, "0.25"},
		{15, "15.0"},
		{-2.5, "-2.5"},
		{1e-05, "1e-05"},
		{0.0001, "0.0001"},
		{1.5e-07, "1.5e-07"},
		{1e16, "1e+16"},
		{1.5e16, "1.5e+16"},
		{9999999999999998, "9999999999999998.0"},
		{123456789.125, "123456789.125"},
		{0.1, "0.1"},
		{1.0 / 3, "0.3333333333333333"},
		{1e300, "1e+300"},
		{5e-324, "5e-324"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, string(thermos.AppendFloat(nil, tt.in)), "AppendFloat(%v)", tt.in)
	}
}

func TestAppendString(t *testing.T) {
	// Expected strings are Python 2.7's json.dumps(unicode) with ensure_ascii.
	tests := []struct {
		in, want string
	}{
		{"plain", `"plain"`},
		{`q"b\s/`, `"q\"b\\s/"`},
		{"<>&", `"<>&"`},
		{"\n\r\t\b\f", `"\n\r\t\b\f"`},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001f\u007f"`},
		{"é", `"\u00e9"`},
		{"\u2028\u2029", `"\u2028\u2029"`},
		{"\ufeff", `"\ufeff"`},
		{"😀", `"\ud83d\ude00"`},
		{"a\xffb", `"a\ufffdb"`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, string(thermos.AppendString(nil, tt.in)), "AppendString(%q)", tt.in)
		// And it is valid JSON that decodes to the same text.
		var back string
		require.NoError(t, json.Unmarshal([]byte(tt.want), &back))
		if !strings.Contains(tt.in, "\xff") {
			assert.Equal(t, tt.in, back)
		}
	}
}

func TestNewJobMarshalsAuroraDefaults(t *testing.T) {
	j := thermos.NewJob()
	j.Name, j.Role, j.Cluster, j.Environment = "hello", "www-data", "devcluster", "devel"
	j.Task.Name = "hello"
	j.Task.Processes = []thermos.Process{thermos.NewProcess("hello", "echo hello world && sleep 60")}
	j.Task.Resources = &thermos.Resources{CPU: 1, RAM: 128 * thermos.MB, Disk: 128 * thermos.MB}
	got, err := thermos.Marshal(j)
	require.NoError(t, err)
	want, err := os.ReadFile("testdata/golden/hello_world.payload.json")
	require.NoError(t, err)
	assert.Equal(t, string(sortedPython(t, want)), string(got))
}

func TestUnmarshalErrors(t *testing.T) {
	const task = `"task": {"processes": [{"name": "p", "cmdline": "c"}]}`
	tests := []struct {
		name string
		in   string
		path string
		err  error
		msg  string
	}{
		{name: "empty", in: ``, err: thermos.ErrSyntax},
		{name: "not an object", in: `[]`, err: thermos.ErrType},
		{name: "trailing data", in: `{"role": "r", "cluster": "c", ` + task + `} {}`, err: thermos.ErrSyntax},
		{name: "truncated", in: `{"role": "r", "cluster": `, path: "cluster", err: thermos.ErrSyntax, msg: "unexpected end of input"},
		{name: "unknown top-level key", in: `{"bogus": 1}`, path: "bogus", err: thermos.ErrUnknownField},
		{name: "unknown key in process", in: `{"task": {"processes": [{"name": "p", "cmdline": "c", "cmd": "x"}]}}`, path: "task.processes[0].cmd", err: thermos.ErrUnknownField},
		{name: "duplicate key", in: `{"role": "r", "role": "s"}`, path: "role", err: thermos.ErrDuplicateField},
		{name: "missing role", in: `{"cluster": "c", ` + task + `}`, path: "role", err: thermos.ErrRequired},
		{name: "missing task", in: `{"role": "r", "cluster": "c"}`, path: "task", err: thermos.ErrRequired},
		{name: "missing processes", in: `{"role": "r", "cluster": "c", "task": {}}`, path: "task.processes", err: thermos.ErrRequired},
		{name: "missing cmdline", in: `{"task": {"processes": [{"name": "p"}]}}`, path: "task.processes[0].cmdline", err: thermos.ErrRequired},
		{name: "missing ram", in: `{"task": {"resources": {"cpu": 1.0, "disk": 1}}}`, path: "task.resources.ram", err: thermos.ErrRequired},
		{name: "string in integer", in: `{"task": {"max_failures": "3"}}`, path: "task.max_failures", err: thermos.ErrType, msg: "{{template}}"},
		{name: "fraction in integer", in: `{"task": {"max_failures": 1.5}}`, path: "task.max_failures", err: thermos.ErrInvalid},
		{name: "integer overflow", in: `{"task": {"resources": {"ram": 99999999999999999999}}}`, path: "task.resources.ram", err: thermos.ErrInvalid},
		{name: "bool as string", in: `{"service": "true"}`, path: "service", err: thermos.ErrType},
		{name: "number in string field", in: `{"role": 5}`, path: "role", err: thermos.ErrType},
		{name: "bad escape", in: `{"role": "\x"}`, path: "role", err: thermos.ErrSyntax},
		{name: "invalid utf-8", in: "{\"role\": \"\xff\"}", path: "role", err: thermos.ErrSyntax},
		{name: "leading zero", in: `{"priority": 01}`, path: "priority", err: thermos.ErrSyntax},
		{name: "instances in payload", in: `{"instances": 2}`, path: "instances", msg: "UnmarshalConfig"},
		{name: "ambiguous sla policy", in: `{"sla_policy": {"duration_secs": 5}}`, path: "sla_policy", err: thermos.ErrInvalid},
		{name: "mixed sla policy", in: `{"sla_policy": {"count": 1, "percentage": 5.0, "duration_secs": 5}}`, path: "sla_policy.count", err: thermos.ErrUnknownField},
		{name: "ambiguous mesos image", in: `{"container": {"image": {"name": "x"}, "volumes": []}}`, path: "container.image", err: thermos.ErrInvalid},
		{name: "docker without image", in: `{"container": {"parameters": []}}`, path: "container.image", err: thermos.ErrRequired},
		{name: "legacy docker null", in: `{"container": {"docker": null}}`, path: "container.docker", err: thermos.ErrRequired},
		{name: "volume without mode", in: `{"container": {"volumes": [{"container_path": "a", "host_path": "b"}]}}`, path: "container.volumes[0].mode", err: thermos.ErrRequired},
		{name: "metadata without value", in: `{"metadata": [{"key": "k"}]}`, path: "metadata[0].value", err: thermos.ErrRequired},
		{name: "shell checker without command", in: `{"health_check_config": {"health_checker": {"shell": {}}}}`, path: "health_check_config.health_checker.shell.shell_command", err: thermos.ErrRequired},
		{name: "legacy health check keys with health_checker", in: `{"health_check_config": {"endpoint": "/h", "health_checker": {}}}`, path: "health_check_config.health_checker", err: thermos.ErrInvalid, msg: "health_checker.http"},
		{name: "restart_threshold outside update_config", in: `{"restart_threshold": 5}`, path: "restart_threshold", err: thermos.ErrUnknownField},
		{name: "nix-aurora port_map", in: `{"announce": {"port_map": {}}}`, path: "announce.port_map", err: thermos.ErrUnknownField, msg: "portmap"},
		{name: "duplicate key in large map", in: `{"task_links": {` + manyKeys(100) + `, "k7": ""}}`, path: "task_links.k7", err: thermos.ErrDuplicateField},
		{name: "odd key quoted in path", in: `{"task_links": {"a b": 1}}`, path: `task_links."a b"`, err: thermos.ErrType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := thermos.Unmarshal([]byte(tt.in))
			require.Error(t, err)
			assert.Nil(t, j)
			var fe *thermos.FieldError
			require.True(t, errors.As(err, &fe), "error %v is not a *FieldError", err)
			assert.Equal(t, tt.path, fe.Path, "error: %v", err)
			if tt.err != nil {
				assert.ErrorIs(t, err, tt.err)
			}
			if tt.msg != "" {
				assert.Contains(t, err.Error(), tt.msg)
			}
		})
	}
}

func minimal() *thermos.Job {
	j := thermos.NewJob()
	j.Name, j.Role, j.Cluster, j.Environment = "n", "r", "c", "e"
	j.Task.Name = "p"
	j.Task.Processes = []thermos.Process{thermos.NewProcess("p", "c")}
	return j
}

func TestMarshalErrors(t *testing.T) {
	tests := []struct {
		name   string
		modify func(j *thermos.Job)
		path   string
		msg    string
	}{
		{name: "NaN cpu", modify: func(j *thermos.Job) { j.Task.Resources = &thermos.Resources{CPU: math.NaN()} }, path: "task.resources.cpu"},
		{name: "infinite timeout", modify: func(j *thermos.Job) { j.HealthCheckConfig.TimeoutSecs = math.Inf(1) }, path: "health_check_config.timeout_secs"},
		{name: "empty container", modify: func(j *thermos.Job) { j.Container = &thermos.Container{} }, path: "container", msg: "no alternative set"},
		{name: "two containers", modify: func(j *thermos.Job) {
			j.Container = &thermos.Container{Docker: &thermos.Docker{}, Mesos: &thermos.Mesos{}}
		}, path: "container", msg: "exactly one"},
		{name: "empty image", modify: func(j *thermos.Job) {
			j.Container = &thermos.Container{Mesos: &thermos.Mesos{Image: &thermos.Image{}}}
		}, path: "container.image"},
		{name: "empty sla policy", modify: func(j *thermos.Job) { j.SLAPolicy = &thermos.SLAPolicy{} }, path: "sla_policy"},
		{name: "template for unknown field", modify: func(j *thermos.Job) {
			j.Task.Processes[0].Templates = thermos.Templates{"cmdline": "{{x}}"}
		}, path: "task.processes[0]", msg: `Templates["cmdline"]`},
		{name: "template without braces", modify: func(j *thermos.Job) {
			j.Task.Processes[0].Templates = thermos.Templates{"max_failures": "3"}
		}, path: "task.processes[0].max_failures", msg: "set the field's value instead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := minimal()
			tt.modify(j)
			out, err := thermos.Marshal(j)
			require.Error(t, err)
			assert.Nil(t, out)
			assert.ErrorIs(t, err, thermos.ErrInvalid)
			var fe *thermos.FieldError
			require.True(t, errors.As(err, &fe))
			assert.Equal(t, tt.path, fe.Path, "error: %v", err)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
	_, err := thermos.Marshal(nil)
	assert.ErrorIs(t, err, thermos.ErrInvalid)
}

// fullJob sets every optional field and choice (the variants of
// fullVariants are the alternatives of fullJob's choices.
var fullVariants = map[string]func(j *thermos.Job){
	"full": func(*thermos.Job) {},
	"count sla": func(j *thermos.Job) {
		j.SLAPolicy = &thermos.SLAPolicy{Count: &thermos.CountSLAPolicy{Count: 8, DurationSecs: 600}}
	},
	"coord sla": func(j *thermos.Job) {
		j.SLAPolicy = &thermos.SLAPolicy{Coordinator: &thermos.CoordinatorSLAPolicy{CoordinatorURL: "http://x", StatusKey: "drain"}}
	},
	"docker": func(j *thermos.Job) {
		j.Container = &thermos.Container{Docker: &thermos.Docker{Image: "i", Parameters: []thermos.Parameter{{Name: "a", Value: "b"}}}}
	},
	"legacy docker": func(j *thermos.Job) {
		j.Container = &thermos.Container{LegacyDocker: &thermos.Docker{Image: "i", Parameters: []thermos.Parameter{}}}
	},
	"docker image": func(j *thermos.Job) {
		j.Container = &thermos.Container{Mesos: &thermos.Mesos{Image: &thermos.Image{Docker: &thermos.DockerImage{Name: "n", Tag: "t"}}, Volumes: []thermos.Volume{}}}
	},
	"http checker and lifecycle": func(j *thermos.Job) {
		j.HealthCheckConfig = thermos.DefaultHealthCheckConfig()
		j.HealthCheckConfig.HealthChecker.Shell = &thermos.ShellHealthChecker{ShellCommand: "x"}
		j.Lifecycle = thermos.DefaultLifecycle()
	},
}

// TestRoundTripEveryField change the alternatives).
func fullJob() *thermos.Job {
	s := func(v string) *string { return &v }
	j := minimal()
	j.Contact, j.Tier, j.CronSchedule = s("a@b.c"), s("preferred"), s("*/5 * * * *")
	j.Announce = &thermos.Announcer{PrimaryPort: "http", Portmap: map[string]string{"health": "http", "x": "8080"}, ZKPath: s("/aurora")}
	j.Constraints = map[string]string{"dedicated": "r/x", "host": "limit:1"}
	j.Metadata = []thermos.Metadata{{Key: "k", Value: "v"}, {Key: "k", Value: "w"}}
	j.Service, j.Production, j.EnableHooks = true, true, true
	j.MaxTaskFailures, j.Priority = -1, 7
	j.HealthCheckConfig.HealthChecker = thermos.HealthCheckerConfig{Shell: &thermos.ShellHealthChecker{ShellCommand: "true"}}
	j.HealthCheckConfig.TimeoutSecs = 0.5
	j.Lifecycle = thermos.LifecycleConfig{}
	j.TaskLinks = map[string]string{}
	j.ExecutorConfig = thermos.ExecutorConfig{Name: "AuroraExecutor", Data: "x"}
	j.PartitionPolicy = &thermos.PartitionPolicy{Reschedule: false, DelaySecs: 30}
	j.SLAPolicy = &thermos.SLAPolicy{Percentage: &thermos.PercentageSLAPolicy{Percentage: 95.5, DurationSecs: 60}}
	j.Container = &thermos.Container{Mesos: &thermos.Mesos{
		Image:   &thermos.Image{Appc: &thermos.AppcImage{Name: "n", ImageID: "id"}},
		Volumes: []thermos.Volume{{ContainerPath: "/c", HostPath: "/h", Mode: "RO"}},
	}}
	j.Task.User = s("nobody")
	j.Task.Resources = &thermos.Resources{CPU: 0.25, RAM: 1536 * thermos.MB, Disk: 1e9, GPU: 2}
	j.Task.Constraints = []thermos.Constraint{{Order: []string{"p", "q"}}, {}}
	q := thermos.NewProcess("q", "d")
	q.Daemon, q.Ephemeral, q.Final = true, true, true
	q.MaxFailures = 0 // MinDuration stays at its default: it carries a template
	q.Logger = &thermos.Logger{Destination: "both", Mode: "rotate", Rotate: &thermos.RotatePolicy{LogSize: thermos.GB, Backups: 3}}
	q.Resources = &thermos.Resources{CPU: 1, RAM: 1, Disk: 1}
	q.Templates = thermos.Templates{"min_duration": "{{mesos.instance}}"}
	j.Task.Processes = append(j.Task.Processes, q)
	j.Task.Templates = thermos.Templates{"finalization_wait": "{{x}}"}
	return j
}

// TestRoundTripEveryField sets every optional field and choice and checks
// that Unmarshal(Marshal(j)) == j.
func TestRoundTripEveryField(t *testing.T) {
	full := fullJob
	variants := fullVariants
	for name, modify := range variants {
		t.Run(name, func(t *testing.T) {
			j := full()
			modify(j)
			out, err := thermos.Marshal(j)
			require.NoError(t, err)
			back, err := thermos.Unmarshal(out)
			require.NoError(t, err, "payload: %s", out)
			assert.Equal(t, j, back)
		})
	}
}

func TestUnmarshalDefaults(t *testing.T) {
	j, err := thermos.Unmarshal([]byte(`{"role": "r", "cluster": "c", "environment": "e",
		"task": {"processes": [{"name": "first", "cmdline": "x", "logger": {"rotate": {}}}], "resources": {"cpu": 2, "ram": 1, "disk": 1}},
		"announce": {}, "partition_policy": {}, "health_check_config": {"health_checker": {"http": {}}},
		"lifecycle": {"http": {}}, "sla_policy": {"coordinator_url": "u"}, "contact": null}`))
	require.NoError(t, err)
	want := thermos.NewJob()
	want.Role, want.Cluster, want.Environment = "r", "c", "e"
	p := thermos.NewProcess("first", "x")
	p.Logger = thermos.DefaultLogger()
	p.Logger.Rotate = thermos.DefaultRotatePolicy()
	want.Task.Processes = []thermos.Process{p}
	want.Task.Name, want.Name = "first", "first"
	want.Task.Resources = &thermos.Resources{CPU: 2, RAM: 1, Disk: 1}
	want.Announce = thermos.DefaultAnnouncer()
	want.PartitionPolicy = thermos.DefaultPartitionPolicy()
	want.SLAPolicy = &thermos.SLAPolicy{Coordinator: &thermos.CoordinatorSLAPolicy{CoordinatorURL: "u", StatusKey: "drain"}}
	assert.Equal(t, want, j)
}

func TestUnmarshalConfigUpdateStrategies(t *testing.T) {
	base := `{"role": "r", "cluster": "c", "environment": "e", "task": {"processes": [{"name": "p", "cmdline": "x"}]}, "update_config": `
	pulse := 30
	tests := []struct {
		in   string
		want thermos.UpdateConfig
	}{
		{`{}`, thermos.DefaultUpdateConfig()},
		{`{"update_strategy": {"batch_size": 3}}`, func() thermos.UpdateConfig {
			u := thermos.DefaultUpdateConfig()
			u.UpdateStrategy = &thermos.UpdateStrategy{Queue: &thermos.QueueUpdateStrategy{BatchSize: 3}}
			return u
		}()},
		{`{"update_strategy": {"autopause_after_batch": true}}`, func() thermos.UpdateConfig {
			u := thermos.DefaultUpdateConfig()
			u.UpdateStrategy = &thermos.UpdateStrategy{Batch: &thermos.BatchUpdateStrategy{BatchSize: 1, AutopauseAfterBatch: true}}
			return u
		}()},
		{`{"pulse_interval_secs": 30, "sla_aware": true, "rollback_on_failure": false, "update_strategy": {"batch_sizes": [1, 2, 5]}}`, func() thermos.UpdateConfig {
			u := thermos.DefaultUpdateConfig()
			u.PulseIntervalSecs, u.SLAAware, u.RollbackOnFailure = &pulse, true, false
			u.UpdateStrategy = &thermos.UpdateStrategy{VariableBatch: &thermos.VariableBatchUpdateStrategy{BatchSizes: []int{1, 2, 5}}}
			return u
		}()},
	}
	for _, tt := range tests {
		c, err := thermos.UnmarshalConfig([]byte(base + tt.in + "}"))
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, c.UpdateConfig, tt.in)
		assert.Equal(t, 1, c.Instances)
	}
	_, err := thermos.UnmarshalConfig([]byte(base + `{"bogus": 1}}`))
	var fe *thermos.FieldError
	require.True(t, errors.As(err, &fe))
	assert.Equal(t, "update_config.bogus", fe.Path)
}

// TestTypesMatchContract guards the field sets others code against.
func TestTypesMatchContract(t *testing.T) {
	fields := func(v any) []string {
		var out []string
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			out = append(out, typ.Field(i).Name)
		}
		return out
	}
	assert.Equal(t, []string{"Name", "Cmdline", "Resources", "MaxFailures", "Daemon", "Ephemeral", "MinDuration", "Final", "Logger", "Templates"}, fields(thermos.Process{}))
	assert.Equal(t, []string{"Name", "Processes", "Constraints", "Resources", "MaxFailures", "MaxConcurrency", "FinalizationWait", "User", "Templates"}, fields(thermos.Task{}))
}

func TestMarshalConfigRoundTrip(t *testing.T) {
	pulse := 10
	strategies := []*thermos.UpdateStrategy{
		nil,
		{Queue: &thermos.QueueUpdateStrategy{BatchSize: 2}},
		{Batch: &thermos.BatchUpdateStrategy{BatchSize: 3, AutopauseAfterBatch: true}},
		{VariableBatch: &thermos.VariableBatchUpdateStrategy{BatchSizes: []int{1, 5}, AutopauseAfterBatch: true}},
	}
	for _, s := range strategies {
		c := &thermos.Config{Job: minimal(), Instances: 5, UpdateConfig: thermos.DefaultUpdateConfig()}
		c.UpdateConfig.UpdateStrategy = s
		c.UpdateConfig.PulseIntervalSecs = &pulse
		c.UpdateConfig.SLAAware = true
		out, err := thermos.MarshalConfig(c)
		require.NoError(t, err)
		back, err := thermos.UnmarshalConfig(out)
		require.NoError(t, err, "%s", out)
		assert.Equal(t, c, back)
	}
	c := &thermos.Config{Job: minimal(), UpdateConfig: thermos.UpdateConfig{UpdateStrategy: &thermos.UpdateStrategy{}}}
	_, err := thermos.MarshalConfig(c)
	var fe *thermos.FieldError
	require.True(t, errors.As(err, &fe))
	assert.Equal(t, "update_config.update_strategy", fe.Path)
	_, err = thermos.MarshalConfig(nil)
	assert.ErrorIs(t, err, thermos.ErrInvalid)
}

func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q: %q", fmt.Sprintf("k%d", i), "v")
	}
	return b.String()
}

func TestUnmarshalDeepNesting(t *testing.T) {
	in := `{"container": {"x": ` + strings.Repeat("[", 100000) + `}}`
	_, err := thermos.Unmarshal([]byte(in))
	require.ErrorIs(t, err, thermos.ErrSyntax)
	assert.Contains(t, err.Error(), "nesting deeper than 1000 levels")
	var fe *thermos.FieldError
	require.True(t, errors.As(err, &fe))
	assert.True(t, strings.HasPrefix(fe.Path, "container.x[0][0]"), fe.Path)
}

func TestUnmarshalConfigs(t *testing.T) {
	job := `{"role": "r", "cluster": "c", "environment": "e", "name": "%s", "instances": %d, "task": {"processes": [{"name": "p", "cmdline": "x"}]}}`
	cs, err := thermos.UnmarshalConfigs([]byte(fmt.Sprintf(`{"jobs": [`+job+`, `+job+`]}`, "a", 1, "b", 3)))
	require.NoError(t, err)
	require.Len(t, cs, 2)
	assert.Equal(t, "a", cs[0].Job.Name)
	assert.Equal(t, "b", cs[1].Job.Name)
	assert.Equal(t, 3, cs[1].Instances)

	cs, err = thermos.UnmarshalConfigs([]byte(fmt.Sprintf(job, "single", 2)))
	require.NoError(t, err)
	require.Len(t, cs, 1)
	assert.Equal(t, "single", cs[0].Job.Name)

	_, err = thermos.UnmarshalConfigs([]byte(`{"jobs": [{"role": "r", "cluster": "c", "task": {"processes": [{"name": "p"}]}}]}`))
	var fe *thermos.FieldError
	require.True(t, errors.As(err, &fe))
	assert.Equal(t, "jobs[0].task.processes[0].cmdline", fe.Path)

	_, err = thermos.UnmarshalConfigs([]byte(`{"jobs": [], "role": "r"}`))
	require.ErrorIs(t, err, thermos.ErrUnknownField)
	_, err = thermos.UnmarshalConfigs([]byte(`[]`))
	require.ErrorIs(t, err, thermos.ErrType)
}
