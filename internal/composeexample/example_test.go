package composeexample_test

import (
	"fmt"

	"github.com/nixrealis/nixrealis/internal/composeexample"
	"github.com/nixrealis/nixrealis/job"
)

// The guide's executor configuration and job.
func Example() {
	cfg := composeexample.Config()[0]
	fmt.Println(cfg.Name, cfg.TaskPrefix, cfg.CPUs(), cfg.RAMMB())
	spec, err := composeexample.Job(job.Key{Cluster: "devcluster", Role: "www-data", Environment: "prod", Name: "docker-compose"}, "file:///tmp/sample-app.tar.gz").Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(spec.Ports, spec.Payload.Metadata[0].Value, spec.URIs[0].Extract)
	// Output:
	// docker-compose-executor compose- 0 0
	// [org.apache.aurora.port.0] sample-app/docker-compose.yml true
}
