package auroraconfig

import (
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// Aurora's helpers (aurora src/main/python/apache/thermos/config/
// schema_helpers.py): order, SequentialTask, SimpleTask, Tasks.concat and
// Tasks.combine.

func (a *auroraSchema) helpers() starlark.StringDict {
	order := starlark.NewBuiltin("order", a.order)
	seq := starlark.NewBuiltin("SequentialTask", a.sequentialTask)
	simple := starlark.NewBuiltin("SimpleTask", a.simpleTask)
	concat := starlark.NewBuiltin("concat_tasks", a.mergeTasks(true))
	combine := starlark.NewBuiltin("combine_tasks", a.mergeTasks(false))
	return starlark.StringDict{
		"order": order, "SequentialTask": seq, "SimpleTask": simple,
		"concat_tasks": concat, "combine_tasks": combine,
		"Tasks": starlarkstruct.FromStringDict(starlark.String("Tasks"), starlark.StringDict{
			"concat": concat, "combine": combine, "simple": simple, "sequential": seq,
		}),
		"Processes": starlarkstruct.FromStringDict(starlark.String("Processes"), starlark.StringDict{
			"order": order,
		}),
	}
}

// order returns [Constraint(order=[names])] for processes or names.
func (a *auroraSchema) order(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(kwargs) > 0 {
		return nil, errorf("order() takes processes or process names, not keyword arguments")
	}
	names := make([]starlark.Value, 0, len(args))
	for _, x := range args {
		switch v := x.(type) {
		case starlark.String:
			names = append(names, v)
		case *object:
			if v.sch != a.process {
				return nil, errorf("Unknown value for process order: %s (give Process objects or names)", v)
			}
			n, ok := v.get("name")
			if !ok {
				return nil, errorf("order(): a process without a name cannot be ordered")
			}
			names = append(names, n)
		default:
			return nil, errorf("Unknown value for process order: %s (give Process objects or names)", x)
		}
	}
	c := &object{sch: a.constraint, vals: map[string]starlark.Value{"order": starlark.NewList(names)}, pos: callPos(thread)}
	return starlark.NewList([]starlark.Value{c}), nil
}

// sequentialTask is Task(...) whose processes run one after the other.
func (a *auroraSchema) sequentialTask(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	t, err := newObject(thread, a.task, args, kwargs)
	if err != nil {
		return nil, err
	}
	if cs, ok := t.vals["constraints"]; ok {
		if l, ok := cs.(*starlark.List); ok && l.Len() > 0 {
			return nil, errorf("Cannot turn a Task with existing constraints into a SequentialTask!")
		}
	}
	var procs starlark.Tuple
	if pl, ok := t.vals["processes"].(*starlark.List); ok {
		for i := 0; i < pl.Len(); i++ {
			procs = append(procs, pl.Index(i))
		}
	}
	cs, err := a.order(thread, nil, procs, nil)
	if err != nil {
		return nil, err
	}
	t.vals["constraints"] = cs
	return t, nil
}

// simpleTask is SimpleTask(name, command): one process, 1 CPU, 1 GiB of
// RAM and disk.
func (a *auroraSchema) simpleTask(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name, command starlark.Value
	if err := starlark.UnpackArgs("SimpleTask", args, kwargs, "name", &name, "command", &command); err != nil {
		return nil, err
	}
	p, err := newObject(thread, a.process, nil, []starlark.Tuple{{s("name"), name}, {s("cmdline"), command}})
	if err != nil {
		return nil, err
	}
	r := &object{sch: a.resources, vals: map[string]starlark.Value{"cpu": f(1), "ram": i(1 << 30), "disk": i(1 << 30)}}
	return newObject(thread, a.task, nil, []starlark.Tuple{
		{s("name"), name}, {s("processes"), starlark.NewList([]starlark.Value{p})}, {s("resources"), r}})
}

// mergeTasks is Tasks.concat (concat) or Tasks.combine: the merge itself is
// job.Concat / job.Combine, applied when the job is built; keyword
// arguments then override fields of the merged task.
func (a *auroraSchema) mergeTasks(concat bool) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if len(args) == 0 {
			return nil, errorf("%s() needs at least one task", b.Name())
		}
		m := &mergeSpec{concat: concat}
		for _, x := range args {
			t, ok := x.(*object)
			if !ok || t.sch != a.task {
				return nil, errorf("%s(): got %s, want a Task", b.Name(), describe(x))
			}
			m.tasks = append(m.tasks, t)
		}
		o := &object{sch: a.task, vals: map[string]starlark.Value{}, pos: callPos(thread), merge: m}
		return o.update(nil, kwargs)
	}
}
