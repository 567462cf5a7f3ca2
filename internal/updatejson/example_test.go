package updatejson_test

import (
	"fmt"

	"github.com/nixrealis/nixrealis/internal/updatejson"
	"github.com/nixrealis/nixrealis/thermos"
)

// Marshal writes an update configuration as the derived.update_config of
// Aurora's taskconfig.json, for comparison with golden files.
func ExampleMarshal() {
	b, err := updatejson.Marshal(thermos.UpdateConfig{BatchSize: 2, WatchSecs: 45, RollbackOnFailure: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(b))
	// Output:
	// {"batch_size":2,"max_per_shard_failures":0,"max_total_failures":0,"rollback_on_failure":true,"sla_aware":false,"wait_for_batch_completion":false,"watch_secs":45}
}
