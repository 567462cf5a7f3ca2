package job_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/nixrealis/nixrealis/job"
)

func ExampleNew() {
	hello := job.NewProcess("hello", "echo hello world && sleep 60")
	task := job.NewTask("", hello).WithResources(job.NewResources(1, 128*job.MiB, 128*job.MiB))
	j := job.New(job.Key{Cluster: "devcluster", Role: "www-data", Environment: "devel"}, task)

	spec, err := j.Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(spec.Payload.Name, spec.Payload.Task.Name, spec.Instances)
	fmt.Println(spec.Payload.Task.Resources.RAM)
	// Output:
	// hello hello 1
	// 134217728
}

func ExampleJob_Build() {
	server := job.NewProcess("server", "./server --port={{thermos.ports[http]}} --shard={{mesos.instance}}")
	task := job.NewTask("web", server).WithResources(job.NewResources(0.5, 256*job.MiB, 512*job.MiB))
	svc := job.Service(job.Key{Cluster: "devcluster", Role: "www-data", Environment: "prod"}, task).
		WithInstances(3).
		WithAnnounce(job.NewAnnouncer())

	spec, err := svc.Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(spec.Payload.Task.Processes[0].Cmdline)
	fmt.Println(spec.Ports, spec.Instances)

	data, err := spec.WithTiers(job.DefaultTiers()).ExecutorData()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(data) > 0, *spec.WithTiers(job.DefaultTiers()).Payload.Tier)
	// Output:
	// ./server --port={{thermos.ports[http]}} --shard={{mesos.instance}}
	// [http] 3
	// true preemptible
}

func ExampleJob_Build_errors() {
	a := job.NewProcess("a", "true").WithDaemon(true)
	b := job.NewProcess("b/c", "echo {{greeting}}")
	task := job.NewTask("", a, b).WithConstraints(job.OrderProcesses(a, b))
	_, err := job.New(job.Key{Role: "www-data", Environment: "devel"}, task).Build()

	fmt.Println(err)
	fmt.Println(errors.Is(err, job.ErrUnbound), errors.Is(err, job.ErrInvalidPlan))
	// Output:
	// task.processes[1].cmdline: unbound template variable {{greeting}}: bind a value with Bind(job.Vars{...}) or remove the reference (only {{mesos.instance}}, {{mesos.hostname}}, {{thermos.task_id}} and {{thermos.ports[NAME]}} may stay for run time)
	// cluster: required: the job needs a cluster: set Key.Cluster
	// task.resources: required: the task must specify resources: call Task.WithResources(job.NewResources(cpu, ram, disk))
	// task.processes[1].name: invalid: invalid process name "b/c": it may not contain '/' nor start with '.'
	// task.constraints[0]: invalid plan: process b/c may not depend upon daemon process a: a daemon never finishes, so drop this order constraint or make a not a daemon
	// true true
}

func ExampleSequentialTask() {
	fetch := job.NewProcess("fetch", "curl -sO http://example.com/pkg.tgz")
	unpack := job.NewProcess("unpack", "tar xzf pkg.tgz")
	run := job.NewProcess("run", "./pkg/bin/run")
	task := job.SequentialTask("pipeline", fetch, unpack, run)
	for _, c := range task.Constraints() {
		fmt.Println(c.Names())
	}
	// Output:
	// [fetch unpack run]
}

func ExampleConcat() {
	install := job.NewTask("install", job.NewProcess("download", "wget http://example.com/a")).
		WithResources(job.NewResources(0.5, 64*job.MiB, 512*job.MiB)).
		WithFinalizationWait(10 * time.Second)
	serve := job.NewTask("serve", job.NewProcess("serve", "./a serve")).
		WithResources(job.NewResources(2, 256*job.MiB, 128*job.MiB)).
		WithFinalizationWait(20 * time.Second)

	t := job.Concat(install, serve)
	r, _ := t.Resources()
	fmt.Println(t.Name(), r.CPU, r.RAM/job.MiB, r.Disk/job.MiB)
	for _, c := range t.Constraints() {
		fmt.Println(c.Names())
	}
	// Output:
	// serve 2 256 512
	// [download serve]
}

func ExampleJob_Bind() {
	fetch := job.NewProcess("fetch", "fetch {{profile.package}} --env={{environment}} --build={{build}}")
	task := job.NewTask("", fetch).WithResources(job.NewResources(1, 64*job.MiB, 64*job.MiB))
	profile := job.Vars{"version": "1.2.3", "package": "app-{{version}}.tgz"}
	j := job.New(job.Key{Cluster: "devcluster", Role: "www-data", Environment: "prod"}, task).
		Bind(job.Vars{"profile": profile, "build": 1}).
		Bind(job.Vars{"build": 2}) // a later binding wins

	spec, err := j.Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(spec.Payload.Task.Processes[0].Cmdline)
	// Output:
	// fetch app-1.2.3.tgz --env=prod --build=2
}

func ExampleRender() {
	s, err := job.Render("{{greeting}}, {{who[name]}} on {{mesos.hostname}}",
		job.Vars{"greeting": "hello", "who": job.Vars{"name": "world"}})
	fmt.Println(s, err)
	// Output:
	// hello, world on {{mesos.hostname}} <nil>
}

func ExampleFromThermos() {
	task := job.NewTask("", job.NewProcess("srv", "./srv")).WithResources(job.NewResources(1, 64*job.MiB, 64*job.MiB))
	spec, _ := job.New(job.Key{Cluster: "c", Role: "r", Environment: "devel", Name: "srv"}, task).Build()

	// Edit an existing payload: one more instance, a larger RAM.
	j, err := job.FromThermos(spec.Payload)
	if err != nil {
		fmt.Println(err)
		return
	}
	t := j.Task()
	r, _ := t.Resources()
	r.RAM = 128 * job.MiB
	spec2, err := j.WithTask(t.WithResources(r)).WithInstances(2).Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(spec2.Instances, spec2.Payload.Task.Resources.RAM/(1<<20), spec.Payload.Task.Resources.RAM/(1<<20))
	// Output:
	// 2 128 64
}
