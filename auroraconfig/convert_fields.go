package auroraconfig

import (
	"reflect"
	"slices"

	"github.com/nixrealis/nixrealis/internal/withset"
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
// Task or a Job keeps what New or the merge gives the others); byHand are
// the caller's.
func scalars[B any](c *converter, o *object, b B, of reflect.Type, onlySet bool, tmpl func(B, string, string) B, byHand ...string) B {
	for _, tf := range payloadStructs[of].Fields {
		if slices.Contains(byHand, tf.Name) {
			continue
		}
		if _, set := o.vals[tf.Name]; onlySet && !set {
			continue
		}
		var v any
		var t string
		var ok bool
		switch tf.Kind {
		case thermos.KindString:
			v, ok = c.str(o, tf.Name)
		case thermos.KindInteger:
			v, t, ok = c.integer(o, tf.Name)
		case thermos.KindFloat:
			v, t, ok = c.number(o, tf.Name)
		case thermos.KindBoolean:
			v, t, ok = c.boolean(o, tf.Name)
		default:
			continue // nested objects, maps and lists: the caller's
		}
		switch {
		case !ok:
		case t != "":
			b = tmpl(b, tf.Name, t)
		default:
			nb, set := withset.With(b, tf.GoName, reflect.ValueOf(v), nil)
			if !set {
				c.fail(o, "%s.%s: package job has no With%s method to set it", o.sch.name, tf.Name, tf.GoName)
				continue
			}
			b = nb
		}
	}
	return b
}
