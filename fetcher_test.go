package nixrealis_test

import (
	"reflect"
	"testing"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/internal/composeexample"
	"github.com/nixrealis/nixrealis/job"
)

// guideSampleApp is the sample app's URI in Aurora's custom-executors guide
// (gorealis docs/getting-started.md, "Creating a docker-compose-executor
// job").
const guideSampleApp = "https://github.com/mesos/docker-compose-executor/releases/download/0.1.0/sample-app.tar.gz"

// guideComposeJob is the guide's docker-compose job, written with package
// job.
func guideComposeJob() job.Job {
	return composeexample.Job(job.Key{Cluster: "devcluster", Role: "vagrant", Environment: "prod", Name: "docker-compose"}, guideSampleApp)
}

// TestRenderComposeJobMatchesGorealis compares, field by field, the
// TaskConfig nixrealis renders for the guide's compose job with the one
// gorealis' builder makes. The only differences are the fields Aurora's
// own client always fills in and gorealis leaves unset, listed here.
func TestRenderComposeJobMatchesGorealis(t *testing.T) {
	spec, err := guideComposeJob().Build()
	require.NoError(t, err)
	ours, err := nixrealis.RenderJob(spec, "vagrant")
	require.NoError(t, err)
	theirs := composeexample.GorealisJob(guideSampleApp)
	got, want := ours.TaskConfig(), theirs.TaskConfig()

	// What Aurora's client always sends and gorealis' builder leaves to
	// the scheduler's defaults; every other field must be equal.
	differ := map[string]func(){
		"MaxTaskFailures": func() { assert.Equal(t, int32(1), got.MaxTaskFailures, "Aurora's default max_task_failures") },
		"Owner":           func() { assert.Equal(t, &aurora.Identity{User: "vagrant"}, got.Owner) },
		"Production":      func() { assert.Equal(t, new(false), got.Production) },
		"Constraints":     func() { assert.Empty(t, got.Constraints) },
		"TaskLinks":       func() { assert.Empty(t, got.TaskLinks) },
	}
	gv, wv := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	for i := range gv.NumField() {
		name := gv.Type().Field(i).Name
		if check, ok := differ[name]; ok {
			check()
			continue
		}
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		if name == "Resources" {
			assert.ElementsMatch(t, w, g, "TaskConfig.Resources (a set)")
			continue
		}
		assert.Equal(t, w, g, "TaskConfig.%s", name)
	}
	assert.Equal(t, theirs.GetInstanceCount(), ours.GetInstanceCount(), "instanceCount")
	assert.Equal(t, theirs.JobKey(), ours.JobKey(), "JobConfiguration.key")
}

func TestRenderURIErrors(t *testing.T) {
	spec, err := guideComposeJob().Build()
	require.NoError(t, err)
	spec.URIs = append(spec.URIs, job.URI{Value: "file:///x", Executable: true, OutputFile: "y"}, job.URI{})
	_, err = nixrealis.RenderJob(spec, "vagrant")
	require.ErrorIs(t, err, nixrealis.ErrRender)
	for _, field := range []string{"uris[1].executable", "uris[1].output_file", "uris[2].value"} {
		assert.Contains(t, err.Error(), field+": ")
	}
}

func TestInspectComposeJob(t *testing.T) {
	spec, err := guideComposeJob().Build()
	require.NoError(t, err)
	text := nixrealis.FormatInspect(spec)
	for _, want := range []string{
		"name:       'docker-compose'",
		"resources:  cpu 1, ram 64 MiB, disk 100 MiB",
		"ports:      org.apache.aurora.port.0",
		"executor:   'docker-compose-executor'",
		"data:       '{}'",
		"'fileName': 'sample-app/docker-compose.yml'",
		"'https://github.com/mesos/docker-compose-executor/releases/download/0.1.0/sample-app.tar.gz' (extract true, cache true)",
	} {
		assert.Contains(t, text, want)
	}
}
