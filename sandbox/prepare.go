package sandbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/nix"
)

// Packages says which Nix packages each process of a task uses, by
// process name. The sandbox holds the union, in process order, then
// package order; every process finds all of their programs on PATH. The
// job package knows nothing of Nix: this map travels next to the job.
type Packages map[string][]Package

// Options configure [Prepare].
type Options struct {
	// Nix runs nix-instantiate; nil means the nix on $PATH.
	Nix *nix.Nix
	// Name is the sandbox's store name; empty means StoreName of the
	// job's key.
	Name string
	// System, Shell and Path are copied into the Spec (see Spec).
	System, Shell, Path string
	// IncludePath is copied into the Spec: -I entries for <nixpkgs> etc.
	IncludePath []string
	// BuildTools is copied into the Spec (see Spec.BuildTools).
	BuildTools []Package
	// Agent is how init_sandbox reaches Nix and the cache on the agents.
	Agent Agent
	// WorkDir receives the expression and package-set files; empty means
	// a temporary directory removed when Prepare returns.
	WorkDir string
}

// Prepared is a job whose task starts by realising its sandbox.
type Prepared struct {
	// Job is the input job with the task's init_sandbox process first and
	// an order constraint [init_sandbox, p] for every non-final process p.
	Job job.Job
	// Spec is the sandbox that was evaluated.
	Spec Spec
	// Paths are its derivation and (not yet built) output paths.
	Paths Paths
}

// Prepare evaluates the sandbox of j's task, holding the packages its
// processes name in pkgs, and returns j with the init_sandbox process
// added. Nothing is built: the payload (Prepared.Job.Build) is known after
// this evaluation alone. [Push] then builds and publishes Paths.
//
// Process command lines are untouched and stay in the payload, so Thermos
// still resolves {{thermos.ports[...]}} and the other run-time templates.
func Prepare(ctx context.Context, j job.Job, pkgs Packages, opts Options) (Prepared, error) {
	task := j.Task()
	procs := task.Processes()
	var errs []error
	byName := map[string]bool{}
	for _, p := range procs {
		byName[p.Name()] = true
		if p.Name() == InitProcessName {
			errs = append(errs, fmt.Errorf("%w: task %q already has a process named %s; rename it, sandbox.Prepare adds that process", ErrInvalid, task.Name(), InitProcessName))
		}
	}
	names := make([]string, 0, len(pkgs))
	for name := range pkgs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !byName[name] {
			errs = append(errs, fmt.Errorf("%w: Packages[%q]: the task %q has no process %q", ErrInvalid, name, task.Name(), name))
		}
	}
	spec := Spec{Name: opts.Name, System: opts.System, Shell: opts.Shell, Path: opts.Path, IncludePath: opts.IncludePath, BuildTools: opts.BuildTools}
	if spec.Name == "" {
		// Named after the key the job builds to: its name defaults to the
		// task's and its parts may be templates, so the raw key is not it.
		if built, err := j.Build(); err != nil {
			errs = append(errs, fmt.Errorf("%w: the job does not build: %w", ErrInvalid, err))
		} else {
			p := built.Payload
			n, err := StoreName(p.Cluster, p.Role, p.Environment, p.Name)
			if err != nil {
				errs = append(errs, fmt.Errorf("sandbox: naming the sandbox after the job key: %w", err))
			}
			spec.Name = n
		}
	}
	for _, p := range procs {
		for i, pkg := range pkgs[p.Name()] {
			if err := pkg.validate(fmt.Sprintf("Packages[%q][%d]", p.Name(), i)); err != nil {
				errs = append(errs, err)
			}
			spec.Packages = append(spec.Packages, pkg)
		}
	}
	if err := opts.Agent.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return Prepared{}, err
	}

	paths, err := evaluate(ctx, opts.Nix, spec, opts.WorkDir)
	if err != nil {
		var me *MissingAttrError
		if errors.As(err, &me) {
			me.Process = processOf(procs, pkgs, me.Package)
		}
		return Prepared{}, err
	}
	t, err := withInit(task, paths.Out, opts.Agent)
	if err != nil {
		return Prepared{}, err
	}
	return Prepared{Job: j.WithTask(t), Spec: spec, Paths: paths}, nil
}

// withInit returns t with the init_sandbox process for the sandbox at
// out (see [InitCommand]) first and an order constraint
// [init_sandbox, p] for every non-final process p (final processes run
// after all others anyway, and Thermos forbids ordering them against
// non-final ones).
func withInit(t job.Task, out nix.StorePath, a Agent) (job.Task, error) {
	script, err := InitCommand(string(out), a)
	if err != nil {
		return job.Task{}, err
	}
	procs := t.Processes()
	if slices.ContainsFunc(procs, func(p job.Process) bool { return p.Name() == InitProcessName }) {
		return job.Task{}, fmt.Errorf("%w: task %q already has a process named %s", ErrInvalid, t.Name(), InitProcessName)
	}
	var cs []job.Constraint
	for _, p := range procs {
		if !p.Final() {
			cs = append(cs, job.Order(InitProcessName, p.Name()))
		}
	}
	init := job.NewProcess(InitProcessName, script)
	if t.Name() == "" && len(procs) > 0 {
		// Aurora names an unnamed task after its first process; keep that
		// name now that init_sandbox comes first.
		t = t.WithName(procs[0].Name())
	}
	return t.WithProcesses(append([]job.Process{init}, procs...)...).AddConstraints(cs...), nil
}

// processOf returns the first process that uses pkg, "" if none does.
func processOf(procs []job.Process, pkgs Packages, pkg Package) string {
	for _, p := range procs {
		for _, q := range pkgs[p.Name()] {
			if q.String() == pkg.String() {
				return p.Name()
			}
		}
	}
	return ""
}
