package thermos

import (
	"reflect"
	"slices"
	"strings"
	"unsafe"
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
	kCustom                // in encField only: a field with its own encode
)

// flags qualify a field.
type flags uint8

const (
	required flags = 1 << iota // Unmarshal fails without it
	tmpl                       // may hold a {{template}} (in the struct's Templates)
)

// field is one field of T: its JSON name, kind, flags, Aurora's default and
// where it is in a T.
type field[T any] struct {
	name  string
	kind  kind
	flags flags
	// key is `, "name": `; the first field written drops the ", ".
	key string
	// off is the field's offset in T, taken once from the accessor the
	// description gives (see offsetOf), so that encoding and decoding
	// reach the field without a call.
	off uintptr

	// Aurora's default, of the field's kind.
	defInt   int64
	defFloat float64
	defBool  bool
	defStr   string

	// nested is the codec of a kNested field.
	nested nested[T]

	// encode, if set, writes the value in place of the kind's writer.
	encode func(e *encoder, b []byte, t *T) []byte
}

// at returns the field of type F at offset off in t.
func at[F, T any](t *T, off uintptr) *F { return (*F)(unsafe.Add(unsafe.Pointer(t), off)) }

// offsetOf returns the offset in T of the field get returns. It panics,
// when the package is initialised, if get returns anything but a field of
// its argument.
func offsetOf[T, F any](get func(*T) *F) uintptr {
	t := new(T)
	base, p := uintptr(unsafe.Pointer(t)), uintptr(unsafe.Pointer(get(t)))
	if p < base || p+unsafe.Sizeof(*new(F)) > base+unsafe.Sizeof(*t) {
		panic("thermos: a field accessor returns no field of its struct")
	}
	return p - base
}

// appendKey appends key, `, "name": `, without the ", " if b is at start
// (nothing written yet in the object).
func appendKey(b []byte, start int, key string) []byte {
	if len(b) == start {
		return append(b, key[2:]...)
	}
	return append(b, key...)
}

// encField is a field as the encoder needs it, independent of the struct
// type, so that one non-generic loop (plan.encode) writes every object.
type encField struct {
	key string
	// kb is key padded to keyPad bytes (when it fits, klen > 0), copied
	// in one fixed-size move instead of a call to memmove.
	kb   [keyPad]byte
	klen int
	off  uintptr
	kind kind
	// tmpl: the field may hold a template; opt: it is absent when the
	// pointer, map or slice at off is nil.
	tmpl, opt bool
	name      string
	// nested writes a kNested field, custom a kCustom one.
	nested interface {
		encode(e *encoder, b []byte, p unsafe.Pointer) []byte
	}
	custom func(e *encoder, b []byte, p unsafe.Pointer) []byte
	// sub, for a nested object (not a choice), is its plan, written in
	// place without the calls through nested; shape says how it is held
	// and size is its size (the stride of a list).
	sub   *plan
	shape shape
	size  uintptr
}

// keyPad is the size of encField.kb.
const keyPad = 32

// shape is how a nested object is held in its parent.
type shape uint8

const (
	shapeValue   shape = iota // U
	shapePointer              // *U
	shapeList                 // []U
)

// plan is how Marshal writes an object: its fields in key order.
type plan struct {
	fields []encField
	// dynFirst reports whether fields[0] may be absent, so that the first
	// key written is known only when writing; otherwise fields[0].key has
	// no ", ".
	dynFirst bool
	// hasTemplates and tmplOff locate the struct's Templates map;
	// templated is the sorted names of the fields that may hold one.
	hasTemplates bool
	tmplOff      uintptr
	templated    []string
}

// nested is a field holding an object, a list of objects or a choice.
type nested[T any] interface {
	// offset is the field's offset in T.
	offset() uintptr
	// encode writes the field at p (its address in a T); an optional
	// field's caller skips it when its pointer is nil.
	encode(e *encoder, b []byte, p unsafe.Pointer) []byte
	decode(d *decoder, t *T)
	// setDefault sets Aurora's default in t.
	setDefault(t *T)
	// walk visits the field at p (see Walk).
	walk(w *walker, p unsafe.Pointer)
	// plan returns the plan of the object the field holds (nil for a
	// choice), how the field holds it, and its size.
	plan() (*plan, shape, uintptr)
	// optional reports whether the field is a pointer, absent when nil.
	optional() bool
	// fresh reports whether the default must be made anew for every T
	// (it holds pointers); otherwise T's prototype holds it.
	fresh() bool
	// describe returns the Go type of the object or choice the field
	// holds, how it holds it, and a choice's alternatives (describe.go).
	describe() (reflect.Type, shape, []reflect.Type)
}

// object describes a struct T: its fields in the order their absence is
// reported, and the hooks for what the fields alone cannot say.
type object[T any] struct {
	fields []field[T]
	// plan is the fields in key order, the order Marshal writes.
	plan plan
	// index maps a JSON name to its field; names[i] is field i's name.
	index map[string]int
	names []string
	// templates returns T's Templates map, nil if T has none.
	templates func(*T) *Templates
	// templated is the sorted names of the fields that may hold a template.
	templated []string
	// templatedInOrder is the same names in the order of fields.
	templatedInOrder []string
	// proto is a T holding Aurora's defaults, copied by setDefaults; fresh
	// lists the fields whose default holds pointers and is made anew.
	proto T
	fresh []int
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
		f.key = `, "` + f.name + `": `
		o.index[f.name] = i
		o.names = append(o.names, f.name)
		if f.flags&tmpl != 0 {
			o.templated = append(o.templated, f.name)
			o.templatedInOrder = append(o.templatedInOrder, f.name)
		}
		if f.kind == kNested && f.nested.fresh() {
			o.fresh = append(o.fresh, i)
		}
	}
	for i := range o.fields {
		f := &o.fields[i]
		ef := encField{key: f.key, off: f.off, kind: f.kind, tmpl: f.flags&tmpl != 0, name: f.name}
		switch {
		case f.encode != nil:
			ef.kind = kCustom
			enc := f.encode
			ef.custom = func(e *encoder, b []byte, p unsafe.Pointer) []byte { return enc(e, b, (*T)(p)) }
		case f.kind == kOptString, f.kind == kOptInt, f.kind == kStrMap, f.kind == kStrList:
			ef.opt = true
		case f.kind == kNested:
			ef.opt = f.nested.optional()
			ef.nested = f.nested
			ef.sub, ef.shape, ef.size = f.nested.plan()
		}
		o.plan.fields = append(o.plan.fields, ef)
	}
	pl := &o.plan
	slices.SortFunc(pl.fields, func(a, b encField) int { return strings.Compare(a.name, b.name) })
	if len(pl.fields) > 0 {
		pl.dynFirst = pl.fields[0].opt
		if !pl.dynFirst {
			pl.fields[0].key = pl.fields[0].key[2:]
		}
	}
	for i := range o.plan.fields {
		f := &o.plan.fields[i]
		if len(f.key) <= keyPad {
			f.klen = copy(f.kb[:], f.key)
		}
	}
	if templates != nil {
		pl.hasTemplates, pl.tmplOff = true, offsetOf(templates)
	}
	slices.Sort(o.templated)
	pl.templated = o.templated
	o.initDefaults(&o.proto)
	objects[reflect.TypeFor[T]()] = o
	return o
}

// initDefaults sets every field of t to Aurora's default, from the
// description; newObject keeps the result as T's prototype.
func (o *object[T]) initDefaults(t *T) {
	var zero T
	*t = zero
	for i := range o.fields {
		f := &o.fields[i]
		switch f.kind {
		case kString:
			*at[string](t, f.off) = f.defStr
		case kInt:
			*at[int](t, f.off) = int(f.defInt)
		case kInt64:
			*at[int64](t, f.off) = f.defInt
		case kFloat:
			*at[float64](t, f.off) = f.defFloat
		case kBool:
			*at[bool](t, f.off) = f.defBool
		case kNested:
			f.nested.setDefault(t)
		}
	}
}

// setDefaults sets t to T's defaults: every field to Aurora's default.
func (o *object[T]) setDefaults(t *T) {
	*t = o.proto
	for _, i := range o.fresh {
		o.fields[i].nested.setDefault(t)
	}
}

// needsFresh reports whether T's defaults hold pointers (made anew by
// setDefaults).
func (o *object[T]) needsFresh() bool { return len(o.fresh) > 0 }

// defaults returns a T with Aurora's defaults.
func (o *object[T]) defaults() T {
	if len(o.fresh) == 0 {
		return o.proto
	}
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

func encodeWith[T any](enc func(e *encoder, b []byte, t *T) []byte) opt[T] {
	return func(f *field[T]) { f.encode = enc }
}

func strF[T any](name string, get func(*T) *string, opts ...opt[T]) field[T] {
	return with(field[T]{name: name, kind: kString, off: offsetOf(get)}, opts)
}

func optStrF[T any](name string, get func(*T) **string, opts ...opt[T]) field[T] {
	return with(field[T]{name: name, kind: kOptString, off: offsetOf(get)}, opts)
}

func intF[T any](name string, get func(*T) *int, opts ...opt[T]) field[T] {
	return with(field[T]{name: name, kind: kInt, off: offsetOf(get)}, opts)
}

func int64F[T any](name string, get func(*T) *int64, opts ...opt[T]) field[T] {
	return with(field[T]{name: name, kind: kInt64, off: offsetOf(get)}, opts)
}

func optIntF[T any](name string, get func(*T) **int, opts ...opt[T]) field[T] {
	return with(field[T]{name: name, kind: kOptInt, off: offsetOf(get)}, opts)
}

func floatF[T any](name string, get func(*T) *float64, opts ...opt[T]) field[T] {
	return with(field[T]{name: name, kind: kFloat, off: offsetOf(get)}, opts)
}

func boolF[T any](name string, get func(*T) *bool, opts ...opt[T]) field[T] {
	return with(field[T]{name: name, kind: kBool, off: offsetOf(get)}, opts)
}

func strMapF[T any](name string, get func(*T) *map[string]string, opts ...opt[T]) field[T] {
	return with(field[T]{name: name, kind: kStrMap, off: offsetOf(get)}, opts)
}

func strListF[T any](name string, get func(*T) *[]string, opts ...opt[T]) field[T] {
	return with(field[T]{name: name, kind: kStrList, off: offsetOf(get)}, opts)
}

func intListF[T any](name string, get func(*T) *[]int, opts ...opt[T]) field[T] {
	return with(field[T]{name: name, kind: kIntList, off: offsetOf(get)}, opts)
}

func nestedF[T any](name string, n nested[T], opts ...opt[T]) field[T] {
	return with(field[T]{name: name, kind: kNested, nested: n, off: n.offset()}, opts)
}

// alternatives is nil: an object is no choice.
func (o *object[T]) alternatives() []reflect.Type { return nil }
