package nixrealis

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroraconfig"
	"github.com/nixrealis/nixrealis/job"
)

// auroraGoldenDirs hold the oracle's .aurora files with their golden
// outputs: the core cases (shared with package job) and the tutorial ones.
var auroraGoldenDirs = []string{
	filepath.Join("job", "testdata", "golden"),
	filepath.Join("auroraconfig", "testdata", "golden"),
}

// TestAuroraConfigGolden loads every success case's .aurora file with
// package auroraconfig, builds it and renders it: the JobConfiguration (with
// its TaskConfig) and the JobUpdateSettings must equal what Aurora's
// client made from the same file.
func TestAuroraConfigGolden(t *testing.T) {
	env := func(k string) (string, bool) {
		if k == "USER" {
			return goldenOwner, true
		}
		return "", false
	}
	n := 0
	for _, dir := range auroraGoldenDirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.taskconfig.json"))
		require.NoError(t, err)
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".taskconfig.json")
			if name == "template_in_integer_field" {
				continue // rejected by Aurora's CLI (and by job.Build)
			}
			n++
			t.Run(name, func(t *testing.T) {
				c := readGoldenCase(t, dir, name)
				var meta struct {
					JobKey   string   `json:"jobkey"`
					Bindings []string `json:"bindings"`
					Files    *struct{ Directory, Main string }
				}
				require.NoError(t, json.Unmarshal(c.file, &meta))
				file := filepath.Join(dir, name+".aurora")
				if meta.Files != nil {
					file = filepath.Join(dir, meta.Files.Directory, meta.Files.Main)
				}
				parts := strings.Split(meta.JobKey, "/")
				require.Len(t, parts, 4)
				l := auroraconfig.Loader{LookupEnv: env}
				cfg, err := l.Load(file)
				require.NoError(t, err)
				spec, err := cfg.Build(job.Key{Cluster: parts[0], Role: parts[1], Environment: parts[2], Name: parts[3]}, meta.Bindings...)
				require.NoError(t, err)
				rj, err := RenderJob(spec, goldenOwner)
				require.NoError(t, err)
				checkGoldenJobConfig(t, c, rj.JobConfig())
				checkGoldenSettings(t, c, spec.Update)
			})
		}
	}
	assert.Equal(t, 46, n, "success cases of the oracle that Aurora's CLI accepts")
}
