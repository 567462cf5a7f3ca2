package thermos

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"unsafe"
)

// Running a description (codec.go): encoding any T by walking its plan,
// decoding it field by field with Aurora's defaults and template checks.

func (o *object[T]) planOf() *plan { return &o.plan }

// encode writes t as a JSON object, keys sorted.
func (o *object[T]) encode(e *encoder, b []byte, t *T) []byte {
	return o.plan.encode(e, b, unsafe.Pointer(t))
}

// encode writes the object at base as a JSON object, keys sorted.
func (pl *plan) encode(e *encoder, b []byte, base unsafe.Pointer) []byte {
	var tm Templates
	if pl.hasTemplates {
		tm = *(*Templates)(unsafe.Add(base, pl.tmplOff))
		if len(tm) > 0 {
			e.checkTemplates(tm, pl.templated)
		} else {
			tm = nil
		}
	}
	b = append(b, '{')
	start := len(b)
	if !pl.dynFirst {
		start = -1 // fields[0] is always written, its key has no ", "
	}
	fields := pl.fields
	for i := range fields {
		f := &fields[i]
		p := unsafe.Add(base, f.off)
		if f.opt && *(*unsafe.Pointer)(p) == nil {
			continue // absent: a nil pointer, map or slice
		}
		if f.klen > 0 && len(b) != start {
			n := len(b)
			if cap(b)-n < keyPad {
				b = slices.Grow(b, keyPad)
			}
			*(*[keyPad]byte)(b[n : n+keyPad]) = f.kb
			b = b[:n+f.klen]
		} else {
			b = appendKey(b, start, f.key)
		}
		if f.tmpl && tm != nil {
			if s, ok := tm[f.name]; ok {
				b = appendString(b, s)
				continue
			}
		}
		switch f.kind {
		case kString: // the commonest kinds, written here without a call
			b = appendString(b, *(*string)(p))
		case kInt:
			if v := *(*int)(p); uint(v) < 10 {
				b = append(b, byte('0'+v)) // most counts are one digit
			} else {
				b = strconv.AppendInt(b, int64(v), 10)
			}
		case kBool:
			if *(*bool)(p) {
				b = append(b, "true"...)
			} else {
				b = append(b, "false"...)
			}
		case kNested:
			e.path.push(f.name)
			switch {
			case f.sub == nil:
				b = f.nested.encode(e, b, p)
			case f.shape == shapeValue:
				b = f.sub.encode(e, b, p)
			case f.shape == shapePointer:
				b = f.sub.encode(e, b, *(*unsafe.Pointer)(p))
			default:
				b = f.sub.encodeList(e, b, p, f.size)
			}
			e.path.pop()
		case kCustom:
			b = f.custom(e, b, base)
		default:
			b = e.scalar(b, f.kind, p, f.name)
		}
	}
	return append(b, '}')
}

// encodeList writes the []U at p, U of the given size, as a JSON array
// of objects.
func (pl *plan) encodeList(e *encoder, b []byte, p unsafe.Pointer, size uintptr) []byte {
	h := (*struct {
		data     unsafe.Pointer
		len, cap int
	})(p)
	b = append(b, '[')
	for i := range h.len {
		if i > 0 {
			b = append(b, ", "...)
		}
		e.path.pushIdx(i)
		b = pl.encode(e, b, unsafe.Add(h.data, uintptr(i)*size))
		e.path.pop()
	}
	return append(b, ']')
}

// scalar writes the value of a field of kind k (neither kNested nor
// kCustom) at p; name is its JSON name, for errors.
func (e *encoder) scalar(b []byte, k kind, p unsafe.Pointer, name string) []byte {
	switch k {
	case kString:
		return appendString(b, *(*string)(p))
	case kInt:
		return strconv.AppendInt(b, int64(*(*int)(p)), 10)
	case kInt64:
		return strconv.AppendInt(b, *(*int64)(p), 10)
	case kFloat:
		return e.float(b, name, *(*float64)(p))
	case kBool:
		return strconv.AppendBool(b, *(*bool)(p))
	case kOptString:
		return appendString(b, **(**string)(p))
	case kOptInt:
		return strconv.AppendInt(b, int64(**(**int)(p)), 10)
	case kStrMap:
		return appendStringMap(b, *(*map[string]string)(p))
	case kStrList:
		b = append(b, '[')
		for k, s := range *(*[]string)(p) {
			if k > 0 {
				b = append(b, ", "...)
			}
			b = appendString(b, s)
		}
		return append(b, ']')
	case kIntList:
		b = append(b, '[')
		for k, n := range *(*[]int)(p) {
			if k > 0 {
				b = append(b, ", "...)
			}
			b = strconv.AppendInt(b, int64(n), 10)
		}
		return append(b, ']')
	}
	panic("thermos: no scalar kind")
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
		*at[string](t, f.off) = d.str()
	case kOptString:
		s := d.str()
		*at[*string](t, f.off) = &s
	case kInt:
		d.intField(at[int](t, f.off), ft, f.name)
	case kInt64:
		d.int64Field(at[int64](t, f.off), ft, f.name)
	case kOptInt:
		var v int
		d.intField(&v, nil, f.name)
		*at[*int](t, f.off) = &v
	case kFloat:
		d.floatField(at[float64](t, f.off), ft, f.name)
	case kBool:
		d.boolField(at[bool](t, f.off), ft, f.name)
	case kStrMap:
		*at[map[string]string](t, f.off) = d.stringMap()
	case kStrList:
		l := []string{}
		d.array(func(int) { l = append(l, d.str()) })
		*at[[]string](t, f.off) = l
	case kIntList:
		l := []int{}
		d.array(func(int) {
			var n int
			d.intField(&n, nil, "")
			l = append(l, n)
		})
		*at[[]int](t, f.off) = l
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
