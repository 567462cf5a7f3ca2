package nixrealis

import (
	"context"

	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/nix"
	"github.com/nixrealis/nixrealis/sandbox"
)

// Sandbox is the Preparer that gives a job its Nix sandbox with package
// sandbox: Prepare evaluates the sandbox holding the packages each process
// names (sandbox.Prepare, no build) and adds the init_sandbox process; when
// publishing (Create, Update) it then builds the sandbox, signs its closure
// and copies it to Cache, verifying the cache serves it (sandbox.Push),
// before anything reaches the scheduler.
//
// Nix's build and copy events reach the Client's progress callback. A
// Sandbox is a plain value, safe for concurrent use.
type Sandbox struct {
	// Packages says which packages each process uses, by process name.
	Packages sandbox.Packages
	// Options configure sandbox.Prepare (Nix, store name, the agents'
	// Nix and cache settings for init_sandbox).
	Options sandbox.Options
	// Cache is where the closure is published.
	Cache sandbox.Cache
	// GCRoot, when set, roots the built sandbox in the client's store.
	GCRoot string
}

// Prepare implements Preparer.
func (s Sandbox) Prepare(ctx context.Context, j job.Job, publish bool, progress func(nix.Event)) (job.Job, error) {
	var n nix.Nix
	if s.Options.Nix != nil {
		n = *s.Options.Nix
	}
	if prev := n.Progress; prev != nil {
		n.Progress = func(ev nix.Event) { prev(ev); progress(ev) }
	} else {
		n.Progress = progress
	}
	opts := s.Options
	opts.Nix = &n
	p, err := sandbox.Prepare(ctx, j, s.Packages, opts)
	if err != nil {
		return job.Job{}, err
	}
	if publish {
		if err := sandbox.Push(ctx, p.Paths, s.Cache, sandbox.PushOptions{Nix: &n, GCRoot: s.GCRoot}); err != nil {
			return job.Job{}, err
		}
	}
	return p.Job, nil
}
