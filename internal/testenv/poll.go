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
	deadline := time.Now().Add(wait)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("%s: %v", fmt.Sprintf(format, args...), err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s (waited %v)", fmt.Sprintf(format, args...), wait)
		}
		time.Sleep(tick)
	}
}

// Never calls cond every tick for wait and fails t as soon as it reports
// true (with the message, which should say what happened) or returns an
// error.
func Never(t testing.TB, wait, tick time.Duration, cond func() (bool, error), format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("%s: %v", fmt.Sprintf(format, args...), err)
		}
		if ok {
			t.Fatalf("%s", fmt.Sprintf(format, args...))
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(tick)
	}
}
