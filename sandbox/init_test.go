package sandbox

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/nix"
)

// world is a client machine with a store (the default one), a cluster
// signing key and a file:// binary cache, for simulated agents to
// realise sandboxes from.
type world struct {
	dir      string
	n        *nix.Nix
	secret   string // secret key file
	pub      string // its public key
	otherPub string // a public key that signed nothing
	cacheURL string
	cacheDir string
	pkgs     PackageSet
}

func newWorld(t testing.TB) *world {
	t.Helper()
	testenv.NeedNix(t)
	dir := t.TempDir()
	w := &world{dir: dir, n: &nix.Nix{}, pkgs: File("testdata/pkgs.nix")}
	ctx := context.Background()
	w.secret = filepath.Join(dir, "cluster.sec")
	require.NoError(t, w.n.GenerateKey(ctx, "cluster-1", w.secret, filepath.Join(dir, "cluster.pub")))
	pub, err := ReadPublicKey(w.secret)
	require.NoError(t, err)
	w.pub = pub
	require.NoError(t, w.n.GenerateKey(ctx, "other-1", filepath.Join(dir, "other.sec"), filepath.Join(dir, "other.pub")))
	other, err := os.ReadFile(filepath.Join(dir, "other.pub"))
	require.NoError(t, err)
	w.otherPub = strings.TrimSpace(string(other))
	w.cacheDir = filepath.Join(dir, "cache")
	w.cacheURL = "file://" + w.cacheDir
	return w
}

// sandbox evaluates a sandbox holding pkgs (from testdata/pkgs.nix).
func (w *world) sandbox(t testing.TB, name string, attrs ...string) Paths {
	t.Helper()
	var pkgs []Package
	for _, a := range attrs {
		pkgs = append(pkgs, w.pkgs.Attr(strings.Split(a, ".")...))
	}
	p, err := evaluate(context.Background(), w.n, Spec{Name: NamePrefix + name, Packages: pkgs}, "")
	require.NoError(t, err)
	return p
}

func (w *world) push(t testing.TB, p Paths) {
	t.Helper()
	require.NoError(t, Push(context.Background(), p, Cache{URL: w.cacheURL, SecretKeyFile: w.secret}, PushOptions{Nix: w.n}))
}

// published evaluates a sandbox holding pkgs, pushes it to the world's
// cache, and returns it with the init_sandbox script that realises it.
func (w *world) published(t testing.TB, name string, attrs ...string) (Paths, string) {
	t.Helper()
	p := w.sandbox(t, name, attrs...)
	w.push(t, p)
	script, err := InitCommand(string(p.Out), w.agent())
	require.NoError(t, err)
	return p, script
}

// agent is the payload's view of the agent: it names the cluster's cache,
// which the agent's own nix.conf must trust (newAgent).
func (w *world) agent() Agent {
	return Agent{Caches: []string{w.cacheURL}, MaxJobs: 4}
}

// newAgent returns a chroot store w.dir/name for a simulated agent whose
// operator trusts the world's cache and key.
func (w *world) newAgent(t testing.TB, name string) string {
	t.Helper()
	store := filepath.Join(w.dir, name)
	configureAgent(t, store, AgentNixConfFor(t, []string{w.cacheURL}, []string{w.pub}))
	return store
}

// AgentNixConfFor is AgentNixConf for settings a test knows are valid.
func AgentNixConfFor(t testing.TB, caches, keys []string) string {
	t.Helper()
	conf, err := AgentNixConf(caches, keys)
	require.NoError(t, err)
	return conf
}

// configureAgent writes the nix.conf of the simulated agent at agentStore,
// as its operator would: agentStore/etc/nix/nix.conf, which runInit points
// NIX_CONF_DIR to (as thermosexec does for its agents). conf comes after
// what a single-user store run by root needs.
func configureAgent(t testing.TB, agentStore, conf string) {
	t.Helper()
	dir := filepath.Join(agentStore, "etc", "nix")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nix.conf"), []byte("build-users-group =\nsandbox = false\n"+conf), 0o644))
}

// initResult is what one init_sandbox run did.
type initResult struct {
	code   int
	stdout string
	stderr string
}

// runInit runs the init_sandbox script the way Thermos does (/bin/bash -c,
// cwd and HOME the task sandbox, a bare environment) against the chroot
// store agentStore, with the agent's nix.conf (configureAgent).
func runInit(t testing.TB, script, sandboxDir, agentStore string) initResult {
	t.Helper()
	require.NoError(t, os.MkdirAll(sandboxDir, 0o755))
	confDir := filepath.Join(agentStore, "etc", "nix")
	_, err := os.Stat(filepath.Join(confDir, "nix.conf"))
	require.NoError(t, err, "configure the agent (configureAgent or newAgent) before running init_sandbox on it")
	cmd := exec.Command("/bin/bash", "-c", script, InitProcessName, "--store", agentStore)
	cmd.Dir = sandboxDir
	cmd.Env = []string{"HOME=" + sandboxDir, "USER=root", "LOGNAME=root", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "NIX_CONF_DIR=" + confDir}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	res := initResult{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return res
}

// valid reports whether p is valid in the chroot store.
func valid(t testing.TB, store string, p nix.StorePath) bool {
	t.Helper()
	return exec.Command("nix-store", "--store", store, "--check-validity", string(p)).Run() == nil
}

func requireInitOK(t testing.TB, r initResult) {
	t.Helper()
	require.Equal(t, 0, r.code, "init_sandbox failed: stderr=%q", r.stderr)
	require.Empty(t, r.stderr)
}

func TestInitSandboxRealisesPushedClosure(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p, script := w.published(t, "realise", "hello", "tools", "data", "lib.greeter")

	agentStore := w.newAgent(t, "agent")
	sbx := filepath.Join(w.dir, "task1")
	requireInitOK(t, runInit(t, script, sbx, agentStore))

	// The whole closure, and nothing copied into the sandbox.
	require.True(t, valid(t, agentStore, p.Out))
	closure, err := w.n.Closure(context.Background(), p.Out)
	require.NoError(t, err)
	require.Len(t, closure, 5, "sandbox + hello + tools + data + greeter")
	for _, in := range closure {
		assert.True(t, valid(t, agentStore, in.Path), "%s realised on the agent", in.Path)
		// The agent store's copy holds the same files.
		_, err := os.Lstat(filepath.Join(agentStore, string(in.Path)))
		assert.NoError(t, err)
	}
	link, err := os.Readlink(filepath.Join(sbx, LinkPath))
	require.NoError(t, err)
	assert.Equal(t, string(p.Out), link)
	root, err := os.Readlink(filepath.Join(sbx, GCRootPath))
	require.NoError(t, err)
	assert.Equal(t, string(p.Out), root)

	// Every later process finds the sandbox's programs on PATH through
	// .thermos_profile (Thermos sets BASH_ENV to it). The store paths
	// also exist in the client's /nix/store, which the processes see.
	out, err := exec.Command("env", "-i", "PATH=/usr/bin:/bin", "HOME="+sbx,
		"BASH_ENV="+filepath.Join(sbx, ProfilePath), "/bin/bash", "-c", "hello; greet; greeter").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "Hello from the sandbox\ngreet\ngreetings\n", string(out), "hello comes from the first package")
}

func TestInitSandboxTwiceInOneSandbox(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, script := w.published(t, "twice", "hello")
	agentStore := w.newAgent(t, "agent")
	sbx := filepath.Join(w.dir, "task")
	requireInitOK(t, runInit(t, script, sbx, agentStore))
	profile1, err := os.ReadFile(filepath.Join(sbx, ProfilePath))
	require.NoError(t, err)
	requireInitOK(t, runInit(t, script, sbx, agentStore))
	profile2, err := os.ReadFile(filepath.Join(sbx, ProfilePath))
	require.NoError(t, err)
	assert.Equal(t, string(profile1), string(profile2), "the PATH line is written once")
	assert.Equal(t, 1, strings.Count(string(profile2), "\n"))
	entries, err := os.ReadDir(sbx)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{".gcroots", LinkPath, ProfilePath}, names, "no leftovers")
}

// TestInitSandboxConcurrentOnOneAgent starts 8 init_sandbox runs at once on
// a fresh agent store, 20 times: instances of one job landing on one host
// together is the common case on Aurora, and the first runs race to create
// the store's database.
func TestInitSandboxConcurrentOnOneAgent(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p, script := w.published(t, "concurrent", "hello", "tools", "data")
	const rounds, runs = 20, 8
	for round := range rounds {
		agentStore := w.newAgent(t, filepath.Join("agent", strconv.Itoa(round)))
		var wg sync.WaitGroup
		results := make([]initResult, runs)
		for i := range results {
			wg.Go(func() {
				results[i] = runInit(t, script, filepath.Join(w.dir, "task", strconv.Itoa(round), strconv.Itoa(i)), agentStore)
			})
		}
		wg.Wait()
		for i, r := range results {
			require.Equal(t, 0, r.code, "round %d, run %d of %d: stderr=%q", round, i, runs, r.stderr)
			require.Empty(t, r.stderr, "round %d, run %d", round, i)
		}
		require.True(t, valid(t, agentStore, p.Out))
	}
}

func TestInitSandboxGCRoot(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p, script := w.published(t, "gcroot", "hello")
	agentStore := w.newAgent(t, "agent")
	sbx := filepath.Join(w.dir, "task")
	requireInitOK(t, runInit(t, script, sbx, agentStore))
	closure, err := w.n.Closure(context.Background(), p.Out)
	require.NoError(t, err)

	gc := func() {
		out, err := exec.Command("nix-store", "--store", agentStore, "--gc").CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	gc()
	for _, in := range closure {
		assert.True(t, valid(t, agentStore, in.Path), "%s survives GC while the sandbox exists", in.Path)
	}
	// Mesos removes the sandbox; the next GC frees the closure.
	require.NoError(t, os.RemoveAll(sbx))
	gc()
	for _, in := range closure {
		assert.False(t, valid(t, agentStore, in.Path), "%s freed after the sandbox is gone", in.Path)
	}
}

func TestInitSandboxFailures(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p := w.sandbox(t, "failures", "hello")
	w.push(t, p)

	// An unsigned cache holding the same closure.
	unsigned := "file://" + filepath.Join(w.dir, "unsigned")
	require.NoError(t, w.n.Copy(context.Background(), nix.CopyOptions{To: unsigned}, p.Out))
	// A sandbox that was never pushed.
	missing := w.sandbox(t, "never-pushed", "tools")

	trusts := func(cache, key string) string { return AgentNixConfFor(t, []string{cache}, []string{key}) }
	nothere := "file://" + filepath.Join(w.dir, "nothere")
	tests := []struct {
		name     string
		path     nix.StorePath
		agent    Agent  // the payload's
		conf     string // the agent's nix.conf
		wantCode int
		wantMsg  string
	}{
		{"unsigned closure", p.Out, Agent{Caches: []string{unsigned}}, trusts(unsigned, w.pub),
			ExitBadSignature, "init_sandbox: bad signature: "},
		{"untrusted key", p.Out, w.agent(), trusts(w.cacheURL, w.otherPub),
			ExitBadSignature, "init_sandbox: bad signature: "},
		{"unreachable http cache", p.Out, Agent{Caches: []string{"http://127.0.0.1:9"}}, trusts("http://127.0.0.1:9", w.pub),
			ExitCacheUnreachable, "init_sandbox: cache unreachable: unable to download 'http://127.0.0.1:9/nix-cache-info'"},
		{"missing file cache", p.Out, Agent{Caches: []string{nothere}}, trusts(nothere, w.pub),
			ExitCacheUnreachable, "init_sandbox: cache unreachable: file://"},
		{"path not in cache", missing.Out, w.agent(), trusts(w.cacheURL, w.pub),
			ExitNotInCache, "init_sandbox: path not in cache: no substituter of this agent has " + string(missing.Out)},
		{"nix missing", p.Out, Agent{Caches: []string{w.cacheURL}, NixBinDirs: []string{filepath.Join(w.dir, "no-nix")}}, trusts(w.cacheURL, w.pub),
			ExitNixMissing, "init_sandbox: nix missing: no executable nix-store in " + filepath.Join(w.dir, "no-nix") + " on "},
		{"cache the agent does not trust", p.Out, w.agent(), AgentNixConfFor(t, nil, []string{w.pub}),
			ExitUntrustedCache, "init_sandbox: untrusted cache: " + w.cacheURL + " is not among the substituters or trusted-substituters of this agent's nix.conf; its operator must add it there"},
		{"no cache named, none configured", p.Out, Agent{}, AgentNixConfFor(t, nil, []string{w.pub}),
			ExitNotInCache, "init_sandbox: path not in cache: "},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script, err := InitCommand(string(tt.path), tt.agent)
			require.NoError(t, err)
			agentStore := filepath.Join(w.dir, "agent", tt.name)
			configureAgent(t, agentStore, tt.conf)
			r := runInit(t, script, filepath.Join(w.dir, "task", string(rune('a'+i))), agentStore)
			assert.Equal(t, tt.wantCode, r.code)
			assert.True(t, strings.HasPrefix(r.stderr, tt.wantMsg), "stderr %q lacks %q", r.stderr, tt.wantMsg)
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
			assert.False(t, valid(t, agentStore, tt.path))
		})
	}
}

// TestInitSandboxDiskFull realises a 10 MB closure into an agent store on a
// 4 MiB tmpfs.
func TestInitSandboxDiskFull(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tiny := filepath.Join(w.dir, "tiny")
	require.NoError(t, os.MkdirAll(tiny, 0o755))
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", tiny).CombinedOutput(); err != nil {
		testenv.Unavailable(t, "a small tmpfs to fill (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", tiny).Run() })
	p, script := w.published(t, "disk-full", "closure10m")
	configureAgent(t, filepath.Join(tiny, "agent"), AgentNixConfFor(t, []string{w.cacheURL}, []string{w.pub}))
	r := runInit(t, script, filepath.Join(w.dir, "task"), filepath.Join(tiny, "agent"))
	assert.Equal(t, ExitDiskFull, r.code)
	assert.Equal(t, "init_sandbox: disk full: no space left on device while realising "+string(p.Out)+"\n", r.stderr)
}

// TestInitSandboxOccupiedRoot: a file where the GC root goes is reported,
// not clobbered.
func TestInitSandboxOccupiedRoot(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, script := w.published(t, "occupied", "hello")
	sbx := filepath.Join(w.dir, "task")
	require.NoError(t, os.MkdirAll(filepath.Join(sbx, ".gcroots"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(sbx, GCRootPath), []byte("mine"), 0o644))
	r := runInit(t, script, sbx, w.newAgent(t, "agent"))
	assert.Equal(t, ExitSandbox, r.code)
	assert.Equal(t, "init_sandbox: sandbox: "+sbx+"/"+GCRootPath+" exists and is not a link into the store\n", r.stderr)
	data, err := os.ReadFile(filepath.Join(sbx, GCRootPath))
	require.NoError(t, err)
	assert.Equal(t, "mine", string(data))
}
