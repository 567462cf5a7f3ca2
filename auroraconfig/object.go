package auroraconfig

import (
	"fmt"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// schema is a Pystachio Struct class: ordered fields with their types and
// defaults.
type schema struct {
	name   string
	fields []field
	index  map[string]int
	typ    *ptype // the class as a value
}

type field struct {
	name string
	fieldDecl
}

func newSchema(name string, fields ...field) *schema {
	s := &schema{name: name, fields: fields, index: make(map[string]int, len(fields))}
	for i, f := range fields {
		s.index[f.name] = i
	}
	s.typ = &ptype{kind: kStruct, name: name, sch: s}
	return s
}

// Field constructors for the schema tables.
func req(name string, t *ptype) field { return field{name, fieldDecl{typ: t, required: true}} }
func opt(name string, t *ptype) field { return field{name, fieldDecl{typ: t}} }
func def(name string, t *ptype, v starlark.Value) field {
	return field{name, fieldDecl{typ: t, def: v}}
}

func (s *schema) field(name string) (*field, bool) {
	i, ok := s.index[name]
	if !ok {
		return nil, false
	}
	return &s.fields[i], true
}

// object is an instance of a Struct class. It is immutable: calling it or
// binding it derives a copy.
type object struct {
	sch   *schema
	vals  map[string]starlark.Value // fields set explicitly
	binds []starlark.StringDict     // .bind() arguments, in call order
	pos   syntax.Position           // where it was made
	// merge, for a Task made by Tasks.concat/combine, holds the tasks it
	// merges; vals then hold only the keyword arguments applied after.
	merge *mergeSpec
}

type mergeSpec struct {
	concat bool
	tasks  []*object
}

var (
	_ starlark.Callable = (*object)(nil)
	_ starlark.HasAttrs = (*object)(nil)
)

func callPos(thread *starlark.Thread) syntax.Position {
	if thread == nil {
		return syntax.Position{}
	}
	for d := 1; d < thread.CallStackDepth(); d++ {
		if fr := thread.CallFrame(d); fr.Pos.IsValid() && fr.Pos.Filename() != "<builtin>" {
			return fr.Pos
		}
	}
	return syntax.Position{}
}

func newObject(thread *starlark.Thread, s *schema, args starlark.Tuple, kwargs []starlark.Tuple) (*object, error) {
	o := &object{sch: s, vals: make(map[string]starlark.Value, len(kwargs)), pos: callPos(thread)}
	return o.update(args, kwargs)
}

// get returns the value of field name: set, or its default; ok is false if
// it has neither.
func (o *object) get(name string) (starlark.Value, bool) {
	if v, ok := o.vals[name]; ok {
		return v, true
	}
	if f, ok := o.sch.field(name); ok && f.def != nil {
		return f.def, true
	}
	return nil, false
}

// update returns a copy of o with the fields of a positional dict and of
// keyword arguments set.
func (o *object) update(args starlark.Tuple, kwargs []starlark.Tuple) (*object, error) {
	c := o.clone()
	for _, a := range args {
		d, ok := a.(*starlark.Dict)
		if !ok {
			if other, ok := a.(*object); ok && other.sch == o.sch {
				for k, v := range other.vals {
					c.vals[k] = v
				}
				continue
			}
			return nil, errorf("%s() takes keyword arguments (or a dict), got %s", o.sch.name, describe(a))
		}
		for _, item := range d.Items() {
			k, ok := item[0].(starlark.String)
			if !ok {
				return nil, errorf("%s(): dict keys must be field names", o.sch.name)
			}
			if err := c.set(string(k), item[1]); err != nil {
				return nil, err
			}
		}
	}
	for _, kv := range kwargs {
		if err := c.set(string(kv[0].(starlark.String)), kv[1]); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (o *object) set(name string, v starlark.Value) error {
	f, ok := o.sch.field(name)
	if !ok {
		return &userError{msg: fmt.Sprintf("Unknown schema attribute %s: %s has no field %q (its fields: %s)",
			name, o.sch.name, name, strings.Join(o.sch.fieldNames(), ", "))}
	}
	if v == emptyValue || v == starlark.None {
		delete(o.vals, name)
		return nil
	}
	c, err := coerce(f.typ, v, o.sch.name+"."+name)
	if err != nil {
		return err
	}
	o.vals[name] = c
	return nil
}

func (s *schema) fieldNames() []string {
	names := make([]string, len(s.fields))
	for i, f := range s.fields {
		names[i] = f.name
	}
	sort.Strings(names)
	return names
}

func (o *object) clone() *object {
	c := *o
	c.vals = make(map[string]starlark.Value, len(o.vals)+2)
	for k, v := range o.vals {
		c.vals[k] = v
	}
	c.binds = o.binds[:len(o.binds):len(o.binds)]
	return &c
}

func (o *object) String() string {
	var b strings.Builder
	b.WriteString(o.sch.name)
	b.WriteByte('(')
	first := true
	for _, f := range o.sch.fields {
		v, ok := o.vals[f.name]
		if !ok {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(f.name)
		b.WriteByte('=')
		b.WriteString(pyStr(v))
	}
	b.WriteByte(')')
	return b.String()
}

func (o *object) Type() string          { return o.sch.name }
func (o *object) Freeze()               {}
func (o *object) Truth() starlark.Bool  { return true }
func (o *object) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: %s", o.sch.name) }
func (o *object) Name() string          { return o.sch.name }

// CallInternal derives a copy with more fields set: job_template(cluster='c').
func (o *object) CallInternal(thread *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	c, err := o.update(args, kwargs)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Attr gives each field as a method returning its value (Pystachio's
// obj.name()), and bind, copy, has_FIELD.
func (o *object) Attr(name string) (starlark.Value, error) {
	switch name {
	case "bind":
		return starlark.NewBuiltin("bind", o.bind), nil
	case "copy":
		return starlark.NewBuiltin("copy", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			return o.clone(), nil
		}), nil
	}
	if f, ok := strings.CutPrefix(name, "has_"); ok {
		if _, known := o.sch.field(f); known {
			_, set := o.vals[f]
			return starlark.NewBuiltin(name, func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
				return starlark.Bool(set), nil
			}), nil
		}
	}
	if _, ok := o.sch.field(name); ok {
		v, set := o.get(name)
		if !set {
			v = emptyValue
		}
		return starlark.NewBuiltin(name, func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			return v, nil
		}), nil
	}
	return nil, &userError{msg: fmt.Sprintf("Unknown schema attribute %s: %s has no field %q", name, o.sch.name, name)}
}

func (o *object) AttrNames() []string {
	return append(o.sch.fieldNames(), "bind", "copy")
}

// bind returns a copy with bindings added (Pystachio's .bind(): keyword
// arguments or dicts; later bindings win).
func (o *object) bind(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	d := make(starlark.StringDict, len(kwargs))
	for _, a := range args {
		m, ok := a.(*starlark.Dict)
		if !ok {
			return nil, errorf("bind() takes keyword arguments or dicts, got %s", describe(a))
		}
		for _, item := range m.Items() {
			k, ok := item[0].(starlark.String)
			if !ok {
				return nil, errorf("bind(): names must be strings, got %s", describe(item[0]))
			}
			d[string(k)] = item[1]
		}
	}
	for _, kv := range kwargs {
		d[string(kv[0].(starlark.String))] = kv[1]
	}
	c := o.clone()
	c.binds = append(c.binds, d)
	return c, nil
}

func objectFromDict(s *schema, d *starlark.Dict) (*object, error) {
	o := &object{sch: s, vals: make(map[string]starlark.Value)}
	return o.update(starlark.Tuple{d}, nil)
}
