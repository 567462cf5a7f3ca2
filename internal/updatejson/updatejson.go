// Package updatejson renders a thermos.UpdateConfig the way Pystachio
// serialises it (a taskconfig.json's derived.update_config), independently
// of thermos' own encoder, for the golden tests of job and auroraconfig.
package updatejson

import (
	"encoding/json"

	"github.com/nixrealis/nixrealis/thermos"
)

// Marshal returns u as Pystachio writes it: every field, pulse_interval_secs
// only when set, and the update strategy that is set.
func Marshal(u thermos.UpdateConfig) ([]byte, error) {
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
	return json.Marshal(m)
}
