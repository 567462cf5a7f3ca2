package thermos_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/internal/jsoncmp"
	"github.com/nixrealis/nixrealis/thermos"
)

// FuzzUnmarshal: Unmarshal never panics, and whatever it accepts marshals,
// and the result unmarshals to an equal Job and re-marshals to the same
// bytes.
func FuzzUnmarshal(f *testing.F) {
	files, _ := filepath.Glob("testdata/golden/*.payload.json")
	files = append(files, "testdata/nix_aurora_config.json", "testdata/gorealis_thermos_payload.golden.json")
	for _, file := range files {
		// Large seeds (large_500_processes) make every mutation slow and
		// the fuzzer's minimisation of them take most of a short CI run.
		if data, err := os.ReadFile(file); err == nil && len(data) < 16<<10 {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"role": "r", "cluster": "c", "task": {"processes": [{"name": "p", "cmdline": "\ud83d\ude00 \u2028", "max_failures": "{{mesos.instance}}"}]}, "container": {"docker": {"image": "i"}}}`))
	f.Add([]byte(`{"role": "r", "cluster": "c", "task": {"processes": []}, "sla_policy": {"percentage": 1e-05, "duration_secs": 5.0}, "container": {"image": {"name": "n", "image_id": "x"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := thermos.Unmarshal(data)
		if err != nil {
			return
		}
		out, err := thermos.Marshal(j)
		require.NoError(t, err, "accepted input does not marshal")
		j2, err := thermos.Unmarshal(out)
		require.NoError(t, err, "Marshal output does not unmarshal: %s", out)
		assert.Equal(t, j, j2)
		out2, err := thermos.Marshal(j2)
		require.NoError(t, err)
		assert.Equal(t, string(out), string(out2))
		// The output is standard JSON.
		_, err = jsoncmp.Decode(out)
		require.NoError(t, err)
	})
}
