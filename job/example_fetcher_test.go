package job_test

import (
	"fmt"

	"github.com/nixrealis/nixrealis/job"
)

// A job for a custom executor, as in Aurora's custom-executors guide: no
// Thermos processes, the executor's data verbatim, a port, a label, and
// an archive the Mesos fetcher extracts into the sandbox.
func ExampleJob_AddURIs() {
	task := job.NewTask("docker-compose").WithResources(job.NewResources(1, 64*job.MiB, 100*job.MiB))
	j := job.New(job.Key{Cluster: "devcluster", Role: "www-data", Environment: "prod", Name: "docker-compose"}, task).
		WithExecutor("docker-compose-executor", "{}").
		AddPort(job.GorealisPort(0)).
		AddMetadata("fileName", "sample-app/docker-compose.yml").
		AddURIs(true, true, "http://127.0.0.1:8000/sample-app.tar.gz")
	spec, err := j.Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	data, _ := spec.ExecutorData()
	fmt.Println(spec.Payload.ExecutorConfig.Name, string(data))
	fmt.Println(spec.Ports)
	fmt.Printf("%+v\n", spec.URIs[0])
	// Output:
	// docker-compose-executor {}
	// [org.apache.aurora.port.0]
	// {Value:http://127.0.0.1:8000/sample-app.tar.gz Extract:true Cache:true Executable:false OutputFile:}
}
