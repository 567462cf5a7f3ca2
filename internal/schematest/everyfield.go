package schematest

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/thermos"
)

// WholeJob returns a copy of spec's whole job: its payload written and
// read back as a scheduler's copy of it would be, its instances and its
// update_config, sharing nothing with spec.
func WholeJob(t testing.TB, spec job.Spec) *thermos.Config {
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
			vb.BatchSizes = slices.Clone(vb.BatchSizes)
			cp.VariableBatch = &vb
		}
		u.UpdateStrategy = &cp
	}
	if u.PulseIntervalSecs != nil {
		u.PulseIntervalSecs = new(*u.PulseIntervalSecs)
	}
	return &thermos.Config{Job: p, Instances: spec.Instances, UpdateConfig: u}
}

// EveryField checks that every field of thermos' schema survives trip,
// which carries a whole job through a package and back (via names it in
// failures: "Load and Build"). For each of FullJobs, built, its WholeJob
// must come back unchanged; then, in a subtest "<job>/<path>" each, with
// one field changed (Changed) but those Unchangeable, the changed value
// must come back. Last, the jobs must between them reach every field of
// the schema (Missing).
func EveryField(t *testing.T, via string, trip func(t *testing.T, c *thermos.Config) *thermos.Config) {
	t.Helper()
	var reached []Field
	for name, j := range FullJobs() {
		spec, err := j.Build()
		require.NoError(t, err, name)
		c := WholeJob(t, spec)
		assert.Equal(t, c, trip(t, WholeJob(t, spec)), "%s, unchanged", name)
		fields := Fields(c)
		reached = append(reached, fields...)
		for _, f := range fields {
			if Unchangeable(name, f.Path) {
				continue
			}
			t.Run(name+"/"+f.Path, func(t *testing.T) {
				c := WholeJob(t, spec)
				g, ok := Lookup(c, f.Path)
				require.True(t, ok)
				want := Changed(g)
				g.Set(want)
				back, ok := Lookup(trip(t, c), f.Path)
				require.True(t, ok, "%s is gone after %s", f.Path, via)
				assert.Equal(t, want, back.Value(), "%s after %s", f.Path, via)
			})
		}
	}
	assert.Empty(t, Missing(reached), "fields no job of schematest.FullJobs sets: set them there")
}
