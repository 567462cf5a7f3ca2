package nix_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/nix"
)

// pkgsFile is the absolute path of the test package set.
func pkgsFile(t testing.TB) string {
	t.Helper()
	p, err := filepath.Abs("testdata/pkgs.nix")
	require.NoError(t, err)
	return p
}

// nonce returns a fresh string that makes every derivation of the package
// set new, so nothing is cached between tests or runs.
func nonce(t testing.TB) string {
	t.Helper()
	b := make([]byte, 8)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return t.Name() + "-" + hex.EncodeToString(b)
}

// pkg names attribute attr of the test package set with a fresh nonce.
func pkg(t testing.TB, attr string, args map[string]string) nix.Expr {
	t.Helper()
	argstr := map[string]string{"nonce": nonce(t)}
	for k, v := range args {
		argstr[k] = v
	}
	return nix.Expr{File: pkgsFile(t), Attr: attr, ArgStr: argstr}
}

// instantiate instantiates pkg(t, attr, args) with n and returns its
// derivations, failing t on an error.
func instantiate(t testing.TB, n *nix.Nix, attr string, args map[string]string) []nix.StorePath {
	t.Helper()
	drvs, err := n.Instantiate(t.Context(), pkg(t, attr, args))
	require.NoError(t, err)
	return drvs
}

// eventLog collects progress events; safe for the reader goroutine.
type eventLog struct {
	mu     sync.Mutex
	events []nix.Event
}

func (l *eventLog) add(ev nix.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

func (l *eventLog) all() []nix.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]nix.Event(nil), l.events...)
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func TestInstantiateOutputPathsWithoutBuilding(t *testing.T) {
	t.Parallel()
	testenv.NeedNix(t)
	ctx := t.Context()
	var n nix.Nix
	drvs := instantiate(t, &n, "greeter", nil)
	require.Len(t, drvs, 1)
	assert.True(t, drvs[0].IsDerivation(), "Instantiate() = %v, want a .drv", drvs)
	assert.True(t, exists(string(drvs[0])), "the .drv is written to the store")

	outs, err := n.OutputPaths(ctx, drvs...)
	require.NoError(t, err)
	require.Len(t, outs, 1)
	assert.Equal(t, "greeter", outs[0].Name())
	assert.False(t, exists(string(outs[0])), "OutputPaths must not build: %s exists", outs[0])
}

// TestOutputPathsAgreesWithNixStore compares OutputPaths (which reads
// local .drv files) with nix-store --query --outputs, for several
// derivations with several outputs, in the default and a chroot store.
func TestOutputPathsAgreesWithNixStore(t *testing.T) {
	t.Parallel()
	testenv.NeedNix(t)
	ctx := t.Context()
	chroot := t.TempDir()
	for _, n := range []*nix.Nix{{}, {Store: chroot}} {
		multi, greeter := instantiate(t, n, "multi", nil), instantiate(t, n, "greeter", nil)
		drvs := append(multi, greeter...)
		got, err := n.OutputPaths(ctx, drvs...)
		require.NoError(t, err)
		require.Len(t, got, 4)

		args := []string{"--query", "--outputs"}
		if n.Store != "" {
			args = append([]string{"--store", n.Store}, args...)
			assert.FileExists(t, filepath.Join(chroot, string(multi[0])), "the .drv is in the chroot store")
			assert.NoFileExists(t, string(multi[0]), "and not in the default store")
		}
		want, err := n.Command(ctx, "nix-store", append(args, string(multi[0]), string(greeter[0]))...).Output()
		require.NoError(t, err)
		assert.Equal(t, string(want), strings.Join(strs(got), "\n")+"\n", "store %q", n.Store)
	}

	// Where the file cannot be read, nix-store answers (here: with an error).
	var n nix.Nix
	_, err := n.OutputPaths(ctx, "/nix/store/00000000000000000000000000000000-gone.drv")
	var ne *nix.Error
	require.ErrorAs(t, err, &ne)
	assert.Contains(t, ne.Msg, "00000000000000000000000000000000-gone.drv' does not exist")
}

func strs(paths []nix.StorePath) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = string(p)
	}
	return out
}

func TestOutputPathsRejectsNonDerivation(t *testing.T) {
	var n nix.Nix
	_, err := n.OutputPaths(t.Context(), "/nix/store/zqn0w06sgshbxglvawyrmf5iqsy2fl2q-hello")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a derivation")
}

func TestEval(t *testing.T) {
	t.Parallel()
	testenv.NeedNix(t)
	ctx := t.Context()
	var n nix.Nix
	e := pkg(t, "", nil)
	e.Attr = ""
	drvs, err := n.Instantiate(ctx, nix.Expr{File: e.File, Attr: "hello", ArgStr: e.ArgStr})
	require.NoError(t, err)
	outs, err := n.OutputPaths(ctx, drvs...)
	require.NoError(t, err)

	var got struct {
		Hello   string             `json:"hello"`
		Numbers []int              `json:"numbers"`
		Nested  struct{ S string } `json:"nested"`
	}
	err = n.Eval(ctx, nix.Expr{
		Expr:   `{ nonce, file }: let p = import file { inherit nonce; }; in { hello = p.hello; numbers = [ 1 2 3 ]; nested.S = "a" + "b"; }`,
		ArgStr: map[string]string{"nonce": e.ArgStr["nonce"], "file": e.File},
	}, &got)
	// --argstr file gives a string, and import of a string path works.
	require.NoError(t, err)
	assert.Equal(t, string(outs[0]), got.Hello, "a derivation evaluates to its output path")
	assert.Equal(t, []int{1, 2, 3}, got.Numbers)
	assert.Equal(t, "ab", got.Nested.S)
	assert.False(t, exists(got.Hello), "Eval must not build")
}

func TestExprValidation(t *testing.T) {
	var n nix.Nix
	_, err := n.Instantiate(t.Context(), nix.Expr{})
	assert.ErrorIs(t, err, nix.ErrInvalidExpr)
	err = n.Eval(t.Context(), nix.Expr{File: "a.nix", Expr: "1"}, nil)
	assert.ErrorIs(t, err, nix.ErrInvalidExpr)
}

func TestEvalErrorPosition(t *testing.T) {
	t.Parallel()
	testenv.NeedNix(t)
	bad, err := filepath.Abs("testdata/bad-undef.nix")
	require.NoError(t, err)
	var stderr bytes.Buffer
	n := nix.Nix{Stderr: &stderr}
	var v any
	err = n.Eval(t.Context(), nix.Expr{File: bad}, &v)
	require.Error(t, err)
	var ne *nix.Error
	require.ErrorAs(t, err, &ne)
	assert.Equal(t, "eval", ne.Op)
	assert.Equal(t, 1, ne.ExitCode)
	assert.Equal(t, bad, ne.File)
	assert.Equal(t, 2, ne.Line)
	assert.Equal(t, 7, ne.Column)
	assert.Contains(t, ne.Msg, "undefined variable 'b'")
	assert.Contains(t, ne.Msg, bad+":2:7", "Msg keeps Nix's position block")
	assert.NotContains(t, ne.Msg, "\x1b", "ANSI escapes are stripped")
	assert.Contains(t, err.Error(), "undefined variable 'b' at "+bad+":2:7")
	assert.Contains(t, stderr.String(), "undefined variable 'b'")
	assert.NotContains(t, stderr.String(), "@nix")
	assert.Nil(t, v, "nothing decoded from a partial JSON prefix")

	throwFile, err := filepath.Abs("testdata/bad-throw.nix")
	require.NoError(t, err)
	err = n.Eval(t.Context(), nix.Expr{File: throwFile}, nil)
	require.ErrorAs(t, err, &ne)
	assert.Equal(t, "job hello_world: cluster must be set", strings.TrimPrefix(ne.Msg, "error: "))
	assert.NotContains(t, ne.Msg, "show-trace")
}

func TestBuild(t *testing.T) {
	t.Parallel()
	testenv.NeedNix(t)
	ctx := t.Context()
	var events eventLog
	var tracker nix.Tracker
	n := nix.Nix{Progress: func(ev nix.Event) { events.add(ev); tracker.Update(ev) }}
	drvs := instantiate(t, &n, "greeter", nil)
	root := filepath.Join(t.TempDir(), "result")
	outs, err := n.Build(ctx, nix.BuildOptions{AddRoot: root}, drvs...)
	require.NoError(t, err)
	require.Len(t, outs, 1)
	want, err := n.OutputPaths(ctx, drvs...)
	require.NoError(t, err)
	assert.Equal(t, want, outs, "Build returns store paths, not roots")
	target, err := os.Readlink(root)
	require.NoError(t, err)
	assert.Equal(t, string(outs[0]), target)

	out, err := exec.CommandContext(ctx, filepath.Join(string(outs[0]), "bin/greeter")).Output()
	require.NoError(t, err)
	assert.Equal(t, "Hello, world!\n", string(out))

	// Progress: one ActBuild start per derivation (greeter and hello),
	// and the ActBuilds counter reaching 2 of 2.
	var built []string
	var done, expected int64
	for _, ev := range events.all() {
		if ev.Action == nix.ActionStart && ev.Activity == nix.ActBuild {
			built = append(built, ev.Path)
		}
		if ev.Action == nix.ActionResult && ev.Result == nix.ResProgress && ev.Activity == nix.ActBuilds {
			done, expected = ev.Done, ev.Expected
		}
	}
	assert.Len(t, built, 2, "ActBuild starts: %v", built)
	assert.Contains(t, built, string(drvs[0]))
	assert.Equal(t, int64(2), done)
	assert.Equal(t, int64(2), expected)
	st := tracker.Status()
	assert.Equal(t, int64(2), st.BuildsDone)
	assert.Equal(t, int64(2), st.BuildsExpected)
	assert.Empty(t, st.Running, "nothing runs after Build returns")
}

func TestBuildFailure(t *testing.T) {
	t.Parallel()
	testenv.NeedNix(t)
	ctx := t.Context()
	var n nix.Nix
	drvs := instantiate(t, &n, "broken", nil)
	_, err := n.Build(ctx, nix.BuildOptions{}, drvs...)
	require.Error(t, err)
	assert.ErrorIs(t, err, nix.ErrBuildFailed)
	var ne *nix.Error
	require.ErrorAs(t, err, &ne)
	assert.Equal(t, 100, ne.ExitCode)
	assert.Contains(t, ne.Msg, "failed with exit code 3")
	assert.Contains(t, string(ne.Stderr), "about to fail", "Stderr keeps the build log")
	var exitErr *exec.ExitError
	assert.ErrorAs(t, err, &exitErr)
	assert.Contains(t, err.Error(), "nix build: builder for '"+string(drvs[0])+"' failed with exit code 3")
	// The message says how to read the build log, and that works.
	hint := "; read its build log with `nix-store -l " + string(drvs[0]) + "` (or `nix log " + string(drvs[0]) + "`)"
	assert.True(t, strings.HasSuffix(err.Error(), hint), "%q lacks %q", err.Error(), hint)
	log, lerr := exec.Command("nix-store", "-l", string(drvs[0])).CombinedOutput()
	require.NoError(t, lerr, "%s", log)
	assert.Contains(t, string(log), "about to fail")
}

func TestClosure(t *testing.T) {
	t.Parallel()
	testenv.NeedNix(t)
	ctx := t.Context()
	var n nix.Nix
	drvs := instantiate(t, &n, "greeter", nil)
	outs, err := n.Build(ctx, nix.BuildOptions{AddRoot: filepath.Join(t.TempDir(), "r")}, drvs...)
	require.NoError(t, err)

	infos, err := n.Closure(ctx, outs...)
	require.NoError(t, err)
	require.Len(t, infos, 2)
	byName := map[string]nix.PathInfo{}
	for _, pi := range infos {
		byName[pi.Path.Name()] = pi
		assert.Positive(t, pi.NarSize)
		h, err := nix.NormalizeHash(pi.NarHash)
		require.NoError(t, err, "NarHash %q", pi.NarHash)
		assert.True(t, strings.HasPrefix(h, "sha256:"))
	}
	assert.Equal(t, []nix.StorePath{byName["hello"].Path}, byName["greeter"].References)
	assert.Empty(t, byName["hello"].References)
	assert.True(t, byName["greeter"].Ultimate)
}

func TestNotFound(t *testing.T) {
	n := nix.Nix{Dir: t.TempDir()}
	_, err := n.Instantiate(t.Context(), nix.Expr{Expr: "1"})
	require.Error(t, err)
	assert.ErrorIs(t, err, nix.ErrNotFound)
	assert.ErrorIs(t, err, exec.ErrNotFound)
	assert.Contains(t, err.Error(), "nix-instantiate")

	err = n.Command(t.Context(), "nix-store", "--version").Run()
	assert.ErrorIs(t, err, nix.ErrNotFound)

	n = nix.Nix{}
	t.Setenv("PATH", t.TempDir())
	err = n.GenerateKey(t.Context(), "k", "a", "b")
	assert.ErrorIs(t, err, nix.ErrNotFound)
}

func TestCancelLeavesNoProcess(t *testing.T) {
	t.Parallel()
	testenv.NeedNix(t)
	pidFile := filepath.Join(t.TempDir(), "pids")
	var n nix.Nix
	drvs, err := n.Instantiate(t.Context(), pkg(t, "sleeper", map[string]string{"pidFile": pidFile}))
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := n.Build(ctx, nix.BuildOptions{}, drvs...)
		errc <- err
	}()
	pids := waitForPids(t, pidFile, 2, 30*time.Second, "the sleeper build never started")
	for _, pid := range pids {
		require.True(t, alive(pid), "builder process %d runs before the cancel", pid)
	}
	require.NotEmpty(t, processesMentioning(string(drvs[0])), "nix-store runs before the cancel")

	cancel()
	select {
	case err = <-errc:
	case <-time.After(30 * time.Second):
		t.Fatal("Build did not return after cancel")
	}
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	var ne *nix.Error
	require.ErrorAs(t, err, &ne)
	assert.NotErrorIs(t, err, nix.ErrBuildFailed)

	// Nix kills its builder's process group when interrupted; give the
	// kernel a moment to reap them.
	if !assert.Eventually(t, func() bool {
		return !alive(pids[0]) && !alive(pids[1]) && len(processesMentioning(string(drvs[0]))) == 0
	}, 10*time.Second, 20*time.Millisecond) {
		t.Errorf("processes left after cancel: builder/child %v alive=%v/%v, nix: %v",
			pids, alive(pids[0]), alive(pids[1]), processesMentioning(string(drvs[0])))
	}
}

func TestCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var n nix.Nix
	_, err := n.Instantiate(ctx, nix.Expr{Expr: "1"})
	if errors.Is(err, nix.ErrNotFound) {
		testenv.Unavailable(t, "nix not installed")
	}
	assert.ErrorIs(t, err, context.Canceled)
}
