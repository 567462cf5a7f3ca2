package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/nix"
	"github.com/nixrealis/nixrealis/thermos"
)

// Loaded is a job read from a nix-aurora-style Nix file.
type Loaded struct {
	// Job is the job, with nix-aurora's own sandbox processes removed
	// (init_sandbox running cp, nix_init_<process>) together with the
	// order constraints naming them.
	Job job.Job
	// Packages gives every process the store paths the job's value refers
	// to (the packages its command lines interpolate), as one References
	// package; Prepare puts them in the sandbox's closure.
	Packages Packages
	// Removed are the names of the nix-aurora processes that were dropped.
	Removed []string
}

// LoadOptions configure [Load].
type LoadOptions struct {
	// Nix evaluates the file; nil means the nix on $PATH.
	Nix *nix.Nix
}

// Load evaluates the Nix file (a .nix file or a directory with
// default.nix) and the dotted attribute path attr in it (empty: the whole
// value) to a job attribute set in the shape of nix-aurora's config.json
// (cluster, role, environment, name, task, instances, update_config, ...;
// Aurora's --read-json format), by evaluation alone, and reads it with
// thermos.UnmarshalConfig and job.FromThermos. A file whose value is a
// function is called with its defaults.
//
// Prepare the result with Loaded.Packages to get a sandbox holding every
// package the command lines use.
func Load(ctx context.Context, file, attr string, opts LoadOptions) (Loaded, error) {
	n := opts.Nix
	if n == nil {
		n = &nix.Nix{}
	}
	if file == "" {
		return Loaded{}, fmt.Errorf("%w: Load needs a Nix file", ErrInvalid)
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return Loaded{}, fmt.Errorf("sandbox: load %s: %w", file, err)
	}
	var raw json.RawMessage
	if err := n.Eval(ctx, nix.Expr{File: abs, Attr: attr}, &raw); err != nil {
		return Loaded{}, fmt.Errorf("sandbox: load %s: %w", file, err)
	}
	cfg, err := thermos.UnmarshalConfig(raw)
	if err != nil {
		return Loaded{}, fmt.Errorf("sandbox: load %s: the value of %q is not an Aurora job: %w", file, attr, err)
	}
	j, err := job.FromThermos(cfg.Job)
	if err != nil {
		return Loaded{}, fmt.Errorf("sandbox: load %s: %w", file, err)
	}
	j = j.WithInstances(cfg.Instances).WithUpdate(job.UpdateFromThermos(cfg.UpdateConfig))

	task, removed := dropLegacyInit(j.Task())
	var path []string
	if attr != "" {
		path = strings.Split(attr, ".")
	}
	refs := File(abs).References(path...)
	pkgs := Packages{}
	for _, p := range task.Processes() {
		pkgs[p.Name()] = []Package{refs}
	}
	return Loaded{Job: j.WithTask(task), Packages: pkgs, Removed: removed}, nil
}

// dropLegacyInit removes nix-aurora's processes that copy or realise its
// sandbox, and the names of removed processes from order constraints.
func dropLegacyInit(t job.Task) (job.Task, []string) {
	var keep []job.Process
	var removed []string
	for _, p := range t.Processes() {
		legacy := p.Name() == InitProcessName && strings.HasPrefix(strings.TrimSpace(p.Cmdline()), "cp ") ||
			strings.HasPrefix(p.Name(), "nix_init_") && strings.Contains(p.Cmdline(), "nix-store")
		if legacy {
			removed = append(removed, p.Name())
			continue
		}
		keep = append(keep, p)
	}
	if len(removed) == 0 {
		return t, nil
	}
	var cs []job.Constraint
	for _, c := range t.Constraints() {
		names := slices.DeleteFunc(c.Names(), func(n string) bool { return slices.Contains(removed, n) })
		if len(names) >= 2 {
			cs = append(cs, job.Order(names...))
		}
	}
	if t.Name() == "" && len(keep) > 0 {
		t = t.WithName(keep[0].Name())
	}
	return t.WithProcesses(keep...).WithConstraints(cs...), removed
}
