package schematest_test

import (
	"fmt"

	"github.com/nixrealis/nixrealis/internal/schematest"
	"github.com/nixrealis/nixrealis/thermos"
)

func ExampleFields() {
	c := thermos.NewConfig()
	c.Job.Task.Processes = []thermos.Process{thermos.NewProcess("hello", "echo hello")}
	for _, f := range schematest.Fields(c) {
		if f.Owner.Name() == "Process" {
			fmt.Printf("%s = %v, changed: %v\n", f.Path, f.Value(), schematest.Changed(f))
		}
	}
	fmt.Println(len(schematest.Missing(schematest.Fields(c))) > 0) // many fields are unset
	// Output:
	// task.processes[0].name = hello, changed: hellox
	// task.processes[0].cmdline = echo hello, changed: echo hellox
	// task.processes[0].max_failures = 1, changed: 3
	// task.processes[0].daemon = false, changed: true
	// task.processes[0].ephemeral = false, changed: true
	// task.processes[0].min_duration = 5, changed: 7
	// task.processes[0].final = false, changed: true
	// true
}
