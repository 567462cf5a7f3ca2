//go:build linux

// Package exampletest runs the example client (examples/client) as its
// users do: built with the go command and run as a separate program, on
// the embedded cluster and against a scheduler given with -url.
package exampletest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/auroratest/thermosexec"
	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/nix"
	"github.com/nixrealis/nixrealis/sandbox"
)

// repoRoot is the repository's top directory (the client resolves
// -packages relative to its working directory, as `go run` users do).
func repoRoot(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// buildClient builds examples/client once per test.
func buildClient(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "client")
	cmd := exec.Command("go", "build", "-o", bin, "./examples/client")
	cmd.Dir = repoRoot(t)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build ./examples/client:\n%s", out)
	return bin
}

type result struct {
	stdout, stderr string
	code           int
}

func runClient(t *testing.T, bin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = repoRoot(t)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return result{stdout.String(), stderr.String(), code}
}

// runClientOK runs the client like runClient and fails t unless it exits 0,
// showing the arguments and both outputs.
func runClientOK(t *testing.T, bin string, args ...string) result {
	t.Helper()
	r := runClient(t, bin, args...)
	require.Equal(t, 0, r.code, "%v\nstdout:\n%s\nstderr:\n%s", args, r.stdout, r.stderr)
	return r
}

// TestCreateEmbedded is the README's main job: with no -url the client
// starts an embedded cluster, builds the example Nix job, creates it and
// prints its output.
func TestCreateEmbedded(t *testing.T) {
	testenv.NeedNix(t)
	bin := buildClient(t)
	r := runClientOK(t, bin, "-cmd=create", "-instances=2")
	assert.Contains(t, r.stdout, "embedded Aurora scheduler at http://127.0.0.1:")
	if os.Geteuid() == 0 {
		assert.Contains(t, r.stdout, "tasks run as user nobody", "the embedded cluster names the user its tasks run as")
	}
	assert.Contains(t, r.stdout, "created devcluster/vagrant/devel/hello_nix: 2 instance(s) RUNNING")
	for _, want := range []string{"instance 0)", "instance 1)"} {
		assert.Contains(t, r.stdout, "Hello, world! (from a Nix-built package, "+want)
	}
	// The printed log location (removed on exit without -keep: TestKeep
	// reads it) is in the output.
	assert.Regexp(t, `output in (\S+/\.logs/hello/0/stdout):`, r.stdout)
	assertQuiet(t, r)
	// The README's sample: stages in the order nixrealis.Stage declares
	// them, done last, and no warning of Nix's (an unrooted .drv's "you
	// did not specify '--add-root'") among the progress lines.
	stages := regexp.MustCompile(`(?m)^(prepare|submit|update|wait|done): `).FindAllStringSubmatch(r.stdout, -1)
	order := map[string]int{"prepare": 0, "submit": 1, "update": 2, "wait": 3, "done": 4}
	require.NotEmpty(t, stages, r.stdout)
	for i := 1; i < len(stages); i++ {
		assert.LessOrEqual(t, order[stages[i-1][1]], order[stages[i][1]], "stage %s after %s:\n%s", stages[i][1], stages[i-1][1], r.stdout)
	}
	assert.Equal(t, "done", stages[len(stages)-1][1], r.stdout)
	assert.Contains(t, r.stdout, "done: created\n")
	for _, out := range []string{r.stdout, r.stderr} {
		assert.NotContains(t, out, "add-root")
		assert.NotContains(t, out, "warning:")
	}
}

// assertQuiet checks that a run whose stderr is not a terminal (a pipe,
// as here) printed no progress bar and no control character: Nix's
// progress is plain "nix: ..." lines on stdout.
func assertQuiet(t *testing.T, r result) {
	t.Helper()
	control := regexp.MustCompile(`[\x00-\x09\x0b-\x1f\x7f]`)
	for name, out := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
		assert.False(t, control.MatchString(out), "a control character in %s: %q", name, out)
		assert.NotContains(t, out, "%|", "a progress bar in %s", name)
		assert.NotContains(t, out, "nix: built ", "a progress bar in %s", name)
	}
	assert.Contains(t, r.stdout, "nix: copying ", "Nix's progress as plain lines")
}

// againstScheduler starts an embedded scheduler with one simulated agent
// whose operator trusts the test's cache and key (its nix.conf, configured
// before the scheduler uses the executor; the payload only names the
// cache), and returns a function that runs the example client against it
// with -url, -cache and -secretKey and requires exit 0.
func againstScheduler(t *testing.T) func(args ...string) result {
	testenv.NeedNix(t)
	testenv.NeedRoot(t)
	// The tasks run as nobody (the client's role, vagrant, has no user
	// here), who must reach the sandboxes and the cache.
	dir := t.TempDir()
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755))
	require.NoError(t, os.Chmod(dir, 0o755))
	secret := filepath.Join(dir, "k.sec")
	require.NoError(t, (&nix.Nix{}).GenerateKey(t.Context(), "test-cluster-1", secret, filepath.Join(dir, "k.pub")))
	pub, err := sandbox.ReadPublicKey(secret)
	require.NoError(t, err)
	ex := &thermosexec.Executor{Root: filepath.Join(dir, "agents"), Agents: map[string]thermosexec.Agent{
		"agent-1": {Store: filepath.Join(dir, "agent-1-store")},
	}, TrustedCaches: []string{"file://" + filepath.Join(dir, "cache")}, TrustedKeys: []string{pub}, RunAs: "nobody"}
	t.Cleanup(ex.Close)
	srv := auroratest.NewUnstartedServer(ex)
	srv.Hosts = []string{"agent-1"}
	srv.TimeScale = 20
	srv.Start()
	t.Cleanup(srv.Close)

	bin := buildClient(t)
	common := []string{"-url=" + srv.URL, "-cache=file://" + filepath.Join(dir, "cache"), "-secretKey=" + secret}
	return func(args ...string) result {
		t.Helper()
		return runClientOK(t, bin, append(append([]string{}, common...), args...)...)
	}
}

// TestAgainstScheduler drives every command against a scheduler given with
// -url: create, status, diff, update (changed and unchanged), restart,
// update info, kill.
func TestAgainstScheduler(t *testing.T) {
	do := againstScheduler(t)

	r := do("-cmd=create")
	assert.Contains(t, r.stdout, "created devcluster/vagrant/devel/hello_nix: 1 instance(s) RUNNING")
	assertQuiet(t, r)

	r = do("-cmd=status")
	assert.Contains(t, r.stdout, "RUNNING: 0")

	r = do("-cmd=diff")
	assert.Contains(t, r.stdout, "runs what the job describes")
	r = do("-cmd=diff", "-message=v2")
	assert.Contains(t, r.stdout, `+            "cmdline": "echo 'v2'; ticker",`)

	r = do("-cmd=update", "-message=v2")
	assert.Regexp(t, `update [0-9a-f-]+: ROLLED_FORWARD`, r.stdout)
	id := regexp.MustCompile(`update ([0-9a-f-]+): ROLLED_FORWARD`).FindStringSubmatch(r.stdout)[1]
	r = do("-cmd=update", "-message=v2")
	assert.Contains(t, r.stdout, "unchanged by the update: nothing to do")

	r = do("-cmd=info", "-updateId="+id)
	assert.Contains(t, r.stdout, "ROLLING_FORWARD v2")
	assert.Contains(t, r.stdout, ": ROLLED_FORWARD")

	r = do("-cmd=restart")
	assert.Contains(t, r.stdout, "restarted devcluster/vagrant/devel/hello_nix")

	r = do("-cmd=kill")
	assert.Contains(t, r.stdout, "killed devcluster/vagrant/devel/hello_nix")
	r = do("-cmd=status")
	assert.NotContains(t, r.stdout, "RUNNING")
}

// TestUsageErrors: bad flags exit 2 with one clear line, and failures
// exit 1 with one line naming the cause.
func TestUsageErrors(t *testing.T) {
	bin := buildClient(t)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "-cmd is required"},
		{[]string{"-cmd=bogus"}, 2, `unknown -cmd="bogus"`},
		{[]string{"-cmd=kill"}, 2, "-cmd=kill needs a running scheduler: pass -url"},
		{[]string{"-cmd=pause", "-url=127.0.0.1:1"}, 2, "-cmd=pause needs -updateId"},
		{[]string{"-cmd=create", "-instances=0"}, 2, "-instances=0: a job needs at least 1 instance"},
		{[]string{"-nosuchflag"}, 2, "flag provided but not defined: -nosuchflag"},
		{[]string{"-cmd=create", "-url=127.0.0.1:1"}, 2, "needs -cache"},
		{[]string{"-cmd=status", "-url=127.0.0.1:1"}, 1, "scheduler unreachable"},
		{[]string{"-cmd=status", "-url=127.0.0.1:1", "-timeout=1s"}, 1, "timed out: the caller's deadline passed"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runClient(t, bin, tt.args...)
			assert.Equal(t, tt.code, r.code, "stderr:\n%s", r.stderr)
			assert.Contains(t, r.stderr, tt.want)
			assert.Empty(t, r.stdout)
		})
	}
}

// TestInspectOffline: inspect evaluates the sandbox and renders the job
// without a scheduler and without building.
func TestInspectOffline(t *testing.T) {
	testenv.NeedNix(t)
	bin := buildClient(t)
	r := runClientOK(t, bin, "-cmd=inspect")
	assert.Contains(t, r.stdout, "Process 'init_sandbox':")
	assert.Contains(t, r.stdout, "hello {{mesos.instance}}")
}
