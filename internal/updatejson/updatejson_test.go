package updatejson

import (
	"testing"

	"github.com/nixrealis/nixrealis/internal/jsoncmp"
	"github.com/nixrealis/nixrealis/thermos"
)

func TestMarshal(t *testing.T) {
	pulse := 30
	for _, tc := range []struct {
		name string
		u    thermos.UpdateConfig
		want string
	}{
		{"defaults", thermos.UpdateConfig{BatchSize: 1, WatchSecs: 45, MaxPerShardFailures: 0, MaxTotalFailures: 0, RollbackOnFailure: true},
			`{"batch_size":1,"watch_secs":45,"max_per_shard_failures":0,"max_total_failures":0,"rollback_on_failure":true,"wait_for_batch_completion":false,"sla_aware":false}`},
		{"pulse and queue", thermos.UpdateConfig{BatchSize: 2, PulseIntervalSecs: &pulse, UpdateStrategy: &thermos.UpdateStrategy{Queue: &thermos.QueueUpdateStrategy{BatchSize: 3}}},
			`{"batch_size":2,"watch_secs":0,"max_per_shard_failures":0,"max_total_failures":0,"rollback_on_failure":false,"wait_for_batch_completion":false,"sla_aware":false,"pulse_interval_secs":30,"update_strategy":{"batch_size":3}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Marshal(tc.u)
			if err != nil {
				t.Fatal(err)
			}
			jsoncmp.Equal(t, []byte(tc.want), got)
		})
	}
}
