package auroraconfig

import (
	"strconv"

	"go.starlark.net/starlark"

	"github.com/nixrealis/nixrealis/internal/mapkeys"
	"github.com/nixrealis/nixrealis/job"
)

func (c *converter) process(o *object, path string) job.Process {
	c.at(path, o)
	c.requireFields(o)
	name, _ := c.str(o, "name")
	cmd, _ := c.str(o, "cmdline")
	p := job.NewProcess(name, cmd)
	p = scalars(c, o, p, processScalars, o.sch == c.a.process, job.Process.WithTemplate)
	if lo, ok := c.sub(o, "logger"); ok {
		p = p.WithLogger(c.logger(lo))
	}
	if ro, ok := c.sub(o, "resources"); ok {
		c.at(join(path, "resources"), ro)
		r, tmpl := c.resources(ro)
		p = p.WithResources(r)
		for _, k := range mapkeys.Sorted(tmpl) {
			p = p.WithTemplate(k, tmpl[k])
		}
	}
	for _, d := range o.binds {
		p = p.Bind(c.vars(o, d))
	}
	return p
}

func (c *converter) logger(o *object) job.Logger {
	var l job.Logger
	if d, ok := c.str(o, "destination"); ok {
		l.Destination = job.LoggerDestination(d)
	}
	if m, ok := c.str(o, "mode"); ok {
		l.Mode = job.LoggerMode(m)
	}
	if ro, ok := c.sub(o, "rotate"); ok {
		size, _ := c.intLit(ro, "log_size")
		backups, _ := c.intLit(ro, "backups")
		l.Rotate = &job.RotatePolicy{LogSize: job.Bytes(size), Backups: backups}
	}
	return l
}

func (c *converter) task(o *object, path string) job.Task {
	c.at(path, o)
	var t job.Task
	if m := o.merge; m != nil {
		parts := make([]job.Task, len(m.tasks))
		for i, p := range m.tasks {
			parts[i] = c.task(p, "")
		}
		if m.concat {
			t = job.Concat(parts...)
		} else {
			t = job.Combine(parts...)
		}
	} else {
		t = job.NewTask("")
	}
	if _, ok := o.vals["processes"]; ok {
		procs := c.objects(o, "processes")
		jp := make([]job.Process, len(procs))
		for i, p := range procs {
			jp[i] = c.process(p, indexed(path, "processes", i))
		}
		t = t.WithProcesses(jp...)
	}
	if _, ok := o.vals["constraints"]; ok {
		cons := c.objects(o, "constraints")
		jc := make([]job.Constraint, 0, len(cons))
		for _, co := range cons {
			var names []string
			if l, ok := co.vals["order"].(*starlark.List); ok {
				for i := 0; i < l.Len(); i++ {
					names = append(names, pyStr(l.Index(i)))
				}
			}
			jc = append(jc, job.Order(names...))
		}
		t = t.WithConstraints(jc...)
	}
	if _, ok := o.vals["resources"]; ok {
		ro, _ := c.sub(o, "resources")
		c.at(join(path, "resources"), ro)
		r, tmpl := c.resources(ro)
		t = t.WithResources(r)
		for _, k := range mapkeys.Sorted(tmpl) {
			t = t.WithTemplate(k, tmpl[k])
		}
	}
	t = scalars(c, o, t, taskScalars, true, job.Task.WithTemplate)
	for _, d := range o.binds {
		t = t.Bind(c.vars(o, d))
	}
	return t
}

func join(path, field string) string {
	if path == "" {
		return ""
	}
	return path + "." + field
}

func indexed(path, field string, i int) string {
	if path == "" {
		return ""
	}
	return path + "." + field + "[" + strconv.Itoa(i) + "]"
}
