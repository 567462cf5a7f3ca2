package auroraconfig_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/job"
)

// updateJSON renders a spec's update_config the way Pystachio serialises
// it (the taskconfig.json's derived.update_config).
func updateJSON(t *testing.T, spec job.Spec) []byte {
	t.Helper()
	u := spec.Update
	m := map[string]any{
		"batch_size":                u.BatchSize,
		"watch_secs":                u.WatchSecs,
		"max_per_shard_failures":    u.MaxPerShardFailures,
		"max_total_failures":        u.MaxTotalFailures,
		"rollback_on_failure":       u.RollbackOnFailure,
		"wait_for_batch_completion": u.WaitForBatchCompletion,
		"sla_aware":                 u.SLAAware,
	}
	if u.PulseIntervalSecs != nil {
		m["pulse_interval_secs"] = *u.PulseIntervalSecs
	}
	if s := u.UpdateStrategy; s != nil {
		switch {
		case s.Queue != nil:
			m["update_strategy"] = map[string]any{"batch_size": s.Queue.BatchSize}
		case s.Batch != nil:
			m["update_strategy"] = map[string]any{"batch_size": s.Batch.BatchSize, "autopause_after_batch": s.Batch.AutopauseAfterBatch}
		case s.VariableBatch != nil:
			m["update_strategy"] = map[string]any{"batch_sizes": s.VariableBatch.BatchSizes, "autopause_after_batch": s.VariableBatch.AutopauseAfterBatch}
		}
	}
	data, err := json.Marshal(m)
	require.NoError(t, err)
	return data
}
