package main

import (
	"bufio"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/internal/proc"
	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/job"
)

// devcluster is the command, built and running as a separate process.
type devcluster struct {
	cmd  *exec.Cmd
	url  string
	done chan error
}

func buildDevcluster(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "devcluster")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build ./examples/devcluster:\n%s", out)
	return bin
}

// startDevcluster runs bin with the thermos executor keeping its
// sandboxes under dir (and the extra flags), and waits for the line with its URL.
func startDevcluster(t *testing.T, bin, dir string, extra ...string) *devcluster {
	t.Helper()
	args := []string{"-port", "0", "-executor", "thermos", "-sandboxes", dir}
	if !slices.Contains(extra, "nop") {
		// The tests' role (vagrant) has no user here: every role runs as nobody.
		args = append(args, "-run_as", "nobody")
	}
	cmd := exec.Command(bin, append(args, extra...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	d := &devcluster{cmd: cmd, done: make(chan error, 1)}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
		for sc.Scan() {
			if u := re.FindString(sc.Text()); u != "" {
				select {
				case urls <- u:
				default:
				}
			}
		}
		io.Copy(io.Discard, stdout)
		d.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-d.done
		}
	})
	select {
	case d.url = <-urls:
	case err := <-d.done:
		t.Fatalf("devcluster exited before serving: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("devcluster printed no URL within a minute")
	}
	return d
}

// stop sends sig and waits for a clean exit.
func (d *devcluster) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	require.NoError(t, d.cmd.Process.Signal(sig))
	select {
	case err := <-d.done:
		require.NoError(t, err, "devcluster exits cleanly on %v", sig)
	case <-time.After(2 * time.Minute):
		t.Fatalf("devcluster did not stop within two minutes of %v", sig)
	}
}

// processesUnder lists the live processes whose working directory is
// under dir (the task processes, which run in their sandboxes).
func processesUnder(t *testing.T, dir string) []proc.Process {
	t.Helper()
	ps, err := liveUnder(dir)
	require.NoError(t, err)
	return ps
}

func liveUnder(dir string) ([]proc.Process, error) {
	ps, err := proc.List()
	if err != nil {
		return nil, err
	}
	var out []proc.Process
	for _, p := range ps {
		if !p.Live() {
			continue
		}
		cwd, err := proc.Cwd(p.PID)
		if err == nil && (cwd == dir || strings.HasPrefix(cwd, dir+"/")) {
			out = append(out, p)
		}
	}
	return out, nil
}

// waitSleeps waits until n task processes run "sleep" under dir: RUNNING
// is reported when the task starts its processes, which may not have
// executed their command lines yet.
func waitSleeps(t *testing.T, dir string, n int) {
	t.Helper()
	var ps []proc.Process
	var err error
	testenv.Eventually(t, time.Minute, 10*time.Millisecond, func() (bool, error) {
		ps, err = liveUnder(dir)
		sleeps := 0
		for _, p := range ps {
			if p.Comm == "sleep" {
				sleeps++
			}
		}
		return err == nil && sleeps == n, nil
	}, "want %d sleep processes under %s; have %v (err %v)", n, dir, &ps, testenv.Lazy(func() any { return err }))
}

// sandboxDir is a temporary directory for the sandboxes; whatever still
// runs in it when the test ends is killed, so that a failure leaves
// nothing behind either. It and its parent are searchable by the tasks'
// unprivileged user.
func sandboxDir(t *testing.T) string {
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		require.NoError(t, os.Chmod(d, 0o755))
	}
	t.Cleanup(func() {
		for _, p := range processesUnder(t, dir) {
			syscall.Kill(p.PID, syscall.SIGKILL)
		}
	})
	return dir
}

// finalLogs counts the final process' stdout logs that hold its line.
func finalLogs(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, "/.logs/goodbye/0/stdout") {
			if b, err := os.ReadFile(path); err == nil && strings.Contains(string(b), "final process ran") {
				n++
			}
		}
		return nil
	})
	require.NoError(t, err)
	return n
}

// TestStopKillsEveryTask: stopping the devcluster (Ctrl-C or SIGTERM)
// kills every task as a kill does (final processes included) and leaves
// no process behind; started again, the same job runs once.
func TestStopKillsEveryTask(t *testing.T) {
	if _, err := proc.List(); err != nil {
		testenv.Unavailable(t, "needs Linux /proc: %v", err)
	}
	bin := buildDevcluster(t)
	task := job.NewTask("hello",
		job.NewProcess("main", "sleep 1000"),
		job.NewProcess("goodbye", "echo final process ran").WithFinal(true),
	).WithResources(job.NewResources(0.1, 16*job.MiB, 16*job.MiB))
	j := job.New(job.Key{Cluster: "devcluster", Role: "vagrant", Environment: "devel", Name: "stop"}, task).WithInstances(2)

	create := func(t *testing.T, d *devcluster) {
		t.Helper()
		c, err := nixrealis.Dial(nixrealisOptions(d.url), nixrealis.WithPollInterval(20*time.Millisecond))
		require.NoError(t, err)
		defer c.Close()
		ctx := t.Context()
		_, err = c.Create(ctx, j)
		require.NoError(t, err)
	}
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := sandboxDir(t)
			d := startDevcluster(t, bin, dir)
			create(t, d)
			waitSleeps(t, dir, 2) // two instances, one sleep each
			d.stop(t, sig)
			assert.Empty(t, processesUnder(t, dir), "no task process outlives the devcluster")
			assert.Equal(t, 2, finalLogs(t, dir), "every task ran its final process")

			// Started again: the job is created again and runs once.
			d = startDevcluster(t, bin, dir)
			create(t, d)
			waitSleeps(t, dir, 2) // one copy of the job
			assert.Len(t, processesUnder(t, dir), 2, "one copy of the job, nothing else")
			d.stop(t, sig)
			assert.Empty(t, processesUnder(t, dir))
			assert.Equal(t, 4, finalLogs(t, dir))
		})
	}
}

func nixrealisOptions(url string) []realis.ClientOption {
	return []realis.ClientOption{
		realis.SchedulerUrl(url),
		realis.BackOff(realis.Backoff{Steps: 3, Duration: 10 * time.Millisecond, Factor: 2}),
		realis.TimeoutMS(20000),
	}
}
