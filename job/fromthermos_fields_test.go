package job_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/internal/schematest"
	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/thermos"
)

// TestFromConfigKeepsEveryField changes, one at a time, every field of
// thermos' schema (as thermos.Describe lists them, through
// internal/schematest) in the built payloads and update_configs of
// schematest.FullJobs, reads each back with FromConfig and builds it
// again: the changed value must survive. A field added to thermos' schema
// is changed here without an edit; if FromThermos (or UpdateFromThermos)
// does not carry it, or no full job sets it, this test fails.
func TestFromConfigKeepsEveryField(t *testing.T) {
	schematest.EveryField(t, "FromConfig and Build", func(t *testing.T, c *thermos.Config) *thermos.Config {
		back, err := job.FromConfig(c)
		require.NoError(t, err)
		spec, err := back.Build()
		require.NoError(t, err)
		return schematest.WholeJob(t, spec)
	})
}
