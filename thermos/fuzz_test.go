package thermos_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

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

// FuzzAppendString: the encoder writes pure printable ASCII that standard
// JSON decodes back to the input (for valid UTF-8).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "h\u00e9llo \u2028 \"q\" \\ \t\n <>&/", "\x00\x1f\x7f", "😀", "a\xffb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := thermos.AppendString(nil, s)
		for i, c := range out {
			if c < 0x20 || c > 0x7e {
				t.Fatalf("byte %d of %q is %#x, not printable ASCII", i, out, c)
			}
		}
		var back string
		require.NoError(t, json.Unmarshal(out, &back), "output %s", out)
		if utf8.ValidString(s) {
			assert.Equal(t, s, back)
		}
	})
}
