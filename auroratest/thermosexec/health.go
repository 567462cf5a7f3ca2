//go:build linux

package thermosexec

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// healthEvent is what the health checker tells the runner: the task became
// healthy (running) or is unhealthy (failed, with the reason).
type healthEvent struct {
	running bool
	failed  bool
	reason  string
}

// startHealth starts the task's health checker as Aurora's executor does
// and reports whether there is one. A shell checker always runs; an HTTP
// checker only when the task has a port named "health" (directly or through
// an announce alias); otherwise there is none and the task counts as healthy
// at once.
func (t *task) startHealth(ctx context.Context, out chan<- healthEvent) bool {
	hc := t.job.HealthCheckConfig
	var check func(context.Context) (bool, string)
	switch {
	case hc.HealthChecker.Shell != nil:
		cmdline := hc.HealthChecker.Shell.ShellCommand
		check = func(ctx context.Context) (bool, string) { return t.shellCheck(ctx, cmdline) }
	default:
		port, ok := t.info().Ports["health"]
		if !ok {
			return false
		}
		c := hc.HealthChecker.HTTP
		endpoint, expected, code := "/health", "ok", 0
		if c != nil {
			endpoint, expected, code = c.Endpoint, c.ExpectedResponse, c.ExpectedResponseCode
		}
		url := "http://127.0.0.1:" + strconv.Itoa(port) + endpoint
		check = func(ctx context.Context) (bool, string) { return httpCheck(ctx, url, expected, code) }
	}
	scale := t.e.scale()
	interval := scaled(hc.IntervalSecs, scale)
	if interval <= 0 {
		interval = time.Millisecond
	}
	timeout := scaled(hc.TimeoutSecs, scale)
	if timeout <= 0 {
		timeout = scaled(1, scale)
	}
	s := newHealthState(hc.InitialIntervalSecs, hc.IntervalSecs, hc.MaxConsecutiveFailures, hc.MinConsecutiveSuccesses)
	go func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			ok, reason := true, ""
			// Aurora's snooze file turns the checks off while it exists.
			if _, err := os.Stat(filepath.Join(t.sandbox, snoozeFile)); err != nil {
				cctx, cancel := context.WithTimeout(ctx, timeout)
				ok, reason = check(cctx)
				cancel()
			}
			if ctx.Err() != nil {
				return
			}
			becameRunning, unhealthy, why := s.record(ok, reason)
			if becameRunning {
				select {
				case out <- healthEvent{running: true}:
				case <-ctx.Done():
					return
				}
			}
			if unhealthy {
				select {
				case out <- healthEvent{failed: true, reason: why}:
				case <-ctx.Done():
				}
				return
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	return true
}

// snoozeFile, when present in the sandbox, makes every health check pass
// (Aurora's .healthchecksnooze).
const snoozeFile = ".healthchecksnooze"

// healthState counts health checks as Aurora's ThreadedHealthChecker does:
// failures are forgiven during the initial interval
// (ceil(initial/interval) attempts); the task is running after
// min_consecutive_successes successes in a row; unhealthy after more than
// max_consecutive_failures failures in a row, when it can no longer reach
// the successes it needs in the attempts left, or when it runs out of
// attempts before becoming healthy.
type healthState struct {
	forgiving, maxAttempts int
	maxFailures, minSucc   int
	attempts               int
	failures, successes    int
	running                bool
}

func newHealthState(initial, interval float64, maxFailures, minSucc int) *healthState {
	if interval <= 0 {
		interval = 1
	}
	forgiving := int(math.Ceil(initial / interval))
	return &healthState{
		forgiving:   forgiving,
		maxAttempts: forgiving + maxFailures + minSucc,
		maxFailures: maxFailures,
		minSucc:     minSucc,
	}
}

// record takes one check's result and returns whether the task just became
// running, or is now unhealthy and why.
func (s *healthState) record(ok bool, reason string) (becameRunning, unhealthy bool, why string) {
	if !s.running && s.attempts > s.maxAttempts {
		return false, true, "Not enough successful health checks in time."
	}
	if s.attempts <= s.maxAttempts {
		s.attempts++
	}
	if ok {
		s.successes++
		s.failures = 0
		if !s.running && s.successes >= s.minSucc {
			s.running = true
			return true, false, ""
		}
		return false, false, ""
	}
	s.successes = 0
	if s.attempts <= s.forgiving {
		return false, false, ""
	}
	if !s.running {
		left := s.maxAttempts - s.attempts
		if left > 1 && s.minSucc-s.successes > left {
			return false, true, reason
		}
	}
	s.failures++
	if s.failures > s.maxFailures {
		return false, true, reason
	}
	return false, false, ""
}

// httpCheck is Aurora's HttpSignaler: GET url; the body, trimmed and lower
// cased, must equal expected (when set) and the status code expectedCode
// (when not 0). A non-2xx answer counts as an empty body.
func httpCheck(ctx context.Context, url, expected string, expectedCode int) (bool, string) {
	body, code, err := httpQuery(ctx, http.MethodGet, url)
	if err != nil {
		return false, err.Error()
	}
	got := strings.ToLower(strings.TrimSpace(body))
	if expected != "" && got != strings.ToLower(expected) {
		return false, fmt.Sprintf("Response differs from expected response (expected %q, got %q)", shorten(expected), shorten(got))
	}
	if expectedCode != 0 && code != expectedCode {
		return false, fmt.Sprintf("Response code differs from expected response (expected %d, got %d)", expectedCode, code)
	}
	return true, ""
}

func shorten(s string) string {
	if len(s) < 10 {
		return s
	}
	return s[:7] + "..."
}

func httpQuery(ctx context.Context, method, url string) (string, int, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return "", 0, fmt.Errorf("Failed to signal %s: %v", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("Failed to signal %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", resp.StatusCode, nil
	}
	return string(b), resp.StatusCode, nil
}

// shellCheck runs the shell health check with bash in the sandbox, with the
// processes' environment and (for an agent with its own store) mount
// namespace.
func (t *task) shellCheck(ctx context.Context, cmdline string) (bool, string) {
	cmd := t.command(cmdline)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 100 * time.Millisecond
	if err := cmd.Start(); err != nil {
		return false, "OSError: " + err.Error()
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	var err error
	select {
	case err = <-waitErr:
	case <-ctx.Done():
		killGroup(cmd.Process.Pid)
		<-waitErr
		return false, "Health check timed out."
	}
	killGroup(cmd.Process.Pid)
	if err != nil {
		code := -1
		if cmd.ProcessState != nil {
			code = cmd.ProcessState.ExitCode()
		}
		return false, fmt.Sprintf("Command '%s' returned non-zero exit status %d with output '%s'", cmdline, code, strings.TrimSpace(out.String()))
	}
	return true, ""
}

// escalate runs the HTTP lifecycle of a task being shut down, as Aurora's
// HttpLifecycleManager does: POST the graceful shutdown endpoint and, if it
// was handled, wait up to graceful_shutdown_wait_secs for the task to end;
// then the same with the shutdown endpoint. It returns early when ended is
// closed. A task without an HTTP lifecycle, or whose lifecycle port was not
// assigned, returns at once.
func (t *task) escalate(ended <-chan struct{}) {
	l := t.job.Lifecycle.HTTP
	if l == nil {
		return
	}
	port, ok := t.info().Ports[l.Port]
	if !ok {
		return
	}
	scale := t.e.scale()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	steps := []struct {
		endpoint string
		wait     time.Duration
	}{
		{l.GracefulShutdownEndpoint, scaled(float64(l.GracefulShutdownWaitSecs), scale)},
		{l.ShutdownEndpoint, scaled(float64(l.ShutdownWaitSecs), scale)},
	}
	for _, s := range steps {
		ctx, cancel := context.WithTimeout(context.Background(), max(scaled(1, scale), 100*time.Millisecond))
		_, _, err := httpQuery(ctx, http.MethodPost, base+s.endpoint)
		cancel()
		t.e.logf("thermosexec: lifecycle", "task", t.lt.TaskID, "endpoint", s.endpoint, "handled", err == nil)
		if err != nil {
			continue
		}
		select {
		case <-ended:
			return
		case <-time.After(s.wait):
		}
	}
}
