package auroratiers_test

import (
	"fmt"

	"github.com/nixrealis/nixrealis/internal/auroratiers"
)

// ExampleDefault lists Aurora's default tiers; the one that is neither
// preemptible nor revocable is the production tier.
func ExampleDefault() {
	def, tiers := auroratiers.Default()
	fmt.Println("default:", def)
	for _, t := range tiers {
		fmt.Printf("%s production=%v\n", t.Name, !t.Preemptible && !t.Revocable)
	}
	// Output:
	// default: preemptible
	// preferred production=true
	// preemptible production=false
	// revocable production=false
}
