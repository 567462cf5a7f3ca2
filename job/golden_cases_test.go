package job_test

import (
	"fmt"
	"time"

	"github.com/nixrealis/nixrealis/job"
)

// goldenCase is one configuration of the oracle's golden/ directory written
// with this package's API.
type goldenCase struct {
	name string
	job  func() job.Job
	// bind holds the CLI --bind values the case's taskconfig.json lists.
	bind job.Vars
	// multiset lists payload paths whose order Aurora leaves to Python sets.
	multiset []string
	// cliRejects: Build must fail (Aurora's CLI rejects the configuration).
	cliRejects bool
}

func key(env, name string) job.Key {
	return job.Key{Cluster: "devcluster", Role: "www-data", Environment: env, Name: name}
}

var goldenCases = []goldenCase{
	{name: "hello_world", job: func() job.Job {
		hello := job.NewProcess("hello", "echo hello world && sleep 60")
		task := job.NewTask("", hello).WithResources(job.NewResources(1, 128*job.MB, 128*job.MB))
		return job.New(key("devel", "hello"), task)
	}},
	{name: "service_http_health", job: func() job.Job {
		server := job.NewProcess("server",
			"./server --http={{thermos.ports[http]}} --health={{thermos.ports[health]}} --shard={{mesos.instance}}")
		task := job.NewTask("web", server).WithResources(job.NewResources(0.5, 256*job.MB, 512*job.MB))
		return job.Service(key("prod", "web"), task).
			WithInstances(3).
			WithAnnounce(job.Announcer{PrimaryPort: "http"}).
			WithHealthCheck(job.HealthCheck{
				Checker:                 job.HTTPChecker("/healthz", "OK", 200),
				InitialInterval:         new(30 * time.Second),
				Interval:                5 * time.Second,
				MaxConsecutiveFailures:  3,
				MinConsecutiveSuccesses: 2,
				Timeout:                 2 * time.Second,
			}).
			WithLifecycle(job.HTTPLifecycleConfig(job.HTTPLifecycle{
				Port:                     "health",
				GracefulShutdownEndpoint: "/drain",
				ShutdownEndpoint:         "/die",
				GracefulShutdownWait:     new(10 * time.Second),
				ShutdownWait:             new(3 * time.Second),
			})).
			WithUpdate(job.Update{BatchSize: 2, Watch: new(30 * time.Second), MaxTotalFailures: 1, RollbackOnFailure: new(false)})
	}},
	{name: "service_shell_health", job: func() job.Job {
		worker := job.NewProcess("worker", "exec ./worker").WithLogger(job.Logger{
			Destination: job.LogToBoth, Mode: job.LogRotate,
			Rotate: &job.RotatePolicy{LogSize: 10 * job.MB, Backups: 3},
		})
		hc := job.DefaultHealthCheck()
		hc.Checker = job.ShellChecker("test -f ok")
		hc.MaxConsecutiveFailures = 2
		return job.Service(key("staging2", "worker"),
			job.NewTask("", worker).WithResources(job.NewResources(2, 1*job.GB, 2*job.GB))).
			WithHealthCheck(hc).
			WithLifecycle(job.DisableLifecycle())
	}},
	{name: "cron_job", job: func() job.Job {
		report := job.NewProcess("report", "python report.py --date=$(date +%F)")
		return job.New(key("prod", "nightly_report"),
			job.NewTask("", report).WithResources(job.NewResources(1, 512*job.MB, 1*job.GB))).
			WithContact("reports@example.com").
			WithCron("15 3 * * *").
			WithCronCollisionPolicy(job.CancelNew)
	}},
	{name: "sequential_task", job: func() job.Job {
		fetch := job.NewProcess("fetch", "curl -sO http://example.com/pkg.tgz")
		unpack := job.NewProcess("unpack", "tar xzf pkg.tgz")
		run := job.NewProcess("run", "./pkg/bin/run")
		return job.New(key("devel", "pipeline"),
			job.SequentialTask("pipeline", fetch, unpack, run).WithResources(job.NewResources(1, 64*job.MB, 256*job.MB)))
	}},
	{name: "order_constraints", job: func() job.Job {
		setup := job.NewProcess("setup", "./setup.sh")
		server := job.NewProcess("server", "./server")
		sidecar := job.NewProcess("sidecar", "./sidecar").WithEphemeral(true)
		shipper := job.NewProcess("shipper", "./ship-logs").WithDaemon(true).WithEphemeral(true)
		flush := job.NewProcess("flush", "./flush").WithFinal(true)
		notify := job.NewProcess("notify", "./notify").WithFinal(true)
		task := job.NewTask("ordered", setup, server, sidecar, shipper, flush, notify).
			WithConstraints(job.OrderProcesses(setup, server), job.Order("setup", "sidecar"), job.Order("flush", "notify")).
			WithMaxConcurrency(2).
			WithResources(job.NewResources(1, 128*job.MB, 128*job.MB))
		return job.New(key("devel", ""), task)
	}},
	{name: "tasks_concat", multiset: []string{"task.processes", "task.constraints"}, job: func() job.Job {
		install := job.NewTask("install",
			job.NewProcess("download", "wget http://example.com/a"),
			job.NewProcess("verify", "sha256sum -c a.sha256")).
			WithResources(job.NewResources(0.5, 64*job.MB, 512*job.MB)).
			WithFinalizationWait(10 * time.Second)
		serve := job.NewTask("serve",
			job.NewProcess("serve", "./a serve"),
			job.NewProcess("monitor", "./a monitor").WithEphemeral(true)).
			WithResources(job.NewResources(2, 256*job.MB, 128*job.MB)).
			WithFinalizationWait(20 * time.Second)
		return job.New(key("devel", "concat"), job.Concat(install, serve).WithName("concat"))
	}},
	{name: "tasks_combine", multiset: []string{"task.processes", "task.constraints"}, job: func() job.Job {
		a := job.NewTask("a", job.NewProcess("a1", "run a1"), job.NewProcess("a2", "run a2")).
			WithConstraints(job.Order("a1", "a2")).
			WithResources(job.NewResources(0.5, 64*job.MB, 64*job.MB).WithGPU(1)).
			WithFinalizationWait(10 * time.Second)
		b := job.NewTask("b", job.NewProcess("b1", "run b1")).
			WithResources(job.NewResources(1.25, 32*job.MB, 16*job.MB)).
			WithFinalizationWait(45 * time.Second)
		return job.New(key("devel", "combined"), job.Combine(a, b).WithName("combined"))
	}},
	{name: "process_options", job: func() job.Job {
		main := job.NewProcess("main", "./main").WithMaxFailures(3).WithMinDuration(15 * time.Second)
		retry := job.NewProcess("retry_forever", "./flaky").WithMaxFailures(0)
		daemon := job.NewProcess("daemon", "./tick").WithDaemon(true).WithEphemeral(true).
			WithMinDuration(60 * time.Second).WithLogger(job.Logger{Destination: job.LogToConsole})
		quiet := job.NewProcess("quiet", "./quiet").WithLogger(job.Logger{Destination: job.LogToNone})
		cleanup := job.NewProcess("cleanup", "./cleanup").WithFinal(true).WithLogger(job.Logger{Mode: job.LogRotate})
		task := job.NewTask("options", main, retry, daemon, quiet, cleanup).
			WithMaxFailures(2).WithMaxConcurrency(3).WithFinalizationWait(60 * time.Second).
			WithResources(job.NewResources(1, 64*job.MB, 64*job.MB))
		return job.New(key("test", "options"), task).WithMaxTaskFailures(4)
	}},
	{name: "gpu_resources", job: func() job.Job {
		task := job.NewTask("", job.NewProcess("train", "python train.py")).
			WithResources(job.Resources{CPU: 0.25, RAM: 3 * job.GB / 2, Disk: 1_000_000_000, GPU: 2})
		return job.New(key("devel", "trainer"), task)
	}},
	{name: "announce_ports", job: func() job.Job {
		server := job.NewProcess("server",
			"./server --thrift={{thermos.ports[thrift]}} --admin={{thermos.ports[admin]}} "+
				"--health={{thermos.ports[health]}} --web={{thermos.ports[web]}}")
		return job.Service(key("prod", "ports"),
			job.NewTask("", server).WithResources(job.NewResources(1, 128*job.MB, 128*job.MB))).
			WithDedicated("www-data/ports").
			WithAnnounce(job.Announcer{
				PrimaryPort: "thrift",
				Portmap:     map[string]string{"aurora": "thrift", "health": "admin", "web": "8080"},
				ZKPath:      "/aurora/custom/ports",
			})
	}},
	{name: "templating_bind", bind: job.Vars{"build": "20240101"}, job: func() job.Job {
		fetch := job.NewProcess("fetch", "fetch {{profile.package}} --cluster={{cluster}} --env={{environment}}")
		run := job.NewProcess("run",
			"./app --threads={{profile.threads}} --port={{thermos.ports[http]}} "+
				"--instance={{mesos.instance}} --host={{mesos.hostname}} --task={{thermos.task_id}} "+
				"--user={{thermos.user}} --role={{mesos.role}} --build={{build}}")
		task := job.SequentialTask("templated", fetch, run).
			WithResources(job.NewResources(0, 256*job.MB, 256*job.MB)).
			WithTemplate("resources.cpu", "{{cpus}}")
		// Profile(version='1.2.3') with its defaults, as a nested binding.
		profile := job.Vars{"version": "1.2.3", "package": "app-{{version}}.tgz", "threads": 4}
		return job.Service(key("prod", "templated"), task).Bind(job.Vars{"profile": profile, "cpus": 1.5})
	}},
	{name: "docker_container", job: func() job.Job {
		return job.New(key("devel", "docker"),
			job.NewTask("", job.NewProcess("py", "python -m SimpleHTTPServer")).WithResources(job.NewResources(1, 128*job.MB, 128*job.MB))).
			WithContainer(job.DockerContainer("python:2.7",
				job.Parameter{Name: "env", Value: "FOO=bar"}, job.Parameter{Name: "label", Value: "team=infra"}))
	}},
	{name: "docker_container_legacy", job: func() job.Job {
		return job.New(key("devel", "docker_legacy"),
			job.NewTask("", job.NewProcess("sh", "sleep 3600")).WithResources(job.NewResources(1, 32*job.MB, 32*job.MB))).
			WithContainer(job.LegacyDockerContainer("busybox"))
	}},
	{name: "mesos_container", job: func() job.Job {
		img := job.DockerImage("debian", "stretch")
		return job.New(key("devel", "unified"),
			job.NewTask("", job.NewProcess("ls", "ls /data")).WithResources(job.NewResources(1, 64*job.MB, 64*job.MB))).
			WithContainer(job.MesosContainer(&img,
				job.Volume{ContainerPath: "/data", HostPath: "/mnt/data", Mode: job.ReadOnly},
				job.Volume{ContainerPath: "/scratch", HostPath: "/tmp", Mode: job.ReadWrite}))
	}},
	{name: "constraints_metadata_tier", job: func() job.Job {
		return job.Service(key("prod", "critical"),
			job.NewTask("", job.NewProcess("srv", "./srv")).WithResources(job.NewResources(4, 8*job.GB, 16*job.GB))).
			WithInstances(4).
			WithContact("oncall@example.com").
			WithTier("preferred").
			WithProduction(true).
			WithPriority(10).
			WithMaxTaskFailures(-1).
			WithEnableHooks(true).
			WithConstraint("host", job.Limit(1)).
			WithConstraint("rack", job.NotValues("rack-1", "rack-2")).
			WithConstraint("zone", job.Values("us-east-1a", "us-east-1b")).
			AddMetadata("team", "infra").
			AddMetadata("cost_center", "42").
			WithPartitionPolicy(job.PartitionPolicy{Reschedule: new(false), Delay: 60 * time.Second}).
			WithSLAPolicy(job.PercentageSLA(75, 1800*time.Second))
	}},
	{name: "update_strategy", job: func() job.Job {
		u := job.DefaultUpdate()
		u.Watch = new(60 * time.Second)
		u.MaxPerShardFailures = 2
		u.MaxTotalFailures = 3
		u.PulseInterval = 120 * time.Second
		u.SLAAware = true
		u.Strategy = job.VariableBatchStrategy(true, 1, 2, 5)
		return job.Service(key("prod", "rolling"),
			job.NewTask("", job.NewProcess("srv", "./srv")).WithResources(job.NewResources(1, 64*job.MB, 64*job.MB))).
			WithInstances(10).
			WithUpdate(u).
			WithSLAPolicy(job.CountSLA(8, 600*time.Second))
	}},
	{name: "custom_executor", job: func() job.Job {
		return job.New(key("devel", "custom"),
			job.NewTask("", job.NewProcess("unused", "true")).WithResources(job.NewResources(1, 64*job.MB, 64*job.MB))).
			WithExecutor("CustomExecutor", `{"cmd": "run", "n": 1}`)
	}},
	{name: "multi_job_select", job: func() job.Job {
		base := job.Service(job.Key{Cluster: "devcluster", Role: "www-data", Name: "api"},
			job.NewTask("", job.NewProcess("api", "./api --env={{environment}}")).WithResources(job.NewResources(1, 64*job.MB, 64*job.MB)))
		jobs := []job.Job{
			base.WithEnvironment("devel"),
			base.WithEnvironment("prod").WithInstances(2).WithContact("api@example.com"),
			base.WithName("api_canary").WithEnvironment("prod"),
		}
		// Select by job key, as `aurora job create devcluster/www-data/prod/api` does.
		for _, j := range jobs {
			if j.Key() == key("prod", "api") {
				return j
			}
		}
		panic("no job matches")
	}},
	{name: "escaping_unicode", job: func() job.Job {
		cmd := "printf '%s\\n' 'h\u00e9llo w\u00f6rld' \"double\" <tag> & back\\\\slash\ttab \u2028 /path"
		return job.New(key("devel", "escapes"),
			job.NewTask("", job.NewProcess("esc", cmd)).WithResources(job.NewResources(1, 64*job.MB, 64*job.MB)))
	}},
	{name: "production_without_tier", job: func() job.Job {
		return job.New(key("prod", "prod_no_tier"),
			job.NewTask("", job.NewProcess("srv", "./srv")).WithResources(job.NewResources(1, 64*job.MB, 64*job.MB))).
			WithProduction(true)
	}},
	{name: "tier_overrides_production", job: func() job.Job {
		return job.New(key("prod", "revocable"),
			job.NewTask("", job.NewProcess("batch", "./batch")).WithResources(job.NewResources(1, 64*job.MB, 64*job.MB))).
			WithTier("revocable").
			WithProduction(true)
	}},
	{name: "template_in_integer_field", cliRejects: true, job: func() job.Job {
		worker := job.NewProcess("worker", "./worker --shard={{mesos.instance}}").
			WithTemplate("max_failures", "{{mesos.instance}}").
			WithTemplate("min_duration", "{{delay}}")
		return job.New(key("devel", "templated_int"),
			job.NewTask("", worker).WithResources(job.NewResources(1, 64*job.MB, 64*job.MB))).
			Bind(job.Vars{"delay": 30})
	}},
	{name: "large_500_processes", job: func() job.Job {
		return job.New(key("devel", "bulk500"), workers(500))
	}},
}

// workers returns the task of large_500_processes with n processes.
func workers(n int) job.Task {
	procs := make([]job.Process, n)
	for i := range procs {
		procs[i] = job.NewProcess(fmt.Sprintf("worker_%04d", i),
			fmt.Sprintf("echo worker %d of instance {{mesos.instance}} && sleep 1", i))
	}
	name := fmt.Sprintf("bulk%d", n)
	return job.NewTask(name, procs...).WithMaxConcurrency(32).WithResources(job.NewResources(4, 4*job.GB, 8*job.GB))
}
