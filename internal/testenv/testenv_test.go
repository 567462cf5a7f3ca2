package testenv

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestNixConfigIsEnough builds a derivation like the tests' package sets
// (builder /bin/sh, host tools) with no nix.conf at all: the settings
// NeedNix puts in NIX_CONFIG are all the tests need, so they pass whatever
// the machine's Nix configuration is (Nix's defaults there are a build
// sandbox without /bin/sh, build users of group nixbld, and the public
// cache).
func TestNixConfigIsEnough(t *testing.T) {
	NeedNix(t)
	expr := fmt.Sprintf(`derivation {
		name = "testenv-probe-%s";
		system = builtins.currentSystem;
		builder = "/bin/sh";
		args = [ "-c" "echo ok > $out" ];
	}`, rand.Text())
	cmd := exec.Command("nix-build", "--no-out-link", "-E", expr)
	cmd.Env = append(os.Environ(), "NIX_CONF_DIR="+t.TempDir())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nix-build with only NIX_CONFIG=%q: %v\n%s", os.Getenv("NIX_CONFIG"), err, stderr.String())
	}
	path := strings.TrimSpace(string(out))
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "ok\n" {
		t.Fatalf("built %q: content %q, %v", path, got, err)
	}
}

// TestEventuallyStopsAtError: a condition's error fails at once, not at
// the deadline; a condition that becomes true ends the wait; Never
// passes when the condition stays false for the whole wait.
func TestEventuallyStopsAtError(t *testing.T) {
	tests := []struct {
		name     string
		cond     func(calls int) (bool, error)
		never    bool
		wantFail bool
		maxCalls int
	}{
		{"true at the third call", func(n int) (bool, error) { return n == 3, nil }, false, false, 3},
		{"error at the first call", func(int) (bool, error) { return false, errors.New("broken") }, false, true, 1},
		{"never true", func(int) (bool, error) { return false, nil }, true, false, -1},
		{"true under Never", func(n int) (bool, error) { return n == 2, nil }, true, true, 2},
		{"error under Never", func(int) (bool, error) { return false, errors.New("broken") }, true, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			cond := func() (bool, error) { calls++; return tt.cond(calls) }
			failed := runFails(func(tb testing.TB) {
				if tt.never {
					Never(tb, 50*time.Millisecond, time.Millisecond, cond, "condition")
				} else {
					// An hour: were the error not to end the wait, the
					// test would time out.
					Eventually(tb, time.Hour, time.Millisecond, cond, "condition")
				}
			})
			if failed != tt.wantFail {
				t.Errorf("failed = %v, want %v", failed, tt.wantFail)
			}
			if tt.maxCalls >= 0 && calls != tt.maxCalls {
				t.Errorf("cond called %d times, want %d", calls, tt.maxCalls)
			}
		})
	}
}

// A Lazy argument of the message says what the condition saw last, not
// what it was when Eventually was called.
func TestEventuallyLazyMessage(t *testing.T) {
	calls := 0
	f := run(func(tb testing.TB) {
		Eventually(tb, 20*time.Millisecond, time.Millisecond, func() (bool, error) { calls++; return false, nil },
			"calls: %v", Lazy(func() any { return calls }))
	})
	if want := fmt.Sprintf("calls: %d (waited", calls); !f.failed || !strings.HasPrefix(f.msg, want) || calls < 2 {
		t.Fatalf("failed %v, message %q; want one starting %q after at least 2 calls", f.failed, f.msg, want)
	}
}

// TestNeedRoot: as root the test runs; as another user it skips saying
// how to run it, or fails in CI, where the tests run as root.
func TestNeedRoot(t *testing.T) {
	tests := []struct {
		name               string
		ci                 string
		euid               int
		wantFail, wantSkip bool
	}{
		{"root", "", 0, false, false},
		{"root in CI", "true", 0, false, false},
		{"a user", "", 1000, false, true},
		{"a user in CI", "true", 1000, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			f := run(func(tb testing.TB) { needRoot(tb, tt.euid) })
			if f.failed != tt.wantFail || (f.skipped != "") != tt.wantSkip {
				t.Fatalf("failed %v, skipped %q; want failed %v, skipped %v", f.failed, f.skipped, tt.wantFail, tt.wantSkip)
			}
			if tt.wantSkip && !strings.Contains(f.skipped, "needs root") || strings.Contains(f.skipped, "scripts/test.sh") {
				t.Errorf("skip message %q: want why root and how to run the tests, not how to install a program", f.skipped)
			}
		})
	}
}

// fakeTB records a failure or a skip; Fatalf and Skipf end the goroutine
// like testing.T's.
type fakeTB struct {
	testing.TB
	failed  bool
	msg     string // Fatalf's
	skipped string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run runs fn on its own goroutine with a fakeTB and returns it.
func run(fn func(testing.TB)) *fakeTB {
	f := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

// runFails runs fn on its own goroutine with a fakeTB and reports
// whether it failed.
func runFails(fn func(testing.TB)) bool {
	return run(fn).failed
}
