package nix_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/internal/proc"
	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/nix"
)

// writeStubbornStandIn writes dir/name, a stand-in for a nix command that
// ignores SIGINT and leaves a child in its process group and one in a
// session of its own (as Nix's builders are), and writes the three pids
// (its own, then the children's) as one line to the file it returns.
func writeStubbornStandIn(t testing.TB, dir, name string) (pidFile string) {
	t.Helper()
	pidFile = filepath.Join(dir, "pids")
	script := "#!/bin/sh\ntrap '' INT\nsleep 3600 &\na=$!\nsetsid sleep 3601 &\necho $$ $a $! > '" + pidFile + "'\nwait\n"
	require.NoError(t, testenv.WriteExecutable(filepath.Join(dir, name), []byte(script)))
	return pidFile
}

// stubbornNix returns a Nix that runs the stand-in name written by
// writeStubbornStandIn, with a WaitDelay of 100ms, and a function that
// waits for the stand-in's three pids (failing t if they never come).
func stubbornNix(t testing.TB, name string) (n nix.Nix, pids func() []int) {
	t.Helper()
	dir := t.TempDir()
	pidFile := writeStubbornStandIn(t, dir, name)
	return nix.Nix{Dir: dir, WaitDelay: 100 * time.Millisecond}, func() []int {
		t.Helper()
		return waitForPids(t, pidFile, 3, 10*time.Second, "the stand-in "+name+" never wrote its pids")
	}
}

// waitForPids waits up to wait for a complete line in pidFile and returns the
// want pids in it; a line that is not want pids fails t, and so does a line
// that never comes (with the message never, saying what did not happen).
// The condition only reads the file; the pids are parsed once it is complete.
func waitForPids(t testing.TB, pidFile string, want int, wait time.Duration, never string) []int {
	t.Helper()
	var line string
	testenv.Eventually(t, wait, 10*time.Millisecond, func() (bool, error) {
		b, err := os.ReadFile(pidFile)
		if errors.Is(err, os.ErrNotExist) || (err == nil && !bytes.HasSuffix(b, []byte("\n"))) {
			return false, nil
		}
		line = string(b)
		return err == nil, err
	}, "%s", never)
	var pids []int
	for _, f := range strings.Fields(line) {
		pid, err := strconv.Atoi(f)
		require.NoError(t, err, "pid file %q", line)
		pids = append(pids, pid)
	}
	require.Len(t, pids, want, "pid file %q", line)
	return pids
}

// assertAllGone asserts that every process of pids ends soon.
func assertAllGone(t testing.TB, pids []int) {
	t.Helper()
	assert.Eventually(t, func() bool {
		for _, pid := range pids {
			if alive(pid) {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond, "processes left behind: %v", pids)
}

// alive reports whether pid is a live (non-zombie) process; without /proc,
// whether it exists.
func alive(pid int) bool {
	p, err := proc.Stat(pid)
	if errors.Is(err, errors.ErrUnsupported) {
		return syscall.Kill(pid, 0) == nil
	}
	return err == nil && p.Live()
}

// processesMentioning lists the live processes whose command line contains s.
func processesMentioning(s string) []int {
	var pids []int
	all, _ := proc.PIDs()
	for _, pid := range all {
		if pid == os.Getpid() {
			continue
		}
		args, err := proc.Cmdline(pid)
		if err == nil && strings.Contains(strings.Join(args, "\x00"), s) && alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}
