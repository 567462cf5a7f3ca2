package nixrealis_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/internal/proc"
	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/nix"
	"github.com/nixrealis/nixrealis/sandbox"
)

// nixWorld is a client machine with a cluster signing key and a file://
// binary cache.
type nixWorld struct {
	n        *nix.Nix
	secret   string
	pub      string
	cacheURL string
}

func newNixWorld(t testing.TB) *nixWorld {
	t.Helper()
	testenv.NeedNix(t)
	dir := taskReachable(t, t.TempDir()) // init_sandbox, as nobody, reads the cache
	w := &nixWorld{n: &nix.Nix{}, secret: filepath.Join(dir, "cluster.sec"), cacheURL: "file://" + filepath.Join(dir, "cache")}
	require.NoError(t, w.n.GenerateKey(context.Background(), "cluster-1", w.secret, filepath.Join(dir, "cluster.pub")))
	pub, err := sandbox.ReadPublicKey(w.secret)
	require.NoError(t, err)
	w.pub = pub
	return w
}

func (w *nixWorld) preparer(set sandbox.PackageSet, attr string) nixrealis.Sandbox {
	return nixrealis.Sandbox{
		Packages: sandbox.Packages{"main": {set.Attr(attr)}},
		Options:  sandbox.Options{Nix: w.n, Agent: sandbox.Agent{Caches: []string{w.cacheURL}}},
		Cache:    sandbox.Cache{URL: w.cacheURL, SecretKeyFile: w.secret},
	}
}

func examplePackages(t testing.TB) sandbox.PackageSet {
	abs, err := filepath.Abs("examples/hello/default.nix")
	require.NoError(t, err)
	return sandbox.File(abs)
}

// TestCreateWithSandbox creates a job whose software comes from Nix: the
// sandbox is evaluated, built, signed and pushed to the cache before the
// job is created, and the payload starts with init_sandbox.
func TestCreateWithSandbox(t *testing.T) {
	w := newNixWorld(t)
	srv := newServer(t)
	var mu sync.Mutex
	var nixEvents, stages int
	c := newClient(t, srv.ClientOptions(), nixrealis.WithPreparer(w.preparer(examplePackages(t), "hello")),
		nixrealis.WithProgress(func(p nixrealis.Progress) {
			mu.Lock()
			defer mu.Unlock()
			stages++
			if p.Nix != nil {
				nixEvents++
			}
		}))
	ctx := ctxFor(t, 2*time.Minute)

	j := helloJob("hello {{mesos.instance}}; sleep 1000", 1)
	out, err := c.Inspect(ctx, j)
	require.NoError(t, err)
	assert.Contains(t, out, "Process 'init_sandbox':")

	created, err := c.Create(ctx, j)
	require.NoError(t, err)
	p := created.Spec.Payload
	require.GreaterOrEqual(t, len(p.Task.Processes), 2)
	assert.Equal(t, sandbox.InitProcessName, p.Task.Processes[0].Name)
	assert.Equal(t, "hello {{mesos.instance}}; sleep 1000", p.Task.Processes[1].Cmdline, "run-time templates stay in the payload")

	// The running config is the sandboxed one, and the cache holds it.
	d, err := c.Diff(ctx, j)
	require.NoError(t, err)
	assert.False(t, d.Changed, d.Text)
	mu.Lock()
	assert.Positive(t, nixEvents, "Nix events reach the progress callback")
	mu.Unlock()
	require.NoError(t, c.Kill(ctx, testKey, nil))
}

// TestCreateCacheNotWritable: publishing fails, with a clear error, before
// anything reaches the scheduler.
func TestCreateCacheNotWritable(t *testing.T) {
	w := newNixWorld(t)
	srv := newServer(t)
	prep := w.preparer(examplePackages(t), "hello")
	prep.Cache.URL = "file:///dev/null/cache"
	c := newClient(t, srv.ClientOptions(), nixrealis.WithPreparer(prep))
	_, err := c.Create(ctxFor(t, 2*time.Minute), helloJob("hello", 1))
	require.Error(t, err)
	assert.ErrorIs(t, err, nixrealis.ErrNixFailed)
	assert.Contains(t, err.Error(), "/dev/null/cache")
	assert.Equal(t, 0, jobCount(t, srv))
}

// TestCreateCancelledDuringBuild: cancelling the context during the Nix
// build returns context.Canceled and leaves no Nix process behind.
func TestCreateCancelledDuringBuild(t *testing.T) {
	w := newNixWorld(t)
	srv := newServer(t)
	nonce := fmt.Sprintf("nixrealis-cancel-%d", time.Now().UnixNano())
	slow := sandbox.Source(fmt.Sprintf(`{ slow = builtins.derivation {
  name = "slow"; system = builtins.currentSystem; builder = "/bin/sh";
  args = [ "-c" "echo %s; /bin/sleep 3600; /bin/mkdir -p $out/bin" ];
}; }`, nonce))
	started := make(chan struct{})
	var once sync.Once
	c := newClient(t, srv.ClientOptions(), nixrealis.WithPreparer(w.preparer(slow, "slow")),
		nixrealis.WithProgress(func(p nixrealis.Progress) {
			if p.Nix != nil && p.Nix.Activity == nix.ActBuild {
				once.Do(func() { close(started) })
			}
		}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := c.Create(ctx, helloJob("slow", 1))
		errc <- err
	}()
	// Cancel once Nix reports the build started; a Create that ends
	// before that never reached the point this test is about.
	var err error
	select {
	case <-started:
		cancel()
		select {
		case err = <-errc:
		case <-time.After(5 * time.Minute): // a hang guard, not a measurement
			t.Fatal("Create did not return after its context was cancelled")
		}
	case err = <-errc:
		t.Fatalf("Create ended before the build started: %v", err)
	case <-time.After(5 * time.Minute): // a hang guard, not a measurement
		t.Fatal("the build never started")
	}
	// The builder sleeps an hour: an error wrapping context.Canceled
	// proves the cancellation ended it.
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 0, jobCount(t, srv))
	assert.Empty(t, processesMentioning(t, nonce), "no nix or builder process left")
}

// processesMentioning lists the live processes whose command line contains s.
func processesMentioning(t testing.TB, s string) []int {
	t.Helper()
	all, err := proc.PIDs()
	require.NoError(t, err)
	var pids []int
	for _, pid := range all {
		if pid == os.Getpid() {
			continue
		}
		args, err := proc.Cmdline(pid)
		if err == nil && strings.Contains(strings.Join(args, "\x00"), s) && proc.Alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestNixErrorMessage: an evaluation error names Nix's message.
func TestNixErrorMessage(t *testing.T) {
	w := newNixWorld(t)
	srv := newServer(t)
	c := newClient(t, srv.ClientOptions(), nixrealis.WithPreparer(w.preparer(examplePackages(t), "no-such-package")))
	_, err := c.Create(ctxFor(t, time.Minute), helloJob("hello", 1))
	require.Error(t, err)
	assert.ErrorIs(t, err, nixrealis.ErrNixFailed)
	assert.Contains(t, err.Error(), "no-such-package")
	assert.Contains(t, err.Error(), `process "main" uses package "no-such-package" of the package set `, "names the set and the process")
	assert.NotContains(t, err.Error(), "sandbox.nix", "not Nix's temporary file")
	var ne *nix.Error
	assert.True(t, errors.As(err, &ne), "the nix.Error stays reachable: %v", err)
}
