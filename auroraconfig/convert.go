package auroraconfig

import (
	"fmt"
	"math"
	"strings"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/nixrealis/nixrealis/job"
)

// converter turns a picked Job object into job values through the public
// job API. Templates in string fields pass through for job.Build to
// resolve; a template in a numeric or boolean field becomes WithTemplate.
// The first problem is kept in err, placed where the object was made.
type converter struct {
	a   *auroraSchema
	err *Error
	// pos maps job field paths ("task.processes[2]", "job" for the job
	// itself) to where their objects were made, to place Build's errors.
	pos map[string]syntax.Position
}

func (c *converter) at(path string, o *object) {
	if path == "" || o == nil || !o.pos.IsValid() {
		return
	}
	if c.pos == nil {
		c.pos = make(map[string]syntax.Position)
	}
	c.pos[path] = o.pos
}

// locate returns where the object holding the field at path was made:
// the longest recorded prefix of path, else the job.
func (c *converter) locate(path string) (syntax.Position, bool) {
	for p := path; p != ""; {
		if pos, ok := c.pos[p]; ok {
			return pos, true
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	pos, ok := c.pos["job"]
	return pos, ok
}

func (c *converter) fail(o *object, format string, args ...any) {
	if c.err == nil {
		c.err = &Error{Pos: fromSyntax(o.pos), Msg: fmt.Sprintf(format, args...)}
	}
}

// requireFields reports required fields o does not set.
func (c *converter) requireFields(o *object) {
	for _, f := range o.sch.fields {
		if f.required {
			if _, ok := o.vals[f.name]; !ok {
				c.fail(o, "%s.%s is required: set %s = ... where the %s is made", o.sch.name, f.name, f.name, o.sch.name)
			}
		}
	}
}

func (c *converter) str(o *object, name string) (string, bool) {
	v, ok := o.get(name)
	if !ok {
		return "", false
	}
	return pyStr(v), true
}

// field returns field name of o (set or default), or, with v nil, the
// template standing in for it.
func (c *converter) field(o *object, name string) (v starlark.Value, tmpl string, ok bool) {
	v, ok = o.get(name)
	if !ok {
		return nil, "", false
	}
	if t, isT := isTemplate(v); isT {
		return nil, t, true
	}
	return v, "", true
}

// number returns field name of o (set or default) as a float, or the
// template standing in for it.
func (c *converter) number(o *object, name string) (x float64, tmpl string, ok bool) {
	v, t, ok := c.field(o, name)
	if v == nil {
		return 0, t, ok
	}
	x, ok = c.float(o, name, v)
	return x, "", ok
}

// float is v, the value of field name of o, as a float.
func (c *converter) float(o *object, name string, v starlark.Value) (float64, bool) {
	switch n := v.(type) {
	case starlark.Int:
		i, exact := n.Int64()
		if !exact {
			c.fail(o, "%s.%s: %s is too large", o.sch.name, name, n)
			return 0, false
		}
		return float64(i), true
	case starlark.Float:
		return float64(n), true
	case starlark.Bool:
		if n {
			return 1, true
		}
		return 0, true
	}
	c.fail(o, "%s.%s: %s is not a number", o.sch.name, name, describe(v))
	return 0, false
}

// integer is number for Integer fields.
func (c *converter) integer(o *object, name string) (n int, tmpl string, ok bool) {
	v, t, ok := c.field(o, name)
	if v == nil {
		return 0, t, ok
	}
	if x, isInt := v.(starlark.Int); isInt {
		i, exact := x.Int64()
		if !exact || i > math.MaxInt64/2 || i < math.MinInt64/2 {
			c.fail(o, "%s.%s: %s is too large", o.sch.name, name, x)
			return 0, "", false
		}
		return int(i), "", true
	}
	f, ok := c.float(o, name, v)
	return int(f), "", ok
}

func (c *converter) boolean(o *object, name string) (b bool, tmpl string, ok bool) {
	v, t, ok := c.field(o, name)
	if v == nil {
		return false, t, ok
	}
	return bool(v.Truth()), "", true
}

// noTemplate reports a template in a field job cannot template.
func (c *converter) noTemplate(o *object, name, tmpl string) bool {
	if tmpl == "" {
		return true
	}
	c.fail(o, "%s.%s = %q: a template is not supported in this field: give a literal value", o.sch.name, name, tmpl)
	return false
}

func (c *converter) intLit(o *object, name string) (int, bool) {
	n, t, ok := c.integer(o, name)
	return n, ok && c.noTemplate(o, name, t)
}

func (c *converter) floatLit(o *object, name string) (float64, bool) {
	x, t, ok := c.number(o, name)
	return x, ok && c.noTemplate(o, name, t)
}

func (c *converter) boolLit(o *object, name string) (bool, bool) {
	x, t, ok := c.boolean(o, name)
	return x, ok && c.noTemplate(o, name, t)
}

func seconds(n int) time.Duration      { return time.Duration(n) * time.Second }
func fseconds(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }
func (c *converter) sub(o *object, name string) (*object, bool) {
	v, ok := o.get(name)
	if !ok {
		return nil, false
	}
	so, ok := v.(*object)
	return so, ok
}

// list returns field name of o (set or default) if it holds a list.
func (c *converter) list(o *object, name string) (*starlark.List, bool) {
	v, ok := o.get(name)
	if !ok {
		return nil, false
	}
	l, ok := v.(*starlark.List)
	return l, ok
}

func (c *converter) objects(o *object, name string) []*object {
	l, ok := c.list(o, name)
	if !ok {
		return nil
	}
	out := make([]*object, 0, l.Len())
	for i := 0; i < l.Len(); i++ {
		if so, ok := l.Index(i).(*object); ok {
			out = append(out, so)
		}
	}
	return out
}

func (c *converter) stringMap(o *object, name string) (map[string]string, bool) {
	v, ok := o.get(name)
	if !ok {
		return nil, false
	}
	d, ok := v.(*starlark.Dict)
	if !ok {
		return nil, false
	}
	m := make(map[string]string, d.Len())
	for _, item := range d.Items() {
		m[pyStr(item[0])] = pyStr(item[1])
	}
	return m, true
}

// vars converts .bind() arguments to job.Vars.
func (c *converter) vars(o *object, d starlark.StringDict) job.Vars {
	out := make(job.Vars, len(d))
	for k, v := range d {
		bv, ok := bindValue(v)
		if !ok {
			c.fail(o, "bind(%s = %s): a binding must be a string, number, boolean, Struct object, list or dict", k, describe(v))
			continue
		}
		if strings.Contains(k, ".") {
			setDotted(out, k, bv)
		} else {
			out[k] = bv
		}
	}
	return out
}

// bindValue converts a bound value: Struct objects become nested Vars of
// their fields (defaults included), so {{profile.x}} and sibling
// references inside them resolve as in Pystachio.
func bindValue(v starlark.Value) (any, bool) {
	switch x := v.(type) {
	case starlark.String:
		return string(x), true
	case starlark.Bool:
		return bool(x), true
	case starlark.Int:
		if n, ok := x.Int64(); ok {
			return n, true
		}
		return x.String(), true
	case starlark.Float:
		return float64(x), true
	case *object:
		m := job.Vars{}
		for _, f := range x.sch.fields {
			if fv, ok := x.get(f.name); ok {
				if bv, ok := bindValue(fv); ok {
					m[f.name] = bv
				}
			}
		}
		for _, d := range x.binds {
			for k, bvv := range d {
				if bv, ok := bindValue(bvv); ok {
					m[k] = bv
				}
			}
		}
		return m, true
	case *starlark.Dict:
		m := job.Vars{}
		for _, item := range x.Items() {
			if bv, ok := bindValue(item[1]); ok {
				m[pyStr(item[0])] = bv
			}
		}
		return m, true
	case *starlark.List:
		m := job.Vars{}
		for i := 0; i < x.Len(); i++ {
			if bv, ok := bindValue(x.Index(i)); ok {
				m[fmt.Sprint(i)] = bv
			}
		}
		return m, true
	case starlark.Tuple:
		return bindValue(starlark.NewList(x))
	}
	return nil, false
}

// resources converts a Resources object; templates are returned by field
// ("resources.cpu" → "{{cpus}}").
func (c *converter) resources(o *object) (job.Resources, map[string]string) {
	c.requireFields(o)
	var r job.Resources
	tmpl := map[string]string{}
	if x, t, ok := c.number(o, "cpu"); ok {
		r.CPU = x
		if t != "" {
			tmpl["resources.cpu"] = t
		}
	}
	for _, name := range []string{"ram", "disk", "gpu"} {
		n, t, ok := c.integer(o, name)
		if !ok {
			continue
		}
		if t != "" {
			tmpl["resources."+name] = t
			continue
		}
		switch name {
		case "ram":
			r.RAM = job.Bytes(n)
		case "disk":
			r.Disk = job.Bytes(n)
		case "gpu":
			r.GPU = n
		}
	}
	if len(o.binds) > 0 {
		c.fail(o, "bind() on a Resources object is not supported: bind on its Task or Job")
	}
	return r, tmpl
}

// intList returns a List(Integer) field as ints.
func (c *converter) intList(o *object, name string) []int {
	l, ok := c.list(o, name)
	if !ok {
		return nil
	}
	out := make([]int, 0, l.Len())
	for i := 0; i < l.Len(); i++ {
		x, isInt := l.Index(i).(starlark.Int)
		n, exact := x.Int64()
		if !isInt || !exact {
			c.fail(o, "%s.%s[%d]: %s is not an integer literal", o.sch.name, name, i, l.Index(i))
			return nil
		}
		out = append(out, int(n))
	}
	return out
}
