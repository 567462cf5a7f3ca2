package job_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/thermos"
)

// TestFromThermosKeepsEverySchemaField changes, one at a time, every
// numeric and boolean field of the job, task, process and resources (as
// thermos' schema lists them) in a built payload, reads it back with
// FromThermos and builds it again: the changed value must survive. A field
// added to the schema but not to FromThermos fails here.
func TestFromThermosKeepsEverySchemaField(t *testing.T) {
	j, _, _ := schemaJob()
	base, err := j.Build()
	require.NoError(t, err)
	targets := []struct {
		name string
		of   func(p *thermos.Job) any
	}{
		{"job", func(p *thermos.Job) any { return p }},
		{"task", func(p *thermos.Job) any { return &p.Task }},
		{"process", func(p *thermos.Job) any { return &p.Task.Processes[0] }},
		{"task resources", func(p *thermos.Job) any { return p.Task.Resources }},
		{"process resources", func(p *thermos.Job) any { return p.Task.Processes[0].Resources }},
	}
	for _, tg := range targets {
		for _, f := range thermos.TemplatedFields(tg.of(base.Payload)) {
			t.Run(tg.name+"."+f, func(t *testing.T) {
				p, err := thermos.Unmarshal(mustMarshal(t, base.Payload))
				require.NoError(t, err)
				old, _ := thermos.Field(tg.of(p), f)
				require.NoError(t, thermos.SetField(tg.of(p), f, changed(old)))
				want, _ := thermos.Field(tg.of(p), f)
				require.NotEqual(t, old, want)
				back, err := job.FromThermos(p)
				require.NoError(t, err)
				spec, err := back.Build()
				require.NoError(t, err)
				got, ok := thermos.Field(tg.of(spec.Payload), f)
				require.True(t, ok)
				assert.Equal(t, want, got, "%s.%s after FromThermos and Build", tg.name, f)
			})
		}
	}
}

func mustMarshal(t *testing.T, p *thermos.Job) []byte {
	t.Helper()
	b, err := thermos.Marshal(p)
	require.NoError(t, err)
	return b
}

// changed returns the text of a valid value other than old: true for
// false and the other way round, and a larger number (whole MiB for the
// byte sizes).
func changed(old any) string {
	switch v := old.(type) {
	case bool:
		return fmt.Sprint(!v)
	case int:
		return fmt.Sprint(v + 2)
	case int64:
		return fmt.Sprint(v + int64(job.MiB))
	case float64:
		return fmt.Sprint(v + 0.5)
	case nil:
		return "2"
	}
	panic(fmt.Sprintf("unexpected %T", old))
}
