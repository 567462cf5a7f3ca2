package thermos

import (
	"cmp"
	"reflect"
	"slices"
)

// The schema, read-only, for other packages that follow it: the job
// package (FromThermos) and auroraconfig (its Struct classes) build on
// these descriptions instead of listing the payload's fields again.

// Kind is the JSON shape of a payload field.
type Kind uint8

// The kinds of payload fields.
const (
	KindString      Kind = iota + 1 // a String (Go string or *string)
	KindInteger                     // an Integer (Go int, int64 or *int)
	KindFloat                       // a Float (Go float64)
	KindBoolean                     // a Boolean (Go bool)
	KindStringMap                   // a Map(String, String) (Go map[string]string)
	KindStringList                  // a List(String) (Go []string)
	KindIntegerList                 // a List(Integer) (Go []int)
	KindStruct                      // one described struct (FieldInfo.Struct)
	KindStructList                  // a list of one described struct (FieldInfo.Struct)
	KindChoice                      // one of FieldInfo.Alternatives
)

var kindNames = [...]string{"", "String", "Integer", "Float", "Boolean", "Map(String, String)",
	"List(String)", "List(Integer)", "Struct", "List(Struct)", "Choice"}

// String returns the kind's name, as Pystachio names the type.
func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return "Kind(?)"
}

// FieldInfo describes one field of a payload struct, as the schema
// declares it.
type FieldInfo struct {
	// Name is the field's JSON name ("max_failures").
	Name string
	// GoName is the name of the Go struct field holding it ("MaxFailures").
	GoName string
	// Kind is the field's JSON shape.
	Kind Kind
	// Required reports whether Unmarshal fails without the field.
	Required bool
	// Optional reports whether the field is absent from the JSON when its
	// Go value is nil (a pointer, or a map or list left nil); it then has
	// no default.
	Optional bool
	// Templated reports whether the field may hold a {{template}} in its
	// struct's Templates map.
	Templated bool
	// Default is Aurora's default, the value NewJob, NewProcess, ... and
	// Unmarshal give the field, of its Go type (a string, int, int64,
	// float64, bool, slice or struct value); nil for an Optional field.
	Default any
	// Struct, for KindStruct and KindStructList, is the described struct
	// the field holds; for KindChoice, the Go struct of the choice (whose
	// pointer fields are its alternatives). Nil otherwise.
	Struct reflect.Type
	// Alternatives, for KindChoice, are the described structs whose JSON
	// object may stand in the field, in the order Marshal tries them.
	// (Container's own description is the deprecated
	// Container(docker=...) wrapper, one of its alternatives.)
	Alternatives []reflect.Type
}

// StructInfo describes one payload struct: its Go type and its fields,
// in the schema's order (the order Unmarshal reports the first missing
// required field).
type StructInfo struct {
	// Type is the Go struct type (thermos.Process, ...).
	Type reflect.Type
	// Fields are its fields.
	Fields []FieldInfo
}

// Field returns the description of the field with JSON name name.
func (s StructInfo) Field(name string) (FieldInfo, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return FieldInfo{}, false
}

// Describe returns the description of a payload struct: v is a pointer to
// one (&thermos.Process{}) or its reflect.Type. ok is false for any other
// v. The result is a copy the caller may keep and change.
func Describe(v any) (info StructInfo, ok bool) {
	var t reflect.Type
	switch x := v.(type) {
	case reflect.Type:
		t = x
	default:
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Pointer {
			return StructInfo{}, false
		}
		t = rv.Type().Elem()
	}
	o, ok := objects[t]
	if !ok {
		return StructInfo{}, false
	}
	return o.describe(), true
}

// Schema returns the description of every payload struct (the payload's
// and update_config's), ordered by Go type name.
func Schema() []StructInfo {
	out := make([]StructInfo, 0, len(objects))
	for _, o := range objects {
		out = append(out, o.describe())
	}
	slices.SortFunc(out, func(a, b StructInfo) int { return cmp.Compare(a.Type.Name(), b.Type.Name()) })
	return out
}

func (o *object[T]) describe() StructInfo {
	typ := reflect.TypeFor[T]()
	defaults := reflect.ValueOf(o.newDefaults()).Elem()
	info := StructInfo{Type: typ, Fields: make([]FieldInfo, len(o.fields))}
	for i := range o.fields {
		f := &o.fields[i]
		sf := fieldAtOffset(typ, f.off)
		fi := FieldInfo{Name: f.name, GoName: sf.Name, Required: f.flags&required != 0, Templated: f.flags&tmpl != 0}
		switch f.kind {
		case kString, kOptString:
			fi.Kind, fi.Optional = KindString, f.kind == kOptString
		case kInt, kInt64, kOptInt:
			fi.Kind, fi.Optional = KindInteger, f.kind == kOptInt
		case kFloat:
			fi.Kind = KindFloat
		case kBool:
			fi.Kind = KindBoolean
		case kStrMap:
			fi.Kind, fi.Optional = KindStringMap, true
		case kStrList:
			fi.Kind, fi.Optional = KindStringList, true
		case kIntList:
			fi.Kind = KindIntegerList
		case kNested:
			elem, sh, alts := f.nested.describe()
			fi.Struct, fi.Optional = elem, sh == shapePointer
			switch {
			case alts != nil:
				fi.Kind, fi.Alternatives = KindChoice, alts
			case sh == shapeList:
				fi.Kind = KindStructList
			default:
				fi.Kind = KindStruct
			}
		}
		if !fi.Optional {
			fi.Default = defaults.FieldByIndex(sf.Index).Interface()
		}
		info.Fields[i] = fi
	}
	return info
}

// fieldAtOffset returns the field of struct type t at offset off (the
// descriptions locate fields by offset, see offsetOf).
func fieldAtOffset(t reflect.Type, off uintptr) reflect.StructField {
	for i := range t.NumField() {
		if sf := t.Field(i); sf.Offset == off && sf.Type.Size() > 0 {
			return sf
		}
	}
	panic("thermos: no field at a described offset of " + t.String())
}
