package job

import (
	"maps"
	"reflect"
	"slices"
	"time"
)

// Constraint is an order constraint: the named processes run one after the
// other, in the given order.
type Constraint struct {
	order []string
}

// Order returns the constraint that runs the named processes in order
// (Aurora's order('a', 'b')). Names may be templates.
func Order(names ...string) Constraint { return Constraint{order: slices.Clone(names)} }

// OrderProcesses returns the constraint that runs procs in order, by name
// (Aurora's order(a, b) with Process values).
func OrderProcesses(procs ...Process) Constraint {
	names := make([]string, len(procs))
	for i, p := range procs {
		names[i] = p.name
	}
	return Constraint{order: names}
}

// Names returns a copy of the process names the constraint orders.
func (c Constraint) Names() []string { return slices.Clone(c.order) }

// Task is a set of processes run together in one sandbox, with their
// ordering, resources and failure policy. It is an immutable value: every
// With/Add method returns a modified copy. The zero Task has Aurora's
// defaults, like NewTask: what a With method has not set is Aurora's
// default.
type Task struct {
	name             string
	processes        []Process
	constraints      []Constraint
	resources        *Resources
	maxFailures      opt[int]
	maxConcurrency   int
	finalizationWait opt[time.Duration]
	user             *string
	vars             []Vars
	templates        map[string]string
}

// NewTask returns a task with the given processes and Aurora's defaults:
// max_failures 1, max_concurrency 0 (unlimited), finalization_wait 30s, no
// constraints and no resources (Build requires resources). An empty name
// means Aurora's default, the first process's name.
func NewTask(name string, procs ...Process) Task {
	return Task{name: name, processes: slices.Clone(procs)}
}

// SimpleTask returns Aurora's SimpleTask(name, command): one process of
// that name running command, with 1 CPU, 1 GiB RAM and 1 GiB disk.
func SimpleTask(name, command string) Task {
	return NewTask(name, NewProcess(name, command)).WithResources(NewResources(1, GiB, GiB))
}

// SequentialTask returns a task that runs procs one after the other: a task
// whose only constraint orders all processes in the given order (Aurora's
// SequentialTask).
func SequentialTask(name string, procs ...Process) Task {
	return NewTask(name, procs...).WithConstraints(OrderProcesses(procs...))
}

// Name returns the task name as written ("" = the first process's name).
func (t Task) Name() string { return t.name }

// Processes returns a copy of the task's processes.
func (t Task) Processes() []Process { return slices.Clone(t.processes) }

// Constraints returns a copy of the task's order constraints.
func (t Task) Constraints() []Constraint { return slices.Clone(t.constraints) }

// Resources returns the task's resources and whether they are set.
func (t Task) Resources() (Resources, bool) {
	if t.resources == nil {
		return Resources{}, false
	}
	return *t.resources, true
}

// WithName returns t renamed. "" restores the default (first process name).
func (t Task) WithName(name string) Task { t.name = name; return t }

// WithProcesses returns t with exactly procs as its processes.
func (t Task) WithProcesses(procs ...Process) Task { t.processes = slices.Clone(procs); return t }

// AddProcesses returns t with procs appended to its processes.
func (t Task) AddProcesses(procs ...Process) Task {
	t.processes = append(slices.Clip(t.processes), procs...)
	return t
}

// WithConstraints returns t with exactly cs as its order constraints.
func (t Task) WithConstraints(cs ...Constraint) Task { t.constraints = slices.Clone(cs); return t }

// AddConstraints returns t with cs appended to its order constraints.
func (t Task) AddConstraints(cs ...Constraint) Task {
	t.constraints = append(slices.Clip(t.constraints), cs...)
	return t
}

// WithResources returns t with the given resources. A later call replaces
// them.
func (t Task) WithResources(r Resources) Task { t.resources = &r; return t }

// WithMaxFailures returns t with the number of process failures after which
// the task fails (0 = never).
func (t Task) WithMaxFailures(n int) Task { t.maxFailures = some(n); return t }

// WithMaxConcurrency returns t running at most n processes at once
// (0 = unlimited).
func (t Task) WithMaxConcurrency(n int) Task { t.maxConcurrency = n; return t }

// WithFinalizationWait returns t with the time its finalizing processes get
// (whole seconds).
func (t Task) WithFinalizationWait(d time.Duration) Task { t.finalizationWait = some(d); return t }

// WithUser returns t run as the given user (Aurora's Task.user).
func (t Task) WithUser(user string) Task { t.user = &user; return t }

// Bind returns t with template values visible to the task and its
// processes (see Process.Bind). Later calls win.
func (t Task) Bind(vars Vars) Task {
	t.vars = bind(t.vars, vars)
	return t
}

// WithTemplate returns t with a template in place of a numeric field, by
// its Aurora name: one of thermos.TemplatedFields(&thermos.Task{})
// ("max_failures", "max_concurrency", "finalization_wait") or "resources."
// and one of thermos.TemplatedFields(&thermos.Resources{}) ("cpu", "ram",
// "disk", "gpu"); see Process.WithTemplate.
func (t Task) WithTemplate(field, template string) Task {
	t.templates = cloneSet(t.templates, field, template)
	return t
}

// Combine merges tasks into one that runs all their processes in parallel
// (Aurora's Tasks.combine / combine_tasks): the last task is the base (name,
// failure policy, user), processes and constraints are the de-duplicated
// union, resources are summed per dimension and finalization_wait is the
// maximum. With no tasks it returns the zero Task.
func Combine(tasks ...Task) Task {
	return merge(tasks, false)
}

// Concat merges tasks into one that runs them one after the other (Aurora's
// Tasks.concat / concat_tasks): like Combine, but resources are the
// per-dimension maximum, finalization_wait is the sum, and every process of
// task k is ordered before every process of task k+1 by one two-element
// order constraint per pair.
func Concat(tasks ...Task) Task {
	return merge(tasks, true)
}

func merge(tasks []Task, concat bool) Task {
	if len(tasks) == 0 {
		return Task{}
	}
	base := tasks[len(tasks)-1]
	out := base
	out.processes = nil
	out.constraints = nil
	out.templates = maps.Clone(base.templates)
	out.vars = slices.Clone(base.vars)
	var res Resources
	var wait time.Duration
	for i, t := range tasks {
		for _, p := range t.processes {
			if !slices.ContainsFunc(out.processes, func(q Process) bool { return processEqual(p, q) }) {
				out.processes = append(out.processes, p)
			}
		}
		for _, c := range t.constraints {
			out.constraints = addConstraint(out.constraints, c)
		}
		var r Resources
		if t.resources != nil {
			r = *t.resources
		}
		if concat {
			res.CPU = max(res.CPU, r.CPU)
			res.RAM = max(res.RAM, r.RAM)
			res.Disk = max(res.Disk, r.Disk)
			res.GPU = max(res.GPU, r.GPU)
			wait += t.FinalizationWait()
		} else {
			res.CPU += r.CPU
			res.RAM += r.RAM
			res.Disk += r.Disk
			res.GPU += r.GPU
			if i == 0 || t.FinalizationWait() > wait {
				wait = t.FinalizationWait()
			}
		}
	}
	if concat {
		for k := 0; k+1 < len(tasks); k++ {
			for _, p1 := range tasks[k].processes {
				for _, p2 := range tasks[k+1].processes {
					if p1.name != p2.name {
						out.constraints = addConstraint(out.constraints, Order(p1.name, p2.name))
					}
				}
			}
		}
	}
	out.resources = &res
	out.finalizationWait = some(wait)
	return out
}

func addConstraint(cs []Constraint, c Constraint) []Constraint {
	for _, d := range cs {
		if slices.Equal(d.order, c.order) {
			return cs
		}
	}
	return append(cs, c)
}

func processEqual(a, b Process) bool {
	if a.name != b.name || a.cmdline != b.cmdline || a.MaxFailures() != b.MaxFailures() ||
		a.daemon != b.daemon || a.ephemeral != b.ephemeral || a.final != b.final ||
		a.MinDuration() != b.MinDuration() || !maps.Equal(a.templates, b.templates) ||
		!reflect.DeepEqual(a.vars, b.vars) {
		return false
	}
	if (a.logger == nil) != (b.logger == nil) || (a.resources == nil) != (b.resources == nil) {
		return false
	}
	if a.logger != nil {
		la, lb := *a.logger, *b.logger
		if la.Destination != lb.Destination || la.Mode != lb.Mode || (la.Rotate == nil) != (lb.Rotate == nil) ||
			la.Rotate != nil && la.Rotate.canonical() != lb.Rotate.canonical() {
			return false
		}
	}
	if a.resources != nil && *a.resources != *b.resources {
		return false
	}
	return true
}

// MaxFailures returns the number of process failures after which the task
// fails.
func (t Task) MaxFailures() int { return t.maxFailures.or(defaultTaskMaxFailures) }

// MaxConcurrency returns the number of processes run at once (0 = no limit).
func (t Task) MaxConcurrency() int { return t.maxConcurrency }

// FinalizationWait returns the time finalizing processes get.
func (t Task) FinalizationWait() time.Duration { return t.finalizationWait.or(defaultFinalizationWait) }

// User returns the user the task runs as, if set.
func (t Task) User() (string, bool) {
	if t.user == nil {
		return "", false
	}
	return *t.user, true
}
