package thermos

import (
	"reflect"
	"unsafe"
)

// The nested fields of an object: a struct value (valueOf), an optional
// pointer (pointerTo) and a list (listOf) of an object or a choice, each a
// nested[T] of the object holding it.

// valueOf is a struct field of type U inside T, always present: an object
// when present in JSON starts from U's defaults, and def (if not nil) is
// the field's default when absent, where it differs from U's defaults.
type valueOf[T, U any] struct {
	get func(*T) *U
	c   codec[U]
	def func() U
}

func (n valueOf[T, U]) walk(w *walker, p unsafe.Pointer) { n.c.walk(w, p) }
func (n valueOf[T, U]) plan() (*plan, shape, uintptr) {
	return n.c.planOf(), shapeValue, unsafe.Sizeof(*new(U))
}
func (n valueOf[T, U]) offset() uintptr { return offsetOf(n.get) }
func (n valueOf[T, U]) encode(e *encoder, b []byte, p unsafe.Pointer) []byte {
	return n.c.encode(e, b, (*U)(p))
}
func (n valueOf[T, U]) decode(d *decoder, t *T) {
	u := n.get(t)
	if n.def != nil {
		// The field holds def, not U's defaults, which the object in
		// the JSON starts from. (Otherwise T's defaults hold U's.)
		n.c.setDefaults(u)
	}
	n.c.decode(d, u)
}
func (n valueOf[T, U]) setDefault(t *T) {
	if n.def != nil {
		*n.get(t) = n.def()
	} else {
		n.c.setDefaults(n.get(t))
	}
}
func (n valueOf[T, U]) fresh() bool    { return n.def != nil || n.c.needsFresh() }
func (n valueOf[T, U]) optional() bool { return false }
func (n valueOf[T, U]) describe() (reflect.Type, shape, []reflect.Type) {
	return reflect.TypeFor[U](), shapeValue, n.c.alternatives()
}

// pointerTo is an optional *U inside T, absent when nil.
type pointerTo[T, U any] struct {
	get func(*T) **U
	c   codec[U]
}

func (n pointerTo[T, U]) walk(w *walker, p unsafe.Pointer) {
	if u := *(**U)(p); u != nil {
		n.c.walk(w, unsafe.Pointer(u))
	}
}
func (n pointerTo[T, U]) plan() (*plan, shape, uintptr) {
	return n.c.planOf(), shapePointer, unsafe.Sizeof(*new(U))
}
func (n pointerTo[T, U]) offset() uintptr { return offsetOf(n.get) }
func (n pointerTo[T, U]) encode(e *encoder, b []byte, p unsafe.Pointer) []byte {
	return n.c.encode(e, b, *(**U)(p))
}
func (n pointerTo[T, U]) decode(d *decoder, t *T) {
	u := new(U)
	n.c.setDefaults(u)
	n.c.decode(d, u)
	*n.get(t) = u
}
func (n pointerTo[T, U]) setDefault(t *T) { *n.get(t) = nil }
func (n pointerTo[T, U]) fresh() bool     { return false }
func (n pointerTo[T, U]) optional() bool  { return true }
func (n pointerTo[T, U]) describe() (reflect.Type, shape, []reflect.Type) {
	return reflect.TypeFor[U](), shapePointer, n.c.alternatives()
}

// listOf is a []U inside T, always written ([] when nil). Its default is
// the empty list (which T's prototype can share: it has no elements to
// change), or nil if nilFirst.
type listOf[T, U any] struct {
	get      func(*T) *[]U
	c        codec[U]
	nilFirst bool
}

func (n listOf[T, U]) walk(w *walker, p unsafe.Pointer) {
	l := *(*[]U)(p)
	for i := range l {
		w.path.pushIdx(i)
		n.c.walk(w, unsafe.Pointer(&l[i]))
		w.path.pop()
	}
}
func (n listOf[T, U]) plan() (*plan, shape, uintptr) {
	return n.c.planOf(), shapeList, unsafe.Sizeof(*new(U))
}
func (n listOf[T, U]) offset() uintptr { return offsetOf(n.get) }
func (n listOf[T, U]) encode(e *encoder, b []byte, p unsafe.Pointer) []byte {
	l := *(*[]U)(p)
	b = append(b, '[')
	for i := range l {
		if i > 0 {
			b = append(b, ", "...)
		}
		e.path.pushIdx(i)
		b = n.c.encode(e, b, &l[i])
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
func (n listOf[T, U]) fresh() bool    { return false }
func (n listOf[T, U]) optional() bool { return false }
func (n listOf[T, U]) describe() (reflect.Type, shape, []reflect.Type) {
	return reflect.TypeFor[U](), shapeList, n.c.alternatives()
}

// codec is what valueOf, pointerTo and listOf need of U: an object[U] or a
// choice.
type codec[U any] interface {
	encode(e *encoder, b []byte, u *U) []byte
	decode(d *decoder, u *U)
	setDefaults(u *U)
	// needsFresh reports whether U's defaults hold pointers.
	needsFresh() bool
	// walk visits the U at p (see Walk).
	walk(w *walker, p unsafe.Pointer)
	// planOf returns U's plan if U is an object, nil for a choice.
	planOf() *plan
	// alternatives returns a choice's alternatives, the described
	// structs whose object may stand in it; nil for an object.
	alternatives() []reflect.Type
}
