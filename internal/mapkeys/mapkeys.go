// Package mapkeys lists a map's keys in order, for output (payloads,
// diffs, messages) that must not depend on Go's map iteration order.
package mapkeys

import "slices"

// Sorted returns m's keys in increasing order, in one allocation.
func Sorted[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
