package nixrealis_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/job"
)

// Example creates a job on auroratest, the in-process Aurora scheduler,
// waits until its instances run, lists them and kills the job.
func Example() {
	srv := auroratest.NewServer(nil)
	defer srv.Close()

	// Dial takes gorealis' options; the server provides the ones that
	// point at it. The default poll interval is one second.
	c, err := nixrealis.Dial(srv.ClientOptions(), nixrealis.WithPollInterval(10*time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	task := job.NewTask("hello", job.NewProcess("hello", "echo hello world; sleep 3600")).
		WithResources(job.NewResources(0.5, 64*job.MiB, 64*job.MiB))
	j := job.New(job.Key{Cluster: "devcluster", Role: "www-data", Environment: "devel", Name: "hello"}, task).
		WithInstances(2)

	created, err := c.Create(ctx, j)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created", created.Key)

	st, err := c.Status(ctx, created.Key)
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range st.Tasks {
		fmt.Println("instance", t.Instance, t.Status)
	}

	if err := c.Kill(ctx, created.Key, nil); err != nil {
		log.Fatal(err)
	}
	st, err = c.Status(ctx, created.Key)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("killed:", len(st.ByState[st.Tasks[0].Status]), "tasks", st.Tasks[0].Status)
	// Output:
	// created devcluster/www-data/devel/hello
	// instance 0 RUNNING
	// instance 1 RUNNING
	// killed: 2 tasks KILLED
}

// ExampleClient_Inspect describes a job as `aurora job inspect` does,
// without sending anything to the scheduler.
func ExampleClient_Inspect() {
	srv := auroratest.NewServer(nil)
	defer srv.Close()
	c, err := nixrealis.Dial(srv.ClientOptions())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	task := job.SequentialTask("hello",
		job.NewProcess("fetch", "curl -o data.txt https://example.com/data.txt"),
		job.NewProcess("hello", "echo hello world\ncat data.txt")).
		WithResources(job.NewResources(0.5, 64*job.MiB, 64*job.MiB))
	j := job.Service(job.Key{Cluster: "devcluster", Role: "www-data", Environment: "devel", Name: "hello"}, task).
		WithContact("ops@example.com")
	out, err := c.Inspect(context.Background(), j)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(out)
	// Output:
	// Job level information
	//   name:       'hello'
	//   role:       'www-data'
	//   contact:    'ops@example.com'
	//   cluster:    'devcluster'
	//   instances:  '1'
	//   service:    True
	//
	// Task level information
	//   name: 'hello'
	//   constraints:
	//     fetch < hello
	//   resources:  cpu 0.5, ram 64 MiB, disk 64 MiB
	//
	// Process 'fetch':
	//   cmdline:
	//     curl -o data.txt https://example.com/data.txt
	//
	// Process 'hello':
	//   cmdline:
	//     echo hello world
	//     cat data.txt
	//
}
