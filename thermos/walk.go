package thermos

import (
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unsafe"
)

// The schema, read by other packages: which fields of a payload struct may
// hold a template, a field's value by its JSON name, parsing a rendered
// template into its field, and a walk over every string and every
// Templates map of a payload. The job package's resolvers and FromThermos
// and thermosexec's run-time resolver use these instead of listing fields,
// so that a field added to schema.go reaches them too.

// described is what the functions below need of an object[T], for any T.
type described interface {
	templatedFields() []string
	fieldNames() []string
	newDefaults() any
	field(p unsafe.Pointer, name string) (any, bool)
	setField(p unsafe.Pointer, name, s string) error
	walk(w *walker, p unsafe.Pointer)
	describe() StructInfo
}

// objects maps every described struct type to its description; newObject
// fills it.
var objects = map[reflect.Type]described{}

// describedOf returns the description of the struct v points to.
func describedOf(v any) (described, unsafe.Pointer, bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil, nil, false
	}
	o, ok := objects[rv.Type().Elem()]
	if !ok {
		return nil, nil, false
	}
	return o, rv.UnsafePointer(), true
}

// TemplatedFields returns the JSON names of the fields of v, a pointer to
// a payload struct (*Job, *Task, *Process, *Resources, *HealthCheckConfig,
// ...), that may hold a {{template}} (the keys its Templates map may
// have), in the schema's order; nil for any other v.
func TemplatedFields(v any) []string {
	o, _, ok := describedOf(v)
	if !ok {
		return nil
	}
	return slices.Clone(o.templatedFields())
}

// FieldNames returns the JSON names of all the fields of v, a pointer to a
// payload struct, in the schema's order; nil for any other v.
func FieldNames(v any) []string {
	o, _, ok := describedOf(v)
	if !ok {
		return nil
	}
	return slices.Clone(o.fieldNames())
}

// Field returns the value of v's field named name (its JSON name) as a
// string, int, int64, float64 or bool, for the scalar fields of v, a
// pointer to a payload struct; ok is false if v has no such scalar field
// or it is an optional field that is not set.
func Field(v any, name string) (value any, ok bool) {
	o, p, ok := describedOf(v)
	if !ok {
		return nil, false
	}
	return o.field(p, name)
}

// ErrNotScalar is returned by SetField for a name that is no templated
// field of its struct.
var ErrNotScalar = errors.New("no templated field of that name")

// SetField parses s, the rendered text of a template, into v's templated
// field named name: an Integer in decimal (an optional leading +), a
// Float as strconv.ParseFloat reads it, a Boolean as true, false, 1 or 0
// in any case. The error says what s is not ("not an integer", "not a
// number", "not a boolean (true, false, 1 or 0)"), or wraps ErrNotScalar.
func SetField(v any, name, s string) error {
	o, p, ok := describedOf(v)
	if !ok {
		return ErrNotScalar
	}
	return o.setField(p, name, s)
}

// Visitor is what Walk calls. Either function may be nil.
type Visitor struct {
	// String is called with every string of the payload: string fields,
	// optional strings that are set, and the elements of string lists
	// (not the keys and values of maps). It may change *s.
	String func(path string, s *string) error
	// Templates is called with every struct that has a Templates map
	// (t may be nil or empty); owner is a pointer to the struct (for
	// TemplatedFields and SetField).
	Templates func(path string, t Templates, owner any) error
}

// Walk calls the visitor for v, a pointer to a payload struct, and every
// struct nested in it, depth first in the schema's order; path is v's JSON
// path ("" for a whole Job, or "task" for &j.Task), prefixed to the paths
// passed on. It stops at the first error and returns it.
func Walk(v any, path string, vis Visitor) error {
	o, p, ok := describedOf(v)
	if !ok {
		return &FieldError{Path: path, Err: errors.New("Walk: not a pointer to a payload struct")}
	}
	w := &walker{vis: vis}
	if path != "" {
		w.path.push(path)
	}
	o.walk(w, p)
	return w.err
}

type walker struct {
	vis  Visitor
	path pathStack
	err  error
}

func (w *walker) str(name string, s *string) {
	if w.err != nil || w.vis.String == nil {
		return
	}
	if name != "" {
		w.path.push(name)
		defer w.path.pop()
	}
	w.err = w.vis.String(w.path.String(), s)
}

func (o *object[T]) templatedFields() []string { return o.templatedInOrder }
func (o *object[T]) fieldNames() []string      { return o.names }
func (o *object[T]) newDefaults() any {
	t := o.defaults()
	return &t
}

func (o *object[T]) field(p unsafe.Pointer, name string) (any, bool) {
	i, ok := o.index[name]
	if !ok {
		return nil, false
	}
	f := &o.fields[i]
	fp := unsafe.Add(p, f.off)
	switch f.kind {
	case kString:
		return *(*string)(fp), true
	case kOptString:
		if s := *(**string)(fp); s != nil {
			return *s, true
		}
	case kInt:
		return *(*int)(fp), true
	case kInt64:
		return *(*int64)(fp), true
	case kOptInt:
		if n := *(**int)(fp); n != nil {
			return *n, true
		}
	case kFloat:
		return *(*float64)(fp), true
	case kBool:
		return *(*bool)(fp), true
	}
	return nil, false
}

func (o *object[T]) setField(p unsafe.Pointer, name, s string) error {
	i, ok := o.index[name]
	if !ok || o.fields[i].flags&tmpl == 0 {
		return ErrNotScalar
	}
	f := &o.fields[i]
	fp := unsafe.Add(p, f.off)
	switch f.kind {
	case kInt, kInt64:
		n, err := strconv.Atoi(strings.TrimPrefix(s, "+"))
		if err != nil {
			return errors.New("not an integer")
		}
		if f.kind == kInt {
			*(*int)(fp) = n
		} else {
			*(*int64)(fp) = int64(n)
		}
	case kFloat:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return errors.New("not a number")
		}
		*(*float64)(fp) = x
	case kBool:
		switch strings.ToLower(s) {
		case "true", "1":
			*(*bool)(fp) = true
		case "false", "0":
			*(*bool)(fp) = false
		default:
			return errors.New("not a boolean (true, false, 1 or 0)")
		}
	default:
		return ErrNotScalar
	}
	return nil
}

func (o *object[T]) walk(w *walker, p unsafe.Pointer) {
	t := (*T)(p)
	if o.templates != nil && w.vis.Templates != nil && w.err == nil {
		w.err = w.vis.Templates(w.path.String(), *o.templates(t), t)
	}
	for i := range o.fields {
		if w.err != nil {
			return
		}
		f := &o.fields[i]
		fp := unsafe.Add(p, f.off)
		switch f.kind {
		case kString:
			w.str(f.name, (*string)(fp))
		case kOptString:
			if s := *(**string)(fp); s != nil {
				w.str(f.name, s)
			}
		case kStrList:
			w.path.push(f.name)
			for k := range *(*[]string)(fp) {
				w.path.pushIdx(k)
				w.str("", &(*(*[]string)(fp))[k])
				w.path.pop()
			}
			w.path.pop()
		case kNested:
			w.path.push(f.name)
			f.nested.walk(w, fp)
			w.path.pop()
		}
	}
}
