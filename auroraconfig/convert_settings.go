package auroraconfig

import (
	"github.com/nixrealis/nixrealis/internal/mapkeys"
	"github.com/nixrealis/nixrealis/job"
)

// job converts a Job object. Fields left at Aurora's defaults are left to
// job.New, whose defaults are the same.
func (c *converter) job(o *object) job.Job {
	c.at("job", o)
	var key job.Key
	for _, f := range []struct {
		name string
		dst  *string
	}{{"cluster", &key.Cluster}, {"role", &key.Role}, {"environment", &key.Environment}, {"name", &key.Name}} {
		if v, ok := o.vals[f.name]; ok {
			*f.dst = pyStr(v)
		}
	}
	var t job.Task
	if to, ok := c.sub(o, "task"); ok {
		t = c.task(to, "task")
	} else {
		c.fail(o, "Job.task is required: set task = Task(...)")
	}
	j := job.New(key, t)
	set := func(name string) bool { _, ok := o.vals[name]; return ok }
	// explicit returns the object of field name if o sets it (nil if it
	// is set to something else), recording where it was made.
	explicit := func(name string) (*object, bool) {
		if !set(name) {
			return nil, false
		}
		so, _ := c.sub(o, name)
		c.at(name, so)
		return so, true
	}

	if set("instances") { // the DSL's, not the payload's
		if n, tm, ok := c.integer(o, "instances"); ok && tm != "" {
			j = j.WithTemplate("instances", tm)
		} else if ok {
			j = j.WithInstances(n)
		}
	}
	j = scalars(c, o, j, jobScalars, true, job.Job.WithTemplate)
	if v, ok := c.str(o, "cron_schedule"); ok {
		j = j.WithCron(v)
	}
	if m, ok := c.stringMap(o, "constraints"); ok {
		for _, k := range mapkeys.Sorted(m) {
			j = j.WithConstraint(k, m[k])
		}
	}
	for _, md := range c.objects(o, "metadata") {
		c.requireFields(md)
		k, _ := c.str(md, "key")
		v, _ := c.str(md, "value")
		j = j.AddMetadata(k, v)
	}
	if m, ok := c.stringMap(o, "task_links"); ok {
		for _, k := range mapkeys.Sorted(m) {
			j = j.WithTaskLink(k, m[k])
		}
	}
	if hc, ok := explicit("health_check_config"); ok {
		j = j.WithHealthCheck(c.healthCheck(hc))
	}
	if lo, ok := explicit("lifecycle"); ok {
		j = j.WithLifecycle(c.lifecycle(lo))
	}
	if ao, ok := c.sub(o, "announce"); ok {
		c.at("announce", ao)
		a := job.Announcer{}
		a.PrimaryPort, _ = c.str(ao, "primary_port")
		if pm, ok := c.stringMap(ao, "portmap"); ok {
			a.Portmap = pm
		}
		a.ZKPath, _ = c.str(ao, "zk_path")
		j = j.WithAnnounce(a)
	}
	if uo, ok := explicit("update_config"); ok {
		j = j.WithUpdate(c.update(uo))
	}
	if co, ok := c.sub(o, "container"); ok {
		c.at("container", co)
		j = j.WithContainer(c.container(co))
	}
	if po, ok := c.sub(o, "partition_policy"); ok {
		r, _ := c.boolLit(po, "reschedule")
		d, _ := c.intLit(po, "delay_secs")
		j = j.WithPartitionPolicy(job.PartitionPolicy{Reschedule: new(r), Delay: seconds(d)})
	}
	if so, ok := c.sub(o, "sla_policy"); ok {
		j = j.WithSLAPolicy(c.sla(so))
	}
	if set("executor_config") {
		eo, _ := c.sub(o, "executor_config")
		name, _ := c.str(eo, "name")
		data, _ := c.str(eo, "data")
		j = j.WithExecutor(name, data)
	}
	for _, d := range o.binds {
		j = j.Bind(c.vars(o, d))
	}
	return j
}

func (c *converter) healthCheck(o *object) job.HealthCheck {
	hc := job.DefaultHealthCheck()
	if ho, ok := c.sub(o, "health_checker"); ok {
		switch {
		case ho.vals["shell"] != nil:
			so, _ := c.sub(ho, "shell")
			c.requireFields(so)
			cmd, _ := c.str(so, "shell_command")
			hc.Checker = job.ShellChecker(cmd)
		case ho.vals["http"] != nil:
			h, _ := c.sub(ho, "http")
			ep, _ := c.str(h, "endpoint")
			resp, _ := c.str(h, "expected_response")
			code, _ := c.intLit(h, "expected_response_code")
			hc.Checker = job.HTTPChecker(ep, resp, code)
		default:
			hc.Checker = job.HealthChecker{}
		}
	}
	if x, ok := c.floatLit(o, "initial_interval_secs"); ok {
		hc.InitialInterval = new(fseconds(x))
	}
	if x, ok := c.floatLit(o, "interval_secs"); ok {
		hc.Interval = fseconds(x)
	}
	if x, ok := c.floatLit(o, "timeout_secs"); ok {
		hc.Timeout = fseconds(x)
	}
	hc.MaxConsecutiveFailures, _ = c.intLit(o, "max_consecutive_failures")
	hc.MinConsecutiveSuccesses, _ = c.intLit(o, "min_consecutive_successes")
	return hc
}

func (c *converter) lifecycle(o *object) job.Lifecycle {
	h, ok := c.sub(o, "http")
	if !ok {
		return job.DisableLifecycle()
	}
	var l job.HTTPLifecycle
	l.Port, _ = c.str(h, "port")
	l.GracefulShutdownEndpoint, _ = c.str(h, "graceful_shutdown_endpoint")
	l.ShutdownEndpoint, _ = c.str(h, "shutdown_endpoint")
	g, _ := c.intLit(h, "graceful_shutdown_wait_secs")
	s, _ := c.intLit(h, "shutdown_wait_secs")
	l.GracefulShutdownWait, l.ShutdownWait = new(seconds(g)), new(seconds(s))
	return job.HTTPLifecycleConfig(l)
}

func (c *converter) update(o *object) job.Update {
	u := job.DefaultUpdate()
	u.BatchSize, _ = c.intLit(o, "batch_size")
	w, _ := c.intLit(o, "watch_secs")
	u.Watch = new(seconds(w))
	u.MaxPerShardFailures, _ = c.intLit(o, "max_per_shard_failures")
	u.MaxTotalFailures, _ = c.intLit(o, "max_total_failures")
	rollback, _ := c.boolLit(o, "rollback_on_failure")
	u.RollbackOnFailure = new(rollback)
	u.WaitForBatchCompletion, _ = c.boolLit(o, "wait_for_batch_completion")
	u.SLAAware, _ = c.boolLit(o, "sla_aware")
	if p, ok := c.intLit(o, "pulse_interval_secs"); ok {
		u.PulseInterval = seconds(p)
	}
	if so, ok := c.sub(o, "update_strategy"); ok {
		auto, _ := c.boolLit(so, "autopause_after_batch")
		switch so.sch {
		case c.a.queueStrategy:
			n, _ := c.intLit(so, "batch_size")
			u.Strategy = job.QueueStrategy(n)
		case c.a.batchStrategy:
			n, _ := c.intLit(so, "batch_size")
			u.Strategy = job.BatchStrategy(n, auto)
		default:
			c.requireFields(so)
			u.Strategy = job.VariableBatchStrategy(auto, c.intList(so, "batch_sizes")...)
		}
	}
	return u
}

func (c *converter) container(o *object) job.Container {
	params := func(d *object) []job.Parameter {
		var ps []job.Parameter
		for _, po := range c.objects(d, "parameters") {
			c.requireFields(po)
			n, _ := c.str(po, "name")
			v, _ := c.str(po, "value")
			ps = append(ps, job.Parameter{Name: n, Value: v})
		}
		return ps
	}
	switch o.sch {
	case c.a.container:
		d, ok := c.sub(o, "docker")
		if !ok {
			c.fail(o, "Container() needs docker = Docker(image = ...)")
			return job.Container{}
		}
		c.requireFields(d)
		img, _ := c.str(d, "image")
		return job.LegacyDockerContainer(img, params(d)...)
	case c.a.docker:
		c.requireFields(o)
		img, _ := c.str(o, "image")
		return job.DockerContainer(img, params(o)...)
	}
	var img *job.MesosImage
	if io, ok := c.sub(o, "image"); ok {
		c.requireFields(io)
		n, _ := c.str(io, "name")
		var mi job.MesosImage
		if io.sch == c.a.appcImage {
			id, _ := c.str(io, "image_id")
			mi = job.AppcImage(n, id)
		} else {
			tag, _ := c.str(io, "tag")
			mi = job.DockerImage(n, tag)
		}
		img = &mi
	}
	var vols []job.Volume
	for _, vo := range c.objects(o, "volumes") {
		c.requireFields(vo)
		cp, _ := c.str(vo, "container_path")
		hp, _ := c.str(vo, "host_path")
		m, _ := c.str(vo, "mode")
		vols = append(vols, job.Volume{ContainerPath: cp, HostPath: hp, Mode: job.VolumeMode(m)})
	}
	return job.MesosContainer(img, vols...)
}

func (c *converter) sla(o *object) job.SLAPolicy {
	c.requireFields(o)
	switch o.sch {
	case c.a.percentageSLA:
		p, _ := c.floatLit(o, "percentage")
		d, _ := c.intLit(o, "duration_secs")
		return job.PercentageSLA(p, seconds(d))
	case c.a.countSLA:
		n, _ := c.intLit(o, "count")
		d, _ := c.intLit(o, "duration_secs")
		return job.CountSLA(n, seconds(d))
	}
	url, _ := c.str(o, "coordinator_url")
	key, _ := c.str(o, "status_key")
	return job.CoordinatorSLA(url, key)
}
