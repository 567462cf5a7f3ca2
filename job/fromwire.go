package job

import (
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/nixrealis/nixrealis/thermos"
)

// The mechanical part of FromThermos, driven by thermos' description of
// the payload (thermos.Describe) instead of a list of its fields: a
// payload field reaches this package's value of the same Go name — a
// field of a plain struct (Resources, Logger, Update, HealthCheck, ...),
// or the With method of a builder (Process.WithMaxFailures for
// thermos.Process.MaxFailures). A payload's "...Secs" field fills a
// time.Duration named without the suffix; a time.Duration parameter takes
// the payload's seconds; optional values and pointers are followed or
// made. What is not mechanical (a different name or shape, templates,
// lists of builders, choices) FromThermos does by hand, naming those
// fields in byHand; a field that has no place and is not byHand is
// returned, and FromThermos reports it.

// fromWire returns the D (a plain struct of this package) holding the
// payload struct src (a value or a non-nil pointer), and the names of
// src's fields that had no place in D.
func fromWire[D any](src any, byHand ...string) (D, []string) {
	var d D
	unplaced := fill(reflect.ValueOf(&d).Elem(), reflect.Indirect(reflect.ValueOf(src)), byHand)
	return d, unplaced
}

// fill sets the fields of dv (a settable plain struct) from the payload
// struct sv, by Go name; it returns the names of sv's fields, not byHand,
// that had no place in dv.
func fill(dv, sv reflect.Value, byHand []string) []string {
	info, ok := thermos.Describe(sv.Type())
	if !ok {
		return []string{"(" + sv.Type().String() + " is not described)"}
	}
	var unplaced []string
	for _, tf := range info.Fields {
		fv := sv.FieldByName(tf.GoName)
		if slices.Contains(byHand, tf.Name) || tf.Optional && fv.IsNil() {
			continue
		}
		df := dv.FieldByName(tf.GoName)
		if !df.IsValid() {
			df = dv.FieldByName(strings.TrimSuffix(tf.GoName, "Secs"))
		}
		if !df.IsValid() || !df.CanSet() || !convertInto(df, fv) {
			unplaced = append(unplaced, tf.Name)
		}
	}
	return unplaced
}

// withField returns b (a Process, Task or Job) with the payload field of
// Go name goName set to v through b's With method, and whether b has one
// that takes v.
func withField[B any](b B, goName string, v reflect.Value) (B, bool) {
	m := reflect.ValueOf(b).MethodByName("With" + goName)
	if !m.IsValid() || m.Type().NumIn() != 1 || m.Type().IsVariadic() || m.Type().NumOut() != 1 {
		return b, false
	}
	arg := reflect.New(m.Type().In(0)).Elem()
	if !convertInto(arg, v) {
		return b, false
	}
	out, ok := m.Call([]reflect.Value{arg})[0].Interface().(B)
	if !ok {
		return b, false
	}
	return out, true
}

// withFields sets on b, through its With methods, every field of the
// payload struct src that is not byHand and holds a value; it returns the
// names of those b has no With method for.
func withFields[B any](b B, src any, byHand ...string) (B, []string) {
	sv := reflect.Indirect(reflect.ValueOf(src))
	info, _ := thermos.Describe(sv.Type())
	var unplaced []string
	for _, tf := range info.Fields {
		fv := sv.FieldByName(tf.GoName)
		if slices.Contains(byHand, tf.Name) || tf.Optional && fv.IsNil() {
			continue
		}
		var ok bool
		if b, ok = withField(b, tf.GoName, fv); !ok {
			unplaced = append(unplaced, tf.Name)
		}
	}
	return b, unplaced
}

var durationType = reflect.TypeFor[time.Duration]()

// convertInto sets dst (settable) to the payload value src, converted:
// a pointer is followed or made, seconds become a time.Duration, a
// described payload struct becomes the plain struct dst is (fromWire), a
// map is copied, and a scalar is converted to dst's kind of the same
// family (a string to a string type, an integer to an integer type, ...).
// It reports whether it could.
func convertInto(dst, src reflect.Value) bool {
	if src.Kind() == reflect.Pointer {
		if src.IsNil() {
			return true
		}
		src = src.Elem()
	}
	if dst.Kind() == reflect.Pointer {
		p := reflect.New(dst.Type().Elem())
		if !convertInto(p.Elem(), src) {
			return false
		}
		dst.Set(p)
		return true
	}
	st, dt := src.Type(), dst.Type()
	switch {
	case dt == durationType && src.CanInt():
		dst.Set(reflect.ValueOf(dur(int(src.Int()))))
	case dt == durationType && src.CanFloat():
		dst.Set(reflect.ValueOf(fdur(src.Float())))
	case dt.Kind() == reflect.Struct:
		v := reflect.New(dt).Elem()
		if len(fill(v, src, nil)) > 0 {
			return false
		}
		dst.Set(v)
	case st.Kind() == reflect.Map && dt.Kind() == reflect.Map && st.ConvertibleTo(dt):
		if !src.IsNil() {
			m := reflect.MakeMapWithSize(dt, src.Len())
			for it := src.MapRange(); it.Next(); {
				m.SetMapIndex(it.Key(), it.Value())
			}
			dst.Set(m)
		}
	case sameFamily(st.Kind(), dt.Kind()):
		dst.Set(src.Convert(dt))
	default:
		return false
	}
	return true
}

func sameFamily(a, b reflect.Kind) bool {
	family := func(k reflect.Kind) int {
		switch k {
		case reflect.String:
			return 1
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return 2
		case reflect.Float32, reflect.Float64:
			return 3
		case reflect.Bool:
			return 4
		}
		return 0
	}
	return family(a) != 0 && family(a) == family(b)
}

// unplaced records the payload fields under path FromThermos found no
// place for (a field added to thermos' schema without its counterpart
// here, which TestFromConfigKeepsEveryField catches first).
func (l *errorList) unplaced(path string, names []string) {
	for _, n := range names {
		if path != "" {
			n = path + "." + n
		}
		l.add(n, ErrInvalid, "FromThermos has no place for this payload field: add it to package job (a With method or a field of the same Go name)")
	}
}
