package job

import (
	"fmt"
	"maps"
	"slices"

	"github.com/nixrealis/nixrealis/internal/mapkeys"
	"github.com/nixrealis/nixrealis/thermos"
)

// FromThermos turns a payload (for example one read with thermos.Unmarshal
// from an existing job) back into a Job, so it can be edited with this
// package and built again. The payload carries neither instances nor
// update_config: the job gets one instance and DefaultUpdate (use
// WithInstances and WithUpdate, and UpdateFromThermos). Templates kept in
// non-string fields (thermos Templates maps) become WithTemplate values.
// A payload's zero where this package's zero means Aurora's default and
// Aurora's own zero is of no use (interval_secs, timeout_secs and
// min_consecutive_successes 0, an empty expected_response, log_size or
// backups 0) reads back as that default.
func FromThermos(p *thermos.Job) (Job, error) {
	if p == nil {
		return Job{}, &FieldError{Err: &detailError{kind: ErrRequired, msg: "required: FromThermos needs a payload, got nil"}}
	}
	var errs errorList
	// Templates the builder keeps only for the job, task, process and
	// resources fields; elsewhere (found by walking thermos' schema) they
	// cannot be represented.
	_ = thermos.Walk(p, "", thermos.Visitor{Templates: func(path string, t thermos.Templates, owner any) error {
		switch owner.(type) {
		case *thermos.Job, *thermos.Task, *thermos.Process, *thermos.Resources:
			return nil
		}
		for _, k := range mapkeys.Sorted(t) {
			errs.add(path+"."+k, ErrTemplateInNumericField, fmt.Sprintf("the payload holds the template %q here; only run-time templates are left in payloads, and Aurora's CLI rejects them in numeric fields: replace it with a number", t[k]))
		}
		return nil
	}})
	j := New(Key{Cluster: p.Cluster, Role: p.Role, Environment: p.Environment, Name: p.Name}, taskFromThermos(&p.Task))
	j.contact = clonePtr(p.Contact)
	j.tier = clonePtr(p.Tier)
	j.cronSchedule = clonePtr(p.CronSchedule)
	j.cronCollision = CronCollisionPolicy(p.CronCollisionPolicy)
	j.constraints = maps.Clone(p.Constraints)
	for _, m := range p.Metadata {
		j.metadata = append(j.metadata, Metadata{Key: m.Key, Value: m.Value})
	}
	j.service = p.Service
	j.maxTaskFailures = some(p.MaxTaskFailures)
	j.production = p.Production
	j.priority = p.Priority
	j.enableHooks = p.EnableHooks
	j.templates = maps.Clone(p.Templates)
	j.taskLinks = maps.Clone(p.TaskLinks)
	j.executor = ExecutorConfig{Name: p.ExecutorConfig.Name, Data: p.ExecutorConfig.Data}

	h := p.HealthCheckConfig
	j.healthCheck = HealthCheck{
		InitialInterval:         new(fdur(h.InitialIntervalSecs)),
		Interval:                fdur(h.IntervalSecs),
		MaxConsecutiveFailures:  h.MaxConsecutiveFailures,
		MinConsecutiveSuccesses: h.MinConsecutiveSuccesses,
		Timeout:                 fdur(h.TimeoutSecs),
	}
	switch c := h.HealthChecker; {
	case c.Shell != nil:
		j.healthCheck.Checker = ShellChecker(c.Shell.ShellCommand)
	case c.HTTP != nil:
		j.healthCheck.Checker = HTTPChecker(c.HTTP.Endpoint, c.HTTP.ExpectedResponse, c.HTTP.ExpectedResponseCode)
	}
	if l := p.Lifecycle.HTTP; l != nil {
		j.lifecycle = HTTPLifecycleConfig(HTTPLifecycle{
			Port:                     l.Port,
			GracefulShutdownEndpoint: l.GracefulShutdownEndpoint,
			ShutdownEndpoint:         l.ShutdownEndpoint,
			GracefulShutdownWait:     new(dur(l.GracefulShutdownWaitSecs)),
			ShutdownWait:             new(dur(l.ShutdownWaitSecs)),
		})
	} else {
		j.lifecycle = DisableLifecycle()
	}
	if a := p.Announce; a != nil {
		an := Announcer{PrimaryPort: a.PrimaryPort, Portmap: maps.Clone(a.Portmap)}
		if an.Portmap == nil {
			an.Portmap = map[string]string{}
		}
		if a.ZKPath != nil {
			an.ZKPath = *a.ZKPath
		}
		j.announce = &an
	}
	if pp := p.PartitionPolicy; pp != nil {
		j.partitionPolicy = &PartitionPolicy{Reschedule: new(pp.Reschedule), Delay: dur(pp.DelaySecs)}
	}
	if s := p.SLAPolicy; s != nil {
		var sla SLAPolicy
		switch {
		case s.Percentage != nil:
			sla = PercentageSLA(s.Percentage.Percentage, dur(s.Percentage.DurationSecs))
		case s.Count != nil:
			sla = CountSLA(s.Count.Count, dur(s.Count.DurationSecs))
		case s.Coordinator != nil:
			sla = CoordinatorSLA(s.Coordinator.CoordinatorURL, s.Coordinator.StatusKey)
		default:
			errs.add("sla_policy", ErrInvalid, "no SLA policy alternative is set")
		}
		j.slaPolicy = &sla
	}
	if c := p.Container; c != nil {
		switch {
		case c.Docker != nil:
			j.container = &Container{kind: "docker", image: c.Docker.Image, params: paramsFromThermos(c.Docker.Parameters)}
		case c.LegacyDocker != nil:
			j.container = &Container{kind: "legacy", image: c.LegacyDocker.Image, params: paramsFromThermos(c.LegacyDocker.Parameters)}
		case c.Mesos != nil:
			var im *MesosImage
			if i := c.Mesos.Image; i != nil {
				switch {
				case i.Docker != nil:
					d := DockerImage(i.Docker.Name, i.Docker.Tag)
					im = &d
				case i.Appc != nil:
					a := AppcImage(i.Appc.Name, i.Appc.ImageID)
					im = &a
				default:
					errs.add("container.image", ErrInvalid, "no image alternative is set")
				}
			}
			vols := make([]Volume, len(c.Mesos.Volumes))
			for i, v := range c.Mesos.Volumes {
				vols[i] = Volume{ContainerPath: v.ContainerPath, HostPath: v.HostPath, Mode: VolumeMode(v.Mode)}
			}
			ct := MesosContainer(im, vols...)
			j.container = &ct
		default:
			errs.add("container", ErrInvalid, "no container alternative is set")
		}
	}
	if err := errs.err(); err != nil {
		return Job{}, err
	}
	return j, nil
}

func paramsFromThermos(ps []thermos.Parameter) []Parameter {
	out := make([]Parameter, len(ps))
	for i, p := range ps {
		out[i] = Parameter{Name: p.Name, Value: p.Value}
	}
	return out
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func resourcesFromThermos(r *thermos.Resources) (*Resources, map[string]string) {
	if r == nil {
		return nil, nil
	}
	out := &Resources{CPU: r.CPU, RAM: Bytes(r.RAM), Disk: Bytes(r.Disk), GPU: int(r.GPU)}
	var tm map[string]string
	for k, v := range r.Templates {
		tm = cloneSet(tm, "resources."+k, v)
	}
	return out, tm
}

func taskFromThermos(t *thermos.Task) Task {
	out := NewTask(t.Name)
	out.maxFailures = some(t.MaxFailures)
	out.maxConcurrency = t.MaxConcurrency
	out.finalizationWait = some(dur(t.FinalizationWait))
	out.user = clonePtr(t.User)
	out.templates = maps.Clone(t.Templates)
	var rt map[string]string
	out.resources, rt = resourcesFromThermos(t.Resources)
	for k, v := range rt {
		out.templates = cloneSet(out.templates, k, v)
	}
	for _, c := range t.Constraints {
		out.constraints = append(out.constraints, Order(c.Order...))
	}
	out.processes = make([]Process, len(t.Processes))
	for i := range t.Processes {
		tp := &t.Processes[i]
		p := NewProcess(tp.Name, tp.Cmdline)
		p.maxFailures = some(tp.MaxFailures)
		p.daemon = tp.Daemon
		p.ephemeral = tp.Ephemeral
		p.minDuration = some(dur(tp.MinDuration))
		p.final = tp.Final
		p.templates = maps.Clone(tp.Templates)
		var pt map[string]string
		p.resources, pt = resourcesFromThermos(tp.Resources)
		for k, v := range pt {
			p.templates = cloneSet(p.templates, k, v)
		}
		if l := tp.Logger; l != nil {
			lg := Logger{Destination: LoggerDestination(l.Destination), Mode: LoggerMode(l.Mode)}
			if l.Rotate != nil {
				lg.Rotate = &RotatePolicy{LogSize: Bytes(l.Rotate.LogSize), Backups: l.Rotate.Backups}
			}
			p.logger = &lg
		}
		out.processes[i] = p
	}
	return out
}

// UpdateFromThermos converts a wire update_config into an Update.
func UpdateFromThermos(u thermos.UpdateConfig) Update {
	out := Update{
		BatchSize:              u.BatchSize,
		Watch:                  new(dur(u.WatchSecs)),
		MaxPerShardFailures:    u.MaxPerShardFailures,
		MaxTotalFailures:       u.MaxTotalFailures,
		RollbackOnFailure:      new(u.RollbackOnFailure),
		WaitForBatchCompletion: u.WaitForBatchCompletion,
		SLAAware:               u.SLAAware,
	}
	if u.PulseIntervalSecs != nil {
		out.PulseInterval = dur(*u.PulseIntervalSecs)
	}
	if s := u.UpdateStrategy; s != nil {
		switch {
		case s.Queue != nil:
			out.Strategy = QueueStrategy(s.Queue.BatchSize)
		case s.Batch != nil:
			out.Strategy = BatchStrategy(s.Batch.BatchSize, s.Batch.AutopauseAfterBatch)
		case s.VariableBatch != nil:
			out.Strategy = VariableBatchStrategy(s.VariableBatch.AutopauseAfterBatch, slices.Clone(s.VariableBatch.BatchSizes)...)
		}
	}
	return out
}

// FromConfig is FromThermos for a whole job object (thermos.UnmarshalConfig):
// it also takes the instance count and update_config.
func FromConfig(c *thermos.Config) (Job, error) {
	if c == nil {
		return Job{}, &FieldError{Err: &detailError{kind: ErrRequired, msg: "required: FromConfig needs a config, got nil"}}
	}
	j, err := FromThermos(c.Job)
	if err != nil {
		return Job{}, err
	}
	return j.WithInstances(c.Instances).WithUpdate(UpdateFromThermos(c.UpdateConfig)), nil
}
