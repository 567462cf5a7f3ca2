package thermos_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/thermos"
)

func ExampleDescribe() {
	info, _ := thermos.Describe(&thermos.Process{})
	for _, f := range info.Fields {
		switch {
		case f.Required:
			fmt.Printf("%s (%s) %s, required\n", f.Name, f.GoName, f.Kind)
		case f.Optional:
			fmt.Printf("%s (%s) %s %v, optional\n", f.Name, f.GoName, f.Kind, f.Struct)
		default:
			fmt.Printf("%s (%s) %s, default %v, templated %v\n", f.Name, f.GoName, f.Kind, f.Default, f.Templated)
		}
	}
	// Output:
	// name (Name) String, required
	// cmdline (Cmdline) String, required
	// resources (Resources) Struct thermos.Resources, optional
	// max_failures (MaxFailures) Integer, default 1, templated true
	// daemon (Daemon) Boolean, default false, templated true
	// ephemeral (Ephemeral) Boolean, default false, templated true
	// min_duration (MinDuration) Integer, default 5, templated true
	// final (Final) Boolean, default false, templated true
	// logger (Logger) Struct thermos.Logger, optional
}

// TestDescribeMatchesSchema checks every description against what the
// rest of the package says of the same struct: its field names and
// templated fields, its defaults (NewDefaults, Field), the Go field each
// JSON name lives in, and that every nested struct is described.
func TestDescribeMatchesSchema(t *testing.T) {
	all := thermos.Schema()
	require.Len(t, all, len(thermos.DescribedTypes()))
	described := map[reflect.Type]bool{}
	for _, s := range all {
		described[s.Type] = true
	}
	for _, s := range all {
		v := reflect.New(s.Type).Interface()
		got, ok := thermos.Describe(v)
		require.True(t, ok)
		assert.Equal(t, s, got)
		got, ok = thermos.Describe(s.Type)
		require.True(t, ok)
		assert.Equal(t, s, got)
		var names, templated []string
		defaults := thermos.NewDefaults(s.Type)
		for _, f := range s.Fields {
			names = append(names, f.Name)
			if f.Templated {
				templated = append(templated, f.Name)
			}
			sf, ok := s.Type.FieldByName(f.GoName)
			require.True(t, ok, "%v.%s", s.Type, f.GoName)
			if f.Optional {
				assert.Nil(t, f.Default, "%v.%s", s.Type, f.Name)
				assert.Contains(t, []reflect.Kind{reflect.Pointer, reflect.Map, reflect.Slice}, sf.Type.Kind(), "%v.%s", s.Type, f.Name)
			} else {
				assert.Equal(t, reflect.ValueOf(defaults).Elem().FieldByIndex(sf.Index).Interface(), f.Default, "%v.%s", s.Type, f.Name)
				if x, ok := thermos.Field(defaults, f.Name); ok {
					assert.Equal(t, x, f.Default, "%v.%s", s.Type, f.Name)
				}
			}
			switch f.Kind {
			case thermos.KindStruct, thermos.KindStructList:
				assert.True(t, described[f.Struct], "%v.%s holds %v, which is not described", s.Type, f.Name, f.Struct)
			case thermos.KindChoice:
				require.NotEmpty(t, f.Alternatives)
				for _, a := range f.Alternatives {
					assert.True(t, described[a], "%v.%s: alternative %v is not described", s.Type, f.Name, a)
				}
			default:
				assert.Nil(t, f.Struct)
			}
			assert.NotEqual(t, "Kind(?)", f.Kind.String())
		}
		assert.Equal(t, thermos.FieldNames(v), names)
		assert.Equal(t, thermos.TemplatedFields(v), templated)
	}
	_, ok := thermos.Describe(42)
	assert.False(t, ok)
	_, ok = thermos.Describe(reflect.TypeFor[string]())
	assert.False(t, ok)
	// A returned description is the caller's.
	a, _ := thermos.Describe(&thermos.Job{})
	a.Fields[0].Name = "changed"
	b, _ := thermos.Describe(&thermos.Job{})
	assert.Equal(t, "name", b.Fields[0].Name)
}

// TestDefaultConstructors pins the constructors other packages read
// Aurora's defaults from.
func TestDefaultConstructors(t *testing.T) {
	c := thermos.NewConfig()
	assert.Equal(t, 1, c.Instances)
	assert.Equal(t, thermos.NewJob(), c.Job)
	assert.Equal(t, thermos.DefaultUpdateConfig(), c.UpdateConfig)
	assert.Equal(t, &thermos.CoordinatorSLAPolicy{StatusKey: "drain"}, thermos.DefaultCoordinatorSLAPolicy())
}
