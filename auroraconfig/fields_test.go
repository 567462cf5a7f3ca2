package auroraconfig

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/internal/mapkeys"
	"github.com/nixrealis/nixrealis/internal/schematest"
	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/thermos"
)

// TestLoadKeepsEveryField writes each full job of schematest (built, as a
// thermos.Config) as a .aurora file, with every field of thermos' schema
// changed one at a time, loads and builds it: the changed value must be in
// the built job. The file is written from thermos' description and the
// DSL's classes, so a field added to thermos' schema is written and
// checked here without an edit; if the loader does not carry it to
// job.Build, or no full job sets it, this test fails.
func TestLoadKeepsEveryField(t *testing.T) {
	a := newAuroraSchema()
	schematest.EveryField(t, "Load and Build", func(t *testing.T, c *thermos.Config) *thermos.Config {
		return loadBuildSource(t, a, c)
	})
}

// loadBuildSource writes c as a .aurora file, loads it and builds its job.
func loadBuildSource(t *testing.T, a *auroraSchema, c *thermos.Config) *thermos.Config {
	t.Helper()
	src := "jobs = [" + source(a, reflect.ValueOf(c.Job).Elem(), map[string]string{
		"instances":     strconv.Itoa(c.Instances),
		"update_config": source(a, reflect.ValueOf(c.UpdateConfig), nil),
	}) + "]\n"
	cfg, err := (&Loader{}).LoadSource("full.aurora", []byte(src))
	require.NoError(t, err, src)
	spec, err := cfg.Build(job.Key{})
	require.NoError(t, err, src)
	return schematest.WholeJob(t, spec)
}

// source writes v, a value of a payload field, in the DSL: a described
// struct as a call of its class with every field that holds a value
// (and extra, the DSL-only fields), a choice as the alternative it holds.
func source(a *auroraSchema, v reflect.Value, extra map[string]string) string {
	switch x := v.Interface().(type) {
	case string:
		return strconv.Quote(x)
	case int, int64:
		return strconv.FormatInt(v.Int(), 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64) + "*1.0"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case map[string]string:
		var kv []string
		for _, k := range mapkeys.Sorted(x) {
			kv = append(kv, strconv.Quote(k)+": "+strconv.Quote(x[k]))
		}
		return "{" + strings.Join(kv, ", ") + "}"
	}
	switch v.Kind() {
	case reflect.Pointer:
		return source(a, v.Elem(), nil)
	case reflect.Slice:
		elems := make([]string, v.Len())
		for k := range elems {
			elems[k] = source(a, v.Index(k), nil)
		}
		return "[" + strings.Join(elems, ", ") + "]"
	}
	info, ok := thermos.Describe(v.Type())
	if !ok {
		panic(fmt.Sprintf("no description of %v", v.Type()))
	}
	var args []string
	for _, tf := range info.Fields {
		fv := v.FieldByName(tf.GoName)
		if tf.Optional && fv.IsNil() {
			continue
		}
		if tf.Kind == thermos.KindChoice {
			if fv.Kind() == reflect.Pointer {
				fv = fv.Elem()
			}
			alt, ok := schematest.Alternative(fv, tf.Alternatives)
			if !ok {
				continue
			}
			fv = alt
		}
		args = append(args, tf.Name+" = "+source(a, fv, nil))
	}
	for _, k := range mapkeys.Sorted(extra) {
		args = append(args, k+" = "+extra[k])
	}
	return a.classFor(info.Type).name + "(" + strings.Join(args, ", ") + ")"
}
