package auroraconfig

import (
	"reflect"
	"slices"

	"go.starlark.net/starlark"

	"github.com/nixrealis/nixrealis/thermos"
)

// What Aurora's DSL says of its classes beyond thermos' description of the
// payload (schema.go builds the classes from both). Everything else — the
// fields, their types, which are required and Aurora's defaults — comes
// from thermos.

// dslEnums are the DSL's Enum types: name, then values.
var dslEnums = [][]string{
	{"LoggerDestination", "file", "console", "both", "none"},
	{"LoggerMode", "standard", "rotate"},
	{"Mode", "RO", "RW"},
}

// classSpec is what the DSL adds to the class of one thermos struct.
type classSpec struct {
	// name is Aurora's class name, if it is not the Go type's.
	name string
	// first are the fields Python declares first, in its order, where it
	// differs from thermos' (whose order the other fields keep).
	first []string
	// fields are the fields the DSL declares otherwise than thermos.
	fields map[string]fieldSpec
	// extra are the DSL's own fields, never in the payload as such.
	extra []extraField
}

// fieldSpec is how the DSL declares a thermos field otherwise.
type fieldSpec struct {
	// enum names the field's Enum type (dslEnums), for a String field.
	enum string
	// required and optional override thermos' Required.
	required, optional bool
	// def replaces thermos' default.
	def starlark.Value
	// alternatives are a choice's classes in Aurora's declaration order.
	alternatives []string
}

// extraField is a DSL-only field: placed in first if listed there, else
// after the field named after ("" = last).
type extraField struct {
	name, after string
	// field declares it; class returns the class of a thermos struct.
	field func(class func(reflect.Type) *schema) field
}

func (c classSpec) extraField(name string) (extraField, bool) {
	for _, x := range c.extra {
		if x.name == name {
			return x, true
		}
	}
	return extraField{}, false
}

// fieldOrder returns the class's field names in Python's declaration
// order: first, then thermos' fields in thermos' order, with the DSL-only
// fields placed.
func (c classSpec) fieldOrder(info thermos.StructInfo) []string {
	order := slices.Clone(c.first)
	for _, f := range info.Fields {
		if !slices.Contains(order, f.Name) {
			order = append(order, f.Name)
		}
	}
	for _, x := range c.extra {
		if slices.Contains(order, x.name) {
			continue
		}
		if k := slices.Index(order, x.after); x.after != "" && k >= 0 {
			order = slices.Insert(order, k+1, x.name)
		} else {
			order = append(order, x.name)
		}
	}
	return order
}

func typeKey[T any]() reflect.Type { return reflect.TypeFor[T]() }

// dslClasses is, by thermos struct, what the DSL declares differently.
var dslClasses = map[reflect.Type]classSpec{
	typeKey[thermos.Process](): {
		first: []string{"cmdline", "name"},
		extra: []extraField{{name: "packages", field: func(func(reflect.Type) *schema) field {
			return opt("packages", listOf(tNixPackage)) // nixrealis: never in the payload
		}}},
	},
	typeKey[thermos.Task](): {fields: map[string]fieldSpec{
		"name":      {def: s("{{processes[0].name}}")},
		"processes": {optional: true},
	}},
	typeKey[thermos.Logger](): {fields: map[string]fieldSpec{
		"destination": {enum: "LoggerDestination"},
		"mode":        {enum: "LoggerMode"},
	}},
	typeKey[thermos.Volume](): {fields: map[string]fieldSpec{"mode": {enum: "Mode"}}},
	typeKey[thermos.Mesos](): {fields: map[string]fieldSpec{
		"image": {alternatives: []string{"AppcImage", "DockerImage"}},
	}},
	// Container's own class is the deprecated Container(docker=...).
	typeKey[thermos.Container]():            {fields: map[string]fieldSpec{"docker": {optional: true}}},
	typeKey[thermos.HTTPHealthChecker]():    {name: "HttpHealthChecker"},
	typeKey[thermos.HTTPLifecycleConfig]():  {name: "HttpLifecycleConfig"},
	typeKey[thermos.PercentageSLAPolicy]():  {name: "PercentageSlaPolicy"},
	typeKey[thermos.CountSLAPolicy]():       {name: "CountSlaPolicy"},
	typeKey[thermos.CoordinatorSLAPolicy](): {name: "CoordinatorSlaPolicy"},
	typeKey[thermos.Job](): {
		first: []string{"name", "role", "contact", "cluster", "environment", "instances", "task"},
		fields: map[string]fieldSpec{
			"name":        {def: s("{{task.name}}")},
			"environment": {required: true},
			"sla_policy":  {alternatives: []string{"CoordinatorSlaPolicy", "CountSlaPolicy", "PercentageSlaPolicy"}},
			"container":   {alternatives: []string{"Container", "Docker", "Mesos"}},
		},
		// instances and update_config are the whole job's (thermos.Config),
		// not the payload's.
		extra: []extraField{
			{name: "instances", field: func(func(reflect.Type) *schema) field {
				return def("instances", tInteger, i(thermos.NewConfig().Instances))
			}},
			{name: "update_config", after: "cron_collision_policy", field: func(class func(reflect.Type) *schema) field {
				uc := class(typeKey[thermos.UpdateConfig]())
				return def("update_config", st(uc), obj(uc))
			}},
		},
	},
}
