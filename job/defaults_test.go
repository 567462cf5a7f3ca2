package job_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/thermos"
)

// TestZeroValues pins what every zero value of the package builds to: an
// unset field is Aurora's default, everywhere (issue 13 part 2).
func TestZeroValues(t *testing.T) {
	proc := job.Process{}.WithName("p").WithCmdline("true")
	task := job.Task{}.WithProcesses(proc).WithResources(job.NewResources(1, 64*job.MiB, 64*job.MiB))
	zero := job.Job{}.WithKey(key("devel", "")).WithTask(task)
	logged := func(l job.Logger) job.Job {
		return zero.WithTask(task.WithProcesses(proc.WithLogger(l)))
	}
	payload := func(s job.Spec) any { return s.Payload }
	process := func(s job.Spec) any { return s.Payload.Task.Processes[0] }
	logger := func(s job.Spec) any { return s.Payload.Task.Processes[0].Logger }
	health := func(s job.Spec) any { return s.Payload.HealthCheckConfig }
	lifecycle := func(s job.Spec) any { return s.Payload.Lifecycle }
	update := func(s job.Spec) any { return s.Update }
	partition := func(s job.Spec) any { return s.Payload.PartitionPolicy }
	healthWith := func(f func(*thermos.HealthCheckConfig)) thermos.HealthCheckConfig {
		h := thermos.DefaultHealthCheckConfig()
		f(&h)
		return h
	}
	updateWith := func(f func(*thermos.UpdateConfig)) thermos.UpdateConfig {
		u := thermos.DefaultUpdateConfig()
		f(&u)
		return u
	}
	lifecycleWith := func(f func(*thermos.HTTPLifecycleConfig)) thermos.LifecycleConfig {
		l := thermos.DefaultLifecycle()
		f(l.HTTP)
		return l
	}

	tests := []struct {
		name string
		job  job.Job
		get  func(job.Spec) any
		want any
	}{
		{"Process{}", zero, process, thermos.NewProcess("p", "true")},
		{"Process{} with explicit zeros", zero.WithTask(task.WithProcesses(proc.WithMaxFailures(0).WithMinDuration(0))), process,
			thermos.Process{Name: "p", Cmdline: "true"}},
		{"Task{}", zero, func(s job.Spec) any {
			t := s.Payload.Task
			return [4]any{t.Name, t.MaxFailures, t.MaxConcurrency, t.FinalizationWait}
		}, [4]any{"p", 1, 0, 30}},
		{"Task{} with explicit zeros", zero.WithTask(task.WithMaxFailures(0).WithFinalizationWait(0)), func(s job.Spec) any {
			return [2]int{s.Payload.Task.MaxFailures, s.Payload.Task.FinalizationWait}
		}, [2]int{0, 0}},
		{"Job{}", zero, func(s job.Spec) any {
			p := s.Payload
			return [5]any{s.Instances, p.Name, p.CronCollisionPolicy, p.MaxTaskFailures, p.ExecutorConfig}
		}, [5]any{1, "p", "KILL_EXISTING", 1, thermos.ExecutorConfig{Name: thermos.AuroraExecutorName}}},
		{"Job{} health, lifecycle and update", zero, func(s job.Spec) any {
			return [3]any{s.Payload.HealthCheckConfig, s.Payload.Lifecycle, s.Update}
		}, [3]any{thermos.DefaultHealthCheckConfig(), thermos.DefaultLifecycle(), thermos.DefaultUpdateConfig()}},

		{"Update{}", zero.WithUpdate(job.Update{}), update, thermos.DefaultUpdateConfig()},
		{"Update{BatchSize: 2}", zero.WithUpdate(job.Update{BatchSize: 2}), update,
			updateWith(func(u *thermos.UpdateConfig) { u.BatchSize = 2 })},
		{"Update with Aurora's zeros", zero.WithUpdate(job.Update{Watch: new(time.Duration(0)), RollbackOnFailure: new(false)}), update,
			updateWith(func(u *thermos.UpdateConfig) { u.WatchSecs, u.RollbackOnFailure = 0, false })},

		{"HealthCheck{}", zero.WithHealthCheck(job.HealthCheck{}), health, thermos.DefaultHealthCheckConfig()},
		{"HealthCheck{Checker: ShellChecker}", zero.WithHealthCheck(job.HealthCheck{Checker: job.ShellChecker("true")}), health,
			healthWith(func(h *thermos.HealthCheckConfig) {
				h.HealthChecker = thermos.HealthCheckerConfig{Shell: &thermos.ShellHealthChecker{ShellCommand: "true"}}
			})},
		{`HTTPChecker("", "", 0)`, zero.WithHealthCheck(job.HealthCheck{Checker: job.HTTPChecker("", "", 0)}), health,
			thermos.DefaultHealthCheckConfig()},
		{`HTTPChecker("/up", "", 204)`, zero.WithHealthCheck(job.HealthCheck{Checker: job.HTTPChecker("/up", "", 204)}), health,
			healthWith(func(h *thermos.HealthCheckConfig) {
				h.HealthChecker.HTTP = &thermos.HTTPHealthChecker{Endpoint: "/up", ExpectedResponse: "ok", ExpectedResponseCode: 204}
			})},
		{"HealthCheck with no initial interval", zero.WithHealthCheck(job.HealthCheck{InitialInterval: new(time.Duration(0))}), health,
			healthWith(func(h *thermos.HealthCheckConfig) { h.InitialIntervalSecs = 0 })},

		{"Lifecycle{}", zero.WithLifecycle(job.Lifecycle{}), lifecycle, thermos.DefaultLifecycle()},
		{"HTTPLifecycle{}", zero.WithLifecycle(job.HTTPLifecycleConfig(job.HTTPLifecycle{})), lifecycle, thermos.DefaultLifecycle()},
		{"HTTPLifecycle without waits", zero.WithLifecycle(job.HTTPLifecycleConfig(job.HTTPLifecycle{
			GracefulShutdownWait: new(time.Duration(0)), ShutdownWait: new(time.Duration(0)),
		})), lifecycle, lifecycleWith(func(l *thermos.HTTPLifecycleConfig) { l.GracefulShutdownWaitSecs, l.ShutdownWaitSecs = 0, 0 })},
		{"DisableLifecycle", zero.WithLifecycle(job.DisableLifecycle()), lifecycle, thermos.LifecycleConfig{}},

		{"Logger{}", logged(job.Logger{}), logger, thermos.DefaultLogger()},
		{"RotatePolicy{}", logged(job.Logger{Mode: job.LogRotate, Rotate: &job.RotatePolicy{}}), logger,
			&thermos.Logger{Destination: "file", Mode: "rotate", Rotate: thermos.DefaultRotatePolicy()}},
		{"RotatePolicy{Backups: 10}", logged(job.Logger{Mode: job.LogRotate, Rotate: &job.RotatePolicy{Backups: 10}}), logger,
			&thermos.Logger{Destination: "file", Mode: "rotate", Rotate: &thermos.RotatePolicy{LogSize: 100 * thermos.MB, Backups: 10}}},

		{"PartitionPolicy{}", zero.WithPartitionPolicy(job.PartitionPolicy{}), partition, thermos.DefaultPartitionPolicy()},
		{"PartitionPolicy without rescheduling", zero.WithPartitionPolicy(job.PartitionPolicy{Reschedule: new(false), Delay: time.Minute}), partition,
			&thermos.PartitionPolicy{Reschedule: false, DelaySecs: 60}},

		{"Announcer{}", zero.WithAnnounce(job.Announcer{}), func(s job.Spec) any { return s.Payload.Announce }, thermos.DefaultAnnouncer()},
		{`CoordinatorSLA(url, "")`, zero.WithSLAPolicy(job.CoordinatorSLA("http://c", "")), func(s job.Spec) any { return s.Payload.SLAPolicy },
			&thermos.SLAPolicy{Coordinator: &thermos.CoordinatorSLAPolicy{CoordinatorURL: "http://c", StatusKey: "drain"}}},

		// The constructors are the zero values with what they are given.
		{"New, NewTask and NewProcess", job.New(key("devel", ""),
			job.NewTask("", job.NewProcess("p", "true")).WithResources(job.NewResources(1, 64*job.MiB, 64*job.MiB))),
			payload, mustBuild(t, zero).Payload},
		{"Default* constructors", zero.WithUpdate(job.DefaultUpdate()).WithHealthCheck(job.DefaultHealthCheck()).
			WithLifecycle(job.DefaultLifecycle()).WithPartitionPolicy(job.DefaultPartitionPolicy()).WithAnnounce(job.NewAnnouncer()),
			func(s job.Spec) any { return s }, mustBuild(t, zero.WithUpdate(job.Update{}).WithHealthCheck(job.HealthCheck{}).
				WithLifecycle(job.Lifecycle{}).WithPartitionPolicy(job.PartitionPolicy{}).WithAnnounce(job.Announcer{}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.get(mustBuild(t, tt.job)))
		})
	}
}

// TestZeroValueAccessors checks that the accessors report the defaults an
// unset field builds with.
func TestZeroValueAccessors(t *testing.T) {
	var p job.Process
	assert.Equal(t, 1, p.MaxFailures())
	assert.Equal(t, 5*time.Second, p.MinDuration())
	var task job.Task
	assert.Equal(t, 1, task.MaxFailures())
	assert.Equal(t, 30*time.Second, task.FinalizationWait())
	var j job.Job
	assert.Equal(t, 1, j.Instances())
	assert.Equal(t, job.KillExisting, j.CronCollisionPolicy())
	assert.Equal(t, 1, j.MaxTaskFailures())
	assert.Equal(t, job.ExecutorConfig{Name: "AuroraExecutor"}, j.Executor())
	assert.Equal(t, job.DefaultUpdate(), j.Update())
	assert.Equal(t, job.DefaultHealthCheck(), j.HealthCheck())
	assert.Equal(t, job.DefaultLifecycle(), j.Lifecycle())
}

// TestSizesAreUntyped checks that fractions of a unit compile and are exact,
// as in .aurora files.
func TestSizesAreUntyped(t *testing.T) {
	r := job.NewResources(1, 7.5*job.GB, 1.25*job.GB).WithGPU(0)
	assert.Equal(t, job.Bytes(8053063680), r.RAM)
	assert.Equal(t, job.Bytes(1342177280), r.Disk)
	var b job.Bytes = 2.5 * job.GB
	assert.Equal(t, job.Bytes(2684354560), b)
	assert.Equal(t, job.Bytes(512*1024), job.Bytes(0.5*job.MiB))
}

func mustBuild(t *testing.T, j job.Job) job.Spec {
	t.Helper()
	s, err := j.Build()
	require.NoError(t, err)
	return s
}
