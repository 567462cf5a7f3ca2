package mapkeys

import (
	"slices"
	"testing"
)

func TestSorted(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    map[string]int
		want []string
	}{
		{"nil", nil, []string{}},
		{"one", map[string]int{"a": 1}, []string{"a"}},
		{"several", map[string]int{"b": 1, "a": 2, "c": 3, "B": 4}, []string{"B", "a", "b", "c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sorted(tc.m); !slices.Equal(got, tc.want) || got == nil {
				t.Errorf("Sorted(%v) = %#v, want %#v", tc.m, got, tc.want)
			}
		})
	}
}
