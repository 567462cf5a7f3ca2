package auroraconfig

import (
	"reflect"
	"slices"

	"go.starlark.net/starlark"

	"github.com/nixrealis/nixrealis/thermos"
)

// Aurora's configuration schema (aurora src/main/python/apache/thermos/
// config/schema_base.py and apache/aurora/config/schema/base.py): one
// Struct class per payload struct thermos describes, its fields, types,
// required fields and defaults read from thermos' description
// (thermos.Schema), so that a field added to thermos' schema is a field of
// its class here too. What only the DSL has is the data in dsl.go: Aurora's
// class names, the order Python declares fields in, enums, DSL-only fields
// and the few fields the DSL declares otherwise.

func i(n int) starlark.Value     { return starlark.MakeInt(n) }
func f(x float64) starlark.Value { return starlark.Float(x) }
func s(x string) starlark.Value  { return starlark.String(x) }
func b(x bool) starlark.Value    { return starlark.Bool(x) }
func emptyList() starlark.Value  { l := starlark.NewList(nil); l.Freeze(); return l }
func st(sc *schema) *ptype       { return sc.typ }
func obj(sc *schema) *object     { return &object{sch: sc, vals: map[string]starlark.Value{}} }
func with(o *object, k string, v starlark.Value) *object {
	o.vals[k] = v
	return o
}

// payloadStructs is thermos' description of every payload struct, read
// once (it is immutable).
var payloadStructs = func() map[reflect.Type]thermos.StructInfo {
	m := map[reflect.Type]thermos.StructInfo{}
	for _, s := range thermos.Schema() {
		m[s.Type] = s
	}
	return m
}()

// auroraSchema holds the classes of one load (objects are never shared
// between loads, so nothing global is mutable).
type auroraSchema struct {
	// classes are the Struct classes by the thermos struct they describe.
	classes                                                           map[reflect.Type]*schema
	resources, constraint, process, task, job                         *schema
	queueStrategy, batchStrategy, container, docker, appcImage        *schema
	percentageSLA, countSLA                                           *schema
	enums                                                             map[string]*ptype
	defaultHealthChecker, defaultLifecycle, disableLifecycle, service *object
}

func newAuroraSchema() *auroraSchema {
	a := &auroraSchema{classes: make(map[reflect.Type]*schema, len(payloadStructs)), enums: make(map[string]*ptype, len(dslEnums))}
	for _, e := range dslEnums {
		a.enums[e[0]] = enumOf(e[0], e[1:]...)
	}
	for t := range payloadStructs {
		a.class(t)
	}
	of := func(v any) *schema { return a.classes[reflect.TypeOf(v)] }
	a.resources, a.constraint, a.process = of(thermos.Resources{}), of(thermos.Constraint{}), of(thermos.Process{})
	a.task, a.job = of(thermos.Task{}), of(thermos.Job{})
	a.queueStrategy, a.batchStrategy = of(thermos.QueueUpdateStrategy{}), of(thermos.BatchUpdateStrategy{})
	a.container, a.docker, a.appcImage = of(thermos.Container{}), of(thermos.Docker{}), of(thermos.AppcImage{})
	a.percentageSLA, a.countSLA = of(thermos.PercentageSLAPolicy{}), of(thermos.CountSLAPolicy{})

	hc, _ := of(thermos.HealthCheckConfig{}).field("health_checker")
	a.defaultHealthChecker = hc.def.(*object)
	lc, _ := a.job.field("lifecycle")
	a.defaultLifecycle = lc.def.(*object)
	a.disableLifecycle = obj(of(thermos.LifecycleConfig{}))
	a.service = with(obj(a.job), "service", b(true))
	return a
}

// class returns the Struct class of thermos struct t, made on first use
// from thermos' description and the DSL's data (dslClasses).
func (a *auroraSchema) class(t reflect.Type) *schema {
	if sc, ok := a.classes[t]; ok {
		return sc
	}
	info := payloadStructs[t]
	spec := dslClasses[t]
	name := spec.name
	if name == "" {
		name = t.Name()
	}
	fields := make([]field, 0, len(info.Fields)+len(spec.extra))
	for _, n := range spec.fieldOrder(info) {
		if tf, ok := info.Field(n); ok {
			fields = append(fields, a.field(tf, spec.fields[n]))
		} else if x, ok := spec.extraField(n); ok {
			fields = append(fields, x.field(a.class))
		}
	}
	sc := newSchema(name, fields...)
	a.classes[t] = sc
	return sc
}

// field is the DSL's declaration of thermos field tf: Required(T) if
// thermos requires it, a bare T if it is optional, else Default(T, v) with
// thermos' default; spec says where the DSL differs.
func (a *auroraSchema) field(tf thermos.FieldInfo, spec fieldSpec) field {
	typ := a.typeOf(tf, spec)
	switch {
	case spec.required || tf.Required && !spec.optional:
		return req(tf.Name, typ)
	case tf.Optional || spec.optional:
		return opt(tf.Name, typ)
	case spec.def != nil:
		return def(tf.Name, typ, spec.def)
	}
	return def(tf.Name, typ, a.value(reflect.ValueOf(tf.Default)))
}

// typeOf is the Pystachio type of thermos field tf.
func (a *auroraSchema) typeOf(tf thermos.FieldInfo, spec fieldSpec) *ptype {
	if spec.enum != "" {
		return a.enums[spec.enum]
	}
	switch tf.Kind {
	case thermos.KindString:
		return tString
	case thermos.KindInteger:
		return tInteger
	case thermos.KindFloat:
		return tFloat
	case thermos.KindBoolean:
		return tBoolean
	case thermos.KindStringMap:
		return mapOf(tString, tString)
	case thermos.KindStringList:
		return listOf(tString)
	case thermos.KindIntegerList:
		return listOf(tInteger)
	case thermos.KindStruct:
		return st(a.class(tf.Struct))
	case thermos.KindStructList:
		return listOf(st(a.class(tf.Struct)))
	}
	alts := make([]*ptype, len(tf.Alternatives))
	for k, t := range tf.Alternatives {
		alts[k] = st(a.class(t))
	}
	if spec.alternatives != nil {
		pos := func(p *ptype) int {
			if k := slices.Index(spec.alternatives, p.name); k >= 0 {
				return k
			}
			return len(spec.alternatives)
		}
		slices.SortStableFunc(alts, func(x, y *ptype) int { return pos(x) - pos(y) })
	}
	return choiceOf(alts...)
}

// value is the Starlark value of v, a default from thermos' description:
// a scalar, a list, or a payload struct, which becomes an object of its
// class setting the fields that differ from the class's defaults.
func (a *auroraSchema) value(v reflect.Value) starlark.Value {
	switch v.Kind() {
	case reflect.String:
		return s(v.String())
	case reflect.Int, reflect.Int64:
		return starlark.MakeInt64(v.Int())
	case reflect.Float64:
		return f(v.Float())
	case reflect.Bool:
		return b(v.Bool())
	case reflect.Slice:
		if v.Len() == 0 {
			return emptyList()
		}
		l := make([]starlark.Value, v.Len())
		for k := range l {
			l[k] = a.value(v.Index(k))
		}
		list := starlark.NewList(l)
		list.Freeze()
		return list
	case reflect.Pointer:
		return a.value(v.Elem())
	case reflect.Struct:
		info := payloadStructs[v.Type()]
		o := obj(a.class(v.Type()))
		for _, tf := range info.Fields {
			fv := v.FieldByName(tf.GoName)
			if tf.Optional && fv.IsNil() || !tf.Optional && reflect.DeepEqual(fv.Interface(), tf.Default) {
				continue
			}
			o.vals[tf.Name] = a.value(fv)
		}
		return o
	}
	return starlark.None // no payload default is of another kind (TestClassesFollowThermos)
}

// predeclared returns the names every .aurora file sees.
func (a *auroraSchema) predeclared() starlark.StringDict {
	d := starlark.StringDict{
		// Pystachio
		"String": tString, "Integer": tInteger, "Float": tFloat, "Boolean": tBoolean,
		"Struct": structBase, "Empty": emptyValue,
		"Default":  starlark.NewBuiltin("Default", builtinDefault),
		"Required": starlark.NewBuiltin("Required", builtinRequired),
		"List":     starlark.NewBuiltin("List", builtinList),
		"Map":      starlark.NewBuiltin("Map", builtinMap),
		"Choice":   starlark.NewBuiltin("Choice", builtinChoice),
		"Enum":     starlark.NewBuiltin("Enum", builtinEnum),
		// units
		"BYTES": i(1), "KB": i(1 << 10), "MB": i(1 << 20), "GB": i(1 << 30), "TB": starlark.MakeInt64(1 << 40),
		// objects
		"DefaultHealthChecker": a.defaultHealthChecker, "DefaultLifecycleConfig": a.defaultLifecycle,
		"DisableLifecycle": a.disableLifecycle, "Service": a.service,
		"AURORA_EXECUTOR_NAME": s(thermos.AuroraExecutorName),
		// nixrealis
		"NixPackages": starlark.NewBuiltin("NixPackages", builtinNixPackages),
	}
	for name, e := range a.enums {
		d[name] = e
	}
	for _, sc := range a.classes {
		d[sc.name] = sc.typ
	}
	d["MesosJob"] = a.job.typ
	return d
}

// structBase is Struct, the base of user classes.
var structBase = &ptype{kind: kStruct, name: "Struct"}
