package job_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/job"
)

// composeJob is the docker-compose job of Aurora's custom-executors guide
// (gorealis docs/getting-started.md).
func composeJob() job.Job {
	task := job.NewTask("docker-compose").WithResources(job.NewResources(1, 64*job.MiB, 100*job.MiB))
	return job.New(job.Key{Cluster: "devcluster", Role: "vagrant", Environment: "prod", Name: "docker-compose"}, task).
		WithExecutor("docker-compose-executor", "{}").
		AddPort(job.GorealisPort(0)).
		AddMetadata("fileName", "sample-app/docker-compose.yml").
		AddURIs(true, true, "https://github.com/mesos/docker-compose-executor/releases/download/0.1.0/sample-app.tar.gz")
}

func TestCustomExecutorJob(t *testing.T) {
	spec, err := composeJob().Build()
	require.NoError(t, err)
	assert.Equal(t, []string{"org.apache.aurora.port.0"}, spec.Ports)
	assert.Equal(t, []job.URI{{Value: "https://github.com/mesos/docker-compose-executor/releases/download/0.1.0/sample-app.tar.gz", Extract: true, Cache: true}}, spec.URIs)
	data, err := spec.ExecutorData()
	require.NoError(t, err)
	assert.Equal(t, "{}", string(data), "a custom executor's data goes verbatim")
	assert.Equal(t, "docker-compose-executor", spec.Payload.ExecutorConfig.Name)
	assert.True(t, composeJob().IsCustomExecutor())
	assert.False(t, okJob(okTask()).IsCustomExecutor())
	assert.False(t, okJob(okTask()).WithExecutor("AuroraExecutor", "").IsCustomExecutor())
}

func TestFetcherURIsAndPorts(t *testing.T) {
	thermosURI := job.URI{Value: "file:///srv/data.tgz", Extract: true}
	tests := []struct {
		name      string
		job       job.Job
		wantPorts []string
		wantURIs  []job.URI
		want      []wantErr
	}{
		{
			name:     "a Thermos job may fetch URIs too",
			job:      okJob(okTask(job.NewProcess("p", "cat data/x; echo {{thermos.ports[http]}}"))).AddURI(thermosURI),
			wantURIs: []job.URI{thermosURI}, wantPorts: []string{"http"},
		},
		{
			name:      "added ports join the referenced ones, sorted and once",
			job:       okJob(okTask(job.NewProcess("p", "echo {{thermos.ports[http]}}"))).AddPort("admin").AddPort("http"),
			wantPorts: []string{"admin", "http"},
		},
		{
			name: "a Thermos job still needs processes",
			job:  okJob(job.NewTask("t").WithResources(job.NewResources(1, job.MiB, job.MiB))),
			want: []wantErr{{"task.processes", job.ErrRequired, "at least one process"}},
		},
		{
			name: "a custom executor's job still needs resources",
			job:  okJob(job.NewTask("t")).WithExecutor("x", "{}"),
			want: []wantErr{{"task.resources", job.ErrRequired, "must specify resources"}},
		},
		{
			name: "bad URIs and ports",
			job: composeJob().
				AddURI(job.URI{}).
				AddURI(job.URI{Value: "http://h/a\nb"}).
				AddURI(job.URI{Value: "http://h/dir/"}).
				AddURI(job.URI{Value: "file:///bin/tool", Executable: true, OutputFile: "tool"}).
				AddPort("").AddPort(job.GorealisPort(0)),
			want: []wantErr{
				{"uris[1].value", job.ErrRequired, "needs a value"},
				{"uris[2].value", job.ErrInvalid, "control character"},
				{"uris[3].value", job.ErrInvalid, "ends with '/'"},
				{"uris[4].executable", job.ErrInvalid, "non-executable"},
				{"uris[4].output_file", job.ErrInvalid, "no outputFile"},
				{"ports[1]", job.ErrRequired, "needs a name"},
				{"ports[2]", job.ErrDuplicate, "also added as ports[0]"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := tt.job.Build()
			if len(tt.want) == 0 {
				require.NoError(t, err)
				assert.Equal(t, tt.wantPorts, spec.Ports)
				assert.Equal(t, tt.wantURIs, spec.URIs)
				return
			}
			assertBuildErrors(t, err, tt.want)
		})
	}
}
