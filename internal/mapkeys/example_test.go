package mapkeys_test

import (
	"fmt"

	"github.com/nixrealis/nixrealis/internal/mapkeys"
)

// Sorted gives a map's keys in the same order on every run, so that what
// is printed from a map does not depend on Go's iteration order.
func ExampleSorted() {
	ports := map[string]int{"http": 8080, "admin": 9090, "health": 8081}
	for _, name := range mapkeys.Sorted(ports) {
		fmt.Println(name, ports[name])
	}
	// Output:
	// admin 9090
	// health 8081
	// http 8080
}
