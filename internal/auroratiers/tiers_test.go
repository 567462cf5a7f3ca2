package auroratiers

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestDefault pins Aurora's tiers.json: the default tier and the three
// tiers with their flags, in the file's order.
func TestDefault(t *testing.T) {
	def, tiers := Default()
	assert.Equal(t, "preemptible", def)
	assert.Equal(t, []Tier{
		{Name: "preferred"},
		{Name: "preemptible", Preemptible: true},
		{Name: "revocable", Preemptible: true, Revocable: true},
	}, tiers)
	tiers[0].Name = "changed"
	_, again := Default()
	assert.Equal(t, "preferred", again[0].Name, "every call returns a fresh slice")
}
