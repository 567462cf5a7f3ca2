//go:build linux

package exampletest

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/nix"
)

// running is the example client started in the background.
type running struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stdout bytes.Buffer
	stderr bytes.Buffer
	lines  chan string
	done   chan struct{}
}

// startClient runs bin with args and TMPDIR=tmp; its stdout lines also go
// to lines. tmp (a t.TempDir) and its parent are made searchable by the
// embedded cluster's task user (nobody), whose sandboxes go under tmp.
func startClient(t *testing.T, bin, tmp string, args ...string) *running {
	t.Helper()
	for _, d := range []string{filepath.Dir(tmp), tmp} {
		require.NoError(t, os.Chmod(d, 0o755))
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	r := &running{cmd: cmd, lines: make(chan string, 1000), done: make(chan struct{})}
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = &lockedWriter{mu: &r.mu, b: &r.stderr}
	require.NoError(t, cmd.Start())
	go func() {
		defer close(r.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			r.mu.Lock()
			r.stdout.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
			select {
			case r.lines <- sc.Text():
			default:
			}
		}
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return r
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// waitLine waits for a stdout line containing s and returns it.
func (r *running) waitLine(t *testing.T, s string) string {
	t.Helper()
	deadline := time.After(4 * time.Minute)
	for {
		select {
		case l := <-r.lines:
			if strings.Contains(l, s) {
				return l
			}
		case <-r.done:
			t.Fatalf("the client ended without printing %q:\n%s", s, r.output())
		case <-deadline:
			t.Fatalf("no line with %q within 4 minutes:\n%s", s, r.output())
		}
	}
}

// wait waits for the client to exit and returns its exit code.
func (r *running) wait(t *testing.T) int {
	t.Helper()
	<-r.done
	err := r.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	require.NoError(t, err)
	return 0
}

func (r *running) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return "stdout:\n" + r.stdout.String() + "stderr:\n" + r.stderr.String()
}

func (r *running) errText() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stderr.String()
}

// leftovers lists the example's directories in tmp.
func leftovers(t *testing.T, tmp string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(tmp, "nixrealis-example-*"))
	require.NoError(t, err)
	return m
}

// TestFlagMistakesAreUsageErrors: values that cannot work are usage errors
// (exit 2, naming the flag) found before anything starts, not "nix failed"
// after an embedded cluster was made.
func TestFlagMistakesAreUsageErrors(t *testing.T) {
	bin := buildClient(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-cmd=create", "-publicKey=notakey"}, "-publicKey=notakey: not a Nix public key"},
		{[]string{"-cmd=create", "-publicKey=k-1:c2hvcnQ="}, "-publicKey=k-1:c2hvcnQ=: not a Nix public key"},
		{[]string{"-cmd=create", "-nixBinDir=bin"}, "-nixBinDir=bin: must be an absolute directory"},
		{[]string{"-cmd=create", "-cache=notaurl"}, "-cache=notaurl: not a binary cache URL"},
		{[]string{"-cmd=create", "-cache=file://relative/dir"}, "-cache=file://relative/dir: a file:// cache needs an absolute directory"},
		{[]string{"-cmd=create", "-cache=file:///srv/cache?trusted=1"}, "-cache: store URL turns off signature checks"},
		{[]string{"-cmd=create", "-cache=https://cache.example?require-sigs=false"}, "-cache: store URL turns off signature checks"},
		{[]string{"-cmd=create", "-cluster=a b"}, `-cluster="a b": a job key part is 1 to 255 characters`},
		{[]string{"-cmd=create", "-name="}, `-name="": a job key part`},
		{[]string{"-cmd=status", "-url=http://"}, "-url=http://: want the scheduler as [http[s]://]host:port"},
		{[]string{"-cmd=status", "-url=ftp://host:1"}, "-url=ftp://host:1: want the scheduler"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			tmp := t.TempDir()
			r := startClient(t, bin, tmp, tt.args...)
			code := r.wait(t)
			assert.Equal(t, 2, code, r.output())
			assert.Contains(t, r.errText(), tt.want)
			assert.NotContains(t, r.errText(), "nix failed")
			assert.Empty(t, leftovers(t, tmp), "nothing was started")
		})
	}
}

// TestEmbeddedLeavesNothingBehind: the embedded cluster's directory (with
// its secret key and stores) is removed on exit, after a success and after
// a failure, and a package set that is not there fails before the cluster
// starts.
func TestEmbeddedLeavesNothingBehind(t *testing.T) {
	testenv.NeedNix(t)
	bin := buildClient(t)

	t.Run("success", func(t *testing.T) {
		tmp := t.TempDir()
		r := startClient(t, bin, tmp, "-cmd=create")
		require.Equal(t, 0, r.wait(t), r.output())
		assert.Contains(t, r.output(), "Hello, world!")
		assert.Empty(t, leftovers(t, tmp))
	})
	t.Run("missing package set", func(t *testing.T) {
		tmp := t.TempDir()
		r := startClient(t, bin, tmp, "-cmd=create", "-packages="+filepath.Join(tmp, "nothere.nix"))
		assert.Equal(t, 1, r.wait(t), r.output())
		assert.Contains(t, r.errText(), "-packages="+filepath.Join(tmp, "nothere.nix"))
		assert.NotContains(t, r.output(), "embedded Aurora scheduler", "checked before the cluster starts")
		assert.Empty(t, leftovers(t, tmp))
	})
	t.Run("failure after the cluster started", func(t *testing.T) {
		// A package set without the ticker the example job uses: Nix fails
		// after the cluster started. The message names the set and the
		// process, not Nix's temporary file.
		tmp := t.TempDir()
		set := filepath.Join(tmp, "set.nix")
		require.NoError(t, os.WriteFile(set, []byte(`{ system ? builtins.currentSystem }: { inherit (import `+filepath.Join(repoRoot(t), "examples/hello/default.nix")+` { inherit system; }) hello; }`), 0o644))
		r := startClient(t, bin, tmp, "-cmd=create", "-packages="+set)
		assert.Equal(t, 1, r.wait(t), r.output())
		assert.Contains(t, r.output(), "embedded Aurora scheduler")
		assert.Contains(t, r.errText(), `process "ticker" uses package "ticker" of the package set `+set+`, which has no attribute "ticker"`)
		assert.NotContains(t, r.errText(), "sandbox.nix")
		assert.Empty(t, leftovers(t, tmp))
	})
}

// TestKeep: with -keep the embedded cluster runs until interrupted, its
// printed log holds the job's output meanwhile, and its files stay after
// the interrupt, named in the output.
func TestKeep(t *testing.T) {
	testenv.NeedNix(t)
	bin := buildClient(t)
	tmp := t.TempDir()
	r := startClient(t, bin, tmp, "-cmd=create", "-keep")
	l := r.waitLine(t, "output in ")
	m := regexp.MustCompile(`output in (\S+/\.logs/hello/0/stdout):`).FindStringSubmatch(l)
	require.NotNil(t, m, l)
	r.waitLine(t, "interrupt (Ctrl-C) to stop it")
	b, err := os.ReadFile(m[1])
	require.NoError(t, err)
	assert.Contains(t, string(b), "Hello, world!")
	require.NoError(t, r.cmd.Process.Signal(os.Interrupt))
	assert.Equal(t, 0, r.wait(t), r.output())
	kept := leftovers(t, tmp)
	require.Len(t, kept, 1)
	assert.Contains(t, r.output(), "files are kept under "+kept[0])
	assert.FileExists(t, filepath.Join(kept[0], "cluster.sec"))
}

// TestInterruptedCreate: an interrupt after the create reached the
// scheduler says what was done (job key, update id) and the example
// client's own commands that undo it; those commands do.
func TestInterruptedCreate(t *testing.T) {
	testenv.NeedNix(t)
	dir := t.TempDir()
	// A slow clock: the creating update watches its instances for 10 s of
	// scheduler time, 1000 s here, so the create is still going on when
	// it is interrupted.
	srv := auroratest.NewUnstartedServer(nil)
	srv.TimeScale = 0.01
	srv.Start()
	t.Cleanup(srv.Close)
	secret := filepath.Join(dir, "k.sec")
	require.NoError(t, (&nix.Nix{}).GenerateKey(t.Context(), "test-cluster-1", secret, filepath.Join(dir, "k.pub")))
	bin := buildClient(t)
	common := []string{"-url=" + srv.URL, "-cache=file://" + filepath.Join(dir, "cache"), "-secretKey=" + secret, "-name=interrupted"}

	r := startClient(t, bin, dir, append([]string{"-cmd=create"}, common...)...)
	l := r.waitLine(t, "service created by update ")
	id := strings.Fields(l[strings.Index(l, "update ")+len("update "):])[0]
	require.NoError(t, r.cmd.Process.Signal(syscall.SIGINT))
	assert.Equal(t, 1, r.wait(t), r.output())
	msg := r.errText()
	assert.Contains(t, msg, "interrupted")
	assert.Contains(t, msg, "job devcluster/vagrant/devel/interrupted was already created by update "+id)
	assert.NotContains(t, msg, "AbortActiveUpdate")
	assert.Equal(t, 1, strings.Count(strings.TrimSpace(msg), "\n")+1, "one line: %q", msg)

	// The printed commands, run with the built client, undo the create.
	cmds := regexp.MustCompile(`go run \./examples/client [^,]*?-cmd=(abort -updateId=[0-9a-f-]+|kill)`).FindAllString(msg, -1)
	require.Len(t, cmds, 2, msg)
	assert.Contains(t, cmds[0], "-cmd=abort -updateId="+id)
	assert.Contains(t, cmds[1], "-cmd=kill")
	for _, c := range cmds {
		words := strings.Fields(strings.TrimPrefix(c, "go run ./examples/client "))
		for i, w := range words {
			words[i] = strings.ReplaceAll(w, "'", "") // shell-quoted values without quotes inside
		}
		res := runClient(t, bin, words...)
		require.Equal(t, 0, res.code, "%s\nstdout:\n%s\nstderr:\n%s", c, res.stdout, res.stderr)
	}
	res := runClient(t, bin, append([]string{"-cmd=status"}, common...)...)
	require.Equal(t, 0, res.code, res.stderr)
	assert.NotContains(t, res.stdout, "RUNNING")
	assert.NotContains(t, res.stdout, "active update")
}
