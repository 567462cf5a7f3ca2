package pyfmt_test

import (
	"fmt"

	"github.com/nixrealis/nixrealis/internal/pyfmt"
)

// Float writes numbers as Python's repr does, which is what Aurora's
// client puts into a payload when a template binds a float.
func ExampleFloat() {
	for _, f := range []float64{1, 0.5, 1e-5, 1e16, 123456789.125} {
		fmt.Println(pyfmt.Float(f))
	}
	// Output:
	// 1.0
	// 0.5
	// 1e-05
	// 1e+16
	// 123456789.125
}
