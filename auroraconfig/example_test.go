package auroraconfig_test

import (
	"fmt"
	"log"

	"github.com/nixrealis/nixrealis/auroraconfig"
	"github.com/nixrealis/nixrealis/job"
)

// Example loads a configuration in Aurora's language, picks its job by key
// with a CLI-style binding and builds it.
func Example() {
	src := `
class Profile(Struct):
  version = Required(String)
  package = Default(String, 'app-{{version}}.tgz')

run = Process(name = 'run', cmdline = 'tar xzf {{profile.package}} && ./app --build={{build}}')

jobs = [
  Job(cluster = 'devcluster', role = 'www-data', environment = 'prod', name = 'app',
      instances = 2,
      task = Task(processes = [run], resources = Resources(cpu = 0.5, ram = 64*MB, disk = 1*GB)))
  .bind(profile = Profile(version = '1.2.3'))
]
`
	var l auroraconfig.Loader
	cfg, err := l.LoadSource("app.aurora", []byte(src))
	if err != nil {
		log.Fatal(err)
	}
	j, err := cfg.Job(job.Key{Cluster: "devcluster", Role: "www-data", Environment: "prod", Name: "app"}, "build=42")
	if err != nil {
		log.Fatal(err)
	}
	spec, err := j.Build()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(spec.Payload.Task.Processes[0].Cmdline)
	fmt.Println(spec.Instances, spec.Payload.Task.Resources.RAM)

	_, err = cfg.Job(job.Key{Cluster: "devcluster", Role: "www-data", Environment: "devel", Name: "app"})
	fmt.Println(err)
	// Output:
	// tar xzf app-1.2.3.tgz && ./app --build=42
	// 2 67108864
	// app.aurora: Could not find job devcluster/www-data/devel/app
	// Candidates are:
	//   devcluster/www-data/prod/app
}
