package thermos

import "fmt"

// The schema: every struct of the payload described once, field by field,
// with its JSON name, kind, Aurora's default (Pystachio's Default(...)),
// whether Unmarshal requires it (Required) and whether it may hold a
// {{template}} in place of its value. Marshal, Unmarshal, the New* and
// Default* constructors, and TemplatedFields, FieldNames, Field, SetField
// and Walk (walk.go; the job package's template resolution and scopes and
// thermosexec's run-time resolver use them) all read these descriptions;
// adding a field to the payload is one line here plus the Go field in
// types.go (schema_test.go and the job and thermosexec schema tests then
// cover it). Fields are listed in the order Unmarshal reports the first
// missing required one; Marshal writes them in key order.

var jobSchema = func() *object[Job] {
	o := newObject(func(j *Job) *Templates { return &j.Templates },
		strF("name", func(j *Job) *string { return &j.Name }),
		strF("role", func(j *Job) *string { return &j.Role }, req),
		strF("cluster", func(j *Job) *string { return &j.Cluster }, req),
		nestedF("task", nested[Job](valueOf[Job, Task]{get: func(j *Job) *Task { return &j.Task }, c: taskSchema}), req),
		strF("environment", func(j *Job) *string { return &j.Environment }),
		optStrF("contact", func(j *Job) **string { return &j.Contact }),
		nestedF("announce", nested[Job](pointerTo[Job, Announcer]{get: func(j *Job) **Announcer { return &j.Announce }, c: announcerSchema})),
		optStrF("tier", func(j *Job) **string { return &j.Tier }),
		optStrF("cron_schedule", func(j *Job) **string { return &j.CronSchedule }),
		strF("cron_collision_policy", func(j *Job) *string { return &j.CronCollisionPolicy }, defStr[Job]("KILL_EXISTING")),
		strMapF("constraints", func(j *Job) *map[string]string { return &j.Constraints }),
		nestedF("metadata", nested[Job](listOf[Job, Metadata]{get: func(j *Job) *[]Metadata { return &j.Metadata }, c: metadataSchema})),
		boolF("service", func(j *Job) *bool { return &j.Service }, templated),
		intF("max_task_failures", func(j *Job) *int { return &j.MaxTaskFailures }, templated, defInt[Job](1)),
		boolF("production", func(j *Job) *bool { return &j.Production }, templated),
		intF("priority", func(j *Job) *int { return &j.Priority }, templated),
		nestedF("health_check_config", nested[Job](valueOf[Job, HealthCheckConfig]{
			get: func(j *Job) *HealthCheckConfig { return &j.HealthCheckConfig }, c: healthCheckSchema})),
		nestedF("lifecycle", nested[Job](valueOf[Job, LifecycleConfig]{
			get: func(j *Job) *LifecycleConfig { return &j.Lifecycle }, c: lifecycleSchema, def: DefaultLifecycle})),
		strMapF("task_links", func(j *Job) *map[string]string { return &j.TaskLinks }),
		nestedF("executor_config", nested[Job](valueOf[Job, ExecutorConfig]{
			get: func(j *Job) *ExecutorConfig { return &j.ExecutorConfig }, c: executorConfigSchema})),
		boolF("enable_hooks", func(j *Job) *bool { return &j.EnableHooks }, templated),
		nestedF("partition_policy", nested[Job](pointerTo[Job, PartitionPolicy]{
			get: func(j *Job) **PartitionPolicy { return &j.PartitionPolicy }, c: partitionPolicySchema})),
		nestedF("sla_policy", nested[Job](pointerTo[Job, SLAPolicy]{get: func(j *Job) **SLAPolicy { return &j.SLAPolicy }, c: slaChoice})),
		nestedF("container", nested[Job](pointerTo[Job, Container]{get: func(j *Job) **Container { return &j.Container }, c: containerChoice})),
	)
	// instances and update_config belong to a whole job (Config), not to
	// the payload.
	o.extra = func(d *decoder, j *Job, key string) bool {
		switch key {
		case "instances", "update_config":
		default:
			return false
		}
		if d.config == nil {
			d.failAt("", errNotPayload)
			return true
		}
		if key == "instances" {
			d.intField(&d.config.Instances, nil, key)
		} else {
			updateConfigSchema.decode(d, &d.config.UpdateConfig)
		}
		return true
	}
	o.finish = func(_ *decoder, j *Job, seen uint64) {
		if !o.has(seen, "name") {
			j.Name = j.Task.Name // Aurora's default, {{task.name}}
		}
	}
	return o
}()

var taskSchema = func() *object[Task] {
	o := newObject(func(t *Task) *Templates { return &t.Templates },
		strF("name", func(t *Task) *string { return &t.Name }),
		nestedF("processes", nested[Task](listOf[Task, Process]{get: func(t *Task) *[]Process { return &t.Processes }, c: processSchema, nilFirst: true}), req),
		nestedF("constraints", nested[Task](listOf[Task, Constraint]{get: func(t *Task) *[]Constraint { return &t.Constraints }, c: constraintSchema})),
		nestedF("resources", nested[Task](pointerTo[Task, Resources]{get: func(t *Task) **Resources { return &t.Resources }, c: resourcesSchema})),
		intF("max_failures", func(t *Task) *int { return &t.MaxFailures }, templated, defInt[Task](1)),
		intF("max_concurrency", func(t *Task) *int { return &t.MaxConcurrency }, templated),
		intF("finalization_wait", func(t *Task) *int { return &t.FinalizationWait }, templated, defInt[Task](30)),
		optStrF("user", func(t *Task) **string { return &t.User }),
	)
	o.finish = func(_ *decoder, t *Task, seen uint64) {
		if !o.has(seen, "name") && len(t.Processes) > 0 {
			t.Name = t.Processes[0].Name // Aurora's default, {{processes[0].name}}
		}
	}
	return o
}()

var processSchema = newObject(func(p *Process) *Templates { return &p.Templates },
	strF("name", func(p *Process) *string { return &p.Name }, req),
	strF("cmdline", func(p *Process) *string { return &p.Cmdline }, req),
	nestedF("resources", nested[Process](pointerTo[Process, Resources]{get: func(p *Process) **Resources { return &p.Resources }, c: resourcesSchema})),
	intF("max_failures", func(p *Process) *int { return &p.MaxFailures }, templated, defInt[Process](1)),
	boolF("daemon", func(p *Process) *bool { return &p.Daemon }, templated),
	boolF("ephemeral", func(p *Process) *bool { return &p.Ephemeral }, templated),
	intF("min_duration", func(p *Process) *int { return &p.MinDuration }, templated, defInt[Process](5)),
	boolF("final", func(p *Process) *bool { return &p.Final }, templated),
	nestedF("logger", nested[Process](pointerTo[Process, Logger]{get: func(p *Process) **Logger { return &p.Logger }, c: loggerSchema})),
)

var resourcesSchema = newObject(func(r *Resources) *Templates { return &r.Templates },
	floatF("cpu", func(r *Resources) *float64 { return &r.CPU }, req, templated),
	int64F("ram", func(r *Resources) *int64 { return &r.RAM }, req, templated),
	int64F("disk", func(r *Resources) *int64 { return &r.Disk }, req, templated),
	int64F("gpu", func(r *Resources) *int64 { return &r.GPU }, templated),
)

var constraintSchema = newObject[Constraint](nil,
	strListF("order", func(c *Constraint) *[]string { return &c.Order }),
)

var loggerSchema = newObject[Logger](nil,
	strF("destination", func(l *Logger) *string { return &l.Destination }, defStr[Logger]("file")),
	strF("mode", func(l *Logger) *string { return &l.Mode }, defStr[Logger]("standard")),
	nestedF("rotate", nested[Logger](pointerTo[Logger, RotatePolicy]{get: func(l *Logger) **RotatePolicy { return &l.Rotate }, c: rotatePolicySchema})),
)

var rotatePolicySchema = newObject(func(r *RotatePolicy) *Templates { return &r.Templates },
	int64F("log_size", func(r *RotatePolicy) *int64 { return &r.LogSize }, templated, defInt[RotatePolicy](100*MB)),
	intF("backups", func(r *RotatePolicy) *int { return &r.Backups }, templated, defInt[RotatePolicy](5)),
)

var healthCheckSchema = func() *object[HealthCheckConfig] {
	o := newObject(func(h *HealthCheckConfig) *Templates { return &h.Templates },
		nestedF("health_checker", nested[HealthCheckConfig](valueOf[HealthCheckConfig, HealthCheckerConfig]{
			get: func(h *HealthCheckConfig) *HealthCheckerConfig { return &h.HealthChecker }, c: healthCheckerSchema,
			def: func() HealthCheckerConfig { return HealthCheckerConfig{HTTP: DefaultHTTPHealthChecker()} },
		})),
		floatF("initial_interval_secs", func(h *HealthCheckConfig) *float64 { return &h.InitialIntervalSecs }, templated, defFloat[HealthCheckConfig](15)),
		floatF("interval_secs", func(h *HealthCheckConfig) *float64 { return &h.IntervalSecs }, templated, defFloat[HealthCheckConfig](10)),
		intF("max_consecutive_failures", func(h *HealthCheckConfig) *int { return &h.MaxConsecutiveFailures }, templated),
		intF("min_consecutive_successes", func(h *HealthCheckConfig) *int { return &h.MinConsecutiveSuccesses }, templated, defInt[HealthCheckConfig](1)),
		floatF("timeout_secs", func(h *HealthCheckConfig) *float64 { return &h.TimeoutSecs }, templated, defFloat[HealthCheckConfig](1)),
	)
	// Aurora before 0.11 (and nix-aurora's HealthCheckConfig) kept the
	// HTTP checker's fields flat in health_check_config; they map to
	// health_checker.http.
	o.extra = func(d *decoder, _ *HealthCheckConfig, key string) bool {
		if _, ok := httpHealthCheckerSchema.index[key]; !ok {
			return false
		}
		if d.legacyHTTP == nil {
			d.legacyHTTP = DefaultHTTPHealthChecker()
		}
		httpHealthCheckerSchema.decodeField(d, d.legacyHTTP, key)
		return true
	}
	o.finish = func(d *decoder, h *HealthCheckConfig, seen uint64) {
		legacy := d.legacyHTTP
		d.legacyHTTP = nil
		if legacy == nil {
			return
		}
		if o.has(seen, "health_checker") {
			d.failAt("health_checker", fmt.Errorf("given together with the legacy flat keys endpoint/expected_response/expected_response_code; move them into health_checker.http: %w", ErrInvalid))
			return
		}
		h.HealthChecker = HealthCheckerConfig{HTTP: legacy}
	}
	return o
}()

var healthCheckerSchema = newObject[HealthCheckerConfig](nil,
	nestedF("http", nested[HealthCheckerConfig](pointerTo[HealthCheckerConfig, HTTPHealthChecker]{
		get: func(h *HealthCheckerConfig) **HTTPHealthChecker { return &h.HTTP }, c: httpHealthCheckerSchema})),
	nestedF("shell", nested[HealthCheckerConfig](pointerTo[HealthCheckerConfig, ShellHealthChecker]{
		get: func(h *HealthCheckerConfig) **ShellHealthChecker { return &h.Shell }, c: shellHealthCheckerSchema})),
)

var httpHealthCheckerSchema = newObject(func(h *HTTPHealthChecker) *Templates { return &h.Templates },
	strF("endpoint", func(h *HTTPHealthChecker) *string { return &h.Endpoint }, defStr[HTTPHealthChecker]("/health")),
	strF("expected_response", func(h *HTTPHealthChecker) *string { return &h.ExpectedResponse }, defStr[HTTPHealthChecker]("ok")),
	intF("expected_response_code", func(h *HTTPHealthChecker) *int { return &h.ExpectedResponseCode }, templated),
)

var shellHealthCheckerSchema = newObject[ShellHealthChecker](nil,
	strF("shell_command", func(s *ShellHealthChecker) *string { return &s.ShellCommand }, req),
)

var lifecycleSchema = newObject[LifecycleConfig](nil,
	nestedF("http", nested[LifecycleConfig](pointerTo[LifecycleConfig, HTTPLifecycleConfig]{
		get: func(l *LifecycleConfig) **HTTPLifecycleConfig { return &l.HTTP }, c: httpLifecycleSchema})),
)

var httpLifecycleSchema = newObject(func(h *HTTPLifecycleConfig) *Templates { return &h.Templates },
	strF("port", func(h *HTTPLifecycleConfig) *string { return &h.Port }, defStr[HTTPLifecycleConfig]("health")),
	strF("graceful_shutdown_endpoint", func(h *HTTPLifecycleConfig) *string { return &h.GracefulShutdownEndpoint }, defStr[HTTPLifecycleConfig]("/quitquitquit")),
	strF("shutdown_endpoint", func(h *HTTPLifecycleConfig) *string { return &h.ShutdownEndpoint }, defStr[HTTPLifecycleConfig]("/abortabortabort")),
	intF("graceful_shutdown_wait_secs", func(h *HTTPLifecycleConfig) *int { return &h.GracefulShutdownWaitSecs }, templated, defInt[HTTPLifecycleConfig](5)),
	intF("shutdown_wait_secs", func(h *HTTPLifecycleConfig) *int { return &h.ShutdownWaitSecs }, templated, defInt[HTTPLifecycleConfig](5)),
)

var announcerSchema = func() *object[Announcer] {
	o := newObject[Announcer](nil,
		strF("primary_port", func(a *Announcer) *string { return &a.PrimaryPort }, defStr[Announcer]("http")),
		// A nil Portmap is Aurora's default, {"aurora": "{{primary_port}}"}.
		strMapF("portmap", func(a *Announcer) *map[string]string { return &a.Portmap }, encodeWith(func(_ *encoder, b []byte, a *Announcer) []byte {
			if a.Portmap != nil {
				return appendStringMap(b, a.Portmap)
			}
			b = append(b, `{"aurora": `...)
			b = appendString(b, a.PrimaryPort)
			return append(b, '}')
		})),
		optStrF("zk_path", func(a *Announcer) **string { return &a.ZKPath }),
	)
	o.extra = func(d *decoder, _ *Announcer, key string) bool {
		if key != "port_map" {
			return false
		}
		// nix-aurora's Announcer writes this name, which Aurora rejects.
		d.failAt("", fmt.Errorf("%w: Aurora's name for it is portmap", ErrUnknownField))
		return true
	}
	o.finish = func(_ *decoder, a *Announcer, _ uint64) {
		if a.Portmap == nil {
			a.Portmap = map[string]string{"aurora": a.PrimaryPort}
		}
	}
	return o
}()

var metadataSchema = newObject[Metadata](nil,
	strF("key", func(m *Metadata) *string { return &m.Key }, req),
	strF("value", func(m *Metadata) *string { return &m.Value }, req),
)

var executorConfigSchema = newObject[ExecutorConfig](nil,
	strF("name", func(e *ExecutorConfig) *string { return &e.Name }, defStr[ExecutorConfig](AuroraExecutorName)),
	strF("data", func(e *ExecutorConfig) *string { return &e.Data }),
)

var partitionPolicySchema = newObject(func(p *PartitionPolicy) *Templates { return &p.Templates },
	boolF("reschedule", func(p *PartitionPolicy) *bool { return &p.Reschedule }, templated, defBool[PartitionPolicy](true)),
	intF("delay_secs", func(p *PartitionPolicy) *int { return &p.DelaySecs }, templated),
)

var percentageSLASchema = newObject(func(p *PercentageSLAPolicy) *Templates { return &p.Templates },
	floatF("percentage", func(p *PercentageSLAPolicy) *float64 { return &p.Percentage }, req, templated),
	intF("duration_secs", func(p *PercentageSLAPolicy) *int { return &p.DurationSecs }, req, templated),
)

var countSLASchema = newObject(func(c *CountSLAPolicy) *Templates { return &c.Templates },
	intF("count", func(c *CountSLAPolicy) *int { return &c.Count }, req, templated),
	intF("duration_secs", func(c *CountSLAPolicy) *int { return &c.DurationSecs }, req, templated),
)

var coordinatorSLASchema = newObject[CoordinatorSLAPolicy](nil,
	strF("coordinator_url", func(c *CoordinatorSLAPolicy) *string { return &c.CoordinatorURL }, req),
	strF("status_key", func(c *CoordinatorSLAPolicy) *string { return &c.StatusKey }, defStr[CoordinatorSLAPolicy]("drain")),
)

// legacyDockerSchema is the deprecated Container(docker=Docker(...)) form.
var legacyDockerSchema = newObject[Container](nil,
	nestedF("docker", nested[Container](pointerTo[Container, Docker]{get: func(c *Container) **Docker { return &c.LegacyDocker }, c: dockerSchema}), req),
)

var dockerSchema = newObject[Docker](nil,
	strF("image", func(d *Docker) *string { return &d.Image }, req),
	nestedF("parameters", nested[Docker](listOf[Docker, Parameter]{get: func(d *Docker) *[]Parameter { return &d.Parameters }, c: parameterSchema})),
)

var parameterSchema = newObject[Parameter](nil,
	strF("name", func(p *Parameter) *string { return &p.Name }, req),
	strF("value", func(p *Parameter) *string { return &p.Value }, req),
)

var mesosSchema = newObject[Mesos](nil,
	nestedF("image", nested[Mesos](pointerTo[Mesos, Image]{get: func(m *Mesos) **Image { return &m.Image }, c: imageChoice})),
	nestedF("volumes", nested[Mesos](listOf[Mesos, Volume]{get: func(m *Mesos) *[]Volume { return &m.Volumes }, c: volumeSchema})),
)

var dockerImageSchema = newObject[DockerImage](nil,
	strF("name", func(i *DockerImage) *string { return &i.Name }, req),
	strF("tag", func(i *DockerImage) *string { return &i.Tag }, req),
)

var appcImageSchema = newObject[AppcImage](nil,
	strF("name", func(i *AppcImage) *string { return &i.Name }, req),
	strF("image_id", func(i *AppcImage) *string { return &i.ImageID }, req),
)

var volumeSchema = newObject[Volume](nil,
	strF("container_path", func(v *Volume) *string { return &v.ContainerPath }, req),
	strF("host_path", func(v *Volume) *string { return &v.HostPath }, req),
	strF("mode", func(v *Volume) *string { return &v.Mode }, req),
)

var updateConfigSchema = func() *object[UpdateConfig] {
	o := newObject[UpdateConfig](nil,
		intF("batch_size", func(u *UpdateConfig) *int { return &u.BatchSize }, defInt[UpdateConfig](1)),
		intF("watch_secs", func(u *UpdateConfig) *int { return &u.WatchSecs }, defInt[UpdateConfig](45)),
		intF("max_per_shard_failures", func(u *UpdateConfig) *int { return &u.MaxPerShardFailures }),
		intF("max_total_failures", func(u *UpdateConfig) *int { return &u.MaxTotalFailures }),
		boolF("rollback_on_failure", func(u *UpdateConfig) *bool { return &u.RollbackOnFailure }, defBool[UpdateConfig](true)),
		boolF("wait_for_batch_completion", func(u *UpdateConfig) *bool { return &u.WaitForBatchCompletion }),
		optIntF("pulse_interval_secs", func(u *UpdateConfig) **int { return &u.PulseIntervalSecs }),
		boolF("sla_aware", func(u *UpdateConfig) *bool { return &u.SLAAware }),
		nestedF("update_strategy", nested[UpdateConfig](pointerTo[UpdateConfig, UpdateStrategy]{
			get: func(u *UpdateConfig) **UpdateStrategy { return &u.UpdateStrategy }, c: updateStrategyChoice})),
	)
	o.extra = func(d *decoder, _ *UpdateConfig, key string) bool {
		if key != "restart_threshold" {
			return false
		}
		// Removed from Aurora long ago but still written by nix-aurora's
		// UpdateConfig; it has no effect, so it is read and dropped.
		var v int
		d.intField(&v, nil, key)
		return true
	}
	return o
}()

var queueStrategySchema = newObject[QueueUpdateStrategy](nil,
	intF("batch_size", func(q *QueueUpdateStrategy) *int { return &q.BatchSize }, defInt[QueueUpdateStrategy](1)),
)

var batchStrategySchema = newObject[BatchUpdateStrategy](nil,
	intF("batch_size", func(b *BatchUpdateStrategy) *int { return &b.BatchSize }, defInt[BatchUpdateStrategy](1)),
	boolF("autopause_after_batch", func(b *BatchUpdateStrategy) *bool { return &b.AutopauseAfterBatch }),
)

var variableBatchStrategySchema = newObject[VariableBatchUpdateStrategy](nil,
	intListF("batch_sizes", func(v *VariableBatchUpdateStrategy) *[]int { return &v.BatchSizes }, req),
	boolF("autopause_after_batch", func(v *VariableBatchUpdateStrategy) *bool { return &v.AutopauseAfterBatch }),
)
