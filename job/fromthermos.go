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
//
// Fields are read following thermos' description of the payload
// (fromwire.go): a scalar field through the With method of its Go name, a
// plain struct field by field; the rest (keys, templates, lists of
// processes, choices) by hand. A payload field with no place in this
// package is an error naming it.
func FromThermos(p *thermos.Job) (Job, error) {
	if p == nil {
		return Job{}, &FieldError{Err: fmt.Errorf("%w: FromThermos needs a payload, got nil", ErrRequired)}
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
	j := New(Key{Cluster: p.Cluster, Role: p.Role, Environment: p.Environment, Name: p.Name}, taskFromThermos(&p.Task, &errs))
	// The scalar fields go through Job's With methods; the rest by hand.
	j, unplaced := withFields(j, p, "name", "role", "cluster", "environment", "task", "contact", "tier", "cron_schedule",
		"constraints", "metadata", "health_check_config", "lifecycle", "task_links", "executor_config", "announce",
		"sla_policy", "container")
	errs.unplaced("", unplaced)
	j.contact = clonePtr(p.Contact) // With* would drop an empty one
	j.tier = clonePtr(p.Tier)
	j.cronSchedule = clonePtr(p.CronSchedule)
	j.constraints = maps.Clone(p.Constraints)
	for _, m := range p.Metadata {
		md, u := fromWire[Metadata](m)
		errs.unplaced("metadata", u)
		j.metadata = append(j.metadata, md)
	}
	j.templates = maps.Clone(p.Templates)
	j.taskLinks = maps.Clone(p.TaskLinks)
	j.executor, unplaced = fromWire[ExecutorConfig](p.ExecutorConfig)
	errs.unplaced("executor_config", unplaced)

	h := p.HealthCheckConfig
	j.healthCheck, unplaced = fromWire[HealthCheck](h, "health_checker")
	errs.unplaced("health_check_config", unplaced)
	switch c := h.HealthChecker; {
	case c.Shell != nil:
		j.healthCheck.Checker = ShellChecker(c.Shell.ShellCommand)
	case c.HTTP != nil:
		j.healthCheck.Checker = HTTPChecker(c.HTTP.Endpoint, c.HTTP.ExpectedResponse, c.HTTP.ExpectedResponseCode)
	}
	if l := p.Lifecycle.HTTP; l != nil {
		hl, unplaced := fromWire[HTTPLifecycle](l)
		errs.unplaced("lifecycle.http", unplaced)
		j.lifecycle = HTTPLifecycleConfig(hl)
	} else {
		j.lifecycle = DisableLifecycle()
	}
	if a := p.Announce; a != nil {
		an, unplaced := fromWire[Announcer](a)
		errs.unplaced("announce", unplaced)
		if an.Portmap == nil {
			an.Portmap = map[string]string{}
		}
		j.announce = &an
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
			j.container = &Container{kind: "docker", image: c.Docker.Image, params: paramsFromThermos(c.Docker.Parameters, &errs)}
		case c.LegacyDocker != nil:
			j.container = &Container{kind: "legacy", image: c.LegacyDocker.Image, params: paramsFromThermos(c.LegacyDocker.Parameters, &errs)}
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
				var unplaced []string
				vols[i], unplaced = fromWire[Volume](v)
				errs.unplaced("container.volumes", unplaced)
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

func paramsFromThermos(ps []thermos.Parameter, errs *errorList) []Parameter {
	out := make([]Parameter, len(ps))
	for i, p := range ps {
		var unplaced []string
		out[i], unplaced = fromWire[Parameter](p)
		errs.unplaced("container.parameters", unplaced)
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

// resourcesFromThermos returns r as Resources, and the templates tm of
// the task or process r belongs to with r's added ("resources.cpu": ...).
func resourcesFromThermos(r *thermos.Resources, tm map[string]string, path string, errs *errorList) (*Resources, map[string]string) {
	if r == nil {
		return nil, tm
	}
	out, unplaced := fromWire[Resources](r)
	errs.unplaced(path, unplaced)
	for k, v := range r.Templates {
		tm = cloneSet(tm, "resources."+k, v)
	}
	return &out, tm
}

func taskFromThermos(t *thermos.Task, errs *errorList) Task {
	out, unplaced := withFields(NewTask(t.Name), t, "name", "processes", "constraints", "resources")
	errs.unplaced("task", unplaced)
	out.resources, out.templates = resourcesFromThermos(t.Resources, maps.Clone(t.Templates), "task.resources", errs)
	for _, c := range t.Constraints {
		out.constraints = append(out.constraints, Order(c.Order...))
	}
	out.processes = make([]Process, len(t.Processes))
	for i := range t.Processes {
		tp := &t.Processes[i]
		p, unplaced := withFields(NewProcess(tp.Name, tp.Cmdline), tp, "name", "cmdline", "resources")
		errs.unplaced("task.processes", unplaced)
		p.resources, p.templates = resourcesFromThermos(tp.Resources, maps.Clone(tp.Templates), "task.processes.resources", errs)
		out.processes[i] = p
	}
	return out
}

// UpdateFromThermos converts a wire update_config into an Update.
func UpdateFromThermos(u thermos.UpdateConfig) Update {
	// Every field but the strategy has its place by name
	// (TestFromConfigKeepsEveryField).
	out, _ := fromWire[Update](u, "update_strategy")
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
		return Job{}, &FieldError{Err: fmt.Errorf("%w: FromConfig needs a config, got nil", ErrRequired)}
	}
	j, err := FromThermos(c.Job)
	if err != nil {
		return Job{}, err
	}
	return j.WithInstances(c.Instances).WithUpdate(UpdateFromThermos(c.UpdateConfig)), nil
}
