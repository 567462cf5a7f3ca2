// Package auroratiers holds Aurora's default tier configuration, the
// scheduler's tiers.json (-tier_config), in the one place that both the
// job package (the client's tier back-fill) and auroratest (the
// scheduler's getTierConfigs and its validation) read it from.
package auroratiers

// Tier is one tier of the configuration. A tier that is neither
// preemptible nor revocable is a production tier.
type Tier struct {
	Name        string
	Preemptible bool
	Revocable   bool
}

// Default returns Aurora's default tiers.json
// (src/main/resources/org/apache/aurora/scheduler/tiers.json): the name of
// its default tier and its tiers in the order the file lists them.
func Default() (defaultTier string, tiers []Tier) {
	return "preemptible", []Tier{
		{Name: "preferred"},
		{Name: "preemptible", Preemptible: true},
		{Name: "revocable", Preemptible: true, Revocable: true},
	}
}
