package nixrealis

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/internal/jsoncmp"
	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/thermos"
)

// goldenOwner is the owner the oracle's client ran as (ORACLE_OWNER).
const goldenOwner = "oracle"

// goldenCase is a success case of shared/oracle/golden, copied to
// testdata/golden: the library-path payload and the taskconfig.json.
type goldenCase struct {
	name      string
	file      []byte // the taskconfig.json
	payload   []byte
	tc        map[string]json.RawMessage
	derived   goldenDerived
	jobConfig json.RawMessage
}

type goldenDerived struct {
	Instances     int             `json:"instances"`
	Ports         []string        `json:"ports"`
	UpdateConfig  json.RawMessage `json:"update_config"`
	Settings      json.RawMessage `json:"jobUpdateSettings"`
	SettingsError *string         `json:"jobUpdateSettings_error"`
	HasHealthPort bool            `json:"has_health_port"`
}

// goldenUpdateConfig is the pystachio UpdateConfig as the oracle wrote it.
type goldenUpdateConfig struct {
	BatchSize              *int  `json:"batch_size"`
	WatchSecs              *int  `json:"watch_secs"`
	MaxPerShardFailures    *int  `json:"max_per_shard_failures"`
	MaxTotalFailures       *int  `json:"max_total_failures"`
	RollbackOnFailure      *bool `json:"rollback_on_failure"`
	WaitForBatchCompletion *bool `json:"wait_for_batch_completion"`
	PulseIntervalSecs      *int  `json:"pulse_interval_secs"`
	SLAAware               *bool `json:"sla_aware"`
	UpdateStrategy         *struct {
		BatchSize           *int  `json:"batch_size"`
		BatchSizes          []int `json:"batch_sizes"`
		AutopauseAfterBatch *bool `json:"autopause_after_batch"`
	} `json:"update_strategy"`
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// toThermos decodes update_config into thermos.UpdateConfig over Aurora's
// defaults. The oracle's JSON does not name the strategy's type; batch_sizes
// means VariableBatchUpdateStrategy, autopause_after_batch without it a
// BatchUpdateStrategy, otherwise a QueueUpdateStrategy.
func (g goldenUpdateConfig) toThermos() thermos.UpdateConfig {
	u := thermos.DefaultUpdateConfig()
	set(&u.BatchSize, g.BatchSize)
	set(&u.WatchSecs, g.WatchSecs)
	set(&u.MaxPerShardFailures, g.MaxPerShardFailures)
	set(&u.MaxTotalFailures, g.MaxTotalFailures)
	set(&u.RollbackOnFailure, g.RollbackOnFailure)
	set(&u.WaitForBatchCompletion, g.WaitForBatchCompletion)
	set(&u.SLAAware, g.SLAAware)
	if g.PulseIntervalSecs != nil {
		u.PulseIntervalSecs = new(*g.PulseIntervalSecs)
	}
	if s := g.UpdateStrategy; s != nil {
		autopause := s.AutopauseAfterBatch != nil && *s.AutopauseAfterBatch
		switch {
		case s.BatchSizes != nil:
			u.UpdateStrategy = &thermos.UpdateStrategy{VariableBatch: &thermos.VariableBatchUpdateStrategy{BatchSizes: s.BatchSizes, AutopauseAfterBatch: autopause}}
		case s.AutopauseAfterBatch != nil:
			b := &thermos.BatchUpdateStrategy{BatchSize: 1, AutopauseAfterBatch: autopause}
			set(&b.BatchSize, s.BatchSize)
			u.UpdateStrategy = &thermos.UpdateStrategy{Batch: b}
		default:
			q := &thermos.QueueUpdateStrategy{BatchSize: 1}
			set(&q.BatchSize, s.BatchSize)
			u.UpdateStrategy = &thermos.UpdateStrategy{Queue: q}
		}
	}
	return u
}

func loadGoldenCases(t testing.TB) []goldenCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.taskconfig.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no golden cases in testdata/golden")
	var cases []goldenCase
	for _, f := range files {
		cases = append(cases, readGoldenCase(t, filepath.Dir(f), strings.TrimSuffix(filepath.Base(f), ".taskconfig.json")))
	}
	return cases
}

// readGoldenCase reads case name of the oracle's golden directory dir: its
// taskconfig.json and its payload.
func readGoldenCase(t testing.TB, dir, name string) goldenCase {
	t.Helper()
	f := filepath.Join(dir, name+".taskconfig.json")
	c := goldenCase{name: name}
	var err error
	c.file, err = os.ReadFile(f)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(c.file, &c.tc), f)
	require.NoError(t, json.Unmarshal(c.tc["derived"], &c.derived), f)
	c.jobConfig = c.tc["jobConfiguration"]
	c.payload, err = os.ReadFile(filepath.Join(dir, name+".payload.json"))
	require.NoError(t, err)
	return c
}

// goldenJob returns the thermos job of a case: the payload read back with
// thermos.Unmarshal, or, for the custom executor (whose data is not a
// Thermos payload), the job its .aurora file describes.
func goldenJob(t testing.TB, c goldenCase) *thermos.Job {
	t.Helper()
	if c.name == "custom_executor" {
		j := thermos.NewJob()
		j.Cluster, j.Role, j.Environment, j.Name = "devcluster", "www-data", "devel", "custom"
		j.ExecutorConfig = thermos.ExecutorConfig{Name: "CustomExecutor", Data: string(c.payload)}
		j.Task = thermos.NewTask()
		j.Task.Name = "unused"
		j.Task.Processes = []thermos.Process{thermos.NewProcess("unused", "true")}
		j.Task.Resources = &thermos.Resources{CPU: 1, RAM: 64 * thermos.MB, Disk: 64 * thermos.MB}
		return j
	}
	j, err := thermos.Unmarshal(c.payload)
	require.NoError(t, err, "thermos.Unmarshal(%s.payload.json)", c.name)
	return j
}

// multisetCases are the cases whose process and constraint order is Python
// set order (oracle README).
var multisetCases = map[string]bool{"tasks_concat": true, "tasks_combine": true, "tutorial_tasks_concat": true, "tutorial_tasks_combine": true}

// TestRenderGolden renders every success case of the oracle and compares the
// JobConfiguration and the JobUpdateSettings with what Aurora's client built.
func TestRenderGolden(t *testing.T) {
	for _, c := range loadGoldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			p := goldenJob(t, c)
			rj, err := renderJob(p, c.derived.Instances, c.derived.Ports, goldenOwner)
			require.NoError(t, err)
			checkGoldenJobConfig(t, c, rj.JobConfig())

			var gu goldenUpdateConfig
			require.NoError(t, json.Unmarshal(c.derived.UpdateConfig, &gu))
			checkGoldenSettings(t, c, gu.toThermos())
		})
	}
}

// checkGoldenSettings compares the JobUpdateSettings made from u with what
// Aurora's client made of the case's update config or, where Aurora's client
// refused that, checks that UpdateSettings refuses u too.
func checkGoldenSettings(t *testing.T, c goldenCase, u thermos.UpdateConfig) {
	t.Helper()
	settings, err := UpdateSettings(u)
	if c.derived.SettingsError != nil {
		require.Error(t, err, "Aurora's client failed with %s", *c.derived.SettingsError)
		return
	}
	require.NoError(t, err)
	got, err := json.Marshal(updateSettingsJSON(settings))
	require.NoError(t, err)
	jsoncmp.Equal(t, c.derived.Settings, got)
}

// checkGoldenJobConfig compares a rendered JobConfiguration with the case's.
func checkGoldenJobConfig(t *testing.T, c goldenCase, jc *aurora.JobConfiguration) {
	t.Helper()
	// executorConfig.data: the payload must equal the golden one as
	// parsed JSON (bytes differ only in CPython's key order); the
	// oracle replaces it by {file, sha256, bytes} of its own file.
	data := []byte(jc.TaskConfig.ExecutorConfig.Data)
	var opts []jsoncmp.Option
	if multisetCases[c.name] {
		opts = append(opts, jsoncmp.Multiset("task.processes", "task.constraints"))
	}
	if c.name == "custom_executor" {
		assert.Equal(t, string(c.payload), string(data), "custom executor data must be passed verbatim")
	} else {
		jsoncmp.Equal(t, c.payload, data, opts...)
	}
	sum := sha256.Sum256(c.payload)
	dataRef := obj{"file": c.name + ".payload.json", "sha256": hex.EncodeToString(sum[:]), "bytes": jint(len(c.payload))}

	got, err := json.Marshal(jobConfigJSON(jc, dataRef))
	require.NoError(t, err)
	jsoncmp.Equal(t, c.jobConfig, got, jsoncmp.Multiset("taskConfig.resources", "taskConfig.constraints", "taskConfig.metadata"))

	// JobConfigJSON writes the same, with the data the executor receives.
	public, err := JobConfigJSON(jc)
	require.NoError(t, err)
	v, err := jsoncmp.Decode(public)
	require.NoError(t, err)
	pub := v.(map[string]any)
	ec := pub["taskConfig"].(map[string]any)["executorConfig"].(map[string]any)
	assert.Equal(t, jc.TaskConfig.ExecutorConfig.Data, ec["data"])
	ec["data"] = map[string]any{"file": dataRef["file"], "sha256": dataRef["sha256"], "bytes": len(c.payload)}
	public, err = json.Marshal(pub)
	require.NoError(t, err)
	jsoncmp.Equal(t, c.jobConfig, public, jsoncmp.Multiset("taskConfig.resources", "taskConfig.constraints", "taskConfig.metadata"))

	// No aliasing between the job key and the task's job key.
	assert.NotSame(t, jc.Key, jc.TaskConfig.Job)
	assert.NotSame(t, jc.Owner, jc.TaskConfig.Owner)
}

// TestRenderGoldenViaJob takes each case through the job package: the
// payload converted back into job values (job.FromThermos), built with the
// case's instance count, and rendered from the resulting Spec.
func TestRenderGoldenViaJob(t *testing.T) {
	for _, c := range loadGoldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			j, err := job.FromThermos(goldenJob(t, c))
			require.NoError(t, err)
			spec, err := j.WithInstances(c.derived.Instances).Build()
			if c.name == "template_in_integer_field" {
				// Aurora's CLI rejects it; the job package follows the CLI.
				require.ErrorIs(t, err, job.ErrTemplateInNumericField)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.derived.Ports, append([]string{}, spec.Ports...))
			rj, err := RenderJob(spec, goldenOwner)
			require.NoError(t, err)
			checkGoldenJobConfig(t, c, rj.JobConfig())
		})
	}
}

// TestRenderFresh checks that two renders share nothing and that changing
// one leaves the other and the source payload alone.
func TestRenderFresh(t *testing.T) {
	c := loadGoldenCases(t)[0]
	p := goldenJob(t, c)
	a, err := renderJob(p, 2, []string{"http", "admin"}, "alice")
	require.NoError(t, err)
	b, err := renderJob(p, 2, []string{"http", "admin"}, "alice")
	require.NoError(t, err)
	a.Name("renamed")
	a.TaskConfig().Job.Name = "renamed-too"
	a.TaskConfig().Resources[0].NumCpus = new(99.0)
	assert.Equal(t, p.Name, b.JobKey().Name)
	assert.Equal(t, p.Name, b.TaskConfig().Job.Name)
	assert.NotEqual(t, 99.0, *b.TaskConfig().Resources[0].NumCpus)

	var ports []string
	for _, r := range b.TaskConfig().Resources {
		if r.NamedPort != nil {
			ports = append(ports, *r.NamedPort)
		}
	}
	assert.Equal(t, []string{"admin", "http"}, ports, "one namedPort per name (gorealis' AddNamedPorts bug avoided)")
	assert.Equal(t, "alice", b.JobConfig().Owner.User)
	assert.Equal(t, "alice", b.TaskConfig().Owner.User)
}

func TestRenderErrors(t *testing.T) {
	base := func() *thermos.Job {
		j := thermos.NewJob()
		j.Cluster, j.Role, j.Environment, j.Name = "c", "r", "devel", "n"
		j.Task = thermos.NewTask()
		j.Task.Name = "t"
		j.Task.Processes = []thermos.Process{thermos.NewProcess("p", "true")}
		j.Task.Resources = &thermos.Resources{CPU: 1, RAM: 64 * thermos.MB, Disk: 64 * thermos.MB}
		return j
	}
	tests := []struct {
		name      string
		edit      func(j *thermos.Job)
		instances int
		field     string
	}{
		{"no resources", func(j *thermos.Job) { j.Task.Resources = nil }, 1, "task.resources"},
		{"ram below 1MiB", func(j *thermos.Job) { j.Task.Resources.RAM = 512 * thermos.KB }, 1, "task.resources"},
		{"zero instances", func(j *thermos.Job) {}, 0, "instances"},
		{"bad limit", func(j *thermos.Job) { j.Constraints = map[string]string{"host": "limit:x"} }, 1, "constraints[host]"},
		{"bad cron policy", func(j *thermos.Job) { j.CronCollisionPolicy = "bogus" }, 1, "cron_collision_policy"},
		{"two sla policies", func(j *thermos.Job) {
			j.SLAPolicy = &thermos.SLAPolicy{Count: &thermos.CountSLAPolicy{Count: 1}, Percentage: &thermos.PercentageSLAPolicy{Percentage: 5}}
		}, 1, "sla_policy"},
		{"two containers", func(j *thermos.Job) {
			j.Container = &thermos.Container{Docker: &thermos.Docker{Image: "a"}, Mesos: &thermos.Mesos{}}
		}, 1, "container"},
		{"bad volume mode", func(j *thermos.Job) {
			j.Container = &thermos.Container{Mesos: &thermos.Mesos{Volumes: []thermos.Volume{{ContainerPath: "/a", HostPath: "/b", Mode: "XX"}}}}
		}, 1, "container.mesos.volumes[0].mode"},
		{"template in priority", func(j *thermos.Job) { j.Templates = thermos.Templates{"priority": "{{mesos.instance}}"} }, 1, "priority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := base()
			tt.edit(j)
			_, err := renderJob(j, tt.instances, nil, "u")
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrRender)
			var re *RenderError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tt.field, re.Path, "error: %v", err)
		})
	}
	_, err := renderJob(nil, 1, nil, "u")
	assert.ErrorIs(t, err, ErrRender)
}

func TestUpdateSettingsErrors(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(u *thermos.UpdateConfig)
		field string
	}{
		{"batch size 0", func(u *thermos.UpdateConfig) { u.BatchSize = 0 }, "update_config.batch_size"},
		{"negative watch", func(u *thermos.UpdateConfig) { u.WatchSecs = -1 }, "update_config.watch_secs"},
		{"short pulse", func(u *thermos.UpdateConfig) { u.PulseIntervalSecs = new(10) }, "update_config.pulse_interval_secs"},
		{"strategy and wait", func(u *thermos.UpdateConfig) {
			u.WaitForBatchCompletion = true
			u.UpdateStrategy = &thermos.UpdateStrategy{Queue: &thermos.QueueUpdateStrategy{BatchSize: 1}}
		}, "update_config.update_strategy"},
		{"strategy and batch size", func(u *thermos.UpdateConfig) {
			u.BatchSize = 2
			u.UpdateStrategy = &thermos.UpdateStrategy{Queue: &thermos.QueueUpdateStrategy{BatchSize: 1}}
		}, "update_config.update_strategy"},
		{"empty variable batch", func(u *thermos.UpdateConfig) {
			u.UpdateStrategy = &thermos.UpdateStrategy{VariableBatch: &thermos.VariableBatchUpdateStrategy{}}
		}, "update_config.update_strategy.batch_sizes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := thermos.DefaultUpdateConfig()
			tt.edit(&u)
			_, err := UpdateSettings(u)
			require.Error(t, err)
			var re *RenderError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tt.field, re.Path, "error: %v", err)
			assert.True(t, errors.Is(err, ErrRender))
		})
	}

	// Strategies the Python client cannot send (it fails on them) are sent
	// as written.
	u := thermos.DefaultUpdateConfig()
	u.WaitForBatchCompletion = true
	u.BatchSize = 3
	s, err := UpdateSettings(u)
	require.NoError(t, err)
	assert.Equal(t, &aurora.BatchJobUpdateStrategy{GroupSize: 3}, s.UpdateStrategy.BatchStrategy)
	u = thermos.DefaultUpdateConfig()
	u.UpdateStrategy = &thermos.UpdateStrategy{Batch: &thermos.BatchUpdateStrategy{BatchSize: 4, AutopauseAfterBatch: true}}
	s, err = UpdateSettings(u)
	require.NoError(t, err)
	assert.Equal(t, int32(4), s.UpdateGroupSize)
	assert.Equal(t, &aurora.BatchJobUpdateStrategy{GroupSize: 4, AutopauseAfterBatch: true}, s.UpdateStrategy.BatchStrategy)
}

func BenchmarkRenderJob(b *testing.B) {
	for _, name := range []string{"hello_world", "large_500_processes"} {
		b.Run(name, func(b *testing.B) {
			raw, err := os.ReadFile(filepath.Join("testdata", "golden", name+".payload.json"))
			require.NoError(b, err)
			p, err := thermos.Unmarshal(raw)
			require.NoError(b, err)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := renderJob(p, 1, []string{"http"}, "u"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
