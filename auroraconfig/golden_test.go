package auroraconfig_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroraconfig"
	"github.com/nixrealis/nixrealis/internal/jsoncmp"
	"github.com/nixrealis/nixrealis/job"
)

// The oracle's cases (files of Aurora's real client, see
// ../shared/oracle/README.md): the core ones are shared with package job
// (../job/testdata/golden), the tutorial_* ones are in testdata/golden.
// They are inputs, never rewritten.
var goldenDirs = []string{filepath.Join("..", "job", "testdata", "golden"), filepath.Join("testdata", "golden")}

// oracleEnv is the environment the oracle's client ran in
// (ORACLE_OWNER=oracle), injected instead of the test process's own.
func oracleEnv(key string) (string, bool) {
	if key == "USER" {
		return "oracle", true
	}
	return "", false
}

type goldenCase struct {
	name string
	dir  string // directory holding the case's files
	file string // the .aurora file to load
	meta struct {
		JobKey   string   `json:"jobkey"`
		Bindings []string `json:"bindings"`
		Derived  struct {
			Ports        []string        `json:"ports"`
			Instances    int             `json:"instances"`
			UpdateConfig json.RawMessage `json:"update_config"`
		} `json:"derived"`
		Errors struct {
			Loader *struct{ Exception, Message string } `json:"loader"`
			CLI    *struct{ Exception, Message string } `json:"cli"`
		} `json:"errors"`
		Files *struct {
			Directory, Main string
		} `json:"files"`
	}
	success bool
}

func (c goldenCase) path(suffix string) string { return filepath.Join(c.dir, c.name+suffix) }

func (c goldenCase) key(t *testing.T) job.Key {
	parts := strings.Split(c.meta.JobKey, "/")
	require.Len(t, parts, 4, "job key %q", c.meta.JobKey)
	return job.Key{Cluster: parts[0], Role: parts[1], Environment: parts[2], Name: parts[3]}
}

// goldenCases lists every case of the oracle: success cases have a
// taskconfig.json, error cases an error.json only.
func goldenCases(t *testing.T) []goldenCase {
	t.Helper()
	var cases []goldenCase
	for _, dir := range goldenDirs {
		metas, err := filepath.Glob(filepath.Join(dir, "*.json"))
		require.NoError(t, err)
		seen := map[string]bool{}
		for _, m := range metas {
			base := filepath.Base(m)
			name, ok := strings.CutSuffix(base, ".taskconfig.json")
			if !ok {
				if name, ok = strings.CutSuffix(base, ".error.json"); !ok {
					continue
				}
			}
			if seen[name] {
				continue
			}
			seen[name] = true
			c := goldenCase{name: name, dir: dir}
			// A case the CLI alone rejects has both files.
			for _, suffix := range []string{".error.json", ".taskconfig.json"} {
				raw, err := os.ReadFile(c.path(suffix))
				if err != nil {
					continue
				}
				require.NoError(t, json.Unmarshal(raw, &c.meta), c.path(suffix))
				c.success = suffix == ".taskconfig.json"
			}
			c.file = c.path(".aurora")
			if c.meta.Files != nil {
				c.file = filepath.Join(dir, c.meta.Files.Directory, c.meta.Files.Main)
			}
			cases = append(cases, c)
		}
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].name < cases[j].name })
	return cases
}

// multiset lists payload paths whose order is Python set order.
func multiset(name string) []string {
	if strings.HasSuffix(name, "tasks_concat") || strings.HasSuffix(name, "tasks_combine") {
		return []string{"task.processes", "task.constraints"}
	}
	return nil
}

func loadGolden(t *testing.T, c goldenCase) (job.Job, error) {
	t.Helper()
	l := auroraconfig.Loader{LookupEnv: oracleEnv}
	cfg, err := l.Load(c.file)
	if err != nil {
		return job.Job{}, err
	}
	return cfg.Job(c.key(t), c.meta.Bindings...)
}

// TestGolden loads every success case of the oracle and compares the
// payload, the CLI payload (tier back-fill), the instances, ports and
// update_config with the golden files, as package job's golden test does.
func TestGolden(t *testing.T) {
	n := 0
	for _, c := range goldenCases(t) {
		if !c.success {
			continue
		}
		n++
		t.Run(c.name, func(t *testing.T) {
			j, err := loadGolden(t, c)
			require.NoError(t, err)
			spec, err := j.Build()
			if c.meta.Errors.CLI != nil {
				// template_in_integer_field: Aurora's CLI rejects it, and
				// job.Build follows the CLI.
				require.ErrorIs(t, err, job.ErrTemplateInNumericField, "Aurora's CLI: %s", c.meta.Errors.CLI.Message)
				return
			}
			require.NoError(t, err)
			opts := []jsoncmp.Option{jsoncmp.Multiset(multiset(c.name)...)}
			want, err := os.ReadFile(c.path(".payload.json"))
			require.NoError(t, err)
			got, err := spec.ExecutorData()
			require.NoError(t, err)
			if c.name == "custom_executor" {
				assert.Equal(t, string(want), string(got), "custom executor data is passed verbatim")
			} else {
				jsoncmp.Equal(t, want, got, opts...)
			}
			assert.Equal(t, c.meta.Derived.Instances, spec.Instances, "instances")
			assert.Equal(t, c.meta.Derived.Ports, append([]string{}, spec.Ports...), "ports")
			jsoncmp.Equal(t, c.meta.Derived.UpdateConfig, updateJSON(t, spec), opts...)

			wantCLI, err := os.ReadFile(c.path(".cli.payload.json"))
			require.NoError(t, err)
			cli, err := spec.WithTiers(job.DefaultTiers()).ExecutorData()
			require.NoError(t, err)
			if c.name == "custom_executor" {
				assert.Equal(t, string(wantCLI), string(cli))
			} else {
				jsoncmp.Equal(t, wantCLI, cli, opts...)
			}
		})
	}
	assert.GreaterOrEqual(t, n, 47, "success cases of the oracle")
}
