package thermos_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/internal/jsoncmp"
	"github.com/nixrealis/nixrealis/internal/mapkeys"
	"github.com/nixrealis/nixrealis/thermos"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from the current output")

// goldenPayloads lists the oracle's Thermos payloads (library and CLI path)
// copied into testdata/golden, except custom_executor, whose data is the
// user's own and not a Thermos payload.
func goldenPayloads(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/golden/*.payload.json")
	require.NoError(t, err)
	files = slices.DeleteFunc(files, func(f string) bool {
		return strings.HasPrefix(filepath.Base(f), "custom_executor.")
	})
	require.GreaterOrEqual(t, len(files), 45, "golden payloads missing from testdata/golden")
	return files
}

func multisetOpts(file string) []jsoncmp.Option {
	base := filepath.Base(file)
	if strings.HasPrefix(base, "tasks_concat.") || strings.HasPrefix(base, "tasks_combine.") {
		return []jsoncmp.Option{jsoncmp.Multiset("task.processes", "task.constraints")}
	}
	return nil
}

// TestRoundTripGolden: every payload Aurora's client wrote unmarshals, and
// marshals back to a document equal to it as parsed values, number kinds
// included.
func TestRoundTripGolden(t *testing.T) {
	for _, file := range goldenPayloads(t) {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			want, err := os.ReadFile(file)
			require.NoError(t, err)
			j, err := thermos.Unmarshal(want)
			require.NoError(t, err)
			got, err := thermos.Marshal(j)
			require.NoError(t, err)
			jsoncmp.Equal(t, want, got, multisetOpts(file)...)

			again, err := thermos.Unmarshal(got)
			require.NoError(t, err)
			assert.Equal(t, j, again, "Unmarshal(Marshal(Unmarshal(golden))) differs")
		})
	}
}

// TestMarshalBytesGolden: Marshal writes the golden payloads byte for byte,
// up to key order: the golden document re-serialised with sorted keys,
// keeping every scalar token's bytes as Aurora wrote them and Python's
// separators, is exactly Marshal's output. This checks escaping (the
// escaping_unicode case), float spelling and separators.
func TestMarshalBytesGolden(t *testing.T) {
	for _, file := range goldenPayloads(t) {
		// Unmarshal keeps list order, so this holds for tasks_concat and
		// tasks_combine too, whose lists are in Python set order.
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			require.NoError(t, err)
			want := sortedPython(t, raw)
			j, err := thermos.Unmarshal(raw)
			require.NoError(t, err)
			got, err := thermos.Marshal(j)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got))
		})
	}
}

// sortedPython re-serialises a JSON document with sorted keys and Python's
// ", " / ": " separators, copying scalar tokens byte for byte.
func sortedPython(t testing.TB, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	var walk func(raw json.RawMessage)
	walk = func(raw json.RawMessage) {
		raw = bytes.TrimSpace(raw)
		switch raw[0] {
		case '{':
			var m map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(raw, &m))
			keys := mapkeys.Sorted(m)
			b.WriteByte('{')
			for i, k := range keys {
				if i > 0 {
					b.WriteString(", ")
				}
				b.Write(thermos.AppendString(nil, k))
				b.WriteString(": ")
				walk(m[k])
			}
			b.WriteByte('}')
		case '[':
			var l []json.RawMessage
			require.NoError(t, json.Unmarshal(raw, &l))
			b.WriteByte('[')
			for i, e := range l {
				if i > 0 {
					b.WriteString(", ")
				}
				walk(e)
			}
			b.WriteByte(']')
		default:
			b.Write(raw)
		}
	}
	walk(raw)
	return b.Bytes()
}

// TestEscapingUnicodeTokens checks the escaping case directly: the raw
// cmdline token Aurora wrote appears verbatim in Marshal's output.
func TestEscapingUnicodeTokens(t *testing.T) {
	raw, err := os.ReadFile("testdata/golden/escaping_unicode.payload.json")
	require.NoError(t, err)
	const token = `"printf '%s\\n' 'h\u00e9llo w\u00f6rld' \"double\" <tag> & back\\\\slash\ttab \u2028 /path"`
	require.Contains(t, string(raw), token)
	j, err := thermos.Unmarshal(raw)
	require.NoError(t, err)
	assert.Equal(t, "printf '%s\\n' 'héllo wörld' \"double\" <tag> & back\\\\slash\ttab \u2028 /path", j.Task.Processes[0].Cmdline)
	got, err := thermos.Marshal(j)
	require.NoError(t, err)
	assert.Contains(t, string(got), `"cmdline": `+token)
}

// TestCLIPayloadIsLibraryPlusTier: the CLI payloads differ from the library
// ones only by the tier back-fill, as read by Unmarshal.
func TestCLIPayloadIsLibraryPlusTier(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.cli.payload.json")
	require.NoError(t, err)
	for _, cli := range files {
		if strings.HasPrefix(filepath.Base(cli), "custom_executor.") {
			continue
		}
		lib := strings.Replace(cli, ".cli.payload.json", ".payload.json", 1)
		t.Run(filepath.Base(cli), func(t *testing.T) {
			a := mustUnmarshalFile(t, lib)
			b := mustUnmarshalFile(t, cli)
			require.NotNil(t, b.Tier, "CLI payload without tier")
			a.Tier, b.Tier = nil, nil
			a.Production, b.Production = false, false
			assert.Equal(t, a, b)
		})
	}
}

func mustUnmarshalFile(t testing.TB, file string) *thermos.Job {
	t.Helper()
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	j, err := thermos.Unmarshal(raw)
	require.NoError(t, err)
	return j
}

// TestTemplateInIntegerField: the library path's "max_failures":
// "{{mesos.instance}}" lands in Process.Templates and is written back as
// the same string.
func TestTemplateInIntegerField(t *testing.T) {
	j := mustUnmarshalFile(t, "testdata/golden/template_in_integer_field.payload.json")
	p := j.Task.Processes[0]
	assert.Equal(t, thermos.Templates{"max_failures": "{{mesos.instance}}"}, p.Templates)
	assert.Equal(t, 1, p.MaxFailures, "the Go field keeps Aurora's default")
	assert.Equal(t, 30, p.MinDuration)
	out, err := thermos.Marshal(j)
	require.NoError(t, err)
	assert.Contains(t, string(out), `"max_failures": "{{mesos.instance}}"`)
}

func TestCustomExecutorDataIsNotAPayload(t *testing.T) {
	raw, err := os.ReadFile("testdata/golden/custom_executor.payload.json")
	require.NoError(t, err)
	_, err = thermos.Unmarshal(raw)
	require.ErrorIs(t, err, thermos.ErrUnknownField)
	var fe *thermos.FieldError
	require.True(t, errors.As(err, &fe))
	assert.Contains(t, []string{"cmd", "n"}, fe.Path)
}

// TestGorealisExample reads gorealis' hand-written example payload from the
// module cache.
func TestGorealisExample(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/paypal/gorealis").Output()
	require.NoError(t, err, "locating gorealis in the module cache")
	file := filepath.Join(strings.TrimSpace(string(out)), "examples", "thermos_payload.json")
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	j, err := thermos.Unmarshal(raw)
	require.NoError(t, err)

	assert.Equal(t, "hello_world_from_gorealis", j.Name)
	assert.Equal(t, "vagrant", j.Role)
	assert.Equal(t, "devcluster", j.Cluster)
	assert.Equal(t, "prod", j.Environment)
	require.Len(t, j.Task.Processes, 1)
	assert.Equal(t, "hello", j.Task.Processes[0].Name)
	assert.Equal(t, &thermos.Resources{CPU: 1, RAM: 128 * thermos.MB, Disk: 128 * thermos.MB}, j.Task.Resources)
	assert.Equal(t, []thermos.Constraint{{Order: []string{"hello"}}}, j.Task.Constraints)
	// Fields the example leaves out get Aurora's defaults.
	assert.Equal(t, thermos.DefaultLifecycle(), j.Lifecycle)
	assert.Equal(t, thermos.DefaultHealthCheckConfig(), j.HealthCheckConfig)
	assert.Equal(t, thermos.ExecutorConfig{Name: "AuroraExecutor"}, j.ExecutorConfig)
	assert.Equal(t, []thermos.Metadata{}, j.Metadata)

	checkGoldenOutput(t, "testdata/gorealis_thermos_payload.golden.json", j)
}

// TestNixAuroraConfig reads a whole job in the shape of nix-aurora's
// config.json (lib/aurora.nix: builtins.toJSON of the attributes the user
// passed to Job, with instances and update_config, processes reduced to
// name and cmdline, cpu written as an int, nix-aurora's flat
// HealthCheckConfig and UpdateConfig's restart_threshold).
func TestNixAuroraConfig(t *testing.T) {
	raw, err := os.ReadFile("testdata/nix_aurora_config.json")
	require.NoError(t, err)
	c, err := thermos.UnmarshalConfig(raw)
	require.NoError(t, err)
	assert.Equal(t, 2, c.Instances)
	want := thermos.DefaultUpdateConfig()
	want.BatchSize = 2
	want.WatchSecs = 30
	assert.Equal(t, want, c.UpdateConfig)
	j := c.Job
	assert.True(t, j.Service)
	assert.Equal(t, "hello_world", j.Name)
	assert.Equal(t, "hello_world", j.Task.Name)
	require.Len(t, j.Task.Processes, 2)
	assert.Equal(t, thermos.NewProcess("init_sandbox", j.Task.Processes[0].Cmdline), j.Task.Processes[0])
	assert.Equal(t, thermos.NewProcess("hello_world", "exec ./hello_world"), j.Task.Processes[1])
	assert.Equal(t, &thermos.Resources{CPU: 1, RAM: thermos.MB, Disk: 8 * thermos.MB}, j.Task.Resources)
	hc := thermos.DefaultHealthCheckConfig()
	hc.InitialIntervalSecs = 30
	hc.HealthChecker.HTTP.Endpoint = "/healthz"
	hc.HealthChecker.HTTP.ExpectedResponseCode = 200
	assert.Equal(t, hc, j.HealthCheckConfig)

	// Unmarshal (a payload) refuses the job-level keys.
	_, err = thermos.Unmarshal(raw)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "UnmarshalConfig")

	checkGoldenOutput(t, "testdata/nix_aurora_config.golden.json", j)
}

// checkGoldenOutput compares Marshal(j) with a file under testdata, or
// rewrites it with -update.
func checkGoldenOutput(t *testing.T, file string, j *thermos.Job) {
	t.Helper()
	got, err := thermos.Marshal(j)
	require.NoError(t, err)
	if *update {
		require.NoError(t, os.WriteFile(file, got, 0o644))
	}
	want, err := os.ReadFile(file)
	require.NoError(t, err, "run go test ./thermos -update to create it")
	assert.Equal(t, string(want), string(got))
	again, err := thermos.Unmarshal(got)
	require.NoError(t, err)
	assert.Equal(t, j, again)
}
