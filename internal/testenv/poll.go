package testenv

import (
	"fmt"
	"testing"
	"time"
)

// Eventually calls cond every tick until it reports true, returns an
// error, or wait has passed, and fails t at once on an error (with it) or
// at the deadline (with the message, which should say what never
// happened). Unlike testify's Eventually, cond runs on the calling
// goroutine and its error ends the wait: a broken condition fails in one
// tick, not after the whole deadline. wait is a generous bound for a
// loaded machine, never a measurement.
func Eventually(t testing.TB, wait, tick time.Duration, cond func() (bool, error), format string, args ...any) {
	t.Helper()
	if !poll(t, wait, tick, cond, format, args) {
		t.Fatalf("%s (waited %v)", fmt.Sprintf(format, args...), wait)
	}
}

// Lazy is an argument of Eventually's or Never's message that is read
// when the message is written, on failure: for what cond last saw when
// that is no pointer to a value that prints itself (a slice, a
// [fmt.Stringer]).
type Lazy func() any

// String formats what l returns as fmt.Sprint does.
func (l Lazy) String() string { return fmt.Sprint(l()) }

// Never calls cond every tick for wait and fails t as soon as it reports
// true (with the message, which should say what happened) or returns an
// error.
func Never(t testing.TB, wait, tick time.Duration, cond func() (bool, error), format string, args ...any) {
	t.Helper()
	if poll(t, wait, tick, cond, format, args) {
		t.Fatalf("%s", fmt.Sprintf(format, args...))
	}
}

// poll calls cond every tick until it reports true (poll returns true) or
// wait has passed (false); an error of cond fails t at once.
func poll(t testing.TB, wait, tick time.Duration, cond func() (bool, error), format string, args []any) bool {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("%s: %v", fmt.Sprintf(format, args...), err)
		}
		if ok {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(tick)
	}
}
