package nixrealis_test

import (
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/job"
)

// ExampleRenderJob shows the TaskConfig fields Aurora's client would send
// for a small service, built through gorealis.
func ExampleRenderJob() {
	task := job.NewTask("web", job.NewProcess("web", "./serve --port={{thermos.ports[http]}}")).
		WithResources(job.NewResources(0.5, 256*job.MiB, 1500*job.MB))
	j := job.Service(job.Key{Cluster: "devcluster", Role: "www-data", Environment: "prod", Name: "web"}, task).
		WithInstances(3).
		WithConstraint("rack", job.NotValues("r1", "r2"))
	spec, err := j.Build()
	if err != nil {
		log.Fatal(err)
	}
	rj, err := nixrealis.RenderJob(spec, "alice")
	if err != nil {
		log.Fatal(err)
	}
	tc := rj.TaskConfig()
	fmt.Println("key:", rj.JobKey().Role, rj.JobKey().Environment, rj.JobKey().Name)
	fmt.Println("owner:", tc.Owner.User, "service:", tc.IsService, "instances:", rj.GetInstanceCount())
	for _, r := range tc.Resources {
		switch {
		case r.NumCpus != nil:
			fmt.Println("numCpus", *r.NumCpus)
		case r.RamMb != nil:
			fmt.Println("ramMb", *r.RamMb)
		case r.DiskMb != nil:
			fmt.Println("diskMb", *r.DiskMb)
		case r.NamedPort != nil:
			fmt.Println("namedPort", *r.NamedPort)
		}
	}
	c := tc.Constraints[0]
	fmt.Println("constraint", c.Name, "negated:", c.Constraint.Value.Negated, c.Constraint.Value.Values)
	fmt.Println("executor:", tc.ExecutorConfig.Name)
	// Output:
	// key: www-data prod web
	// owner: alice service: true instances: 3
	// numCpus 0.5
	// ramMb 256
	// diskMb 1500
	// namedPort http
	// constraint rack negated: true [r1 r2]
	// executor: AuroraExecutor
}

// ExampleUpdateSettings shows the JobUpdateSettings `aurora update start`
// sends for an update_config.
func ExampleUpdateSettings() {
	task := job.NewTask("web", job.NewProcess("web", "./serve")).
		WithResources(job.NewResources(0.5, 256*job.MiB, 256*job.MiB))
	u := job.DefaultUpdate()
	u.BatchSize = 2
	u.Watch = new(30 * time.Second)
	u.MaxTotalFailures = 1
	spec, err := job.Service(job.Key{Cluster: "devcluster", Role: "www-data", Environment: "prod", Name: "web"}, task).
		WithInstances(4).WithUpdate(u).Build()
	if err != nil {
		log.Fatal(err)
	}
	s, err := nixrealis.UpdateSettings(spec.Update)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("updateGroupSize:", s.UpdateGroupSize)
	fmt.Println("minWaitInInstanceRunningMs:", s.MinWaitInInstanceRunningMs)
	fmt.Println("maxFailedInstances:", s.MaxFailedInstances)
	fmt.Println("rollbackOnFailure:", s.RollbackOnFailure)
	fmt.Println("queue strategy group size:", s.UpdateStrategy.QueueStrategy.GroupSize)
	// Output:
	// updateGroupSize: 2
	// minWaitInInstanceRunningMs: 30000
	// maxFailedInstances: 1
	// rollbackOnFailure: true
	// queue strategy group size: 2
}

// ExampleJobConfigJSON prints parts of the JobConfiguration a job renders
// to, as JSON, and the built job's key (the name defaulted from the task).
func ExampleJobConfigJSON() {
	task := job.NewTask("web", job.NewProcess("web", "./serve")).
		WithResources(job.NewResources(0.5, 256*job.MiB, 256*job.MiB))
	spec, err := job.New(job.Key{Cluster: "devcluster", Role: "www-data", Environment: "prod"}, task).Build()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("key:", spec.Key())
	rj, err := nixrealis.RenderJob(spec, "alice")
	if err != nil {
		log.Fatal(err)
	}
	out, err := nixrealis.JobConfigJSON(rj.JobConfig())
	if err != nil {
		log.Fatal(err)
	}
	var jc struct {
		Key           map[string]string `json:"key"`
		InstanceCount int               `json:"instanceCount"`
		TaskConfig    struct {
			Resources      []map[string]any `json:"resources"`
			ExecutorConfig struct {
				Name string `json:"name"`
			} `json:"executorConfig"`
		} `json:"taskConfig"`
	}
	if err := json.Unmarshal(out, &jc); err != nil {
		log.Fatal(err)
	}
	fmt.Println("key:", jc.Key["role"], jc.Key["environment"], jc.Key["name"])
	fmt.Println("instanceCount:", jc.InstanceCount)
	fmt.Println("resources:", jc.TaskConfig.Resources)
	fmt.Println("executor:", jc.TaskConfig.ExecutorConfig.Name)
	// Output:
	// key: devcluster/www-data/prod/web
	// key: www-data prod web
	// instanceCount: 1
	// resources: [map[diskMb:256] map[numCpus:0.5] map[ramMb:256]]
	// executor: AuroraExecutor
}
