package job_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/internal/schematest"
	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/thermos"
)

// TestFromConfigKeepsEveryField changes, one at a time, every field of
// thermos' schema (as thermos.Describe lists them, through
// internal/schematest) in the built payloads and update_configs of
// fullJobs, reads each back with FromConfig and builds it again: the
// changed value must survive. A field added to thermos' schema is changed
// here without an edit; if FromThermos (or UpdateFromThermos) does not
// carry it, or no full job sets it, this test fails.
func TestFromConfigKeepsEveryField(t *testing.T) {
	var reached []schematest.Field
	for name, j := range schematest.FullJobs() {
		spec, err := j.Build()
		require.NoError(t, err, name)
		base := config(t, spec)
		fields := schematest.Fields(base)
		reached = append(reached, fields...)
		for _, f := range fields {
			if schematest.Unchangeable(name, f.Path) {
				continue
			}
			t.Run(name+"/"+f.Path, func(t *testing.T) {
				c := config(t, spec)
				g, ok := schematest.Lookup(c, f.Path)
				require.True(t, ok)
				want := schematest.Changed(g)
				g.Set(want)
				back, err := job.FromConfig(c)
				require.NoError(t, err)
				spec, err := back.Build()
				require.NoError(t, err)
				got, ok := schematest.Lookup(config(t, spec), f.Path)
				require.True(t, ok, "%s is gone after FromConfig and Build", f.Path)
				assert.Equal(t, want, got.Value(), "%s after FromConfig and Build", f.Path)
			})
		}
	}
	assert.Empty(t, schematest.Missing(reached), "fields no job of fullJobs sets: set them there")
}

// config returns a copy of spec's whole job, read back from JSON as a
// scheduler's job would be.
func config(t *testing.T, spec job.Spec) *thermos.Config {
	t.Helper()
	b, err := thermos.Marshal(spec.Payload)
	require.NoError(t, err)
	p, err := thermos.Unmarshal(b)
	require.NoError(t, err)
	u := spec.Update
	if s := u.UpdateStrategy; s != nil {
		cp := *s
		if cp.VariableBatch != nil {
			vb := *cp.VariableBatch
			vb.BatchSizes = append([]int(nil), vb.BatchSizes...)
			cp.VariableBatch = &vb
		}
		u.UpdateStrategy = &cp
	}
	if u.PulseIntervalSecs != nil {
		u.PulseIntervalSecs = new(*u.PulseIntervalSecs)
	}
	return &thermos.Config{Job: p, Instances: spec.Instances, UpdateConfig: u}
}
