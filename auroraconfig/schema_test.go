package auroraconfig

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.starlark.net/starlark"

	"github.com/nixrealis/nixrealis/thermos"
)

// TestClassesFollowThermos checks that every struct and field of thermos'
// schema is a class and a field of the DSL, of the matching type, required
// where thermos requires it and defaulting to thermos' default, except
// where dslClasses says otherwise; and that dslClasses names no field
// thermos does not have.
func TestClassesFollowThermos(t *testing.T) {
	a := newAuroraSchema()
	pre := a.predeclared()
	for _, info := range thermos.Schema() {
		sc := a.classFor(info.Type)
		require.NotNil(t, sc, "%v has no class", info.Type)
		assert.Same(t, sc.typ, pre[sc.name], "%s is not predeclared", sc.name)
		spec := dslClasses[info.Type]
		for _, tf := range info.Fields {
			f, ok := sc.field(tf.Name)
			require.True(t, ok, "%s has no field %s", sc.name, tf.Name)
			fs := spec.fields[tf.Name]
			checkType(t, a, sc.name+"."+tf.Name, tf, fs, f.typ)
			switch {
			case fs.required || fs.optional:
				assert.Equal(t, fs.required, f.required, "%s.%s", sc.name, tf.Name)
			default:
				assert.Equal(t, tf.Required, f.required, "%s.%s", sc.name, tf.Name)
			}
			switch {
			case f.required || tf.Optional || fs.optional:
				assert.Nil(t, f.def, "%s.%s", sc.name, tf.Name)
			case fs.def != nil:
				assert.Equal(t, fs.def, f.def, "%s.%s", sc.name, tf.Name)
			default:
				checkDefault(t, sc.name+"."+tf.Name, tf.Default, f.def)
			}
		}
		for name := range spec.fields {
			_, ok := info.Field(name)
			assert.True(t, ok, "dslClasses: %v has no field %s", info.Type, name)
		}
		for _, name := range spec.first {
			_, inThermos := info.Field(name)
			_, extra := spec.extraField(name)
			assert.True(t, inThermos || extra, "dslClasses: %v: %s in first is no field", info.Type, name)
		}
		assert.Len(t, sc.fields, len(info.Fields)+len(spec.extra), sc.name)
	}
	for typ := range dslClasses {
		_, ok := thermos.Describe(typ)
		assert.True(t, ok, "dslClasses: %v is not described by thermos", typ)
	}
	// Python's declaration order, where it differs from thermos'.
	assert.Equal(t, []string{"cmdline", "name", "resources", "max_failures", "daemon", "ephemeral", "min_duration", "final", "logger", "packages"}, fieldNamesInOrder(a.process))
	assert.Equal(t, []string{"name", "role", "contact", "cluster", "environment", "instances", "task", "announce", "tier",
		"cron_schedule", "cron_collision_policy", "update_config", "constraints", "metadata"}, fieldNamesInOrder(a.job)[:14])
}

func fieldNamesInOrder(sc *schema) []string {
	var names []string
	for _, f := range sc.fields {
		names = append(names, f.name)
	}
	return names
}

func checkType(t *testing.T, a *auroraSchema, what string, tf thermos.FieldInfo, fs fieldSpec, typ *ptype) {
	t.Helper()
	want := map[thermos.Kind]kind{thermos.KindString: kString, thermos.KindInteger: kInteger, thermos.KindFloat: kFloat,
		thermos.KindBoolean: kBoolean, thermos.KindStringMap: kMap, thermos.KindStringList: kList,
		thermos.KindIntegerList: kList, thermos.KindStruct: kStruct, thermos.KindStructList: kList, thermos.KindChoice: kChoice}[tf.Kind]
	if fs.enum != "" {
		want = kEnum
	}
	require.Equal(t, want, typ.kind, what)
	switch tf.Kind {
	case thermos.KindStruct:
		assert.Same(t, a.classFor(tf.Struct), typ.sch, what)
	case thermos.KindStructList:
		assert.Same(t, a.classFor(tf.Struct), typ.elem.sch, what)
	case thermos.KindChoice:
		var got, wantAlts []string
		for _, alt := range typ.alts {
			got = append(got, alt.name)
		}
		for _, alt := range tf.Alternatives {
			wantAlts = append(wantAlts, a.classFor(alt).name)
		}
		assert.ElementsMatch(t, wantAlts, got, what)
		if fs.alternatives != nil {
			assert.Equal(t, fs.alternatives, got, what)
		}
	}
}

func checkDefault(t *testing.T, what string, want any, got starlark.Value) {
	t.Helper()
	require.NotNil(t, got, what)
	switch w := want.(type) {
	case string:
		assert.Equal(t, starlark.String(w), got, what)
	case int, int64:
		n, ok := got.(starlark.Int).Int64()
		assert.True(t, ok, what)
		assert.Equal(t, reflect.ValueOf(w).Int(), n, what)
	case float64:
		assert.Equal(t, starlark.Float(w), got, what)
	case bool:
		assert.Equal(t, starlark.Bool(w), got, what)
	default:
		v := reflect.ValueOf(want)
		switch v.Kind() {
		case reflect.Slice:
			l, ok := got.(*starlark.List)
			require.True(t, ok, what)
			assert.Equal(t, v.Len(), l.Len(), what)
		case reflect.Struct:
			o, ok := got.(*object)
			require.True(t, ok, what)
			info, _ := thermos.Describe(v.Type())
			for _, tf := range info.Fields {
				fv := v.FieldByName(tf.GoName)
				x, set := o.vals[tf.Name]
				if tf.Optional {
					assert.Equal(t, !fv.IsNil(), set, "%s.%s", what, tf.Name)
				} else if set {
					checkDefault(t, what+"."+tf.Name, fv.Interface(), x)
				} else if f, ok := o.sch.field(tf.Name); ok && f.def != nil {
					checkDefault(t, what+"."+tf.Name, fv.Interface(), f.def)
				}
			}
		default:
			t.Errorf("%s: a default of type %T", what, want)
		}
	}
}

// TestDSLOnlyFields pins what the DSL has that the payload has not.
func TestDSLOnlyFields(t *testing.T) {
	a := newAuroraSchema()
	for _, c := range []struct {
		of   reflect.Type
		name string
	}{{typeKey[thermos.Process](), "packages"}, {typeKey[thermos.Job](), "instances"}, {typeKey[thermos.Job](), "update_config"}} {
		_, ok := a.classFor(c.of).field(c.name)
		assert.True(t, ok, "%v.%s", c.of, c.name)
		_, inThermos := payloadStructs[c.of].Field(c.name)
		assert.False(t, inThermos, "%v.%s", c.of, c.name)
	}
}
