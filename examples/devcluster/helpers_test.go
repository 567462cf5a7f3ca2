//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/nixrealis/nixrealis/internal/testenv"
)

// inProcess is a devcluster that run serves on a goroutine of the test.
type inProcess struct {
	url      string         // the scheduler's URL, from the line run printed
	out, err testenv.Buffer // what run has written to stdout and stderr

	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
	stopErr  error
}

var urlLine = regexp.MustCompile(`http://127\.0\.0\.1:\d+`)

// runInProcess calls run with args (which name -port 0) on a goroutine and
// waits for the URL it prints; run ending first fails t with its error.
// run is stopped when t ends, if stop was not called, and must return nil.
func runInProcess(t *testing.T, args ...string) *inProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	d := &inProcess{cancel: cancel, done: make(chan error, 1)}
	go func() { d.done <- run(ctx, args, &d.out, &d.err) }()
	t.Cleanup(func() { assert.NoError(t, d.stop(), "run returns nil once cancelled") })
	testenv.Eventually(t, time.Minute, 5*time.Millisecond, func() (bool, error) {
		select {
		case err := <-d.done:
			d.done <- err
			return false, fmt.Errorf("run returned before serving: %v; stderr: %s", err, d.err.String())
		default:
		}
		d.url = urlLine.FindString(d.out.String())
		return d.url != "", nil
	}, "run printed no URL; stderr: %s", &d.err)
	return d
}

// stop cancels run's context and returns what run returned; later calls
// return the same.
func (d *inProcess) stop() error {
	d.stopOnce.Do(func() {
		d.cancel()
		d.stopErr = <-d.done
	})
	return d.stopErr
}

// waitMainStdout waits until what the main process of the first task on
// agent-one (whose sandboxes are under dir) has printed satisfies done,
// and returns it; the failure says what (never happened) and what the
// process printed last.
func waitMainStdout(t *testing.T, dir string, done func(stdout string) bool, what string) string {
	t.Helper()
	var got string
	testenv.Eventually(t, time.Minute, 20*time.Millisecond, func() (bool, error) {
		logs, err := filepath.Glob(filepath.Join(dir, "agent-one", "sandboxes", "*", ".logs", "main", "0", "stdout"))
		if err != nil || len(logs) == 0 {
			return false, err
		}
		b, err := os.ReadFile(logs[0])
		got = string(b)
		return done(got), err
	}, "%s; the task printed %q", what, testenv.Lazy(func() any { return got }))
	return got
}
