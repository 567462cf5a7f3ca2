package auroraconfig

import "go.starlark.net/starlark"

// Aurora's configuration schema (aurora src/main/python/apache/thermos/
// config/schema_base.py and apache/aurora/config/schema/base.py), with
// Aurora's field names, types and defaults.

func i(n int) starlark.Value     { return starlark.MakeInt(n) }
func f(x float64) starlark.Value { return starlark.Float(x) }
func s(x string) starlark.Value  { return starlark.String(x) }
func b(x bool) starlark.Value    { return starlark.Bool(x) }
func emptyList() starlark.Value  { l := starlark.NewList(nil); l.Freeze(); return l }
func st(sc *schema) *ptype       { return sc.typ }
func obj(sc *schema) *object     { return &object{sch: sc, vals: map[string]starlark.Value{}} }
func with(o *object, k string, v starlark.Value) *object {
	o.vals[k] = v
	return o
}

// auroraSchema holds the classes of one load (objects are never shared
// between loads, so nothing global is mutable).
type auroraSchema struct {
	resources, constraint, rotatePolicy, logger, process, task        *schema
	updateConfig, queueStrategy, batchStrategy, variableStrategy      *schema
	httpHealthChecker, shellHealthChecker, healthCheckerConfig        *schema
	healthCheckConfig, httpLifecycle, lifecycle, announcer            *schema
	parameter, docker, appcImage, dockerImage, volume, mesos          *schema
	container, partitionPolicy, metadata, executorConfig              *schema
	percentageSLA, countSLA, coordinatorSLA, job, nixPackages         *schema
	loggerDestination, loggerMode, mode                               *ptype
	defaultHealthChecker, defaultLifecycle, disableLifecycle, service *object
}

func newAuroraSchema() *auroraSchema {
	a := &auroraSchema{}
	a.loggerDestination = enumOf("LoggerDestination", "file", "console", "both", "none")
	a.loggerMode = enumOf("LoggerMode", "standard", "rotate")
	a.mode = enumOf("Mode", "RO", "RW")

	a.resources = newSchema("Resources",
		req("cpu", tFloat), req("ram", tInteger), req("disk", tInteger), def("gpu", tInteger, i(0)))
	a.constraint = newSchema("Constraint", opt("order", listOf(tString)))
	a.rotatePolicy = newSchema("RotatePolicy",
		def("log_size", tInteger, i(100<<20)), def("backups", tInteger, i(5)))
	a.logger = newSchema("Logger",
		def("destination", a.loggerDestination, s("file")), def("mode", a.loggerMode, s("standard")),
		opt("rotate", st(a.rotatePolicy)))
	a.process = newSchema("Process",
		req("cmdline", tString), req("name", tString), opt("resources", st(a.resources)),
		def("max_failures", tInteger, i(1)), def("daemon", tBoolean, b(false)),
		def("ephemeral", tBoolean, b(false)), def("min_duration", tInteger, i(5)),
		def("final", tBoolean, b(false)), opt("logger", st(a.logger)),
		opt("packages", listOf(tNixPackage))) // nixrealis: never in the payload
	a.task = newSchema("Task",
		def("name", tString, s("{{processes[0].name}}")), opt("processes", listOf(st(a.process))),
		def("constraints", listOf(st(a.constraint)), emptyList()), opt("resources", st(a.resources)),
		def("max_failures", tInteger, i(1)), def("max_concurrency", tInteger, i(0)),
		def("finalization_wait", tInteger, i(30)), opt("user", tString))

	a.queueStrategy = newSchema("QueueUpdateStrategy", def("batch_size", tInteger, i(1)))
	a.batchStrategy = newSchema("BatchUpdateStrategy",
		def("batch_size", tInteger, i(1)), def("autopause_after_batch", tBoolean, b(false)))
	a.variableStrategy = newSchema("VariableBatchUpdateStrategy",
		req("batch_sizes", listOf(tInteger)), def("autopause_after_batch", tBoolean, b(false)))
	a.updateConfig = newSchema("UpdateConfig",
		def("batch_size", tInteger, i(1)), def("watch_secs", tInteger, i(45)),
		def("max_per_shard_failures", tInteger, i(0)), def("max_total_failures", tInteger, i(0)),
		def("rollback_on_failure", tBoolean, b(true)), def("wait_for_batch_completion", tBoolean, b(false)),
		opt("pulse_interval_secs", tInteger), def("sla_aware", tBoolean, b(false)),
		opt("update_strategy", choiceOf(st(a.queueStrategy), st(a.batchStrategy), st(a.variableStrategy))))

	a.httpHealthChecker = newSchema("HttpHealthChecker",
		def("endpoint", tString, s("/health")), def("expected_response", tString, s("ok")),
		def("expected_response_code", tInteger, i(0)))
	a.shellHealthChecker = newSchema("ShellHealthChecker", req("shell_command", tString))
	a.healthCheckerConfig = newSchema("HealthCheckerConfig",
		opt("http", st(a.httpHealthChecker)), opt("shell", st(a.shellHealthChecker)))
	a.defaultHealthChecker = with(obj(a.healthCheckerConfig), "http", obj(a.httpHealthChecker))
	a.healthCheckConfig = newSchema("HealthCheckConfig",
		def("health_checker", st(a.healthCheckerConfig), a.defaultHealthChecker),
		def("initial_interval_secs", tFloat, f(15)), def("interval_secs", tFloat, f(10)),
		def("max_consecutive_failures", tInteger, i(0)), def("min_consecutive_successes", tInteger, i(1)),
		def("timeout_secs", tFloat, f(1)))
	a.httpLifecycle = newSchema("HttpLifecycleConfig",
		def("port", tString, s("health")), def("graceful_shutdown_endpoint", tString, s("/quitquitquit")),
		def("shutdown_endpoint", tString, s("/abortabortabort")),
		def("graceful_shutdown_wait_secs", tInteger, i(5)), def("shutdown_wait_secs", tInteger, i(5)))
	a.lifecycle = newSchema("LifecycleConfig", opt("http", st(a.httpLifecycle)))
	a.defaultLifecycle = with(obj(a.lifecycle), "http", obj(a.httpLifecycle))
	a.disableLifecycle = obj(a.lifecycle)
	a.announcer = newSchema("Announcer",
		def("primary_port", tString, s("http")), opt("portmap", mapOf(tString, tString)),
		opt("zk_path", tString))

	a.parameter = newSchema("Parameter", req("name", tString), req("value", tString))
	a.docker = newSchema("Docker", req("image", tString), def("parameters", listOf(st(a.parameter)), emptyList()))
	a.appcImage = newSchema("AppcImage", req("name", tString), req("image_id", tString))
	a.dockerImage = newSchema("DockerImage", req("name", tString), req("tag", tString))
	a.volume = newSchema("Volume", req("container_path", tString), req("host_path", tString), req("mode", a.mode))
	a.mesos = newSchema("Mesos", opt("image", choiceOf(st(a.appcImage), st(a.dockerImage))),
		def("volumes", listOf(st(a.volume)), emptyList()))
	a.container = newSchema("Container", opt("docker", st(a.docker)))
	a.partitionPolicy = newSchema("PartitionPolicy",
		def("reschedule", tBoolean, b(true)), def("delay_secs", tInteger, i(0)))
	a.metadata = newSchema("Metadata", req("key", tString), req("value", tString))
	a.executorConfig = newSchema("ExecutorConfig",
		def("name", tString, s("AuroraExecutor")), def("data", tString, s("")))
	a.percentageSLA = newSchema("PercentageSlaPolicy", req("percentage", tFloat), req("duration_secs", tInteger))
	a.countSLA = newSchema("CountSlaPolicy", req("count", tInteger), req("duration_secs", tInteger))
	a.coordinatorSLA = newSchema("CoordinatorSlaPolicy",
		req("coordinator_url", tString), def("status_key", tString, s("drain")))

	a.job = newSchema("Job",
		def("name", tString, s("{{task.name}}")), req("role", tString), opt("contact", tString),
		req("cluster", tString), req("environment", tString), def("instances", tInteger, i(1)),
		req("task", st(a.task)), opt("announce", st(a.announcer)), opt("tier", tString),
		opt("cron_schedule", tString), def("cron_collision_policy", tString, s("KILL_EXISTING")),
		def("update_config", st(a.updateConfig), obj(a.updateConfig)),
		opt("constraints", mapOf(tString, tString)),
		def("metadata", listOf(st(a.metadata)), emptyList()),
		def("service", tBoolean, b(false)), def("max_task_failures", tInteger, i(1)),
		def("production", tBoolean, b(false)), def("priority", tInteger, i(0)),
		def("health_check_config", st(a.healthCheckConfig), obj(a.healthCheckConfig)),
		def("lifecycle", st(a.lifecycle), a.defaultLifecycle),
		opt("task_links", mapOf(tString, tString)),
		def("executor_config", st(a.executorConfig), obj(a.executorConfig)),
		def("enable_hooks", tBoolean, b(false)),
		opt("partition_policy", st(a.partitionPolicy)),
		opt("sla_policy", choiceOf(st(a.coordinatorSLA), st(a.countSLA), st(a.percentageSLA))),
		opt("container", choiceOf(st(a.container), st(a.docker), st(a.mesos))))
	a.service = with(obj(a.job), "service", b(true))
	return a
}

// predeclared returns the names every .aurora file sees.
func (a *auroraSchema) predeclared() starlark.StringDict {
	d := starlark.StringDict{
		// Pystachio
		"String": tString, "Integer": tInteger, "Float": tFloat, "Boolean": tBoolean,
		"Struct": structBase, "Empty": emptyValue,
		"Default":  starlark.NewBuiltin("Default", builtinDefault),
		"Required": starlark.NewBuiltin("Required", builtinRequired),
		"List":     starlark.NewBuiltin("List", builtinList),
		"Map":      starlark.NewBuiltin("Map", builtinMap),
		"Choice":   starlark.NewBuiltin("Choice", builtinChoice),
		"Enum":     starlark.NewBuiltin("Enum", builtinEnum),
		// units
		"BYTES": i(1), "KB": i(1 << 10), "MB": i(1 << 20), "GB": i(1 << 30), "TB": starlark.MakeInt64(1 << 40),
		// enums
		"LoggerDestination": a.loggerDestination, "LoggerMode": a.loggerMode, "Mode": a.mode,
		// objects
		"DefaultHealthChecker": a.defaultHealthChecker, "DefaultLifecycleConfig": a.defaultLifecycle,
		"DisableLifecycle": a.disableLifecycle, "Service": a.service,
		"AURORA_EXECUTOR_NAME": s("AuroraExecutor"),
		// nixrealis
		"NixPackages": starlark.NewBuiltin("NixPackages", builtinNixPackages),
	}
	for _, sc := range []*schema{a.resources, a.constraint, a.rotatePolicy, a.logger, a.process, a.task,
		a.updateConfig, a.queueStrategy, a.batchStrategy, a.variableStrategy,
		a.httpHealthChecker, a.shellHealthChecker, a.healthCheckerConfig, a.healthCheckConfig,
		a.httpLifecycle, a.lifecycle, a.announcer, a.parameter, a.docker, a.appcImage, a.dockerImage,
		a.volume, a.mesos, a.container, a.partitionPolicy, a.metadata, a.executorConfig,
		a.percentageSLA, a.countSLA, a.coordinatorSLA, a.job} {
		d[sc.name] = sc.typ
	}
	d["MesosJob"] = a.job.typ
	return d
}

// structBase is Struct, the base of user classes.
var structBase = &ptype{kind: kStruct, name: "Struct"}
