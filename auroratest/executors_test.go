package auroratest_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/auroratest/fetcher"
	"github.com/nixrealis/nixrealis/internal/composeexample"
)

// The sample configuration of the custom-executors guide (gorealis
// docs/getting-started.md), verbatim.
const guideConfig = "testdata/custom_executor_config.json"

func TestLoadExecutorConfig(t *testing.T) {
	cfgs, err := auroratest.LoadExecutorConfig(guideConfig)
	require.NoError(t, err)
	assert.Equal(t, []auroratest.ExecutorConfig{{
		Name: "docker-compose-executor",
		Command: auroratest.ExecutorCommand{
			Value: "java -jar docker-compose-executor_0.1.0.jar",
			Shell: true,
			URIs: []fetcher.URI{{
				Value:      "https://github.com/mesos/docker-compose-executor/releases/download/0.1.0/docker-compose-executor_0.1.0.jar",
				Executable: true,
			}},
		},
		TaskPrefix: "compose-",
	}}, cfgs)

	docs, err := auroratest.LoadExecutorConfig("testdata/aurora_docs_executor_config.json")
	require.NoError(t, err, "the sample of Aurora's own custom-executors page loads too")
	require.Len(t, docs, 1)
	d := docs[0]
	assert.Equal(t, "myExecutor", d.Name)
	assert.False(t, d.Command.Shell)
	assert.Equal(t, []string{"localhost:2181", "-verbose", "-config myConfiguration.config"}, d.Command.Arguments)
	assert.Equal(t, []fetcher.URI{{Value: "/dist/myExecutor.a", Executable: true, Cache: true}, {Value: "/home/user/myConfiguration.config"}}, d.Command.URIs)
	assert.Equal(t, 1.0, d.CPUs())
	assert.Equal(t, 512.0, d.RAMMB())
	assert.Equal(t, []auroratest.VolumeMount{{HostPath: "/path/to/host/directory", ContainerPath: "/path/on/container", Mode: "RO"}, {HostPath: "/host", ContainerPath: "/container", Mode: "RW"}}, d.VolumeMounts)
	assert.Equal(t, "my-executor-", d.TaskPrefix)

	_, err = auroratest.LoadExecutorConfig("testdata/missing.json")
	assert.ErrorIs(t, err, auroratest.ErrExecutorConfig)
}

func TestParseExecutorConfigErrors(t *testing.T) {
	const cmd = `"command": {"value": "x"}, "resources": []`
	tests := []struct{ name, json, want string }{
		{"not a list", `{"executor": {}}`, "cannot unmarshal object"},
		{"no executor", `[{"task_prefix": "p-"}]`, "[0].executor: required"},
		{"no name", `[{"executor": {` + cmd + `}, "task_prefix": "p-"}]`, "[0].executor.name: required"},
		{"no command", `[{"executor": {"name": "x", "resources": []}, "task_prefix": "p-"}]`, "[0].executor.command.value: required"},
		{"no resources", `[{"executor": {"name": "x", "command": {"value": "x"}}, "task_prefix": "p-"}]`, "[0].executor.resources: required"},
		{"no task prefix", `[{"executor": {"name": "x", ` + cmd + `}}]`, "[0].task_prefix: required"},
		{"duplicate", `[{"executor": {"name": "x", ` + cmd + `}, "task_prefix": "a-"}, {"executor": {"name": "x", ` + cmd + `}, "task_prefix": "b-"}]`, `[1].executor.name: "x" is also the name of entry [0]`},
		{"Thermos' name", `[{"executor": {"name": "AuroraExecutor", ` + cmd + `}, "task_prefix": "a-"}]`, "Thermos' name"},
		{"unknown field", `[{"executor": {"name": "x", ` + cmd + `}, "task_prefix": "a-", "prefix": 1}]`, `unknown field "prefix"`},
		{"bad boolean", `[{"executor": {"name": "x", "command": {"value": "x", "shell": "yes"}, "resources": []}, "task_prefix": "a-"}]`, `"yes" is not a boolean`},
		{"bad resource", `[{"executor": {"name": "x", "command": {"value": "x"}, "resources": [{"name": "disk", "type": "SCALAR", "scalar": {"value": 1}}]}, "task_prefix": "a-"}]`, `[0].executor.resources[0].name: "disk": give cpus or mem`},
		{"not scalar", `[{"executor": {"name": "x", "command": {"value": "x"}, "resources": [{"name": "cpus", "type": "RANGES"}]}, "task_prefix": "a-"}]`, "should always be SCALAR"},
		{"URI without value", `[{"executor": {"name": "x", "command": {"value": "x", "uris": [{"cache": true}]}, "resources": []}, "task_prefix": "a-"}]`, "[0].executor.command.uris[0].value: required"},
		{"bad mount", `[{"executor": {"name": "x", ` + cmd + `}, "task_prefix": "a-", "volume_mounts": [{"mode": "rw"}]}]`, `volume_mounts[0].mode: "rw"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := auroratest.ParseExecutorConfig([]byte(tt.json))
			require.ErrorIs(t, err, auroratest.ErrExecutorConfig)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

// launchRecorder runs nothing and remembers what it was launched with, and
// the contexts it was given.
type launchRecorder struct {
	auroratest.NopExecutor
	mu       sync.Mutex
	launched []auroratest.LaunchedTask
	ctxs     []context.Context
}

func (e *launchRecorder) Launch(ctx context.Context, t auroratest.LaunchedTask, report func(auroratest.StatusUpdate)) {
	e.mu.Lock()
	e.launched = append(e.launched, t)
	e.ctxs = append(e.ctxs, ctx)
	e.mu.Unlock()
	e.NopExecutor.Launch(ctx, t, report)
}

func (e *launchRecorder) tasks() []auroratest.LaunchedTask {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]auroratest.LaunchedTask(nil), e.launched...)
}

func (e *launchRecorder) contexts() []context.Context {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]context.Context(nil), e.ctxs...)
}

func TestCustomExecutorScheduling(t *testing.T) {
	t.Parallel()
	cfgs, err := auroratest.LoadExecutorConfig(guideConfig)
	require.NoError(t, err)
	exec := &launchRecorder{}
	srv := unstartedFastServer(exec)
	srv.CustomExecutors = cfgs
	srv.EnableMesosFetcher = true
	srv.Start()
	defer srv.Close()
	r := client(t, srv)

	const uri = "https://github.com/mesos/docker-compose-executor/releases/download/0.1.0/sample-app.tar.gz"
	_, err = r.CreateJob(composeexample.GorealisJob(uri))
	require.NoError(t, err)
	compose := &aurora.JobKey{Role: "vagrant", Environment: "prod", Name: "docker-compose"}
	waitInstances(t, r, compose, 1, aurora.ScheduleStatus_RUNNING)
	_, err = r.CreateJob(newJob("hello", 1))
	require.NoError(t, err, "a Thermos job beside it on the same scheduler")
	waitInstances(t, r, key("hello"), 1, aurora.ScheduleStatus_RUNNING)

	byName := map[string]auroratest.LaunchedTask{}
	for _, l := range exec.tasks() {
		byName[l.Name] = l
	}
	c, th := byName["docker-compose"], byName["hello"]
	assert.Equal(t, "compose-"+c.TaskID, c.ExecutorID, "the executor id carries the task_prefix, as Aurora's MesosTaskFactory makes it")
	assert.True(t, strings.HasPrefix(c.TaskID, "vagrant-prod-docker-compose-0-"), "the task id itself is Aurora's: %s", c.TaskID)
	assert.Equal(t, cfgs[0], c.Executor)
	assert.Equal(t, "{}", c.Data)
	assert.Len(t, c.Ports, 1)
	assert.NotZero(t, c.Ports["org.apache.aurora.port.0"], "the port is allocated")
	require.Len(t, c.Config.MesosFetcherUris, 1)
	assert.Equal(t, uri, c.Config.MesosFetcherUris[0].Value)
	assert.Equal(t, "thermos-"+th.TaskID, th.ExecutorID)
	assert.Equal(t, 0.25, th.Executor.CPUs(), "Aurora's -thermos_executor_cpu default")
	assert.Equal(t, 128.0, th.Executor.RAMMB(), "Aurora's -thermos_executor_ram default")

	_, err = r.KillJob(compose)
	require.NoError(t, err)
	waitInstances(t, r, compose, 0, aurora.ACTIVE_STATES...)
	waitInstances(t, r, key("hello"), 1, aurora.ScheduleStatus_RUNNING)
}

func TestCustomExecutorRefusals(t *testing.T) {
	t.Parallel()
	cfgs, err := auroratest.LoadExecutorConfig(guideConfig)
	require.NoError(t, err)
	plain := fastServer(nil)
	defer plain.Close()
	noFetcher := unstartedFastServer(nil)
	noFetcher.CustomExecutors = cfgs
	noFetcher.Start()
	defer noFetcher.Close()

	job := composeexample.GorealisJob("http://127.0.0.1:1/sample-app.tar.gz")
	_, err = client(t, plain).CreateJob(job)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Configuration for executor 'docker-compose-executor' doesn't exist.")

	_, err = client(t, noFetcher).CreateJob(job)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Mesos Fetcher for individual jobs is disabled in this cluster.")

	_, err = client(t, noFetcher).CreateJob(newJob("thermos-fetch", 1).AddURIs(false, false, "file:///etc/hostname"))
	require.Error(t, err, "a Thermos job's URIs need the fetcher too")
	assert.Contains(t, err.Error(), "Mesos Fetcher for individual jobs is disabled in this cluster.")
}

func TestThermosExecutorOverheadSettings(t *testing.T) {
	t.Parallel()
	exec := &launchRecorder{}
	srv := auroratest.NewUnstartedServer(nil)
	srv.TimeScale = 1000
	srv.Executor = exec
	srv.ThermosExecutorCPU, srv.ThermosExecutorRAMMB = 0.5, 256
	srv.Start()
	defer srv.Close()
	r := client(t, srv)
	_, err := r.CreateJob(newJob("hello", 1))
	require.NoError(t, err)
	waitInstances(t, r, key("hello"), 1, aurora.ScheduleStatus_RUNNING)
	require.Len(t, exec.tasks(), 1)
	l := exec.tasks()[0]
	assert.Equal(t, []float64{0.5, 256}, []float64{l.Executor.CPUs(), l.Executor.RAMMB()})
}

// An agent exactly the size of the guide's compose task takes it (its
// executor has no resources of its own) but not a Thermos task of the same
// size, nor a task of an executor with resources: the executor's overhead
// is added to the task's, as Aurora's ResourceManager.bagFromTask does.
func TestExecutorOverheadInPlacement(t *testing.T) {
	t.Parallel()
	guide, err := auroratest.LoadExecutorConfig(guideConfig)
	require.NoError(t, err)
	docs, err := auroratest.LoadExecutorConfig("testdata/aurora_docs_executor_config.json")
	require.NoError(t, err)
	srv := auroratest.NewUnstartedServer(nil)
	srv.TimeScale = 1000
	srv.Agents = []auroratest.Agent{{Host: "tight", Resources: "cpus:1;mem:64;disk:100;ports:[31000-31000]"}}
	srv.CustomExecutors = append(guide, docs...)
	srv.EnableMesosFetcher = true
	srv.Start()
	defer srv.Close()
	r := client(t, srv)

	same := func(name, executor string) realis.Job {
		return realis.NewJob().Environment(env).Role(role).Name(name).
			ExecutorName(executor).ExecutorData("{}").
			CPU(1).RAM(64).Disk(100).InstanceCount(1)
	}
	_, err = r.CreateJob(same("thermos", aurora.AURORA_EXECUTOR_NAME))
	require.NoError(t, err)
	assert.Equal(t, []string{"Insufficient: CPU,Insufficient: RAM"}, waitReasons(t, r, key("thermos"), 1), "Thermos' 0.25 CPU and 128 MB come on top")
	_, err = r.CreateJob(same("mine", "myExecutor"))
	require.NoError(t, err)
	assert.Equal(t, []string{"Insufficient: CPU,Insufficient: RAM"}, waitReasons(t, r, key("mine"), 1), "myExecutor's 1 CPU and 512 MB come on top")
	_, err = r.KillJob(key("thermos"))
	require.NoError(t, err)
	_, err = r.KillJob(key("mine"))
	require.NoError(t, err)

	_, err = r.CreateJob(composeexample.GorealisJob("http://127.0.0.1:1/sample-app.tar.gz"))
	require.NoError(t, err)
	waitInstances(t, r, &aurora.JobKey{Role: "vagrant", Environment: "prod", Name: "docker-compose"}, 1, aurora.ScheduleStatus_RUNNING)
}
