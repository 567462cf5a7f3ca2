package nixrealis

import (
	"context"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"

	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/nix"
)

// build runs the Nix step (if any) and job.Build, and renders the result.
func (c *Client) build(ctx context.Context, op string, j job.Job, publish bool) (job.Spec, realis.Job, *aurora.JobUpdateSettings, error) {
	key := keyString(j.Key())
	// Validate before any Nix work: a job that cannot build is reported at
	// once, with every problem.
	spec, err := j.Build()
	if err != nil {
		return job.Spec{}, nil, nil, opErr(op, key, ErrInvalidJob, "", err)
	}
	// A custom executor runs no Thermos processes: nothing for Nix to do.
	if c.prep != nil && !j.IsCustomExecutor() {
		c.report(Progress{Op: op, Key: key, Stage: StagePrepare, Message: "preparing the Nix sandbox"})
		progress := func(ev nix.Event) {
			c.report(Progress{Op: op, Key: key, Stage: StagePrepare, Message: ev.Text, Nix: &ev})
		}
		pj, err := c.prep.Prepare(ctx, j, publish, progress)
		if err != nil {
			return job.Spec{}, nil, nil, nixErr(op, key, err)
		}
		if spec, err = pj.Build(); err != nil {
			return job.Spec{}, nil, nil, opErr(op, key, ErrInvalidJob, "", err)
		}
	}
	if c.tiers != nil {
		spec = spec.WithTiers(*c.tiers)
	}
	key = keyString(spec.Key())
	settings, err := UpdateSettings(spec.Update)
	if err != nil {
		return job.Spec{}, nil, nil, opErr(op, key, ErrInvalidJob, "", err)
	}
	rj, err := RenderJob(spec, c.owner)
	if err != nil {
		return job.Spec{}, nil, nil, opErr(op, key, ErrInvalidJob, "", err)
	}
	return spec, rj, settings, nil
}
