package nixrealis

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/nixrealis/nixrealis/thermos"
)

// FuzzRenderJob renders arbitrary payloads: rendering never panics, and a
// rendered JobConfiguration and JobUpdateSettings always serialise with
// Thrift (whose writer rejects duplicate set elements and unset unions).
func FuzzRenderJob(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.payload.json"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b, 2, "http,admin,http")
		}
	}
	f.Fuzz(func(t *testing.T, payload []byte, instances int, ports string) {
		p, err := thermos.Unmarshal(payload)
		if err != nil {
			return
		}
		var ps []string
		for i, start := 0, 0; i <= len(ports); i++ {
			if i == len(ports) || ports[i] == ',' {
				ps = append(ps, ports[start:i])
				start = i + 1
			}
		}
		rj, err := renderJob(p, instances, ps, "fuzz")
		if err != nil {
			return
		}
		ser := thrift.NewTSerializer()
		if _, err := ser.Write(context.Background(), rj.JobConfig()); err != nil {
			t.Fatalf("rendered JobConfiguration does not serialise: %v", err)
		}
	})
}
