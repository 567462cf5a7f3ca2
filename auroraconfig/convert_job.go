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
	if n, t, ok := c.integer(o, "max_failures"); ok {
		p = withInt(p, t, "max_failures", func() job.Process { return p.WithMaxFailures(n) }, p.WithTemplate)
	}
	if n, t, ok := c.integer(o, "min_duration"); ok {
		p = withInt(p, t, "min_duration", func() job.Process { return p.WithMinDuration(seconds(n)) }, p.WithTemplate)
	}
	for _, name := range []string{"daemon", "ephemeral", "final"} {
		if v, t, ok := c.boolean(o, name); ok {
			if t != "" {
				p = p.WithTemplate(name, t)
			} else if v {
				p = setBool(p, name, v)
			}
		}
	}
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

// withInt applies a literal with set, or a template with tmpl.
func withInt[T any](v T, t, field string, set func() T, tmpl func(string, string) T) T {
	if t != "" {
		return tmpl(field, t)
	}
	return set()
}

func setBool(p job.Process, name string, v bool) job.Process {
	switch name {
	case "daemon":
		return p.WithDaemon(v)
	case "ephemeral":
		return p.WithEphemeral(v)
	}
	return p.WithFinal(v)
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
	if v, ok := o.vals["name"]; ok {
		t = t.WithName(pyStr(v))
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
	for _, name := range []string{"max_failures", "max_concurrency", "finalization_wait"} {
		if _, set := o.vals[name]; !set {
			continue
		}
		if n, tm, ok := c.integer(o, name); ok {
			if tm != "" {
				t = t.WithTemplate(name, tm)
			} else {
				t = taskInt(t, name, n)
			}
		}
	}
	if u, ok := o.vals["user"]; ok {
		t = t.WithUser(pyStr(u))
	}
	for _, d := range o.binds {
		t = t.Bind(c.vars(o, d))
	}
	return t
}

func taskInt(t job.Task, name string, n int) job.Task {
	switch name {
	case "max_failures":
		return t.WithMaxFailures(n)
	case "max_concurrency":
		return t.WithMaxConcurrency(n)
	}
	return t.WithFinalizationWait(seconds(n))
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
