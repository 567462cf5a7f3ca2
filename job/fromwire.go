package job

import (
	"reflect"
	"slices"
	"strings"

	"github.com/nixrealis/nixrealis/internal/withset"
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
		if b, ok = withset.With(b, tf.GoName, fv, convertInto); !ok {
			unplaced = append(unplaced, tf.Name)
		}
	}
	return b, unplaced
}

// convertInto sets dst (settable) to the payload value src, converted:
// a described payload struct becomes the plain struct dst is (fill), a
// map is copied, a scalar is converted as withset.Scalar does (pointers
// followed or made, seconds to a time.Duration, the same family of kind).
// It reports whether it could.
func convertInto(dst, src reflect.Value) bool {
	if src.Kind() == reflect.Pointer {
		if src.IsNil() {
			return true
		}
		src = src.Elem()
	}
	if dst.Kind() == reflect.Pointer && dst.Type().Elem().Kind() == reflect.Struct {
		p := reflect.New(dst.Type().Elem())
		if !convertInto(p.Elem(), src) {
			return false
		}
		dst.Set(p)
		return true
	}
	switch st, dt := src.Type(), dst.Type(); {
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
	default:
		return withset.Scalar(dst, src)
	}
	return true
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
