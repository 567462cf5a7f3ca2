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

// classIndex numbers the payload structs: the index of a struct's plan in
// classPlans and of its class in a load's auroraSchema.classes, so that a
// load finds a class by index instead of hashing a reflect.Type.
var classIndex = func() map[reflect.Type]int {
	m := make(map[reflect.Type]int, len(payloadStructs))
	for _, s := range thermos.Schema() {
		m[s.Type] = len(m)
	}
	return m
}()

// auroraSchema holds the classes of one load (objects are never shared
// between loads, so nothing global is mutable).
type auroraSchema struct {
	// classes are the Struct classes by classIndex, made on first use.
	classes                                                           []*schema
	resources, constraint, process, task, job                         *schema
	queueStrategy, batchStrategy, container, docker, appcImage        *schema
	percentageSLA, countSLA                                           *schema
	enums                                                             []*ptype // as dslEnums
	defaultHealthChecker, defaultLifecycle, disableLifecycle, service *object
}

func newAuroraSchema() *auroraSchema {
	a := &auroraSchema{classes: make([]*schema, len(classPlans)), enums: make([]*ptype, len(dslEnums))}
	for k, e := range dslEnums {
		a.enums[k] = enumOf(e[0], e[1:]...)
	}
	for k := range classPlans {
		a.class(k)
	}
	a.resources, a.constraint, a.process = a.classOf(thermos.Resources{}), a.classOf(thermos.Constraint{}), a.classOf(thermos.Process{})
	a.task, a.job = a.classOf(thermos.Task{}), a.classOf(thermos.Job{})
	a.queueStrategy, a.batchStrategy = a.classOf(thermos.QueueUpdateStrategy{}), a.classOf(thermos.BatchUpdateStrategy{})
	a.container, a.docker, a.appcImage = a.classOf(thermos.Container{}), a.classOf(thermos.Docker{}), a.classOf(thermos.AppcImage{})
	a.percentageSLA, a.countSLA = a.classOf(thermos.PercentageSLAPolicy{}), a.classOf(thermos.CountSLAPolicy{})

	hc, _ := a.classOf(thermos.HealthCheckConfig{}).field("health_checker")
	a.defaultHealthChecker = hc.def.(*object)
	lc, _ := a.job.field("lifecycle")
	a.defaultLifecycle = lc.def.(*object)
	a.disableLifecycle = obj(a.classOf(thermos.LifecycleConfig{}))
	a.service = with(obj(a.job), "service", b(true))
	return a
}

func (a *auroraSchema) classOf(v any) *schema { return a.classFor(reflect.TypeOf(v)) }

// classFor returns the Struct class of thermos struct t, nil if thermos
// does not describe t.
func (a *auroraSchema) classFor(t reflect.Type) *schema {
	k, ok := classIndex[t]
	if !ok {
		return nil
	}
	return a.class(k)
}

// classPlan is how the class of a thermos struct is made, worked out once
// from thermos' description and dslClasses: Aurora's class name and its
// fields in Python's declaration order.
type classPlan struct {
	name   string
	fields []fieldPlan
}

// fieldPlan is one field of a class: thermos' field (info) as the DSL
// declares it (spec), or a DSL-only field (extra), its type and its
// default.
type fieldPlan struct {
	info  thermos.FieldInfo
	spec  fieldSpec
	extra func(class func(reflect.Type) *schema) field
	typ   typePlan
	// mode is how the field is declared: Required, a bare type, or
	// Default with def.
	mode fieldMode
	def  defaultPlan
}

// typePlan is a field's Pystachio type: thermos' kind, the DSL's Enum
// (an index in dslEnums, or -1), the class of a struct or struct list, or
// a choice's alternatives (classIndex values, in Aurora's order).
type typePlan struct {
	kind  thermos.Kind
	enum  int
	class int
	alts  []int
}

type fieldMode uint8

const (
	modeRequired fieldMode = iota
	modeOptional
	modeDefault
)

// defaultPlan is a default value: a scalar (immutable, shared by every
// load), an empty list, or an object of the class numbered class setting
// vals (made anew for every load).
type defaultPlan struct {
	scalar    starlark.Value
	emptyList bool
	class     int
	vals      []namedDefault
}

type namedDefault struct {
	name string
	def  defaultPlan
}

// classPlans are the plans of every class, by classIndex.
var classPlans = func() []classPlan {
	plans := make([]classPlan, len(classIndex))
	for t, info := range payloadStructs {
		spec := dslClasses[t]
		p := classPlan{name: spec.name}
		if p.name == "" {
			p.name = t.Name()
		}
		for _, n := range spec.fieldOrder(info) {
			if tf, ok := info.Field(n); ok {
				p.fields = append(p.fields, planField(tf, spec.fields[n]))
			} else if x, ok := spec.extraField(n); ok {
				p.fields = append(p.fields, fieldPlan{extra: x.field})
			}
		}
		plans[classIndex[t]] = p
	}
	return plans
}()

// planField declares thermos field tf: Required(T) if thermos requires it,
// a bare T if it is optional, else Default(T, v) with thermos' default;
// spec says where the DSL differs.
func planField(tf thermos.FieldInfo, spec fieldSpec) fieldPlan {
	p := fieldPlan{info: tf, spec: spec}
	if spec.alternatives != nil {
		// Aurora's order of a choice's alternatives.
		pos := func(t reflect.Type) int {
			name := dslClasses[t].name
			if name == "" {
				name = t.Name()
			}
			if k := slices.Index(spec.alternatives, name); k >= 0 {
				return k
			}
			return len(spec.alternatives)
		}
		p.info.Alternatives = slices.Clone(tf.Alternatives)
		slices.SortStableFunc(p.info.Alternatives, func(x, y reflect.Type) int { return pos(x) - pos(y) })
	}
	p.typ = planType(p.info, spec)
	switch {
	case spec.required || tf.Required && !spec.optional:
		p.mode = modeRequired
	case tf.Optional || spec.optional:
		p.mode = modeOptional
	case spec.def != nil:
		p.mode, p.def = modeDefault, defaultPlan{scalar: spec.def}
	default:
		p.mode, p.def = modeDefault, planDefault(reflect.ValueOf(tf.Default))
	}
	return p
}

// planDefault is the plan of v, a default from thermos' description: a
// scalar, an empty list, or a payload struct, which becomes an object of
// its class setting the fields that differ from the class's defaults.
func planDefault(v reflect.Value) defaultPlan {
	switch v.Kind() {
	case reflect.String:
		return defaultPlan{scalar: s(v.String())}
	case reflect.Int, reflect.Int64:
		return defaultPlan{scalar: starlark.MakeInt64(v.Int())}
	case reflect.Float64:
		return defaultPlan{scalar: f(v.Float())}
	case reflect.Bool:
		return defaultPlan{scalar: b(v.Bool())}
	case reflect.Slice:
		return defaultPlan{emptyList: true} // no default list has elements (TestClassesFollowThermos)
	case reflect.Pointer:
		return planDefault(v.Elem())
	}
	p := defaultPlan{class: classIndex[v.Type()]}
	for _, tf := range payloadStructs[v.Type()].Fields {
		fv := v.FieldByName(tf.GoName)
		if tf.Optional && fv.IsNil() || !tf.Optional && reflect.DeepEqual(fv.Interface(), tf.Default) {
			continue
		}
		p.vals = append(p.vals, namedDefault{tf.Name, planDefault(fv)})
	}
	return p
}

// planType is the type plan of thermos field tf (a choice's alternatives
// in Aurora's order, see planField).
func planType(tf thermos.FieldInfo, spec fieldSpec) typePlan {
	p := typePlan{kind: tf.Kind, enum: -1}
	if spec.enum != "" {
		p.enum = slices.IndexFunc(dslEnums, func(e []string) bool { return e[0] == spec.enum })
		if p.enum < 0 {
			panic("auroraconfig: no Enum " + spec.enum + " in dslEnums")
		}
		return p
	}
	switch tf.Kind {
	case thermos.KindStruct, thermos.KindStructList:
		p.class = classIndex[tf.Struct]
	case thermos.KindChoice:
		for _, t := range tf.Alternatives {
			p.alts = append(p.alts, classIndex[t])
		}
	}
	return p
}

// class returns the class numbered k (classIndex), made on first use from
// its plan.
func (a *auroraSchema) class(k int) *schema {
	if sc := a.classes[k]; sc != nil {
		return sc
	}
	plan := &classPlans[k]
	fields := make([]field, len(plan.fields))
	for j := range plan.fields {
		fp := &plan.fields[j]
		if fp.extra != nil {
			fields[j] = fp.extra(a.classFor)
			continue
		}
		typ := a.typeOf(&fp.typ)
		switch fp.mode {
		case modeRequired:
			fields[j] = req(fp.info.Name, typ)
		case modeOptional:
			fields[j] = opt(fp.info.Name, typ)
		default:
			fields[j] = def(fp.info.Name, typ, a.value(&fp.def))
		}
	}
	sc := newSchema(plan.name, fields...)
	a.classes[k] = sc
	return sc
}

// value makes the default d of this load.
func (a *auroraSchema) value(d *defaultPlan) starlark.Value {
	switch {
	case d.scalar != nil:
		return d.scalar
	case d.emptyList:
		return emptyList()
	}
	o := obj(a.class(d.class))
	for k := range d.vals {
		o.vals[d.vals[k].name] = a.value(&d.vals[k].def)
	}
	return o
}

// typeOf is the Pystachio type of plan t.
func (a *auroraSchema) typeOf(t *typePlan) *ptype {
	if t.enum >= 0 {
		return a.enums[t.enum]
	}
	switch t.kind {
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
		return st(a.class(t.class))
	case thermos.KindStructList:
		return listOf(st(a.class(t.class)))
	}
	alts := make([]*ptype, len(t.alts))
	for k, c := range t.alts {
		alts[k] = st(a.class(c))
	}
	return choiceOf(alts...)
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
	for _, e := range a.enums {
		d[e.name] = e
	}
	for _, sc := range a.classes {
		d[sc.name] = sc.typ
	}
	d["MesosJob"] = a.job.typ
	return d
}

// structBase is Struct, the base of user classes.
var structBase = &ptype{kind: kStruct, name: "Struct"}
