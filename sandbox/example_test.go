package sandbox_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/sandbox"
)

func ExampleStoreName() {
	name, err := sandbox.StoreName("devcluster", "www-data", "prod", "hello")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(name)

	long, err := sandbox.StoreName("devcluster", "www-data", "prod", strings.Repeat("x", 255))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(long), long[len(long)-17:])
	// Output:
	// aurora-sandbox-devcluster-www-data-prod-hello
	// 207 -w8qk48lg8wy0zc9r
}

func ExampleInitCommand() {
	script, err := sandbox.InitCommand("/nix/store/0c2qq2hxpb7nsspwpbw8z2kfr0jz7vzn-aurora-sandbox-devcluster-www-data-prod-hello",
		// The agent's nix.conf must list this cache (and its key): the
		// payload only names it.
		sandbox.Agent{Caches: []string{"https://nix-cache.example.org"}})
	if err != nil {
		log.Fatal(err)
	}
	// Thermos runs it as /bin/bash -c in the task sandbox.
	for _, line := range strings.Split(script, "\n") {
		if strings.Contains(line, "--add-root") {
			fmt.Println(strings.TrimSpace(line))
		}
	}
	// Output:
	// while ! "$ns" "${store[@]}" "${opts[@]}" --add-root '.gcroots/sandbox' --indirect --realise "$p" >"$log" 2>&1; do
}

// Prepare evaluates the sandbox (nothing is built), Build renders the
// payload, and Push publishes the closure for the agents.
func ExamplePrepare() {
	ctx := context.Background()
	web := job.NewProcess("web", "hello --port {{thermos.ports[http]}}")
	j := job.Service(job.Key{Cluster: "devcluster", Role: "www-data", Environment: "prod", Name: "hello"},
		job.NewTask("web", web).WithResources(job.NewResources(1, job.GiB, job.GiB)))

	pkgs := sandbox.File("testdata/pkgs.nix")
	agent := sandbox.Agent{Caches: []string{"file:///srv/nix-cache"}}
	p, err := sandbox.Prepare(ctx, j, sandbox.Packages{"web": {pkgs.Attr("hello")}}, sandbox.Options{Agent: agent})
	if err != nil {
		log.Fatal(err)
	}
	spec, err := p.Job.Build()
	if err != nil {
		log.Fatal(err)
	}
	for _, proc := range spec.Payload.Task.Processes {
		fmt.Println(proc.Name)
	}
	fmt.Println(spec.Payload.Task.Constraints[0].Order)

	// Before creating the job:
	err = sandbox.Push(ctx, p.Paths, sandbox.Cache{URL: "file:///srv/nix-cache", SecretKeyFile: "/etc/nix/cluster.sec"}, sandbox.PushOptions{})
	if err != nil {
		log.Print(err)
	}
}
