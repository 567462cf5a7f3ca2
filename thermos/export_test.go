package thermos

import "reflect"

// The encoder's scalar writers, exported to the tests only.
var (
	AppendFloat  = appendFloat
	AppendString = appendString
)

// DescribedTypes returns every struct type the schema describes.
func DescribedTypes() []reflect.Type {
	var ts []reflect.Type
	for t := range objects {
		ts = append(ts, t)
	}
	return ts
}

// NewDefaults returns a pointer to a new value of t (a described type)
// holding Aurora's defaults.
func NewDefaults(t reflect.Type) any { return objects[t].newDefaults() }
