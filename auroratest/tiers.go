package auroratest

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// ParseTierConfig reads an Aurora -tier_config file:
//
//	{"default": "preemptible",
//	 "tiers": {"preferred": {"revocable": false, "preemptible": false}, ...}}
//
// and returns the tiers and the default tier, for Server.Tiers and
// Server.DefaultTier.
func ParseTierConfig(data []byte) (map[string]Tier, string, error) {
	var cfg struct {
		Default string `json:"default"`
		Tiers   map[string]struct {
			Preemptible bool `json:"preemptible"`
			Revocable   bool `json:"revocable"`
		} `json:"tiers"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, "", fmt.Errorf("tier config: want {\"default\": name, \"tiers\": {name: {\"preemptible\": bool, \"revocable\": bool}}}: %w", err)
	}
	if len(cfg.Tiers) == 0 {
		return nil, "", fmt.Errorf("tier config: no tiers: list at least the default tier under \"tiers\"")
	}
	tiers := map[string]Tier{}
	for name, t := range cfg.Tiers {
		if t.Revocable && !t.Preemptible {
			return nil, "", fmt.Errorf("tier config: tier %q is revocable but not preemptible: Aurora requires revocable tiers to be preemptible", name)
		}
		tiers[name] = Tier{Preemptible: t.Preemptible, Revocable: t.Revocable}
	}
	if _, ok := tiers[cfg.Default]; !ok {
		return nil, "", fmt.Errorf("tier config: default tier %q is not among the tiers", cfg.Default)
	}
	return tiers, cfg.Default, nil
}
