package job

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/nixrealis/nixrealis/internal/withset"
	"github.com/nixrealis/nixrealis/thermos"
)

// TestFromWire covers the mechanical mapping FromThermos uses: by Go
// name, "...Secs" to a Duration, pointers followed and made, nested plain
// structs, and the fields that have no place reported.
func TestFromWire(t *testing.T) {
	u, unplaced := fromWire[Update](thermos.UpdateConfig{BatchSize: 3, WatchSecs: 7, PulseIntervalSecs: new(2), RollbackOnFailure: true},
		"update_strategy")
	assert.Empty(t, unplaced)
	assert.Equal(t, Update{BatchSize: 3, Watch: new(7 * time.Second), PulseInterval: 2 * time.Second, RollbackOnFailure: new(true)}, u)

	h, unplaced := fromWire[HealthCheck](thermos.HealthCheckConfig{InitialIntervalSecs: 1.5, MinConsecutiveSuccesses: 2})
	assert.Equal(t, []string{"health_checker"}, unplaced, "HealthCheck has no HealthChecker field")
	assert.Equal(t, HealthCheck{InitialInterval: new(1500 * time.Millisecond), MinConsecutiveSuccesses: 2}, h)

	_, unplaced = fromWire[Metadata](thermos.Parameter{Name: "n", Value: "v"})
	assert.Equal(t, []string{"name"}, unplaced, "Metadata has Value but no Name")

	p, unplaced := withFields(NewProcess("p", "true"), &thermos.Process{MaxFailures: 4, MinDuration: 9,
		Logger: &thermos.Logger{Destination: "console", Rotate: &thermos.RotatePolicy{LogSize: 2 * thermos.MB}}}, "name", "cmdline")
	assert.Empty(t, unplaced)
	assert.Equal(t, 4, p.MaxFailures())
	assert.Equal(t, 9*time.Second, p.MinDuration())
	l, _ := p.Logger()
	assert.Equal(t, Logger{Destination: LogToConsole, Rotate: &RotatePolicy{LogSize: 2 * MiB}}, l)

	_, ok := withset.With(NewProcess("p", "true"), "NoSuchField", reflect.ValueOf(1), convertInto)
	assert.False(t, ok)
	_, ok = withset.With(NewProcess("p", "true"), "MaxFailures", reflect.ValueOf("1"), convertInto)
	assert.False(t, ok, "a string is no int")

	var errs errorList
	errs.unplaced("task", []string{"new_field"})
	assert.ErrorContains(t, errs.err(), "task.new_field")
}
