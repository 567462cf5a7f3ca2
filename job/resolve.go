package job

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/nixrealis/nixrealis/internal/mapkeys"
	"github.com/nixrealis/nixrealis/thermos"
)

// Resolving: turning the job's values into the thermos payload and the
// update_config, with templates rendered in their scopes and Aurora's
// defaults in place of what is not set. Problems found on the way are
// recorded in b.errs; the checks of the rendered result are in validate.go.

// str renders one string field in sc and records its problems under path.
func (b *builder) str(path, s string, sc *scope) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	return b.strLazy(s, sc, func() string { return path })
}

// strLazy is str with the path computed only if there is a problem.
func (b *builder) strLazy(s string, sc *scope, path func() string) string {
	out, err := b.r.render(s, sc)
	if err != nil {
		b.errs.addErr(path(), err)
		return out
	}
	if !strings.Contains(out, "{{") {
		return out
	}
	var p refProblems
	scanRefs(out, &p)
	if b.inTask {
		b.refPorts = append(b.refPorts, p.ports...)
	}
	if len(p.invalid)+len(p.badPorts)+len(p.unbound) > 0 {
		err := refError(out)
		if len(p.unbound) > 0 && strings.Contains(s, "{{&") {
			err = fmt.Errorf("%w (Aurora's client interpolates more than once, so {{&x}} is not an escape: it becomes {{x}} and must then be bound)", err)
		}
		b.errs.addErr(path(), err)
	}
	return out
}

// num renders a template standing in for a numeric or boolean field. It
// returns the rendered text and false if the field must keep its value.
func (b *builder) num(path, tmpl string, sc *scope) (string, bool) {
	out, err := b.r.render(tmpl, sc)
	if err != nil {
		b.errs.addErr(path, err)
		return "", false
	}
	if strings.Contains(out, "{{") {
		b.errs.add(path, ErrTemplateInNumericField, fmt.Sprintf("%q is still a template when the job is built; Aurora's CLI type-checks the job and rejects it: bind the variables it uses to a value, or use a literal", out))
		return "", false
	}
	return strings.TrimSpace(out), true
}

func (b *builder) numInt(path string, tmpl string, sc *scope, dst *int) {
	s, ok := b.num(path, tmpl, sc)
	if !ok {
		return
	}
	n, err := strconv.Atoi(strings.TrimPrefix(s, "+"))
	if err != nil {
		b.errs.add(path, ErrInvalid, fmt.Sprintf("template %q gives %q, not an integer", tmpl, s))
		return
	}
	*dst = n
}

// The template keys each builder type accepts, from thermos' schema: the
// templated fields of its payload struct, and of its resources as
// "resources.NAME"; a job's also "instances", which is outside the payload.
var (
	resourceTemplates = prefixed("resources.", thermos.TemplatedFields(&thermos.Resources{}))
	taskTemplates     = slices.Concat(thermos.TemplatedFields(&thermos.Task{}), resourceTemplates)
	processTemplates  = slices.Concat(thermos.TemplatedFields(&thermos.Process{}), resourceTemplates)
	jobTemplates      = slices.Concat([]string{"instances"}, thermos.TemplatedFields(&thermos.Job{}))
)

func prefixed(prefix string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
}

// templated renders the templates tmpl holds for the templated fields of
// dst, a payload struct (keys prefix+name), into dst; path is dst's path.
func (b *builder) templated(path string, dst any, tmpl map[string]string, prefix string, sc *scope) {
	if len(tmpl) == 0 {
		return
	}
	for _, name := range thermos.TemplatedFields(dst) {
		tm, ok := tmpl[prefix+name]
		if !ok {
			continue
		}
		fp := name
		if path != "" {
			fp = path + "." + name
		}
		s, ok := b.num(fp, tm, sc)
		if !ok {
			continue
		}
		if err := thermos.SetField(dst, name, s); err != nil {
			b.errs.add(fp, ErrInvalid, fmt.Sprintf("template %q gives %q, %v", tm, s, err))
		}
	}
}

func unknownTemplates(b *builder, path string, tmpl map[string]string, known ...string) {
	keys := make([]string, 0, len(tmpl))
	for k := range tmpl {
		if !slices.Contains(known, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.errs.add(path+k, ErrInvalid, fmt.Sprintf("no templated field of that name: use one of %s", strings.Join(known, ", ")))
	}
}

func (b *builder) resources(path string, r *Resources, tmpl map[string]string, sc *scope) *thermos.Resources {
	out := r.payload()
	b.templated(path, &out, tmpl, "resources.", sc)
	return &out
}

// The job's values as payload structs, before templates are rendered: the
// one place where this package's types meet thermos' fields. Build starts
// from them and the template scopes (scope.go) look fields up in them.

func (r *Resources) payload() thermos.Resources {
	return thermos.Resources{CPU: r.CPU, RAM: int64(r.RAM), Disk: int64(r.Disk), GPU: int64(r.GPU)}
}

func (p *Process) payload() thermos.Process {
	return thermos.Process{Name: p.name, Cmdline: p.cmdline, MaxFailures: p.MaxFailures(), Daemon: p.daemon,
		Ephemeral: p.ephemeral, MinDuration: secs(p.MinDuration()), Final: p.final}
}

func (t *Task) payload() thermos.Task {
	out := thermos.NewTask()
	out.Name, out.User = t.name, t.user
	out.MaxFailures, out.MaxConcurrency, out.FinalizationWait = t.MaxFailures(), t.maxConcurrency, secs(t.FinalizationWait())
	return out
}

func (j *Job) payload() *thermos.Job {
	pl := thermos.NewJob()
	pl.Name, pl.Role, pl.Cluster, pl.Environment = j.key.Name, j.key.Role, j.key.Cluster, j.key.Environment
	pl.Contact, pl.Tier, pl.CronSchedule = j.contact, j.tier, j.cronSchedule
	pl.CronCollisionPolicy = string(j.CronCollisionPolicy())
	pl.Service, pl.Production, pl.Priority = j.service, j.production, j.priority
	pl.MaxTaskFailures, pl.EnableHooks = j.MaxTaskFailures(), j.enableHooks
	return pl
}

func (b *builder) buildTask(t *Task, tsc *scope) thermos.Task {
	out := t.payload()
	if t.name == "" && len(t.processes) > 0 && !strings.Contains(t.processes[0].name, "{{") {
		out.Name = t.processes[0].name // the default, {{processes[0].name}}, without templates
	} else {
		out.Name = b.str("task.name", (&taskNode{t: t}).taskName(), tsc)
	}
	unknownTemplates(b, "task.template.", t.templates, taskTemplates...)
	if len(t.templates) > 0 {
		tmp := out // a copy, so that out does not escape
		b.templated("task", &tmp, t.templates, "", tsc)
		out = tmp
	}
	if t.user != nil {
		u := b.str("task.user", *t.user, tsc)
		out.User = &u
	}
	if t.resources != nil {
		out.Resources = b.resources("task.resources", t.resources, t.templates, tsc)
	}
	out.Processes = make([]thermos.Process, len(t.processes))
	for i := range t.processes {
		out.Processes[i] = b.buildProcess(i, &t.processes[i], b.tn.procs[i].sc)
	}
	if len(t.constraints) > 0 {
		out.Constraints = make([]thermos.Constraint, len(t.constraints))
		for i, c := range t.constraints {
			names := make([]string, len(c.order))
			for k, n := range c.order {
				if strings.Contains(n, "{{") {
					n = b.str(fmt.Sprintf("task.constraints[%d].order[%d]", i, k), n, tsc)
				}
				names[k] = n
			}
			out.Constraints[i] = thermos.Constraint{Order: names}
		}
	}
	return out
}

func procPath(i int) string { return "task.processes[" + strconv.Itoa(i) + "]" }

// strAt is str for a field of process i, building the path only when the
// value holds a template.
func (b *builder) strAt(i int, field, s string, sc *scope) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	return b.strLazy(s, sc, func() string { return procPath(i) + field })
}

func (b *builder) buildProcess(i int, p *Process, sc *scope) thermos.Process {
	out := p.payload()
	out.Name = b.strAt(i, ".name", p.name, sc)
	out.Cmdline = b.strAt(i, ".cmdline", p.cmdline, sc)
	if p.templates == nil && p.resources == nil && p.logger == nil {
		return out
	}
	path := procPath(i)
	if len(p.templates) > 0 {
		unknownTemplates(b, path+".template.", p.templates, processTemplates...)
		// A copy, so that out does not escape (Field and SetField take any).
		tmp := out
		b.templated(path, &tmp, p.templates, "", sc)
		out = tmp
	}
	if p.resources != nil {
		out.Resources = b.resources(path+".resources", p.resources, p.templates, sc)
	}
	if p.logger != nil {
		l := p.logger
		tl := thermos.DefaultLogger()
		if l.Destination != "" {
			tl.Destination = b.str(path+".logger.destination", string(l.Destination), sc)
		}
		if l.Mode != "" {
			tl.Mode = b.str(path+".logger.mode", string(l.Mode), sc)
		}
		switch tl.Destination {
		case "file", "console", "both", "none":
		default:
			b.errs.add(path+".logger.destination", ErrInvalid, fmt.Sprintf("%q is not a log destination: use file, console, both or none", tl.Destination))
		}
		switch tl.Mode {
		case "standard", "rotate":
		default:
			b.errs.add(path+".logger.mode", ErrInvalid, fmt.Sprintf("%q is not a log mode: use standard or rotate", tl.Mode))
		}
		if l.Rotate != nil {
			r := l.Rotate.canonical()
			tl.Rotate = &thermos.RotatePolicy{LogSize: int64(r.LogSize), Backups: r.Backups}
			if r.LogSize < 0 {
				b.errs.add(path+".logger.rotate.log_size", ErrInvalid, "must be positive (0 means Aurora's default, 100 MiB)")
			}
			if r.Backups < 0 {
				b.errs.add(path+".logger.rotate.backups", ErrInvalid, "must not be negative")
			}
		}
		out.Logger = tl
	}
	return out
}

func (b *builder) buildJob(pl *thermos.Job, jsc, asc *scope) {
	j := b.j
	if j.key.Name == "" {
		// The default, {{task.name}}, is the task name just rendered (its
		// problems are reported there).
		pl.Name = pl.Task.Name
	} else {
		pl.Name = b.str("name", j.key.Name, jsc)
	}
	pl.Role = b.str("role", j.key.Role, jsc)
	pl.Cluster = b.str("cluster", j.key.Cluster, jsc)
	pl.Environment = b.str("environment", j.key.Environment, jsc)
	if j.contact != nil {
		c := b.str("contact", *j.contact, jsc)
		pl.Contact = &c
	}
	if j.tier != nil {
		t := b.str("tier", *j.tier, jsc)
		pl.Tier = &t
	}
	if j.cronSchedule != nil {
		c := b.str("cron_schedule", *j.cronSchedule, jsc)
		pl.CronSchedule = &c
	}
	pl.CronCollisionPolicy = b.str("cron_collision_policy", pl.CronCollisionPolicy, jsc)
	unknownTemplates(b, "template.", j.templates, jobTemplates...)
	if tm, ok := j.templates["instances"]; ok {
		b.numInt("instances", tm, jsc, &b.instances)
	}
	b.templated("", pl, j.templates, "", jsc)
	if j.constraints != nil {
		pl.Constraints = make(map[string]string, len(j.constraints))
		for _, k := range mapkeys.Sorted(j.constraints) {
			name := b.str("constraints", k, jsc)
			pl.Constraints[name] = b.str("constraints["+k+"]", j.constraints[k], jsc)
		}
	}
	if len(j.metadata) > 0 {
		pl.Metadata = make([]thermos.Metadata, len(j.metadata))
		for i, m := range j.metadata {
			p := fmt.Sprintf("metadata[%d]", i)
			pl.Metadata[i] = thermos.Metadata{Key: b.str(p+".key", m.Key, jsc), Value: b.str(p+".value", m.Value, jsc)}
		}
	}
	if j.taskLinks != nil {
		pl.TaskLinks = make(map[string]string, len(j.taskLinks))
		for _, k := range mapkeys.Sorted(j.taskLinks) {
			pl.TaskLinks[b.str("task_links", k, jsc)] = b.str("task_links["+k+"]", j.taskLinks[k], jsc)
		}
	}
	b.buildHealth(pl, jsc)
	b.buildLifecycle(pl, jsc)
	if j.announce != nil {
		a := j.announce
		ta := &thermos.Announcer{PrimaryPort: b.str("announce.primary_port", a.PrimaryPort, asc)}
		pm := (&announcerNode{a: a}).portmap()
		ta.Portmap = make(map[string]string, len(pm))
		for _, k := range mapkeys.Sorted(pm) {
			ta.Portmap[b.str("announce.portmap", k, asc)] = b.str("announce.portmap["+k+"]", pm[k], asc)
		}
		if a.ZKPath != "" {
			z := b.str("announce.zk_path", a.ZKPath, asc)
			ta.ZKPath = &z
		}
		pl.Announce = ta
	}
	ex := j.executor.canonical()
	pl.ExecutorConfig = thermos.ExecutorConfig{
		Name: b.str("executor_config.name", ex.Name, jsc),
		Data: b.str("executor_config.data", ex.Data, jsc),
	}
	if j.partitionPolicy != nil {
		pp := j.partitionPolicy.canonical()
		pl.PartitionPolicy = &thermos.PartitionPolicy{Reschedule: *pp.Reschedule, DelaySecs: secs(pp.Delay)}
	}
	if s := j.slaPolicy; s != nil {
		switch s.kind {
		case "percentage":
			pl.SLAPolicy = &thermos.SLAPolicy{Percentage: &thermos.PercentageSLAPolicy{Percentage: s.percentage, DurationSecs: secs(s.duration)}}
		case "count":
			pl.SLAPolicy = &thermos.SLAPolicy{Count: &thermos.CountSLAPolicy{Count: s.count, DurationSecs: secs(s.duration)}}
		case "coordinator":
			pl.SLAPolicy = &thermos.SLAPolicy{Coordinator: &thermos.CoordinatorSLAPolicy{
				CoordinatorURL: b.str("sla_policy.coordinator_url", s.url, jsc),
				StatusKey:      b.str("sla_policy.status_key", s.key, jsc),
			}}
		default:
			b.errs.add("sla_policy", ErrInvalid, "empty SLA policy: build it with PercentageSLA, CountSLA or CoordinatorSLA")
		}
	}
	if c := j.container; c != nil {
		pl.Container = b.buildContainer(c, jsc)
	}
}

func (b *builder) buildHealth(pl *thermos.Job, jsc *scope) {
	h := b.j.healthCheck.canonical()
	initial := *h.InitialInterval
	th := thermos.HealthCheckConfig{
		InitialIntervalSecs:     initial.Seconds(),
		IntervalSecs:            h.Interval.Seconds(),
		MaxConsecutiveFailures:  h.MaxConsecutiveFailures,
		MinConsecutiveSuccesses: h.MinConsecutiveSuccesses,
		TimeoutSecs:             h.Timeout.Seconds(),
	}
	const p = "health_check_config."
	if h.Checker.shell != nil {
		cmd := b.str(p+"health_checker.shell.shell_command", *h.Checker.shell, jsc)
		if cmd == "" {
			b.errs.add(p+"health_checker.shell.shell_command", ErrRequired, "a shell health checker needs a command")
		}
		th.HealthChecker.Shell = &thermos.ShellHealthChecker{ShellCommand: cmd}
	} else {
		hc := h.Checker.http
		th.HealthChecker.HTTP = &thermos.HTTPHealthChecker{
			Endpoint:             b.str(p+"health_checker.http.endpoint", hc.Endpoint, jsc),
			ExpectedResponse:     b.str(p+"health_checker.http.expected_response", hc.ExpectedResponse, jsc),
			ExpectedResponseCode: hc.ExpectedResponseCode,
		}
	}
	b.nonNegative(p,
		negCheck{"initial_interval_secs", initial < 0},
		negCheck{"interval_secs", h.Interval < 0},
		negCheck{"max_consecutive_failures", h.MaxConsecutiveFailures < 0},
		negCheck{"min_consecutive_successes", h.MinConsecutiveSuccesses < 0},
		negCheck{"timeout_secs", h.Timeout < 0},
	)
	pl.HealthCheckConfig = th
}

func (b *builder) buildLifecycle(pl *thermos.Job, jsc *scope) {
	l := b.j.lifecycle.canonical()
	if l.disabled {
		pl.Lifecycle = thermos.LifecycleConfig{}
		return
	}
	h := l.http
	graceful, shutdown := *h.GracefulShutdownWait, *h.ShutdownWait
	const p = "lifecycle.http."
	pl.Lifecycle = thermos.LifecycleConfig{HTTP: &thermos.HTTPLifecycleConfig{
		Port:                     b.str(p+"port", h.Port, jsc),
		GracefulShutdownEndpoint: b.str(p+"graceful_shutdown_endpoint", h.GracefulShutdownEndpoint, jsc),
		ShutdownEndpoint:         b.str(p+"shutdown_endpoint", h.ShutdownEndpoint, jsc),
		GracefulShutdownWaitSecs: secs(graceful),
		ShutdownWaitSecs:         secs(shutdown),
	}}
	if graceful < 0 {
		b.errs.add(p+"graceful_shutdown_wait_secs", ErrInvalid, "must not be negative")
	}
	if shutdown < 0 {
		b.errs.add(p+"shutdown_wait_secs", ErrInvalid, "must not be negative")
	}
}

func (b *builder) buildContainer(c *Container, jsc *scope) *thermos.Container {
	switch c.kind {
	case "docker", "legacy":
		d := &thermos.Docker{Image: b.str("container.image", c.image, jsc), Parameters: []thermos.Parameter{}}
		if d.Image == "" {
			b.errs.add("container.image", ErrRequired, "a Docker container needs an image")
		}
		for i, p := range c.params {
			path := fmt.Sprintf("container.parameters[%d]", i)
			d.Parameters = append(d.Parameters, thermos.Parameter{Name: b.str(path+".name", p.Name, jsc), Value: b.str(path+".value", p.Value, jsc)})
		}
		if c.kind == "legacy" {
			return &thermos.Container{LegacyDocker: d}
		}
		return &thermos.Container{Docker: d}
	case "mesos":
		m := &thermos.Mesos{Volumes: []thermos.Volume{}}
		if im := c.mesosIm; im != nil {
			name := b.str("container.image.name", im.name, jsc)
			if name == "" {
				b.errs.add("container.image.name", ErrRequired, "an image needs a name")
			}
			if im.appc {
				m.Image = &thermos.Image{Appc: &thermos.AppcImage{Name: name, ImageID: b.str("container.image.image_id", im.ref, jsc)}}
			} else {
				m.Image = &thermos.Image{Docker: &thermos.DockerImage{Name: name, Tag: b.str("container.image.tag", im.ref, jsc)}}
			}
		}
		for i, v := range c.volumes {
			path := fmt.Sprintf("container.volumes[%d]", i)
			tv := thermos.Volume{
				ContainerPath: b.str(path+".container_path", v.ContainerPath, jsc),
				HostPath:      b.str(path+".host_path", v.HostPath, jsc),
				Mode:          string(v.Mode),
			}
			if tv.ContainerPath == "" {
				b.errs.add(path+".container_path", ErrRequired, "a volume needs the path inside the container")
			}
			if tv.HostPath == "" {
				b.errs.add(path+".host_path", ErrRequired, "a volume needs the path on the host")
			}
			if v.Mode != ReadOnly && v.Mode != ReadWrite {
				b.errs.add(path+".mode", ErrInvalid, fmt.Sprintf("%q is not a volume mode: use job.ReadOnly (RO) or job.ReadWrite (RW)", v.Mode))
			}
			m.Volumes = append(m.Volumes, tv)
		}
		return &thermos.Container{Mesos: m}
	}
	b.errs.add("container", ErrInvalid, "empty container: build it with DockerContainer, LegacyDockerContainer or MesosContainer")
	return nil
}

func (b *builder) buildUpdate() thermos.UpdateConfig {
	u := b.j.update.canonical()
	out := thermos.UpdateConfig{
		BatchSize:              u.BatchSize,
		WatchSecs:              secs(*u.Watch),
		MaxPerShardFailures:    u.MaxPerShardFailures,
		MaxTotalFailures:       u.MaxTotalFailures,
		RollbackOnFailure:      *u.RollbackOnFailure,
		WaitForBatchCompletion: u.WaitForBatchCompletion,
		SLAAware:               u.SLAAware,
	}
	if u.PulseInterval != 0 {
		p := secs(u.PulseInterval)
		out.PulseIntervalSecs = &p
	}
	if s := u.Strategy; s != nil {
		size := 0
		if len(s.sizes) > 0 {
			size = s.sizes[0]
		}
		switch s.kind {
		case "queue":
			out.UpdateStrategy = &thermos.UpdateStrategy{Queue: &thermos.QueueUpdateStrategy{BatchSize: size}}
		case "batch":
			out.UpdateStrategy = &thermos.UpdateStrategy{Batch: &thermos.BatchUpdateStrategy{BatchSize: size, AutopauseAfterBatch: s.autopause}}
		case "variable":
			out.UpdateStrategy = &thermos.UpdateStrategy{VariableBatch: &thermos.VariableBatchUpdateStrategy{BatchSizes: slices.Clone(s.sizes), AutopauseAfterBatch: s.autopause}}
		default:
			b.errs.add("update_config.update_strategy", ErrInvalid, "empty strategy: build it with QueueStrategy, BatchStrategy or VariableBatchStrategy")
		}
	}
	return out
}
