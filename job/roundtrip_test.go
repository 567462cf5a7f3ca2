package job_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/thermos"
)

// kitchenSink uses every option the golden cases leave out.
func kitchenSink() job.Job {
	img := job.AppcImage("app", "sha512-abc")
	p := job.NewProcess("main", "run --port={{thermos.ports[admin]}}").
		WithResources(job.NewResources(0.5, 32*job.MiB, 32*job.MiB).WithGPU(1)).
		WithLogger(job.Logger{Mode: job.LogRotate, Rotate: &job.RotatePolicy{LogSize: 5 * job.MiB, Backups: 2}})
	u := job.DefaultUpdate()
	u.Strategy = job.BatchStrategy(3, true)
	u.WaitForBatchCompletion = true
	return job.New(key("devel", "sink"),
		job.NewTask("sink", p).WithUser("svc").WithResources(job.NewResources(1, job.GiB, job.GiB))).
		WithInstances(5).
		WithUpdate(u).
		WithContainer(job.MesosContainer(&img)).
		WithSLAPolicy(job.CoordinatorSLA("http://coord/{{name}}", "")).
		WithPartitionPolicy(job.DefaultPartitionPolicy()).
		WithTaskLink("ui", "http://ui/{{role}}").
		WithAnnounce(job.Announcer{PrimaryPort: "http", Portmap: map[string]string{"http": "web", "web": "admin"}}).
		WithHealthCheck(job.HealthCheck{Checker: job.ShellChecker("true"), Interval: 1500 * time.Millisecond, MinConsecutiveSuccesses: 1})
}

func TestKitchenSinkRoundTrip(t *testing.T) {
	spec, err := kitchenSink().Build()
	require.NoError(t, err)
	pl := spec.Payload
	assert.Equal(t, "http://coord/sink", pl.SLAPolicy.Coordinator.CoordinatorURL)
	assert.Equal(t, "drain", pl.SLAPolicy.Coordinator.StatusKey)
	assert.Equal(t, "http://ui/www-data", pl.TaskLinks["ui"])
	assert.Equal(t, 1.5, pl.HealthCheckConfig.IntervalSecs)
	assert.Equal(t, []string{"admin"}, spec.Ports, "aliases are followed: http -> web -> admin")
	require.NotNil(t, spec.Update.UpdateStrategy.Batch)
	assert.Equal(t, thermos.BatchUpdateStrategy{BatchSize: 3, AutopauseAfterBatch: true}, *spec.Update.UpdateStrategy.Batch)

	j := configRoundTrip(t, spec)

	// The accessors give back what was set.
	assert.Equal(t, 5, j.Instances())
	user, ok := j.Task().User()
	assert.True(t, ok)
	assert.Equal(t, "svc", user)
	pr, ok := j.Task().Processes()[0].Resources()
	assert.True(t, ok)
	assert.Equal(t, 1, pr.GPU)
}

func TestPorts(t *testing.T) {
	tests := []struct {
		name     string
		cmd      string
		announce *job.Announcer
		want     []string
	}{
		{name: "referenced only", cmd: "a {{thermos.ports[x]}} {{thermos.ports[y]}} {{thermos.ports[x]}}", want: []string{"x", "y"}},
		{name: "none", cmd: "true", want: []string{}},
		{name: "default announcer requests http", cmd: "true", announce: &job.Announcer{}, want: []string{"http"}},
		{name: "reference through an alias", cmd: "{{thermos.ports[health]}}",
			announce: &job.Announcer{PrimaryPort: "admin", Portmap: map[string]string{"health": "admin"}}, want: []string{"admin"}},
		{name: "static port not requested", cmd: "{{thermos.ports[web]}} {{thermos.ports[x]}}",
			announce: &job.Announcer{PrimaryPort: "x", Portmap: map[string]string{"web": "8080", "aurora": "x"}}, want: []string{"x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := okJob(okTask(job.NewProcess("p", tt.cmd))).WithDedicated("www-data/j")
			if tt.announce != nil {
				j = j.WithAnnounce(*tt.announce)
			}
			spec, err := j.Build()
			require.NoError(t, err)
			assert.Equal(t, tt.want, spec.Ports)
		})
	}
}

// TestAccessors reads a golden payload back and checks that the accessors
// report what it holds.
func TestAccessors(t *testing.T) {
	p, err := thermos.Unmarshal(readGolden(t, "constraints_metadata_tier.payload.json"))
	require.NoError(t, err)
	j, err := job.FromThermos(p)
	require.NoError(t, err)
	assert.Equal(t, "devcluster/www-data/prod/critical", j.Key().String())
	assert.True(t, j.IsService())
	assert.Equal(t, "", j.Cron())
	assert.Equal(t, job.KillExisting, j.CronCollisionPolicy())
	assert.Equal(t, "oncall@example.com", j.Contact())
	assert.Equal(t, "preferred", j.Tier())
	assert.True(t, j.Production())
	assert.Equal(t, 10, j.Priority())
	assert.Equal(t, -1, j.MaxTaskFailures())
	assert.True(t, j.EnableHooks())
	assert.Equal(t, map[string]string{"host": "limit:1", "rack": "!rack-1,rack-2", "zone": "us-east-1a,us-east-1b"}, j.Constraints())
	assert.ElementsMatch(t, []job.Metadata{{Key: "team", Value: "infra"}, {Key: "cost_center", Value: "42"}}, j.Metadata())
	assert.Equal(t, job.ExecutorConfig{Name: "AuroraExecutor"}, j.Executor())
	assert.Equal(t, job.DefaultHealthCheck(), j.HealthCheck())
	assert.Equal(t, job.DefaultLifecycle(), j.Lifecycle())
	assert.Equal(t, job.DefaultUpdate(), j.Update())
	_, announced := j.Announce()
	assert.False(t, announced)
	_, contained := j.Container()
	assert.False(t, contained)

	proc := j.Task().Processes()[0]
	assert.Equal(t, "srv", proc.Name())
	assert.Equal(t, "./srv", proc.Cmdline())
	assert.False(t, proc.Daemon() || proc.Ephemeral() || proc.Final())
	assert.Equal(t, 1, proc.MaxFailures())
	assert.Equal(t, 5*time.Second, proc.MinDuration())
	_, hasLogger := proc.Logger()
	assert.False(t, hasLogger)
	task := j.Task()
	assert.Equal(t, 1, task.MaxFailures())
	assert.Equal(t, 0, task.MaxConcurrency())
	assert.Equal(t, 30*time.Second, task.FinalizationWait())

	// Derived values change only the copy.
	moved := j.WithKey(job.Key{Cluster: "other", Role: "r2", Environment: "devel", Name: "n"}).WithRole("r3").WithCluster("c3")
	assert.Equal(t, "c3/r3/devel/n", moved.Key().String())
	assert.Equal(t, "devcluster/www-data/prod/critical", j.Key().String())
}
