//go:build linux

package thermosexec_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/auroratest/thermosexec"
	"github.com/nixrealis/nixrealis/thermos"
)

// The executor runs a Thermos payload with real processes: here two
// processes in order, the second reading what the first wrote, with
// templates bound at run time. With auroratest, pass it as
// auroratest.NewServer(e) and create jobs through gorealis instead.
func ExampleExecutor() {
	root, _ := os.MkdirTemp("", "thermosexec-example")
	defer os.RemoveAll(root)
	// The task runs as its role's user (www-data, which Debian has), who
	// must reach its sandbox under root.
	_ = os.Chmod(root, 0o755)
	e := &thermosexec.Executor{Root: root}
	defer e.Close()

	j := thermos.NewJob()
	j.Role, j.Environment, j.Name, j.Cluster = "www-data", "prod", "hello", "devcluster"
	j.Task.Name = "hello"
	j.Task.Resources = &thermos.Resources{CPU: 0.1, RAM: 16 << 20, Disk: 16 << 20}
	j.Task.Processes = []thermos.Process{
		thermos.NewProcess("write", "echo 'hello from instance {{mesos.instance}}' > greeting"),
		thermos.NewProcess("hello", "cat greeting"),
	}
	j.Task.Constraints = []thermos.Constraint{{Order: []string{"write", "hello"}}}
	data, _ := thermos.Marshal(j)

	e.Launch(context.Background(), auroratest.LaunchedTask{
		TaskID: "www-data-prod-hello-0-1", Role: "www-data", Instance: 0, Host: "agent-one",
		ExecutorName: "AuroraExecutor", Data: string(data),
	}, func(u auroratest.StatusUpdate) { fmt.Println(strings.TrimSpace(u.Status.String() + " " + u.Message)) })

	final, _ := e.Wait(context.Background(), "www-data-prod-hello-0-1")
	info, _ := e.Task(final.TaskID)
	out, _ := os.ReadFile(filepath.Join(info.Sandbox, ".logs", "hello", "0", "stdout"))
	fmt.Print(string(out))
	// Output:
	// STARTING
	// RUNNING No health-check defined, task is assumed healthy.
	// FINISHED Task finished.
	// hello from instance 0
}
