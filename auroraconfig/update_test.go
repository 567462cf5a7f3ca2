package auroraconfig_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/internal/updatejson"
	"github.com/nixrealis/nixrealis/job"
)

// updateJSON renders a spec's update_config the way Pystachio serialises
// it (the taskconfig.json's derived.update_config).
func updateJSON(t *testing.T, spec job.Spec) []byte {
	t.Helper()
	data, err := updatejson.Marshal(spec.Update)
	require.NoError(t, err)
	return data
}
