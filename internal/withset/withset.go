// Package withset sets a field of an immutable builder (job.Process,
// job.Task, job.Job) through its With method, found by the Go name of the
// payload field it mirrors (thermos.Process.MaxFailures → WithMaxFailures),
// for the packages that follow thermos' description of the payload
// instead of listing its fields: job.FromThermos and auroraconfig's
// converter.
package withset

import (
	"reflect"
	"time"
)

// With returns b with its With<goName> method called with v, converted to
// the method's parameter by convert (Scalar if nil), and whether b has
// such a method (one parameter, returning a B) that v converts to.
func With[B any](b B, goName string, v reflect.Value, convert func(dst, src reflect.Value) bool) (B, bool) {
	if convert == nil {
		convert = Scalar
	}
	m := reflect.ValueOf(b).MethodByName("With" + goName)
	if !m.IsValid() || m.Type().NumIn() != 1 || m.Type().IsVariadic() || m.Type().NumOut() != 1 {
		return b, false
	}
	arg := reflect.New(m.Type().In(0)).Elem()
	if !convert(arg, v) {
		return b, false
	}
	out, ok := m.Call([]reflect.Value{arg})[0].Interface().(B)
	if !ok {
		return b, false
	}
	return out, true
}

var durationType = reflect.TypeFor[time.Duration]()

// Scalar sets dst (settable) to the scalar src: a pointer is followed (a
// nil one leaves dst) or made, a number of seconds becomes a
// time.Duration (Aurora's whole or fractional seconds), and otherwise src
// is converted to dst's type of the same family (a string to a string
// type, an integer to an integer type, a float to a float, a boolean to a
// boolean). It reports whether it could.
func Scalar(dst, src reflect.Value) bool {
	if src.Kind() == reflect.Pointer {
		if src.IsNil() {
			return true
		}
		src = src.Elem()
	}
	if dst.Kind() == reflect.Pointer {
		p := reflect.New(dst.Type().Elem())
		if !Scalar(p.Elem(), src) {
			return false
		}
		dst.Set(p)
		return true
	}
	switch {
	case dst.Type() == durationType && src.CanInt():
		dst.SetInt(src.Int() * int64(time.Second))
	case dst.Type() == durationType && src.CanFloat():
		dst.SetInt(int64(time.Duration(src.Float() * float64(time.Second))))
	case family(src.Kind()) != 0 && family(src.Kind()) == family(dst.Kind()):
		dst.Set(src.Convert(dst.Type()))
	default:
		return false
	}
	return true
}

func family(k reflect.Kind) int {
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

// Setter is B's With method for one payload field, resolved once (see
// For): the typed function for the kind of value it takes, so that
// setting costs a call, and With's reflective path for any other value.
type Setter[B any] struct {
	// Int is set if the method takes an int, or a time.Duration (the int
	// is then seconds).
	Int func(b B, n int) B
	// Float is set if it takes a float64, or a time.Duration (seconds).
	Float func(b B, x float64) B
	// Bool is set if it takes a bool.
	Bool func(b B, v bool) B
	// String is set if it takes a string.
	String func(b B, s string) B
	// Value calls it with v converted by convert (Scalar if nil), and
	// reports whether v converts.
	Value func(b B, v reflect.Value, convert func(dst, src reflect.Value) bool) (B, bool)
}

// For returns B's setters for the payload fields of the given Go names,
// by name; a name B has no With method for (one parameter, returning a B)
// is left out.
func For[B any](goNames ...string) map[string]Setter[B] {
	bt := reflect.TypeFor[B]()
	out := make(map[string]Setter[B], len(goNames))
	for _, name := range goNames {
		m, ok := bt.MethodByName("With" + name)
		if !ok || m.Type.NumIn() != 2 || m.Type.IsVariadic() || m.Type.NumOut() != 1 || m.Type.Out(0) != bt {
			continue
		}
		s := Setter[B]{Value: func(b B, v reflect.Value, convert func(dst, src reflect.Value) bool) (B, bool) {
			return With(b, name, v, convert)
		}}
		switch fn := m.Func.Interface().(type) {
		case func(B, int) B:
			s.Int = fn
		case func(B, float64) B:
			s.Float = fn
		case func(B, bool) B:
			s.Bool = fn
		case func(B, string) B:
			s.String = fn
		case func(B, time.Duration) B:
			s.Int = func(b B, n int) B { return fn(b, time.Duration(n)*time.Second) }
			s.Float = func(b B, x float64) B { return fn(b, time.Duration(x*float64(time.Second))) }
		}
		out[name] = s
	}
	return out
}
