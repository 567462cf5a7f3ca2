package sandbox

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/nix"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGoldenExpression checks the sandbox expression against
// testdata/expression.nix (it is fixed: a change to it changes every
// sandbox's store path), each case's JSON argument against
// testdata/<case>.json, and that Nix evaluates them to the same paths from
// any directory.
func TestGoldenExpression(t *testing.T) {
	testenv.NeedNix(t)
	golden(t, "expression.nix", expression)
	pkgs := File("testdata/pkgs.nix")
	cases := []struct {
		name string
		spec Spec
	}{
		{"hello", Spec{Name: "aurora-sandbox-devcluster-www-data-prod-hello", System: "x86_64-linux",
			Packages: []Package{pkgs.Attr("hello")}}},
		{"several", Spec{Name: "aurora-sandbox-c-r-e-several", System: "x86_64-linux",
			Packages: []Package{pkgs.Attr("hello"), pkgs.Attr("lib", "greeter"), pkgs.Attr("tools"), pkgs.Attr("hello"), pkgs.Attr("data")}}},
		{"build-tools", Spec{Name: "aurora-sandbox-c-r-e-tools", System: "x86_64-linux",
			BuildTools: []Package{pkgs.Attr("buildtools")}, Packages: []Package{pkgs.Attr("hello")}}},
		{"expression-set", Spec{Name: "aurora-sandbox-c-r-e-expr", System: "x86_64-linux", Shell: "/bin/bash", Path: "/usr/bin:/bin",
			Packages: []Package{Source(exprSet).Attr("hi")}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir1, dir2 := t.TempDir(), t.TempDir()
			js, err := tc.spec.jsonArg(dir1)
			require.NoError(t, err)
			// Machine-specific directories become placeholders.
			norm := strings.ReplaceAll(string(js), mustAbs(t, "testdata"), "@TESTDATA@")
			norm = strings.ReplaceAll(norm, dir1, "@WORKDIR@")
			golden(t, tc.name+".json", []byte(norm+"\n"))

			ctx := context.Background()
			p1, err := evaluate(ctx, nil, tc.spec, dir1)
			require.NoError(t, err)
			p2, err := evaluate(ctx, nil, tc.spec, dir2)
			require.NoError(t, err)
			assert.Equal(t, p1, p2, "the same paths from any work directory")
			assert.True(t, strings.HasSuffix(string(p1.Out), "-"+tc.spec.Name))
		})
	}
}

// exprSet is a package set given as Nix source text.
const exprSet = `{
  hi = builtins.derivation {
    name = "hi";
    system = builtins.currentSystem;
    builder = "/bin/sh";
    args = [ "-c" "/bin/mkdir -p $out/bin && /bin/ln -s /bin/echo $out/bin/hi" ];
  };
}`

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	require.NoError(t, err)
	return a
}

// golden compares got with testdata/name, or writes it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./sandbox -run %s -update", t.Name())
	assert.Equal(t, string(want), string(got), "%s differs; run with -update if the change is intended", path)
}

func testJob(procs ...job.Process) job.Job {
	task := job.NewTask("", procs...).WithResources(job.NewResources(1, job.GiB, job.GiB))
	return job.Service(job.Key{Cluster: "devcluster", Role: "www-data", Environment: "prod", Name: "hello"}, task)
}

func TestPrepareEvaluatesWithoutBuilding(t *testing.T) {
	t.Parallel()
	testenv.NeedNix(t)
	pkgs := File("testdata/pkgs.nix")
	j := testJob(
		job.NewProcess("web", "hello --port {{thermos.ports[http]}}"),
		job.NewProcess("side", "greet"),
		job.NewProcess("cleanup", "echo bye").WithFinal(true),
	)
	// A name no earlier run can have built.
	name := fmt.Sprintf("aurora-sandbox-prepare-%d", time.Now().UnixNano())
	p, err := Prepare(context.Background(), j, Packages{
		"web":  {pkgs.Attr("hello"), pkgs.Attr("slow")},
		"side": {pkgs.Attr("tools")},
	}, Options{Name: name, Agent: Agent{Caches: []string{"https://cache.example"}}})
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(string(p.Paths.Out), "-"+name))
	assert.True(t, p.Paths.Drv.IsDerivation())
	out, err := exec.Command("nix-store", "--check-validity", string(p.Paths.Out)).CombinedOutput()
	assert.Error(t, err, "the sandbox must not be built: %s", out)

	spec, err := p.Job.Build()
	require.NoError(t, err)
	task := spec.Payload.Task
	assert.Equal(t, "web", task.Name, "the task keeps its default name")
	require.Len(t, task.Processes, 4)
	assert.Equal(t, InitProcessName, task.Processes[0].Name)
	want, err := InitCommand(string(p.Paths.Out), Agent{Caches: []string{"https://cache.example"}})
	require.NoError(t, err)
	assert.Equal(t, want, task.Processes[0].Cmdline)
	assert.Equal(t, "hello --port {{thermos.ports[http]}}", task.Processes[1].Cmdline, "cmdlines stay in the payload")
	assert.Equal(t, []string{"http"}, spec.Ports)
	var orders [][]string
	for _, c := range task.Constraints {
		orders = append(orders, c.Order)
	}
	assert.ElementsMatch(t, [][]string{{InitProcessName, "web"}, {InitProcessName, "side"}}, orders)
}

func TestPrepareRejectsBadInput(t *testing.T) {
	t.Parallel()
	j := testJob(job.NewProcess("web", "hello"), job.NewProcess(InitProcessName, "true"))
	_, err := Prepare(context.Background(), j, Packages{
		"nope": {Attr("hello")},
		"web":  {Prebuilt("/nix/store/short"), Attr("")},
	}, Options{Agent: Agent{TrustedKeys: []string{"cluster-1:owhzNC7uktpmQsjnAd+IOmeptbDLsfr+rJE3CbSBfWU="}}})
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrInvalid))
	for _, want := range []string{
		`already has a process named init_sandbox`,
		`Packages["nope"]: the task "" has no process "nope"`,
		`Packages["web"][0] "/nix/store/short" is not a store path`,
		`Packages["web"][1]: attribute path "" has an empty component 0`,
		`Agent.TrustedKeys is set, but a job cannot choose the keys an agent trusts`,
	} {
		assert.Contains(t, err.Error(), want)
	}
}

// TestPrepareBuildPushInit is the whole path: evaluate on the client, push
// to the cluster's cache, and run the payload's init_sandbox and then a
// process on a simulated agent, the way Thermos would.
func TestPrepareBuildPushInit(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	j := testJob(job.NewProcess("web", "hello && greeter"))
	p, err := Prepare(ctx, j, Packages{"web": {w.pkgs.Attr("hello"), w.pkgs.Attr("lib", "greeter")}},
		Options{Nix: w.n, Agent: w.agent()})
	require.NoError(t, err)
	require.NoError(t, Push(ctx, p.Paths, Cache{URL: w.cacheURL, SecretKeyFile: w.secret}, PushOptions{Nix: w.n}))
	// Pushing again skips what the cache holds (nothing is rewritten) and
	// still verifies.
	// The narinfo's times are set far into the past: any write would set
	// its mtime to now, whatever the file system's time resolution.
	narinfo := filepath.Join(w.cacheDir, p.Paths.Out.HashPart()+".narinfo")
	past := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	require.NoError(t, os.Chtimes(narinfo, past, past))
	before, err := os.Stat(narinfo)
	require.NoError(t, err)
	require.NoError(t, Push(ctx, p.Paths, Cache{URL: w.cacheURL, SecretKeyFile: w.secret}, PushOptions{Nix: w.n}))
	after, err := os.Stat(narinfo)
	require.NoError(t, err)
	assert.True(t, after.ModTime().Equal(past), "the second push rewrote %s (mtime %v)", narinfo, after.ModTime())
	assert.True(t, os.SameFile(before, after), "the second push replaced %s", narinfo)
	require.NoError(t, nix.VerifyCache(ctx, w.cacheURL, w.pub, p.Paths.Out))

	spec, err := p.Job.Build()
	require.NoError(t, err)
	procs := spec.Payload.Task.Processes
	sbx := filepath.Join(w.dir, "task")
	requireInitOK(t, runInit(t, procs[0].Cmdline, sbx, w.newAgent(t, "agent")))
	out, err := exec.Command("env", "-i", "PATH=/usr/bin:/bin", "HOME="+sbx,
		"BASH_ENV="+filepath.Join(sbx, ProfilePath), "/bin/bash", "-c", procs[1].Cmdline).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "Hello from the sandbox\ngreetings\n", string(out))
}

func TestPushRejectsBadInput(t *testing.T) {
	t.Parallel()
	err := Push(context.Background(), Paths{Drv: "/nix/store/x"}, Cache{URL: "%zz"}, PushOptions{})
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrInvalid))
	for _, want := range []string{"Paths.Drv", "Cache.URL", "Cache.SecretKeyFile"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestPushUnreachableCache(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p := w.sandbox(t, "push-unreachable", "hello")
	err := Push(context.Background(), p, Cache{URL: "http://127.0.0.1:9", SecretKeyFile: w.secret}, PushOptions{Nix: w.n})
	require.Error(t, err)
	assert.True(t, errors.Is(err, nix.ErrCacheUnreachable), "%v", err)
}

// TestEvaluateNixPathSet looks packages up on the Nix search path: the
// same package through <testpkgs> and through the file gives the same
// sandbox.
func TestEvaluateNixPathSet(t *testing.T) {
	testenv.NeedNix(t)
	t.Parallel()
	ctx := context.Background()
	viaFile, err := evaluate(ctx, nil, Spec{Name: "aurora-sandbox-nixpath", Packages: []Package{File("testdata/pkgs.nix").Attr("hello")}}, "")
	require.NoError(t, err)
	viaPath, err := evaluate(ctx, nil, Spec{Name: "aurora-sandbox-nixpath", IncludePath: []string{"testpkgs=" + mustAbs(t, "testdata/pkgs.nix")},
		Packages: []Package{NixPath("testpkgs").Attr("hello")}}, "")
	require.NoError(t, err)
	assert.Equal(t, viaFile, viaPath)

	_, err = evaluate(ctx, nil, Spec{Name: "aurora-sandbox-nixpath", IncludePath: []string{"testpkgs=" + mustAbs(t, "testdata/pkgs.nix")},
		Packages: []Package{NixPath("testpkgs").Attr("nope")}}, "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nope")
}

// TestBuildTools builds a sandbox with build tools from the package set
// instead of the host's /bin, and checks they are not shipped.
func TestBuildTools(t *testing.T) {
	testenv.NeedNix(t)
	t.Parallel()
	ctx := context.Background()
	n := &nix.Nix{}
	pkgs := File("testdata/pkgs.nix")
	p, err := evaluate(ctx, n, Spec{Name: "aurora-sandbox-build-tools", BuildTools: []Package{pkgs.Attr("buildtools")},
		Packages: []Package{pkgs.Attr("hello")}}, "")
	require.NoError(t, err)
	drv, err := exec.Command("nix", "show-derivation", string(p.Drv)).Output()
	require.NoError(t, err)
	assert.Contains(t, string(drv), `-buildtools/bin/sh"`, "the builder is the tool's sh")
	root := filepath.Join(t.TempDir(), "root")
	outs, err := n.Build(ctx, nix.BuildOptions{AddRoot: root}, p.Drv)
	require.NoError(t, err)
	closure, err := n.Closure(ctx, outs...)
	require.NoError(t, err)
	var names []string
	for _, in := range closure {
		names = append(names, in.Path.Name())
	}
	assert.ElementsMatch(t, []string{"aurora-sandbox-build-tools", "hello"}, names)
}

// TestPushToStore pushes to a store that cannot sign while uploading (a
// chroot store standing in for ssh:// and the like): the closure is
// signed in the client's store and arrives with the cluster's signature.
func TestPushToStore(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	p := w.sandbox(t, "push-store", "hello", "data")
	dest := filepath.Join(w.dir, "dest")
	require.NoError(t, Push(ctx, p, Cache{URL: dest, SecretKeyFile: w.secret}, PushOptions{Nix: w.n}))
	infos, err := (&nix.Nix{Store: dest}).Closure(ctx, p.Out)
	require.NoError(t, err)
	require.Len(t, infos, 3)
	keyName, _, _ := strings.Cut(w.pub, ":")
	for _, in := range infos {
		assert.True(t, slices.ContainsFunc(in.Signatures, func(s string) bool { return strings.HasPrefix(s, keyName+":") }),
			"%s signed by %s: %v", in.Path, keyName, in.Signatures)
	}
}
