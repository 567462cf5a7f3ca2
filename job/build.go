package job

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nixrealis/nixrealis/thermos"
)

// Spec is a built job: the Thermos payload and the Aurora-level settings
// that live outside it.
type Spec struct {
	// Payload is the executor payload (Aurora's MesosJob minus instances
	// and update_config) with every template resolved except the run-time
	// ones ({{mesos.instance}}, {{mesos.hostname}}, {{thermos.task_id}},
	// {{thermos.ports[NAME]}}).
	Payload *thermos.Job
	// Instances is the instance count (never in the payload).
	Instances int
	// Update is update_config (never in the payload).
	Update thermos.UpdateConfig
	// Ports are the named ports Aurora's client requests for each instance,
	// sorted: the names in {{thermos.ports[NAME]}} and the announce portmap,
	// after following portmap aliases, without static ports, and those
	// added with Job.AddPort.
	Ports []string
	// URIs are the resources the Mesos fetcher puts in each task's sandbox
	// (TaskConfig.mesosFetcherUris); nil when there are none.
	URIs []URI
}

// ExecutorData returns what Aurora's client puts in
// TaskConfig.executorConfig.data: the marshalled payload for the Thermos
// executor, or a custom executor's data verbatim.
func (s Spec) ExecutorData() ([]byte, error) {
	if s.Payload == nil {
		return nil, fmt.Errorf("job: spec has no payload")
	}
	if s.Payload.ExecutorConfig.Name != thermos.AuroraExecutorName {
		return []byte(s.Payload.ExecutorConfig.Data), nil
	}
	return thermos.Marshal(s.Payload)
}

// goodIdentifier reports whether s matches Aurora's GOOD_IDENTIFIER_PATTERN
// for role, environment and job name, ^[\w\-\.]+$ (ASCII \w).
func goodIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isWordByte(c) && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// goodProcessName reports whether s matches Thermos's process name pattern,
// ^[^./][^/]*$.
func goodProcessName(s string) bool {
	return s != "" && s[0] != '.' && s[0] != '/' && !strings.Contains(s, "/")
}

// builder holds the state of one Build.
type builder struct {
	j    *Job
	errs errorList
	r    renderer
	// ports referenced with {{thermos.ports[NAME]}} in the task
	refPorts []string
	// whether refPorts collects (only while rendering the task)
	inTask  bool
	payload *thermos.Job
	// the instance count, resolved
	instances int
	// The fixed scope links and struct nodes, allocated with the builder.
	stdScope, jobScope, taskScope scope
	jn                            jobNode
	tn                            taskNode
}

// Build resolves templates and defaults, validates the whole job and
// returns its Spec. The error, if any, is an errors.Join of *FieldError
// values, one per problem, each wrapping ErrRequired, ErrInvalid,
// ErrDuplicate, ErrUnbound, ErrInvalidPlan or ErrTemplateInNumericField.
// Build never panics and never modifies j.
//
// Build follows `aurora job create`: a template left in a numeric field is
// rejected, as the CLI's type check does, although Aurora's library path
// would write it into the payload as a string.
func (j Job) Build() (Spec, error) {
	b := &builder{j: &j, instances: j.Instances()}
	b.payload = thermos.NewJob()
	spec := b.build()
	if err := b.errs.err(); err != nil {
		return Spec{}, err
	}
	return spec, nil
}

func (b *builder) build() Spec {
	j := b.j
	// Scope chains, innermost last: job fields, then job bindings (later
	// calls win), then the standard bindings.
	b.stdScope = scope{root: stdRoot}
	jsc := &b.stdScope
	for i, v := range j.vars {
		checkVars(fmt.Sprintf("bind[%d]", i), v, &b.errs)
		jsc = jsc.push(varsNode{v: v})
	}
	jn := &b.jn
	jn.j = j
	b.jobScope = scope{parent: jsc, root: jn}
	jsc = &b.jobScope
	jn.sc = jsc

	t := &j.task
	tsc := jsc
	for i, v := range t.vars {
		checkVars(fmt.Sprintf("task.bind[%d]", i), v, &b.errs)
		tsc = tsc.push(varsNode{v: v})
	}
	tn := &b.tn
	tn.t = t
	b.taskScope = scope{parent: tsc, root: tn}
	tsc = &b.taskScope
	tn.sc = tsc
	jn.task = tn
	// One allocation each for all process nodes and scopes.
	n := len(t.processes)
	tn.procs = make([]processNode, n)
	pscopes := make([]scope, n)
	for i := range t.processes {
		p := &t.processes[i]
		sc := tsc
		for k, v := range p.vars {
			checkVars(fmt.Sprintf("task.processes[%d].bind[%d]", i, k), v, &b.errs)
			sc = sc.push(varsNode{v: v})
		}
		pn := &tn.procs[i]
		pn.p = p
		pscopes[i] = scope{parent: sc, root: pn}
		pn.sc = &pscopes[i]
	}
	var asc *scope
	if j.announce != nil {
		an := &announcerNode{a: j.announce}
		asc = jsc.push(an)
		an.sc = asc
		jn.ann = an
	}

	pl := b.payload
	b.inTask = true
	pl.Task = b.buildTask(t, tsc)
	b.inTask = false
	b.buildJob(pl, jsc, asc)
	b.validateJob(pl)

	spec := Spec{Payload: pl, Instances: b.instances, Update: b.buildUpdate()}
	spec.Ports = b.ports(pl)
	b.buildFetcher(&spec)
	return spec
}

// str renders one string field in sc and records its problems under path.
// negCheck names a field (relative to a path prefix) and whether its value
// is negative.
type negCheck struct {
	name string
	neg  bool
}

// nonNegative reports every negative field among checks under prefix p.
func (b *builder) nonNegative(p string, checks ...negCheck) {
	for _, c := range checks {
		if c.neg {
			b.errs.add(p+c.name, ErrInvalid, "must not be negative")
		}
	}
}

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

func (b *builder) numInt64(path string, tmpl string, sc *scope, dst *int64) {
	var n int
	ok := len(b.errs.errs)
	b.numInt(path, tmpl, sc, &n)
	if len(b.errs.errs) == ok {
		*dst = int64(n)
	}
}

func (b *builder) numFloat(path string, tmpl string, sc *scope, dst *float64) {
	s, ok := b.num(path, tmpl, sc)
	if !ok {
		return
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		b.errs.add(path, ErrInvalid, fmt.Sprintf("template %q gives %q, not a number", tmpl, s))
		return
	}
	*dst = f
}

func (b *builder) numBool(path string, tmpl string, sc *scope, dst *bool) {
	s, ok := b.num(path, tmpl, sc)
	if !ok {
		return
	}
	switch strings.ToLower(s) {
	case "true", "1":
		*dst = true
	case "false", "0":
		*dst = false
	default:
		b.errs.add(path, ErrInvalid, fmt.Sprintf("template %q gives %q, not a boolean (true, false, 1 or 0)", tmpl, s))
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
	out := &thermos.Resources{CPU: r.CPU, RAM: int64(r.RAM), Disk: int64(r.Disk), GPU: int64(r.GPU)}
	if t, ok := tmpl["resources.cpu"]; ok {
		b.numFloat(path+".cpu", t, sc, &out.CPU)
	}
	if t, ok := tmpl["resources.ram"]; ok {
		b.numInt64(path+".ram", t, sc, &out.RAM)
	}
	if t, ok := tmpl["resources.disk"]; ok {
		b.numInt64(path+".disk", t, sc, &out.Disk)
	}
	if t, ok := tmpl["resources.gpu"]; ok {
		b.numInt64(path+".gpu", t, sc, &out.GPU)
	}
	return out
}

func (b *builder) buildTask(t *Task, tsc *scope) thermos.Task {
	out := thermos.NewTask()
	if t.name == "" && len(t.processes) > 0 && !strings.Contains(t.processes[0].name, "{{") {
		out.Name = t.processes[0].name // the default, {{processes[0].name}}, without templates
	} else {
		out.Name = b.str("task.name", (&taskNode{t: t}).taskName(), tsc)
	}
	out.MaxFailures = t.MaxFailures()
	out.MaxConcurrency = t.maxConcurrency
	out.FinalizationWait = secs(t.FinalizationWait())
	unknownTemplates(b, "task.template.", t.templates, "max_failures", "max_concurrency", "finalization_wait",
		"resources.cpu", "resources.ram", "resources.disk", "resources.gpu")
	if tm, ok := t.templates["max_failures"]; ok {
		b.numInt("task.max_failures", tm, tsc, &out.MaxFailures)
	}
	if tm, ok := t.templates["max_concurrency"]; ok {
		b.numInt("task.max_concurrency", tm, tsc, &out.MaxConcurrency)
	}
	if tm, ok := t.templates["finalization_wait"]; ok {
		b.numInt("task.finalization_wait", tm, tsc, &out.FinalizationWait)
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
	out := thermos.Process{
		Name:        b.strAt(i, ".name", p.name, sc),
		Cmdline:     b.strAt(i, ".cmdline", p.cmdline, sc),
		MaxFailures: p.MaxFailures(),
		Daemon:      p.daemon,
		Ephemeral:   p.ephemeral,
		MinDuration: secs(p.MinDuration()),
		Final:       p.final,
	}
	if p.templates == nil && p.resources == nil && p.logger == nil {
		return out
	}
	path := procPath(i)
	if len(p.templates) > 0 {
		unknownTemplates(b, path+".template.", p.templates, "max_failures", "daemon", "ephemeral", "min_duration", "final",
			"resources.cpu", "resources.ram", "resources.disk", "resources.gpu")
		if tm, ok := p.templates["max_failures"]; ok {
			b.numInt(path+".max_failures", tm, sc, &out.MaxFailures)
		}
		if tm, ok := p.templates["min_duration"]; ok {
			b.numInt(path+".min_duration", tm, sc, &out.MinDuration)
		}
		if tm, ok := p.templates["daemon"]; ok {
			b.numBool(path+".daemon", tm, sc, &out.Daemon)
		}
		if tm, ok := p.templates["ephemeral"]; ok {
			b.numBool(path+".ephemeral", tm, sc, &out.Ephemeral)
		}
		if tm, ok := p.templates["final"]; ok {
			b.numBool(path+".final", tm, sc, &out.Final)
		}
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
	pl.CronCollisionPolicy = b.str("cron_collision_policy", string(j.CronCollisionPolicy()), jsc)
	pl.Service = j.service
	pl.Production = j.production
	pl.Priority = j.priority
	pl.MaxTaskFailures = j.MaxTaskFailures()
	pl.EnableHooks = j.enableHooks
	unknownTemplates(b, "template.", j.templates, "instances", "service", "production", "priority", "max_task_failures", "enable_hooks")
	if tm, ok := j.templates["instances"]; ok {
		b.numInt("instances", tm, jsc, &b.instances)
	}
	if tm, ok := j.templates["service"]; ok {
		b.numBool("service", tm, jsc, &pl.Service)
	}
	if tm, ok := j.templates["production"]; ok {
		b.numBool("production", tm, jsc, &pl.Production)
	}
	if tm, ok := j.templates["priority"]; ok {
		b.numInt("priority", tm, jsc, &pl.Priority)
	}
	if tm, ok := j.templates["max_task_failures"]; ok {
		b.numInt("max_task_failures", tm, jsc, &pl.MaxTaskFailures)
	}
	if tm, ok := j.templates["enable_hooks"]; ok {
		b.numBool("enable_hooks", tm, jsc, &pl.EnableHooks)
	}
	if j.constraints != nil {
		pl.Constraints = make(map[string]string, len(j.constraints))
		for _, k := range sortedKeys(j.constraints) {
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
		for _, k := range sortedKeys(j.taskLinks) {
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
		for _, k := range sortedKeys(pm) {
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

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// validateJob checks the rendered payload and settings.
func (b *builder) validateJob(pl *thermos.Job) {
	for _, f := range []struct{ path, val, what string }{
		{"cluster", pl.Cluster, "cluster"},
		{"role", pl.Role, "role"},
		{"environment", pl.Environment, "environment"},
		{"name", pl.Name, "name"},
	} {
		switch {
		case f.val == "":
			article := "a"
			if f.what == "environment" {
				article = "an"
			}
			b.errs.add(f.path, ErrRequired, fmt.Sprintf("the job needs %s %s: set Key.%s%s", article, f.what, strings.ToUpper(f.what[:1]), f.what[1:]))
		case f.path == "cluster":
		case strings.Contains(f.val, "{{"):
			// already reported as a template problem
		case !goodIdentifier(f.val):
			b.errs.add(f.path, ErrInvalid, fmt.Sprintf("invalid %s %q: use only letters, digits, '_', '-' and '.'", f.what, f.val))
		case len(f.val) > 255:
			b.errs.add(f.path, ErrInvalid, fmt.Sprintf("%s is %d characters long: the scheduler allows at most 255", f.what, len(f.val)))
		}
	}
	if b.instances < 1 {
		b.errs.add("instances", ErrInvalid, fmt.Sprintf("%d instances: a job needs at least 1", b.instances))
	}
	switch strings.ToUpper(pl.CronCollisionPolicy) {
	case "KILL_EXISTING", "CANCEL_NEW", "RUN_OVERLAP":
	default:
		b.errs.add("cron_collision_policy", ErrInvalid, fmt.Sprintf("%q is not a cron collision policy: use KILL_EXISTING, CANCEL_NEW or RUN_OVERLAP", pl.CronCollisionPolicy))
	}
	if pl.CronSchedule != nil && pl.Service {
		b.errs.add("cron_schedule", ErrInvalid, "a service cannot be a cron job: drop the schedule or WithService(false)")
	}
	if pl.CronSchedule != nil && strings.TrimSpace(*pl.CronSchedule) == "" {
		b.errs.add("cron_schedule", ErrInvalid, "empty cron schedule")
	}
	for _, k := range sortedKeys(pl.Constraints) {
		v := pl.Constraints[k]
		if k == "" {
			b.errs.add("constraints", ErrInvalid, "a constraint needs an attribute name")
		}
		if rest, ok := strings.CutPrefix(v, "limit:"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(rest)); err != nil || n < 1 {
				b.errs.add("constraints["+k+"]", ErrInvalid, fmt.Sprintf("%q is not a valid limit value, must be a positive integer: write job.Limit(n)", v))
			}
		} else if strings.TrimPrefix(v, "!") == "" {
			b.errs.add("constraints["+k+"]", ErrInvalid, "a value constraint needs at least one value")
		}
	}
	if d, ok := pl.Constraints["dedicated"]; ok && pl.Role != "" {
		// The scheduler accepts one value, "<role>/..." or "*/...".
		group, _, found := strings.Cut(d, "/")
		if !found || strings.HasPrefix(d, "!") || strings.HasPrefix(d, "limit:") || strings.Contains(d, ",") || (group != pl.Role && group != "*") {
			b.errs.add("constraints[dedicated]", ErrInvalid, fmt.Sprintf("%q: the scheduler accepts a single value \"%s/<group>\" (or \"*/<group>\")", d, pl.Role))
		}
	}
	if pl.Tier != nil && !strings.Contains(*pl.Tier, "{{") && (!goodIdentifier(*pl.Tier) || len(*pl.Tier) > 255) {
		b.errs.add("tier", ErrInvalid, fmt.Sprintf("invalid tier %q: use only letters, digits, '_', '-' and '.'", *pl.Tier))
	}
	if pl.PartitionPolicy != nil && pl.PartitionPolicy.DelaySecs < 0 {
		b.errs.add("partition_policy.delay_secs", ErrInvalid, "must not be negative")
	}
	if s := pl.SLAPolicy; s != nil {
		switch {
		case s.Percentage != nil && (s.Percentage.Percentage <= 0 || s.Percentage.Percentage > 100):
			b.errs.add("sla_policy.percentage", ErrInvalid, fmt.Sprintf("%v is not a percentage in (0, 100]", s.Percentage.Percentage))
		case s.Count != nil && s.Count.Count < 1:
			b.errs.add("sla_policy.count", ErrInvalid, "must be at least 1")
		case s.Coordinator != nil && s.Coordinator.CoordinatorURL == "":
			b.errs.add("sla_policy.coordinator_url", ErrRequired, "a coordinator SLA policy needs the coordinator's URL")
		}
	}
	b.validateUpdate(pl)
	b.validateTask(&pl.Task)
	b.validateAnnounce(pl)
}

func (b *builder) validateUpdate(pl *thermos.Job) {
	u := b.j.update.canonical()
	const p = "update_config."
	n := b.instances
	if u.MaxTotalFailures >= n && n >= 1 {
		b.errs.add(p+"max_total_failures", ErrInvalid, fmt.Sprintf("%d must be less than the %d instance(s): set it to at most %d", u.MaxTotalFailures, n, n-1))
	}
	if _, ok := pl.Constraints["dedicated"]; ok {
		if min := int(math.Floor(float64(n) * 0.02)); u.MaxTotalFailures < min {
			b.errs.add(p+"max_total_failures", ErrInvalid, fmt.Sprintf("a dedicated job of %d instances must tolerate at least %d failures (2%%): raise max_total_failures", n, min))
		}
	}
	b.nonNegative(p,
		negCheck{"watch_secs", *u.Watch < 0},
		negCheck{"max_per_shard_failures", u.MaxPerShardFailures < 0},
		negCheck{"max_total_failures", u.MaxTotalFailures < 0},
		negCheck{"pulse_interval_secs", u.PulseInterval < 0},
	)
	if u.BatchSize < 0 {
		b.errs.add(p+"batch_size", ErrInvalid, fmt.Sprintf("%d: an update needs batches of at least 1 instance", u.BatchSize))
	}
	if s := u.Strategy; s != nil {
		if s.kind == "variable" && len(s.sizes) == 0 {
			b.errs.add(p+"update_strategy.batch_sizes", ErrRequired, "a variable batch strategy needs at least one batch size")
		}
		for i, sz := range s.sizes {
			if sz < 1 {
				b.errs.add(fmt.Sprintf("%supdate_strategy.batch_sizes[%d]", p, i), ErrInvalid, fmt.Sprintf("batch size %d: must be at least 1", sz))
			}
		}
	}
}

func (b *builder) validateTask(t *thermos.Task) {
	if len(t.Processes) == 0 && !b.j.IsCustomExecutor() {
		b.errs.add("task.processes", ErrRequired, "the task needs at least one process: pass it to job.NewTask")
	}
	if t.Name == "" && len(t.Processes) > 0 {
		b.errs.add("task.name", ErrRequired, "the task name is empty")
	}
	if r := t.Resources; r == nil {
		b.errs.add("task.resources", ErrRequired, "the task must specify resources: call Task.WithResources(job.NewResources(cpu, ram, disk))")
	} else {
		if !(r.CPU > 0) || math.IsInf(r.CPU, 0) {
			b.errs.add("task.resources.cpu", ErrInvalid, fmt.Sprintf("cpu %v: must be positive", r.CPU))
		}
		for _, f := range []struct {
			name string
			v    int64
		}{{"ram", r.RAM}, {"disk", r.Disk}} {
			if f.v < int64(MiB) {
				b.errs.add("task.resources."+f.name, ErrInvalid, fmt.Sprintf("%d bytes is %d MiB: Aurora sends %s in whole MiB and needs it positive, so give at least 1 MiB (job.MiB)", f.v, f.v/int64(MiB), f.name))
			}
		}
		if r.GPU < 0 {
			b.errs.add("task.resources.gpu", ErrInvalid, "must not be negative")
		}
	}
	if t.MaxFailures < 0 {
		b.errs.add("task.max_failures", ErrInvalid, "must not be negative (0 means unlimited)")
	}
	if t.MaxConcurrency < 0 {
		b.errs.add("task.max_concurrency", ErrInvalid, "must not be negative (0 means unlimited)")
	}
	if t.FinalizationWait < 0 {
		b.errs.add("task.finalization_wait", ErrInvalid, "must not be negative")
	}
	seen := make(map[string]int, len(t.Processes))
	for i := range t.Processes {
		p := &t.Processes[i]
		if p.Name != "" && goodProcessName(p.Name) && p.Cmdline != "" && p.MaxFailures >= 0 && p.MinDuration >= 0 {
			if _, dup := seen[p.Name]; !dup {
				seen[p.Name] = i
				continue
			}
		}
		path := procPath(i)
		switch {
		case p.Name == "":
			b.errs.add(path+".name", ErrRequired, "every process needs a name")
		case !goodProcessName(p.Name) && !strings.Contains(p.Name, "{{"):
			b.errs.add(path+".name", ErrInvalid, fmt.Sprintf("invalid process name %q: it may not contain '/' nor start with '.'", p.Name))
		}
		if k, dup := seen[p.Name]; dup && p.Name != "" {
			b.errs.add(path+".name", ErrDuplicate, fmt.Sprintf("process name %q is also used by task.processes[%d]: give each process its own name", p.Name, k))
		} else {
			seen[p.Name] = i
		}
		if p.Cmdline == "" {
			b.errs.add(path+".cmdline", ErrRequired, "every process needs a command line")
		}
		if p.MaxFailures < 0 {
			b.errs.add(path+".max_failures", ErrInvalid, "must not be negative (0 means retry forever)")
		}
		if p.MinDuration < 0 {
			b.errs.add(path+".min_duration", ErrInvalid, "must not be negative")
		}
	}
	b.validatePlan(t)
}

// validatePlan checks the order constraints the way Thermos's planner does,
// separately for the regular and the final processes: every constraint
// names all or none of a group's processes, no process depends on a daemon,
// no non-ephemeral process depends on an ephemeral one, and there is no
// cycle (a topological sort, linear in processes and constraints).
func (b *builder) validatePlan(t *thermos.Task) {
	if len(t.Constraints) == 0 {
		return
	}
	index := make(map[string]int, len(t.Processes))
	for i, p := range t.Processes {
		if _, dup := index[p.Name]; !dup {
			index[p.Name] = i
		}
	}
	n := len(t.Processes)
	adj := make([][]int32, n)
	indeg := make([]int32, n)
	for ci, c := range t.Constraints {
		path := "task.constraints[" + strconv.Itoa(ci) + "]"
		if len(c.Order) == 0 {
			b.errs.add(path, ErrInvalidPlan, "an order constraint must name at least one process")
			continue
		}
		// Which group (final or not) each name belongs to, -1 if unknown.
		var final, regular, unknown int
		for _, name := range c.Order {
			i, ok := index[name]
			switch {
			case !ok:
				unknown++
			case t.Processes[i].Final:
				final++
			default:
				regular++
			}
		}
		if unknown == len(c.Order) {
			continue // Thermos ignores constraints naming only unknown processes
		}
		if unknown > 0 || final > 0 && regular > 0 {
			what := "are final and not final"
			if unknown > 0 {
				what = "do not exist"
			}
			b.errs.add(path, ErrInvalidPlan, fmt.Sprintf("order %q mixes processes that %s: an order constraint must name only processes of the task, and either only final or only non-final ones", c.Order, what))
			continue
		}
		for k := 1; k < len(c.Order); k++ {
			prev, cur := index[c.Order[k-1]], index[c.Order[k]]
			pp, cp := &t.Processes[prev], &t.Processes[cur]
			if pp.Daemon {
				b.errs.add(path, ErrInvalidPlan, fmt.Sprintf("process %s may not depend upon daemon process %s: a daemon never finishes, so drop this order constraint or make %s not a daemon", cp.Name, pp.Name, pp.Name))
				continue
			}
			if !cp.Ephemeral && pp.Ephemeral {
				b.errs.add(path, ErrInvalidPlan, fmt.Sprintf("non-ephemeral process %s may not depend upon ephemeral process %s: drop this order constraint or make %s ephemeral too", cp.Name, pp.Name, cp.Name))
				continue
			}
			adj[prev] = append(adj[prev], int32(cur))
			indeg[cur]++
		}
	}
	// Kahn's algorithm.
	queue := make([]int32, 0, n)
	for i := range n {
		if indeg[i] == 0 {
			queue = append(queue, int32(i))
		}
	}
	done := 0
	for len(queue) > 0 {
		v := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		done++
		for _, w := range adj[v] {
			indeg[w]--
			if indeg[w] == 0 {
				queue = append(queue, w)
			}
		}
	}
	if done < n {
		var names []string
		for i := range n {
			if indeg[i] > 0 {
				names = append(names, t.Processes[i].Name)
				if len(names) == 10 {
					names = append(names, "...")
					break
				}
			}
		}
		b.errs.add("task.constraints", ErrInvalidPlan, fmt.Sprintf("cycles detected in the task schedule among processes %s: remove one of the order constraints that form the cycle", strings.Join(names, ", ")))
	}
}

// resolvePort follows portmap aliases from name; static reports a numeric
// (static) port; ok is false on an alias cycle.
func resolvePort(portmap map[string]string, name string) (port string, static, ok bool) {
	seen := 0
	for {
		if _, err := strconv.Atoi(strings.TrimSpace(name)); err == nil {
			return name, true, true
		}
		next, alias := portmap[name]
		if !alias {
			return name, false, true
		}
		if seen > len(portmap) {
			return name, false, false
		}
		seen++
		name = next
	}
}

func (b *builder) validateAnnounce(pl *thermos.Job) {
	a := pl.Announce
	if a == nil {
		return
	}
	_, dedicated := pl.Constraints["dedicated"]
	for _, k := range sortedKeys(a.Portmap) {
		_, static, ok := resolvePort(a.Portmap, k)
		if !ok {
			b.errs.add("announce.portmap["+k+"]", ErrInvalid, "the portmap aliases form a cycle: make one of them name a real port")
			continue
		}
		if static && !dedicated {
			b.errs.add("announce.portmap["+k+"]", ErrInvalid, fmt.Sprintf("static port %s: a job must be dedicated in order to specify static ports; add WithDedicated(\"role/name\") or use a named port", a.Portmap[k]))
		}
	}
}

// ports computes the named ports Aurora's client requests.
func (b *builder) ports(pl *thermos.Job) []string {
	var pm map[string]string
	if pl.Announce != nil {
		pm = pl.Announce.Portmap
	}
	set := make(map[string]struct{})
	add := func(name string) {
		if p, static, ok := resolvePort(pm, name); ok && !static {
			set[p] = struct{}{}
		}
	}
	for _, v := range pm {
		add(v)
	}
	for _, n := range b.refPorts {
		add(n)
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// dur converts whole seconds to a Duration.
func dur(s int) time.Duration { return time.Duration(s) * time.Second }

// fdur converts fractional seconds to a Duration.
func fdur(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
