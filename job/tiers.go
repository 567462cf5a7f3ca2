package job

import (
	"github.com/nixrealis/nixrealis/internal/auroratiers"
	"github.com/nixrealis/nixrealis/thermos"
)

// Tier is one scheduler tier, as getTierConfigs reports it.
type Tier struct {
	Name        string
	Preemptible bool
	Revocable   bool
}

// Tiers is the scheduler's tier configuration: its tiers, in the order it
// lists them, and the name of the default tier.
type Tiers struct {
	Default string
	Tiers   []Tier
}

// DefaultTiers returns the tier configuration of Aurora's default
// tiers.json: preferred (not preemptible), preemptible, revocable
// (preemptible and revocable), with preemptible the default.
func DefaultTiers() Tiers {
	def, tiers := auroratiers.Default()
	t := Tiers{Default: def, Tiers: make([]Tier, len(tiers))}
	for i, tr := range tiers {
		t.Tiers[i] = Tier{Name: tr.Name, Preemptible: tr.Preemptible, Revocable: tr.Revocable}
	}
	return t
}

// WithTiers returns s as `aurora job create` sends it to a scheduler with
// tier configuration t: a job without a tier gets the first tier whose
// preemptibility is the opposite of its production flag and that is not
// revocable (else t's default tier); a job with a tier t knows gets
// production = not preemptible. The receiver's payload is not modified.
func (s Spec) WithTiers(t Tiers) Spec {
	if s.Payload == nil {
		return s
	}
	p := *s.Payload
	if p.Tier == nil {
		name := t.Default
		for _, tr := range t.Tiers {
			if tr.Preemptible == !p.Production && !tr.Revocable {
				name = tr.Name
				break
			}
		}
		p.Tier = &name
	} else {
		for _, tr := range t.Tiers {
			if tr.Name == *p.Tier {
				p.Production = !tr.Preemptible
				break
			}
		}
	}
	s.Payload = &p
	return s
}

// Config returns the whole job object (payload plus instances and
// update_config) for thermos.MarshalConfig. It shares the payload with s.
func (s Spec) Config() *thermos.Config {
	return &thermos.Config{Job: s.Payload, Instances: s.Instances, UpdateConfig: s.Update}
}
