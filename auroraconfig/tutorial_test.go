package auroraconfig_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroraconfig"
	"github.com/nixrealis/nixrealis/internal/jsoncmp"
	"github.com/nixrealis/nixrealis/job"
)

// TestTutorialExample loads the tutorial's typical configuration file
// (class Profile(Struct), a job template, three jobs bound to PRODUCTION
// or STAGING) once and expects its three jobs, each equal to the golden
// payload Aurora's client made for it, with the bound profile's values.
func TestTutorialExample(t *testing.T) {
	for _, variant := range []string{"tutorial_example", "tutorial_example_with_main"} {
		t.Run(variant, func(t *testing.T) {
			l := auroraconfig.Loader{LookupEnv: oracleEnv}
			cfg, err := l.Load(filepath.Join("testdata", "golden", variant+"_prod_cluster1.aurora"))
			require.NoError(t, err)
			keys := []job.Key{
				{Cluster: "cluster1", Role: "myteam", Environment: "prod", Name: "application"},
				{Cluster: "cluster2", Role: "myteam", Environment: "prod", Name: "application"},
				{Cluster: "cluster1", Role: "myteam", Environment: "staging", Name: "application"},
			}
			assert.Equal(t, keys, cfg.Keys())
			for i, c := range []string{"prod_cluster1", "prod_cluster2", "staging_cluster1"} {
				golden := filepath.Join("testdata", "golden", variant+"_"+c+".payload.json")
				if _, err := os.Stat(golden); err != nil {
					continue // the with_main variant has no prod_cluster2 case
				}
				spec, err := cfg.Build(keys[i])
				require.NoError(t, err)
				want, err := os.ReadFile(golden)
				require.NoError(t, err)
				got, err := spec.ExecutorData()
				require.NoError(t, err)
				jsoncmp.Equal(t, want, got)
			}
			if variant == "tutorial_example_with_main" {
				// The bound profiles' values, {{parent_environment}} resolved
				// within the Struct.
				prod, err := cfg.Build(keys[0])
				require.NoError(t, err)
				staging, err := cfg.Build(keys[2])
				require.NoError(t, err)
				assert.Contains(t, prod.Payload.Task.Processes[1].Cmdline, "-upstreamService /foocorp/service/bird/prod/bird")
				assert.Contains(t, staging.Payload.Task.Processes[1].Cmdline, "-Xloggc:gc.log -jar application.jar -upstreamService /foocorp/service/bird/staging/bird")
				assert.Equal(t, 20, prod.Instances)
				assert.Equal(t, 2, staging.Instances)
			}
		})
	}
}

// TestObjectsAreValues checks Pystachio's value semantics: calling an
// object or binding it derives a copy and leaves the original alone.
func TestObjectsAreValues(t *testing.T) {
	src := `
base = Process(name = 'base', cmdline = 'echo {{msg}}')
a = base(name = 'a')
b = base(name = 'b').bind(msg = 'from b')
t = Task(processes = [base.bind(msg = 'base'), a.bind(msg = 'a'), b], resources = Resources(cpu = 1, ram = MB, disk = MB))
small = t(name = 'small')
jobs = [Job(cluster = 'c', role = 'r', environment = 'devel', name = 'x', task = t),
        Job(cluster = 'c', role = 'r', environment = 'devel', name = 'y', task = small)]
`
	var l auroraconfig.Loader
	cfg, err := l.LoadSource("values.aurora", []byte(src))
	require.NoError(t, err)
	x, err := cfg.Build(job.Key{Cluster: "c", Role: "r", Environment: "devel", Name: "x"})
	require.NoError(t, err)
	var names, cmds []string
	for _, p := range x.Payload.Task.Processes {
		names = append(names, p.Name)
		cmds = append(cmds, p.Cmdline)
	}
	assert.Equal(t, []string{"base", "a", "b"}, names)
	assert.Equal(t, []string{"echo base", "echo a", "echo from b"}, cmds)
	assert.Equal(t, "base", x.Payload.Task.Name, "the original task keeps its default name")
	y, err := cfg.Build(job.Key{Cluster: "c", Role: "r", Environment: "devel", Name: "y"})
	require.NoError(t, err)
	assert.Equal(t, "small", y.Payload.Task.Name)
}
