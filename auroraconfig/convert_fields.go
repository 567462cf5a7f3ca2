package auroraconfig

import (
	"reflect"
	"slices"

	"github.com/nixrealis/nixrealis/internal/withset"
	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/thermos"
)

// scalars sets on b (a job.Process, job.Task or job.Job) the scalar
// fields (strings, numbers, booleans) of o, an object of the class of
// thermos struct of, following thermos' description: a template in a
// number or boolean through tmpl (the builder's WithTemplate), a literal
// through the builder's With method of the payload field's Go name
// (thermos.Process.MaxFailures → WithMaxFailures), so that a field added
// to thermos' schema and given a With method in package job is carried
// without an edit here. With onlySet, only the fields o sets (a merged
// Task or a Job keeps what New or the merge gives the others; a field a
// plain class leaves at its default is already the builder's default);
// otherwise also the defaults of o's class (a user's subclass may change
// them).
func scalars[B any](c *converter, o *object, b B, fields []scalarField[B], onlySet bool, tmpl func(B, string, string) B) B {
	for k := range fields {
		f := &fields[k]
		tf, s := &f.info, &f.set
		if onlySet {
			if _, set := o.vals[tf.Name]; !set {
				continue
			}
		}
		var done bool
		switch tf.Kind {
		case thermos.KindString:
			v, ok := c.str(o, tf.Name)
			b, done = setScalar(b, f, v, "", ok, s.String, tmpl)
		case thermos.KindInteger:
			n, t, ok := c.integer(o, tf.Name)
			b, done = setScalar(b, f, n, t, ok, s.Int, tmpl)
		case thermos.KindFloat:
			x, t, ok := c.number(o, tf.Name)
			b, done = setScalar(b, f, x, t, ok, s.Float, tmpl)
		case thermos.KindBoolean:
			v, t, ok := c.boolean(o, tf.Name)
			b, done = setScalar(b, f, v, t, ok, s.Bool, tmpl)
		default:
			continue // nested objects, maps and lists: the caller's
		}
		if !done {
			c.fail(o, "%s.%s: package job has no With%s method to set it", o.sch.name, tf.Name, tf.GoName)
		}
	}
	return b
}

// setScalar is scalars' step for field f holding v (ok is false if o has
// no value for it, t is the template standing in for a literal): the
// template through tmpl, else v through set, the builder's With method if
// it takes a v, else through f's With method of another parameter type.
// It reports false if there is none.
func setScalar[B, T any](b B, f *scalarField[B], v T, t string, ok bool, set func(B, T) B, tmpl func(B, string, string) B) (B, bool) {
	switch {
	case !ok:
		return b, true
	case t != "":
		return tmpl(b, f.info.Name, t), true
	case set != nil:
		return set(b, v), true
	case f.has:
		return f.set.Value(b, reflect.ValueOf(v), nil)
	}
	return b, false
}

// scalarField is a scalar field of a payload struct and the With method
// of its builder that sets it (has is false if there is none).
type scalarField[B any] struct {
	info thermos.FieldInfo
	set  withset.Setter[B]
	has  bool
}

// scalarFields returns the scalar fields of thermos struct of but byHand,
// with builder B's With methods, resolved once.
func scalarFields[B any](of reflect.Type, byHand ...string) []scalarField[B] {
	var names []string
	for _, tf := range payloadStructs[of].Fields {
		names = append(names, tf.GoName)
	}
	setters := withset.For[B](names...)
	var out []scalarField[B]
	for _, tf := range payloadStructs[of].Fields {
		switch tf.Kind {
		case thermos.KindString, thermos.KindInteger, thermos.KindFloat, thermos.KindBoolean:
			if !slices.Contains(byHand, tf.Name) {
				s, has := setters[tf.GoName]
				out = append(out, scalarField[B]{info: tf, set: s, has: has})
			}
		}
	}
	return out
}

// The scalar fields of the job builders (read only); the key fields and
// cron_schedule (WithCron) are set by hand.
var (
	processScalars = scalarFields[job.Process](typeKey[thermos.Process](), "name", "cmdline")
	taskScalars    = scalarFields[job.Task](typeKey[thermos.Task]())
	jobScalars     = scalarFields[job.Job](typeKey[thermos.Job](), "name", "role", "cluster", "environment", "cron_schedule")
)
