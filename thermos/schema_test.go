package thermos_test

import (
	"fmt"
	"reflect"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/thermos"
)

// The schema's own coverage: a field added to schema.go is encoded,
// decoded, parsed by SetField, read by Field and reached by Walk without
// another edit, which these tests check for every field of every described
// struct. (The job and thermosexec packages check their resolvers the same
// way.)

// TestSchemaFieldsAndSetField parses "1" into every templated field of
// every described struct and reads it back with Field.
func TestSchemaFieldsAndSetField(t *testing.T) {
	for _, typ := range thermos.DescribedTypes() {
		v := reflect.New(typ).Interface()
		names := thermos.FieldNames(v)
		require.NotEmpty(t, names, typ)
		for _, name := range thermos.TemplatedFields(v) {
			assert.Contains(t, names, name)
			require.NoError(t, thermos.SetField(v, name, "1"), "%v.%s", typ, name)
			got, ok := thermos.Field(v, name)
			require.True(t, ok, "%v.%s", typ, name)
			switch got := got.(type) {
			case int:
				assert.Equal(t, 1, got)
			case int64:
				assert.Equal(t, int64(1), got)
			case float64:
				assert.Equal(t, 1.0, got)
			case bool:
				assert.True(t, got)
			default:
				t.Errorf("%v.%s: a templated field of type %T; templates stand only for numbers and booleans", typ, name, got)
			}
			err := thermos.SetField(v, name, "x")
			assert.Error(t, err, "%v.%s", typ, name)
		}
		assert.ErrorIs(t, thermos.SetField(v, "no_such_field", "1"), thermos.ErrNotScalar)
	}
	assert.Nil(t, thermos.TemplatedFields(42))
	_, ok := thermos.Field(&struct{}{}, "x")
	assert.False(t, ok)
}

// defaultString returns the default of v's field name as text SetField
// reads.
func defaultString(t *testing.T, v any, name string) string {
	x, ok := thermos.Field(thermos.NewDefaults(reflect.TypeOf(v).Elem()), name)
	require.True(t, ok)
	switch x := x.(type) {
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// TestTemplateInEveryField puts a template in every templated field of
// every struct of fullJob's variants, found by Walk, and checks that the
// payload round-trips; every described struct with a Templates map must be
// among them.
func TestTemplateInEveryField(t *testing.T) {
	visited := map[reflect.Type]bool{}
	for name, modify := range fullVariants {
		t.Run(name, func(t *testing.T) {
			j := fullJob()
			modify(j)
			err := thermos.Walk(j, "", thermos.Visitor{Templates: func(path string, _ thermos.Templates, owner any) error {
				visited[reflect.TypeOf(owner).Elem()] = true
				tm := thermos.Templates{}
				for _, f := range thermos.TemplatedFields(owner) {
					tm[f] = "{{mesos.instance}}"
					// Unmarshal leaves a templated field at its default.
					require.NoError(t, thermos.SetField(owner, f, defaultString(t, owner, f)))
				}
				reflect.ValueOf(owner).Elem().FieldByName("Templates").Set(reflect.ValueOf(tm))
				return nil
			}})
			require.NoError(t, err)
			out, err := thermos.Marshal(j)
			require.NoError(t, err)
			back, err := thermos.Unmarshal(out)
			require.NoError(t, err, "payload: %s", out)
			assert.Equal(t, j, back)
		})
	}
	for _, typ := range thermos.DescribedTypes() {
		if _, ok := typ.FieldByName("Templates"); ok {
			assert.True(t, visited[typ], "%v has templates but no variant of fullJob holds one: set it in fullJob", typ)
		}
	}
}

// TestWalkStrings changes every string of a payload through Walk and finds
// the change in the marshalled payload.
func TestWalkStrings(t *testing.T) {
	j := fullJob()
	var paths []string
	err := thermos.Walk(&j.Task, "task", thermos.Visitor{String: func(path string, s *string) error {
		paths = append(paths, path)
		*s += "!"
		return nil
	}})
	require.NoError(t, err)
	assert.Contains(t, paths, "task.processes[1].cmdline")
	assert.Contains(t, paths, "task.constraints[0].order[1]")
	assert.Contains(t, paths, "task.processes[1].logger.destination")
	assert.Equal(t, "q!", j.Task.Processes[1].Name)
	assert.Equal(t, "nobody!", *j.Task.User)
	stop := fmt.Errorf("stop")
	n := 0
	err = thermos.Walk(j, "", thermos.Visitor{String: func(string, *string) error { n++; return stop }})
	assert.Equal(t, stop, err)
	assert.Equal(t, 1, n, "Walk stops at the first error")
}
