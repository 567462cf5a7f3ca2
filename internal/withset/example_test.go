package withset_test

import (
	"fmt"
	"reflect"

	"github.com/nixrealis/nixrealis/internal/withset"
	"github.com/nixrealis/nixrealis/job"
)

func ExampleWith() {
	p := job.NewProcess("hello", "echo hello")
	// thermos.Process.MinDuration is whole seconds; WithMinDuration takes a
	// time.Duration.
	p, ok := withset.With(p, "MinDuration", reflect.ValueOf(30), nil)
	fmt.Println(ok, p.MinDuration())
	_, ok = withset.With(p, "NoSuchField", reflect.ValueOf(1), nil)
	fmt.Println(ok)
	// Output:
	// true 30s
	// false
}
