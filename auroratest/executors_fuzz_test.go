package auroratest_test

import (
	"errors"
	"os"
	"testing"

	"github.com/nixrealis/nixrealis/auroratest"
)

// FuzzParseExecutorConfig: any input is either refused with
// ErrExecutorConfig or gives executors with distinct, non-empty names
// other than Thermos', each with a command.
func FuzzParseExecutorConfig(f *testing.F) {
	for _, p := range []string{guideConfig, "testdata/aurora_docs_executor_config.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`[{"executor": {"name": "x", "command": {"value": "x", "shell": "TRUE"}, "resources": []}, "task_prefix": ""}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfgs, err := auroratest.ParseExecutorConfig(data)
		if err != nil {
			if !errors.Is(err, auroratest.ErrExecutorConfig) {
				t.Fatalf("error %v does not wrap ErrExecutorConfig", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, c := range cfgs {
			if c.Name == "" || c.Name == "AuroraExecutor" || seen[c.Name] || c.Command.Value == "" {
				t.Fatalf("accepted a bad executor: %+v", c)
			}
			seen[c.Name] = true
		}
	})
}
