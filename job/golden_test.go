package job_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/internal/jsoncmp"
	"github.com/nixrealis/nixrealis/internal/updatejson"
	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/thermos"
)

// The golden files in testdata/golden are copies of the oracle's files
// (produced by the real Aurora client, see its README); they are inputs,
// never rewritten by these tests.

type taskConfigFile struct {
	Derived struct {
		Ports        []string        `json:"ports"`
		Instances    int             `json:"instances"`
		UpdateConfig json.RawMessage `json:"update_config"`
	} `json:"derived"`
	Bindings []string `json:"bindings"`
}

func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "golden", name))
	require.NoError(t, err)
	return data
}

func TestGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			var tc taskConfigFile
			require.NoError(t, json.Unmarshal(readGolden(t, c.name+".taskconfig.json"), &tc))
			j := c.job()
			if c.bind != nil {
				j = j.Bind(c.bind)
			}
			assert.Len(t, c.bind, len(tc.Bindings), "the case must bind what the taskconfig lists: %v", tc.Bindings)
			spec, err := j.Build()
			if c.cliRejects {
				require.Error(t, err, "Aurora's CLI rejects this configuration")
				assert.ErrorIs(t, err, job.ErrTemplateInNumericField)
				var fe *job.FieldError
				require.ErrorAs(t, err, &fe)
				assert.Equal(t, "task.processes[0].max_failures", fe.Path)
				return
			}
			require.NoError(t, err)
			opts := []jsoncmp.Option{jsoncmp.Multiset(c.multiset...)}

			got, err := spec.ExecutorData()
			require.NoError(t, err)
			jsoncmp.Equal(t, readGolden(t, c.name+".payload.json"), got, opts...)

			assert.Equal(t, tc.Derived.Ports, spec.Ports, "ports")
			assert.Equal(t, tc.Derived.Instances, spec.Instances, "instances")
			jsoncmp.Equal(t, tc.Derived.UpdateConfig, updateJSON(t, spec.Update), opts...)

			cli, err := spec.WithTiers(job.DefaultTiers()).ExecutorData()
			require.NoError(t, err)
			jsoncmp.Equal(t, readGolden(t, c.name+".cli.payload.json"), cli, opts...)
			if spec.Payload.ExecutorConfig.Name == thermos.AuroraExecutorName {
				again, err := spec.ExecutorData()
				require.NoError(t, err)
				assert.Equal(t, got, again, "WithTiers modified the original spec")
			}
		})
	}
}

// TestGoldenFromThermos reads every golden payload back into a Job, builds
// it again and expects the same payload: an existing payload can be edited
// in Go without losing anything.
func TestGoldenFromThermos(t *testing.T) {
	for _, c := range goldenCases {
		if c.cliRejects || c.name == "custom_executor" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			want := readGolden(t, c.name+".payload.json")
			p, err := thermos.Unmarshal(want)
			require.NoError(t, err)
			j, err := job.FromThermos(p)
			require.NoError(t, err)
			var tc taskConfigFile
			require.NoError(t, json.Unmarshal(readGolden(t, c.name+".taskconfig.json"), &tc))
			j = j.WithInstances(tc.Derived.Instances)
			spec, err := j.Build()
			require.NoError(t, err)
			got, err := spec.ExecutorData()
			require.NoError(t, err)
			jsoncmp.Equal(t, want, got, jsoncmp.Multiset(c.multiset...))
			assert.Equal(t, tc.Derived.Ports, spec.Ports, "ports")
		})
	}
}

// TestGoldenErrors covers every err_* case of the oracle: each is written
// with this package's API and Build must reject it for the same reason.
type goldenErrorCase struct {
	name     string
	job      job.Job
	wantErr  error
	wantPath string
	wantText string
}

func goldenErrorCases() []goldenErrorCase {
	res := job.NewResources(1, 64*job.MB, 64*job.MB)
	task := func(procs ...job.Process) job.Task { return job.NewTask("", procs...).WithResources(res) }
	p := job.NewProcess("p", "true")
	return []goldenErrorCase{
		{
			name:    "err_invalid_role",
			job:     job.New(job.Key{Cluster: "devcluster", Role: "www data", Environment: "devel", Name: "bad"}, task(p)),
			wantErr: job.ErrInvalid, wantPath: "role", wantText: `invalid role "www data"`,
		},
		{
			name:    "err_unbound_job_variable",
			job:     job.New(key("devel", "unbound_job"), task(p)).WithContact("{{owner}}@example.com"),
			wantErr: job.ErrUnbound, wantPath: "contact", wantText: "{{owner}}",
		},
		{
			name:    "err_unbound_task_variable",
			job:     job.New(key("devel", "unbound_task"), task(job.NewProcess("p", "echo {{greeting}}"))),
			wantErr: job.ErrUnbound, wantPath: "task.processes[0].cmdline", wantText: "{{greeting}}",
		},
		{
			name:    "err_mustache_escape",
			job:     job.New(key("devel", "escape"), task(job.NewProcess("p", "echo {{&literal}}"))),
			wantErr: job.ErrUnbound, wantPath: "task.processes[0].cmdline", wantText: "{{literal}}",
		},
		{
			name:    "err_invalid_process_name",
			job:     job.New(key("devel", "badproc"), task(job.NewProcess("bin/run", "true"))),
			wantErr: job.ErrInvalid, wantPath: "task.processes[0].name", wantText: `invalid process name "bin/run"`,
		},
		{
			name:    "err_no_resources",
			job:     job.New(key("devel", "nores"), job.NewTask("", p)),
			wantErr: job.ErrRequired, wantPath: "task.resources", wantText: "must specify resources",
		},
		{
			name: "err_ram_below_1mb",
			job: job.New(key("devel", "tinyram"),
				job.NewTask("", p).WithResources(job.NewResources(1, 512*job.KB, 64*job.MB))),
			wantErr: job.ErrInvalid, wantPath: "task.resources.ram", wantText: "is 0 MiB",
		},
		{
			name: "err_order_cycle",
			job: func() job.Job {
				a, b := job.NewProcess("a", "true"), job.NewProcess("b", "true")
				return job.New(key("devel", "cycle"),
					task(a, b).WithConstraints(job.OrderProcesses(a, b), job.OrderProcesses(b, a)))
			}(),
			wantErr: job.ErrInvalidPlan, wantPath: "task.constraints", wantText: "cycles detected",
		},
		{
			name: "err_depends_on_daemon",
			job: func() job.Job {
				a, b := job.NewProcess("a", "true").WithDaemon(true), job.NewProcess("b", "true")
				return job.New(key("devel", "daemondep"), task(a, b).WithConstraints(job.OrderProcesses(a, b)))
			}(),
			wantErr: job.ErrInvalidPlan, wantPath: "task.constraints[0]", wantText: "process b may not depend upon daemon process a",
		},
		{
			name: "err_static_port_not_dedicated",
			job: job.New(key("devel", "static"), task(p)).
				WithAnnounce(job.Announcer{PrimaryPort: "http", Portmap: map[string]string{"http": "80"}}),
			wantErr: job.ErrInvalid, wantPath: "announce.portmap[http]", wantText: "must be dedicated in order to specify static ports",
		},
		{
			name:    "err_missing_cluster",
			job:     job.New(job.Key{Role: "www-data", Environment: "devel", Name: "nocluster"}, task(p)),
			wantErr: job.ErrRequired, wantPath: "cluster", wantText: "needs a cluster",
		},
		{
			name: "err_update_max_failures",
			job: func() job.Job {
				u := job.DefaultUpdate()
				u.MaxTotalFailures = 2
				return job.New(key("devel", "updfail"), task(p)).WithInstances(2).WithUpdate(u)
			}(),
			wantErr: job.ErrInvalid, wantPath: "update_config.max_total_failures", wantText: "must be less than the 2 instance(s)",
		},
		{
			name:    "err_bad_port_reference",
			job:     job.New(key("devel", "badport"), task(job.NewProcess("p", "run {{thermos.ports.http}}"))),
			wantErr: job.ErrInvalid, wantPath: "task.processes[0].cmdline", wantText: "write {{thermos.ports[http]}}",
		},
	}
}

func TestGoldenErrors(t *testing.T) {
	for _, tt := range goldenErrorCases() {
		t.Run(tt.name, func(t *testing.T) {
			// The oracle has this error case.
			readGolden(t, tt.name+".error.json")
			_, err := tt.job.Build()
			assertBuildErrors(t, err, []wantErr{{tt.wantPath, tt.wantErr, tt.wantText}}) // exactly this one problem
		})
	}
}

var update = flag.Bool("update", false, "rewrite testdata/errors.golden")

// TestErrorMessages pins the full text of Build's errors for the oracle's
// error cases in testdata/errors.golden (regenerate with -update), so that a
// change to a message is a reviewed change.
func TestErrorMessages(t *testing.T) {
	var b strings.Builder
	for _, tt := range goldenErrorCases() {
		_, err := tt.job.Build()
		require.Error(t, err, tt.name)
		fmt.Fprintf(&b, "<<< %s\n%v\n>>>\n", tt.name, err)
	}
	path := filepath.Join("testdata", "errors.golden")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./job -run TestErrorMessages -update")
	assert.Equal(t, string(want), b.String())
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// TestConfigRoundTrip writes whole job objects (payload, instances and
// update_config) and reads them back with FromConfig.
func TestConfigRoundTrip(t *testing.T) {
	for _, c := range goldenCases {
		if c.cliRejects || c.name == "custom_executor" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			spec, err := c.job().Bind(c.bind).Build()
			require.NoError(t, err)
			configRoundTrip(t, spec)
		})
	}
}

// configRoundTrip writes spec as a whole job object, reads it back with
// FromConfig, checks that the result builds to the same spec, and returns
// the job read back.
func configRoundTrip(t *testing.T, spec job.Spec) job.Job {
	t.Helper()
	data, err := thermos.MarshalConfig(spec.Config())
	require.NoError(t, err)
	cfg, err := thermos.UnmarshalConfig(data)
	require.NoError(t, err)
	j, err := job.FromConfig(cfg)
	require.NoError(t, err)
	again, err := j.Build()
	require.NoError(t, err)
	assert.Equal(t, spec.Instances, again.Instances)
	assert.Equal(t, spec.Update, again.Update)
	assert.Equal(t, spec.Ports, again.Ports)
	want, err := spec.ExecutorData()
	require.NoError(t, err)
	got, err := again.ExecutorData()
	require.NoError(t, err)
	jsoncmp.Equal(t, want, got)
	return j
}

// updateJSON renders an UpdateConfig the way Pystachio serialises it.
func updateJSON(t *testing.T, u thermos.UpdateConfig) []byte {
	t.Helper()
	data, err := updatejson.Marshal(u)
	require.NoError(t, err)
	return data
}
