package schematest

import (
	"time"

	"github.com/nixrealis/nixrealis/job"
)

// cronJob is the full job with a cron schedule.
const cronJob = "coordinator sla, legacy docker, variable batch, cron"

// FullJobs returns jobs that, between them, set every field of thermos' schema
// (schematest.Missing checks it) and every alternative of its choices.
func FullJobs() map[string]job.Job {
	last := job.NewProcess("c", "run c").
		WithResources(job.NewResources(0.5, 64*job.MiB, 64*job.MiB).WithGPU(1)).
		WithLogger(job.Logger{Destination: job.LogToBoth, Mode: job.LogRotate, Rotate: &job.RotatePolicy{LogSize: 200 * job.MiB, Backups: 3}})
	task := job.NewTask("t", job.NewProcess("a", "run a"), job.NewProcess("b", "run b"), last).
		WithConstraints(job.Order("a", "b")).
		WithResources(job.NewResources(2, job.GiB, 2*job.GiB)).
		WithUser("svc").WithMaxConcurrency(2)
	base := job.New(job.Key{Cluster: "devcluster", Role: "www-data", Environment: "devel", Name: "full"}, task).
		WithInstances(3).WithContact("ops@example.com").WithTier("preferred").
		WithConstraint("host", "limit:1").AddMetadata("team", "infra").WithTaskLink("logs", "http://logs/%shard%").
		WithAnnounce(job.Announcer{PrimaryPort: "http", Portmap: map[string]string{"aurora": "http", "admin": "adminport"}, ZKPath: "/aurora/x"}).
		WithPartitionPolicy(job.PartitionPolicy{Reschedule: new(true), Delay: 30 * time.Second}).
		WithExecutor("AuroraExecutor", "")
	wait := 10 * time.Second
	return map[string]job.Job{
		"percentage sla, docker, http checker, queue": base.WithService(true).
			WithSLAPolicy(job.PercentageSLA(80, time.Minute)).
			WithContainer(job.DockerContainer("busybox", job.Parameter{Name: "env", Value: "A=1"})).
			WithHealthCheck(job.HealthCheck{Checker: job.HTTPChecker("/hc", "yes", 200), MaxConsecutiveFailures: 2}).
			WithLifecycle(job.HTTPLifecycleConfig(job.HTTPLifecycle{Port: "health", GracefulShutdownWait: &wait})).
			WithUpdate(job.Update{BatchSize: 2, PulseInterval: time.Minute, Strategy: job.QueueStrategy(2)}),
		"count sla, mesos docker image, shell checker, batch": base.WithService(true).
			WithSLAPolicy(job.CountSLA(2, time.Minute)).
			WithContainer(job.MesosContainer(new(job.DockerImage("busybox", "latest")), job.Volume{ContainerPath: "/c", HostPath: "/h", Mode: job.ReadOnly})).
			WithHealthCheck(job.HealthCheck{Checker: job.ShellChecker("true")}).
			WithUpdate(job.Update{Strategy: job.BatchStrategy(2, true)}),
		cronJob: base.WithCron("0 * * * *").
			WithSLAPolicy(job.CoordinatorSLA("http://coord", "drain")).
			WithContainer(job.LegacyDockerContainer("busybox", job.Parameter{Name: "env", Value: "A=1"})).
			WithUpdate(job.Update{Strategy: job.VariableBatchStrategy(true, 1, 2)}),
		"mesos appc image": base.WithService(true).
			WithContainer(job.MesosContainer(new(job.AppcImage("app", "sha512-1")))),
	}
}

// Unchangeable reports whether the field at path of FullJobs()[name] may
// not be changed alone (the result would be invalid); the other jobs
// change it.
func Unchangeable(name, path string) bool {
	return name == cronJob && path == "service" // a service cannot be a cron job
}
