package thermos

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The generic half of the schema: an object[T] is the description of one
// Go struct T of the payload (schema.go), and the code below encodes and
// decodes any T from its description alone. Nothing here names a field of
// Aurora's schema.

// kind is the JSON shape of a field.
type kind uint8

const (
	kString    kind = iota // string
	kOptString             // *string, absent when nil
	kInt                   // int, an Integer
	kInt64                 // int64, an Integer
	kOptInt                // *int, absent when nil
	kFloat                 // float64, a Float
	kBool                  // bool, a Boolean
	kStrMap                // map[string]string, absent when nil
	kStrList               // []string, absent when nil
	kIntList               // []int, always written
	kNested                // an object, a list of objects or a choice (see nested)
)

// flags qualify a field.
type flags uint8

const (
	required flags = 1 << iota // Unmarshal fails without it
	tmpl                       // may hold a {{template}} (in the struct's Templates)
)

// field is one field of T: its JSON name, kind, flags, Aurora's default and
// how to reach it in a T.
type field[T any] struct {
	name  string
	kind  kind
	flags flags
	// key is `"name": `, written after ", " or "{".
	key string

	// Aurora's default, of the field's kind.
	defInt   int64
	defFloat float64
	defBool  bool
	defStr   string

	// The accessor of the field's kind.
	str     func(*T) *string
	optStr  func(*T) **string
	integer func(*T) *int
	int64   func(*T) *int64
	optInt  func(*T) **int
	float   func(*T) *float64
	boolean func(*T) *bool
	strMap  func(*T) *map[string]string
	strList func(*T) *[]string
	intList func(*T) *[]int
	nested  nested[T]

	// encode, if set, writes the value in place of the kind's writer.
	encode func(e *encoder, b []byte, t *T) []byte
}

// nested is a field holding an object, a list of objects or a choice.
type nested[T any] interface {
	// present reports whether the field is written.
	present(t *T) bool
	encode(e *encoder, b []byte, t *T) []byte
	decode(d *decoder, t *T)
	// setDefault sets Aurora's default in t.
	setDefault(t *T)
}

// object describes a struct T: its fields in the order their absence is
// reported, and the hooks for what the fields alone cannot say.
type object[T any] struct {
	fields []field[T]
	// sorted is the field indexes in key order, the order Marshal writes.
	sorted []int
	// index maps a JSON name to its field; names[i] is field i's name.
	index map[string]int
	names []string
	// templates returns T's Templates map, nil if T has none.
	templates func(*T) *Templates
	// templated is the sorted names of the fields that may hold a template.
	templated []string
	// extra decodes a key that is no field of T; false means unknown.
	extra func(d *decoder, t *T, key string) bool
	// finish runs after T was decoded and its required fields checked;
	// seen has bit i set for every field i present.
	finish func(d *decoder, t *T, seen uint64)
}

// newObject completes the description of T.
func newObject[T any](templates func(*T) *Templates, fields ...field[T]) *object[T] {
	o := &object[T]{fields: fields, templates: templates, index: make(map[string]int, len(fields))}
	if len(fields) > 64 {
		panic("thermos: an object of more than 64 fields")
	}
	for i := range o.fields {
		f := &o.fields[i]
		f.key = `"` + f.name + `": `
		o.index[f.name] = i
		o.names = append(o.names, f.name)
		o.sorted = append(o.sorted, i)
		if f.flags&tmpl != 0 {
			o.templated = append(o.templated, f.name)
		}
	}
	slices.SortFunc(o.sorted, func(a, b int) int { return strings.Compare(o.fields[a].name, o.fields[b].name) })
	slices.Sort(o.templated)
	return o
}

// setDefaults sets t to T's defaults: every field to Aurora's default.
func (o *object[T]) setDefaults(t *T) {
	var zero T
	*t = zero
	for i := range o.fields {
		f := &o.fields[i]
		switch f.kind {
		case kString:
			*f.str(t) = f.defStr
		case kInt:
			*f.integer(t) = int(f.defInt)
		case kInt64:
			*f.int64(t) = f.defInt
		case kFloat:
			*f.float(t) = f.defFloat
		case kBool:
			*f.boolean(t) = f.defBool
		case kNested:
			f.nested.setDefault(t)
		}
	}
}

// defaults returns a T with Aurora's defaults.
func (o *object[T]) defaults() T {
	t := new(T)
	o.setDefaults(t)
	return *t
}

// Field constructors. Options set the default and the flags.

type opt[T any] func(*field[T])

func with[T any](f field[T], opts []opt[T]) field[T] {
	for _, o := range opts {
		o(&f)
	}
	return f
}

func req[T any](f *field[T])       { f.flags |= required }
func templated[T any](f *field[T]) { f.flags |= tmpl }
func defInt[T any](v int64) opt[T] { return func(f *field[T]) { f.defInt = v } }
func defFloat[T any](v float64) opt[T] {
	return func(f *field[T]) { f.defFloat = v }
}
func defBool[T any](v bool) opt[T]  { return func(f *field[T]) { f.defBool = v } }
func defStr[T any](v string) opt[T] { return func(f *field[T]) { f.defStr = v } }

func strF[T any](name string, get func(*T) *string, opts ...opt[T]) field[T] {
	return with(field[T]{name: name, kind: kString, str: get}, opts)
}

func optStrF[T any](name string, get func(*T) **string, opts ...opt[T]) field[T] {
	return with(field[T]{name: name, kind: kOptString, optStr: get}, opts)
}

func intF[T any](name string, get func(*T) *int, opts ...opt[T]) field[T] {
	return with(field[T]{name: name, kind: kInt, integer: get}, opts)
}

func int64F[T any](name string, get func(*T) *int64, opts ...opt[T]) field[T] {
	return with(field[T]{name: name, kind: kInt64, int64: get}, opts)
}

func optIntF[T any](name string, get func(*T) **int, opts ...opt[T]) field[T] {
	return with(field[T]{name: name, kind: kOptInt, optInt: get}, opts)
}

func floatF[T any](name string, get func(*T) *float64, opts ...opt[T]) field[T] {
	return with(field[T]{name: name, kind: kFloat, float: get}, opts)
}

func boolF[T any](name string, get func(*T) *bool, opts ...opt[T]) field[T] {
	return with(field[T]{name: name, kind: kBool, boolean: get}, opts)
}

func strMapF[T any](name string, get func(*T) *map[string]string, opts ...opt[T]) field[T] {
	return with(field[T]{name: name, kind: kStrMap, strMap: get}, opts)
}

func strListF[T any](name string, get func(*T) *[]string, opts ...opt[T]) field[T] {
	return with(field[T]{name: name, kind: kStrList, strList: get}, opts)
}

func intListF[T any](name string, get func(*T) *[]int, opts ...opt[T]) field[T] {
	return with(field[T]{name: name, kind: kIntList, intList: get}, opts)
}

func nestedF[T any](name string, n nested[T], opts ...opt[T]) field[T] {
	return with(field[T]{name: name, kind: kNested, nested: n}, opts)
}

// valueOf is a struct field of type U inside T, always present: an object
// when present in JSON starts from U's defaults, and def (if not nil) is
// the field's default when absent, where it differs from U's defaults.
type valueOf[T, U any] struct {
	get func(*T) *U
	c   codec[U]
	def func() U
}

func (n valueOf[T, U]) present(*T) bool { return true }
func (n valueOf[T, U]) encode(e *encoder, b []byte, t *T) []byte {
	return n.c.encode(e, b, n.get(t))
}
func (n valueOf[T, U]) decode(d *decoder, t *T) {
	u := n.get(t)
	n.c.setDefaults(u)
	n.c.decode(d, u)
}
func (n valueOf[T, U]) setDefault(t *T) {
	if n.def != nil {
		*n.get(t) = n.def()
	} else {
		n.c.setDefaults(n.get(t))
	}
}

// pointerTo is an optional *U inside T, absent when nil.
type pointerTo[T, U any] struct {
	get func(*T) **U
	c   codec[U]
}

func (n pointerTo[T, U]) present(t *T) bool { return *n.get(t) != nil }
func (n pointerTo[T, U]) encode(e *encoder, b []byte, t *T) []byte {
	return n.c.encode(e, b, *n.get(t))
}
func (n pointerTo[T, U]) decode(d *decoder, t *T) {
	u := new(U)
	n.c.setDefaults(u)
	n.c.decode(d, u)
	*n.get(t) = u
}
func (n pointerTo[T, U]) setDefault(t *T) { *n.get(t) = nil }

// listOf is a []U inside T, always written ([] when nil). Its default is
// the empty list, or nil if the field is required.
type listOf[T, U any] struct {
	get      func(*T) *[]U
	c        codec[U]
	nilFirst bool
}

func (n listOf[T, U]) present(*T) bool { return true }
func (n listOf[T, U]) encode(e *encoder, b []byte, t *T) []byte {
	b = append(b, '[')
	for i := range *n.get(t) {
		if i > 0 {
			b = append(b, ", "...)
		}
		e.path.pushIdx(i)
		b = n.c.encode(e, b, &(*n.get(t))[i])
		e.path.pop()
	}
	return append(b, ']')
}
func (n listOf[T, U]) decode(d *decoder, t *T) {
	l := n.get(t)
	*l = []U{}
	d.array(func(int) {
		var zero U
		*l = append(*l, zero)
		u := &(*l)[len(*l)-1]
		n.c.setDefaults(u)
		n.c.decode(d, u)
	})
}
func (n listOf[T, U]) setDefault(t *T) {
	if n.nilFirst {
		*n.get(t) = nil
	} else {
		*n.get(t) = []U{}
	}
}

// codec is what valueOf, pointerTo and listOf need of U: an object[U] or a
// choice.
type codec[U any] interface {
	encode(e *encoder, b []byte, u *U) []byte
	decode(d *decoder, u *U)
	setDefaults(u *U)
}

// encode writes t as a JSON object, keys sorted.
func (o *object[T]) encode(e *encoder, b []byte, t *T) []byte {
	var tm Templates
	if o.templates != nil {
		tm = *o.templates(t)
		if len(tm) > 0 {
			e.checkTemplates(tm, o.templated)
		}
	}
	b = append(b, '{')
	first := true
	for _, i := range o.sorted {
		f := &o.fields[i]
		switch f.kind {
		case kOptString:
			if *f.optStr(t) == nil {
				continue
			}
		case kOptInt:
			if *f.optInt(t) == nil {
				continue
			}
		case kStrMap:
			if f.encode == nil && *f.strMap(t) == nil {
				continue
			}
		case kStrList:
			if *f.strList(t) == nil {
				continue
			}
		case kNested:
			if !f.nested.present(t) {
				continue
			}
		}
		if !first {
			b = append(b, ", "...)
		}
		first = false
		b = append(b, f.key...)
		if tm != nil && f.flags&tmpl != 0 {
			if s, ok := tm[f.name]; ok {
				b = appendString(b, s)
				continue
			}
		}
		if f.encode != nil {
			b = f.encode(e, b, t)
			continue
		}
		switch f.kind {
		case kString:
			b = appendString(b, *f.str(t))
		case kOptString:
			b = appendString(b, **f.optStr(t))
		case kInt:
			b = strconv.AppendInt(b, int64(*f.integer(t)), 10)
		case kInt64:
			b = strconv.AppendInt(b, *f.int64(t), 10)
		case kOptInt:
			b = strconv.AppendInt(b, int64(**f.optInt(t)), 10)
		case kFloat:
			b = e.float(b, f.name, *f.float(t))
		case kBool:
			b = strconv.AppendBool(b, *f.boolean(t))
		case kStrMap:
			b = appendStringMap(b, *f.strMap(t))
		case kStrList:
			b = append(b, '[')
			for k, s := range *f.strList(t) {
				if k > 0 {
					b = append(b, ", "...)
				}
				b = appendString(b, s)
			}
			b = append(b, ']')
		case kIntList:
			b = append(b, '[')
			for k, n := range *f.intList(t) {
				if k > 0 {
					b = append(b, ", "...)
				}
				b = strconv.AppendInt(b, int64(n), 10)
			}
			b = append(b, ']')
		case kNested:
			e.path.push(f.name)
			b = f.nested.encode(e, b, t)
			e.path.pop()
		}
	}
	return append(b, '}')
}

// decode reads a JSON object into t, which holds T's defaults. A null
// value counts as absent.
func (o *object[T]) decode(d *decoder, t *T) {
	var keys, seen uint64 // fields written, fields written non-null
	var tm *Templates
	if o.templates != nil {
		tm = o.templates(t)
	}
	d.objectFields(o.index, o.names, func(i int, key string) {
		if i < 0 {
			if d.null() {
				return
			}
			if o.extra == nil || !o.extra(d, t, key) {
				d.unknown()
			}
			return
		}
		if keys&(1<<i) != 0 {
			d.failAt("", ErrDuplicateField)
			return
		}
		keys |= 1 << i
		if d.null() {
			return
		}
		seen |= 1 << i
		o.decodeValue(d, t, &o.fields[i], tm)
	})
	if d.err != nil {
		return
	}
	for i := range o.fields {
		if o.fields[i].flags&required != 0 && seen&(1<<i) == 0 {
			d.failAt(o.fields[i].name, ErrRequired)
			return
		}
	}
	if o.finish != nil {
		o.finish(d, t, seen)
	}
}

// decodeField decodes the value of the field named key into t.
func (o *object[T]) decodeField(d *decoder, t *T, key string) {
	var tm *Templates
	if o.templates != nil {
		tm = o.templates(t)
	}
	o.decodeValue(d, t, &o.fields[o.index[key]], tm)
}

// decodeValue decodes the value of field f into t; tm is t's Templates.
func (o *object[T]) decodeValue(d *decoder, t *T, f *field[T], tm *Templates) {
	var ft *Templates
	if f.flags&tmpl != 0 {
		ft = tm
	}
	switch f.kind {
	case kString:
		*f.str(t) = d.str()
	case kOptString:
		s := d.str()
		*f.optStr(t) = &s
	case kInt:
		d.intField(f.integer(t), ft, f.name)
	case kInt64:
		d.int64Field(f.int64(t), ft, f.name)
	case kOptInt:
		var v int
		d.intField(&v, nil, f.name)
		*f.optInt(t) = &v
	case kFloat:
		d.floatField(f.float(t), ft, f.name)
	case kBool:
		d.boolField(f.boolean(t), ft, f.name)
	case kStrMap:
		*f.strMap(t) = d.stringMap()
	case kStrList:
		l := []string{}
		d.array(func(int) { l = append(l, d.str()) })
		*f.strList(t) = l
	case kIntList:
		l := []int{}
		d.array(func(int) {
			var n int
			d.intField(&n, nil, "")
			l = append(l, n)
		})
		*f.intList(t) = l
	case kNested:
		f.nested.decode(d, t)
	}
}

// has reports whether the field named name was in seen.
func (o *object[T]) has(seen uint64, name string) bool {
	return seen&(1<<o.index[name]) != 0
}

// float writes a Float field, rejecting what JSON cannot hold.
func (e *encoder) float(b []byte, name string, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		e.fail(name, fmt.Errorf("%v is not a JSON number: %w", v, ErrInvalid))
		return append(b, '0')
	}
	return appendFloat(b, v)
}
