// Package schematest lists the fields of a whole job (a thermos.Config:
// the payload, instances and update_config) by following thermos'
// description of the payload (thermos.Describe), and changes one at a
// time, for the tests that check every field of the schema reaches a
// package (job.FromThermos, auroraconfig): a field added to thermos'
// schema is listed here without an edit, and Missing reports a field no
// job of a test reached; EveryField is such a test's whole loop, given
// the trip through the package.
package schematest

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"

	"github.com/nixrealis/nixrealis/thermos"
)

// Field is one field of a job holding a value (no struct): a scalar, a
// string map or a list of strings or integers.
type Field struct {
	// Path is its JSON path ("task.processes[1].max_failures"; instances
	// and update_config.* are the job object's, outside the payload).
	Path string
	// Owner is the payload struct holding it.
	Owner reflect.Type
	// Info is its description.
	Info thermos.FieldInfo
	// Through are the fields it is reached through, as Key gives them,
	// from the job down to itself.
	Through []string
	v       reflect.Value
}

// Key names a field of a payload struct: "Process.max_failures".
func Key(owner reflect.Type, name string) string { return owner.Name() + "." + name }

// Value returns the field's value (for a set optional field, what its
// pointer points to).
func (f Field) Value() any {
	if f.v.Kind() == reflect.Pointer {
		return f.v.Elem().Interface()
	}
	return f.v.Interface()
}

// Fields returns every field of c holding a value, depth first in the
// schema's order: unset optional fields are left out, a list is followed
// into its last element only (one reaches every field of its struct) and
// a choice into the alternative it holds.
func Fields(c *thermos.Config) []Field {
	var out []Field
	w := walker{out: &out}
	if c.Job != nil {
		w.object(reflect.ValueOf(c.Job).Elem(), "", nil)
	}
	out = append(out, Field{Path: "instances", Owner: reflect.TypeFor[thermos.Config](),
		Info:    thermos.FieldInfo{Name: "instances", GoName: "Instances", Kind: thermos.KindInteger},
		Through: []string{"Config.instances"}, v: reflect.ValueOf(&c.Instances).Elem()})
	w.object(reflect.ValueOf(&c.UpdateConfig).Elem(), "update_config", []string{"Config.update_config"})
	return out
}

// Lookup returns the field of c at path.
func Lookup(c *thermos.Config, path string) (Field, bool) {
	for _, f := range Fields(c) {
		if f.Path == path {
			return f, true
		}
	}
	return Field{}, false
}

type walker struct{ out *[]Field }

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// object walks the described struct v.
func (w walker) object(v reflect.Value, path string, through []string) {
	info, ok := thermos.Describe(v.Type())
	if !ok {
		panic(fmt.Sprintf("schematest: %v is not described", v.Type()))
	}
	for _, tf := range info.Fields {
		fv := v.FieldByName(tf.GoName)
		p := join(path, tf.Name)
		th := append(slices.Clip(through), Key(info.Type, tf.Name))
		if tf.Optional && fv.IsNil() {
			continue
		}
		switch tf.Kind {
		case thermos.KindStruct:
			if fv.Kind() == reflect.Pointer {
				fv = fv.Elem()
			}
			w.object(fv, p, th)
		case thermos.KindStructList:
			if n := fv.Len(); n > 0 {
				w.object(fv.Index(n-1), p+"["+strconv.Itoa(n-1)+"]", th)
			}
		case thermos.KindChoice:
			if fv.Kind() == reflect.Pointer {
				fv = fv.Elem()
			}
			w.choice(fv, tf, p, th)
		default:
			*w.out = append(*w.out, Field{Path: p, Owner: info.Type, Info: tf, Through: th, v: fv})
		}
	}
}

// choice walks the alternative the choice v holds.
func (w walker) choice(v reflect.Value, tf thermos.FieldInfo, path string, through []string) {
	if alt, ok := Alternative(v, tf.Alternatives); ok {
		w.object(alt, path, through)
	}
}

// Alternative returns the alternative (one of alts) the choice v (a
// SLAPolicy, Container, Image or UpdateStrategy) holds: v itself if it is
// described and its required fields are set (Container's deprecated
// wrapper), else what its first set pointer to an alternative points to.
func Alternative(v reflect.Value, alts []reflect.Type) (reflect.Value, bool) {
	if self, ok := thermos.Describe(v.Type()); ok && slices.Contains(alts, v.Type()) {
		set := true
		for _, f := range self.Fields {
			if fv := v.FieldByName(f.GoName); f.Required && fv.Kind() == reflect.Pointer && fv.IsNil() {
				set = false
			}
		}
		if set {
			return v, true
		}
	}
	for i := range v.NumField() {
		fv := v.Field(i)
		if fv.Kind() == reflect.Pointer && !fv.IsNil() && slices.Contains(alts, fv.Type().Elem()) {
			return fv.Elem(), true
		}
	}
	return reflect.Value{}, false
}

// Missing returns, sorted, the fields of every payload struct (Key) and
// of the job object that no field of fields is reached through.
func Missing(fields []Field) []string {
	reached := map[string]bool{}
	for _, f := range fields {
		for _, k := range f.Through {
			reached[k] = true
		}
	}
	var missing []string
	for _, s := range thermos.Schema() {
		for _, tf := range s.Fields {
			if k := Key(s.Type, tf.Name); !reached[k] {
				missing = append(missing, k)
			}
		}
	}
	for _, k := range []string{"Config.instances", "Config.update_config"} {
		if !reached[k] {
			missing = append(missing, k)
		}
	}
	slices.Sort(missing)
	return missing
}

// enums are the string fields that take only some values.
var enums = map[string][]string{
	"Logger.destination":        {"file", "console", "both", "none"},
	"Logger.mode":               {"standard", "rotate"},
	"Volume.mode":               {"RO", "RW"},
	"Job.cron_collision_policy": {"KILL_EXISTING", "CANCEL_NEW", "RUN_OVERLAP"},
}

// Changed returns a valid value for f other than its own, of its Go type:
// another value of an enum, a string with "x" appended, a larger number
// (by 1 MiB for an int64, the byte sizes, which Aurora wants in whole
// MiB), the other boolean, a map with one more entry, a reversed or longer
// list.
func Changed(f Field) any {
	switch v := f.Value().(type) {
	case string:
		if vals, ok := enums[Key(f.Owner, f.Info.Name)]; ok {
			for _, x := range vals {
				if x != v {
					return x
				}
			}
		}
		return v + "x"
	case int:
		return v + 2
	case int64:
		return v + 1<<20
	case float64:
		return v + 0.5
	case bool:
		return !v
	case map[string]string:
		m := map[string]string{"changed": "x"}
		for k, x := range v {
			m[k] = x
		}
		return m
	case []string:
		if len(v) > 1 {
			r := slices.Clone(v)
			slices.Reverse(r)
			return r
		}
		return append(slices.Clone(v), "x")
	case []int:
		return append(slices.Clone(v), 1)
	}
	panic(fmt.Sprintf("schematest: %s: a field of type %T", f.Path, f.Value()))
}

// Set sets f to x, a value of its Go type (for an optional field, of what
// its pointer points to).
func (f Field) Set(x any) {
	if f.v.Kind() == reflect.Pointer {
		f.v.Elem().Set(reflect.ValueOf(x))
		return
	}
	f.v.Set(reflect.ValueOf(x))
}
