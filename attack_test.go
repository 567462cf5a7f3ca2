//go:build linux

package nixrealis_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/auroratest/thermosexec"
	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/nix"
	"github.com/nixrealis/nixrealis/sandbox"
)

// The genuine hello prints genuineText; the attacker's copy of the same
// store path prints alteredText instead (same length, so the NAR keeps its
// structure and size).
const (
	genuineText = "Hello, world!"
	alteredText = "Hacked world!"
)

// TestJobCannotPoisonAgentStore is issue 9's store-poisoning attack
// through the public API on one agent with its own store: the operator's
// agent trusts only the cluster's cache and key (Executor.TrustedCaches,
// TrustedKeys); an attacker's job names the example hello, served from the
// attacker's own cache as an altered copy of the same store path signed
// with the attacker's key, and says so in every way a job can (its cache
// with its key, its cache alone, its cache with trusted=1), then runs
// nix-store itself with its cache and key as options. Every attempt
// is refused (the first three with a one-line error, the last by the
// agent's nix-daemon, which does not trust the task's user), the agent store's hello keeps the
// genuine NAR hash, and the victim's job on that agent prints the genuine
// text.
//
// With RunAs "root" and UnsafeRunTasksAsRoot (tasks as root, whom the
// daemon trusts), the direct attempt succeeds and the victim prints
// "Hacked world!": checked when the test was written.
//
// On 57e83d4, before the trust fix, it failed (ported: the key in the
// victim's payload, polling instead of Create's wait): every attempt ran,
// the first realised the altered hello into the agent store, and the
// victim's hello printed "Hacked world!".
func TestJobCannotPoisonAgentStore(t *testing.T) {
	operator := newNixWorld(t) // the cluster's key and cache, trusted by the agent
	attacker := newNixWorld(t) // a job submitter's own key and cache
	testenv.NeedRoot(t)
	dir := taskReachable(t, t.TempDir())
	store := filepath.Join(dir, "agent-one-store")
	ex := &thermosexec.Executor{Root: filepath.Join(dir, "agents"), TimeScale: 100, RunAs: taskUser,
		Agents:        map[string]thermosexec.Agent{"agent-one": {Store: store}},
		TrustedCaches: []string{operator.cacheURL}, TrustedKeys: []string{operator.pub}}
	t.Cleanup(ex.Close)
	srv := auroratest.NewUnstartedServer(nil)
	srv.Executor, srv.Hosts, srv.TimeScale = ex, []string{"agent-one"}, 100
	srv.Start()
	t.Cleanup(srv.Close)
	ctx := ctxFor(t, 5*time.Minute)

	// H: the genuine hello, built on the client.
	hello := buildHello(ctx, t, operator.n, filepath.Join(dir, "hello-root"))
	genuineNAR, err := exec.Command("nix-store", "--dump", string(hello)).Output()
	require.NoError(t, err)
	require.Contains(t, string(genuineNAR), genuineText)
	genuineHash := narHash(genuineNAR)

	// The attacker's client publishes its job's sandbox to its own cache,
	// then replaces hello there by the altered copy, signed by its key.
	attackerKey := job.Key{Cluster: testKey.Cluster, Role: "mallory", Environment: "devel", Name: "hello"}
	// A health check that never passes: Create then waits for the task's
	// end (its processes decide it), not for RUNNING.
	attackerJob := helloJob("hello", 1).WithKey(attackerKey).WithHealthCheck(neverHealthy())
	attackerCache := strings.TrimPrefix(attacker.cacheURL, "file://")
	for _, a := range []struct {
		name  string
		agent sandbox.Agent
		want  string
	}{
		{"its cache with its key", sandbox.Agent{Caches: []string{attacker.cacheURL}, TrustedKeys: []string{attacker.pub}},
			"Agent.TrustedKeys is set, but a job cannot choose the keys an agent trusts; remove it and have the agent's operator put the key in trusted-public-keys of its nix.conf"},
		{"its cache alone", sandbox.Agent{Caches: []string{attacker.cacheURL}},
			"init_sandbox: untrusted cache: " + attacker.cacheURL + " is not among the substituters or trusted-substituters of this agent's nix.conf; its operator must add it there, with the cache's key in trusted-public-keys"},
		{"its cache with trusted=1", sandbox.Agent{Caches: []string{attacker.cacheURL + "?trusted=1"}},
			"turns off signature checks"},
	} {
		sb := nixrealis.Sandbox{
			Packages: sandbox.Packages{"main": {examplePackages(t).Attr("hello")}},
			Options:  sandbox.Options{Nix: attacker.n, Agent: a.agent},
			Cache:    sandbox.Cache{URL: attacker.cacheURL, SecretKeyFile: attacker.secret},
		}
		prep := nixrealis.PreparerFunc(func(ctx context.Context, j job.Job, publish bool, progress func(nix.Event)) (job.Job, error) {
			pj, err := sb.Prepare(ctx, j, publish, progress)
			if err == nil && publish {
				poisonCache(t, attackerCache, hello, genuineNAR, attacker.secret)
			}
			return pj, err
		})
		c := newClient(t, srv.ClientOptions(), nixrealis.WithPreparer(prep))
		_, err := c.Create(ctx, attackerJob)
		if assert.Error(t, err, "the attacker's job with %s is refused", a.name) {
			assert.Contains(t, err.Error(), a.want, a.name)
			assert.NotContains(t, err.Error(), "\n", a.name)
		}
		if st, err := c.Status(ctx, attackerKey); err == nil && len(st.Tasks) > 0 {
			require.NoError(t, c.Kill(ctx, attackerKey, nil))
		}
	}

	// A job's processes are arbitrary commands: the attacker's next job
	// runs nix-store itself, naming its cache and key as Nix options. The
	// task runs as an unprivileged user, a client the agent's nix-daemon
	// does not trust, so the daemon ignores both and substitutes only from
	// the operator's caches, which do not have hello yet: the realise fails
	// and the agent store gets nothing from the attacker.
	nixStore, err := exec.LookPath("nix-store")
	require.NoError(t, err)
	direct := fmt.Sprintf("%s --realise %s --option substituters %s --option trusted-public-keys %s; echo realise exit $?",
		nixStore, hello, attacker.cacheURL, attacker.pub)
	directKey := attackerKey
	directKey.Name = "direct"
	c := newClient(t, srv.ClientOptions())
	_, err = c.Create(ctx, helloJob(direct, 1).WithKey(directKey))
	require.NoError(t, err, "the attacker's direct job runs to its end")
	st, err := c.Status(ctx, directKey)
	require.NoError(t, err)
	require.Len(t, st.Tasks, 1)
	end, err := ex.Wait(ctx, st.Tasks[0].TaskID)
	require.NoError(t, err)
	assert.Equal(t, aurora.ScheduleStatus_FINISHED, end.Status, end.Message)
	info, ok := ex.Task(st.Tasks[0].TaskID)
	require.True(t, ok)
	out, err := os.ReadFile(filepath.Join(info.Sandbox, ".logs", "main", "0", "stdout"))
	require.NoError(t, err)
	stderr, err := os.ReadFile(filepath.Join(info.Sandbox, ".logs", "main", "0", "stderr"))
	require.NoError(t, err)
	t.Logf("the direct attack's nix-store said: %s", stderr)
	assert.Regexp(t, `realise exit [1-9]`, string(out), "nix-store --realise with the attacker's options fails")
	if b, err := exec.Command("nix-store", "--store", store, "--query", "--hash", string(hello)).Output(); err == nil {
		assert.Equal(t, genuineHash, nixHashHex(t, strings.TrimSpace(string(b))), "hello in the agent store after the direct attack")
	}

	// The victim's job uses hello from the operator's cache on that agent.
	c = newClient(t, srv.ClientOptions(), nixrealis.WithPreparer(operator.preparer(examplePackages(t), "hello")))
	_, err = c.Create(ctx, helloJob("hello", 1).WithHealthCheck(neverHealthy()))
	require.NoError(t, err)
	st, err = c.Status(ctx, testKey)
	require.NoError(t, err)
	require.Len(t, st.Tasks, 1)
	info, ok = ex.Task(st.Tasks[0].TaskID)
	require.True(t, ok)
	out, err = os.ReadFile(filepath.Join(info.Sandbox, ".logs", "main", "0", "stdout"))
	require.NoError(t, err)
	assert.Equal(t, genuineText+" (from a Nix-built package, instance ?)\n", string(out), "the victim runs the genuine hello")

	// The agent store's hello is the genuine one, by its recorded hash and
	// by its content.
	recorded, err := exec.Command("nix-store", "--store", store, "--query", "--hash", string(hello)).Output()
	require.NoError(t, err)
	assert.Equal(t, genuineHash, nixHashHex(t, strings.TrimSpace(string(recorded))), "the NarHash the agent store records for hello")
	onAgent, err := exec.Command("nix-store", "--dump", filepath.Join(store, string(hello))).Output()
	require.NoError(t, err)
	assert.Equal(t, genuineHash, narHash(onAgent), "the NAR of hello's files in the agent store")
}

// buildHello builds the example's hello in the client's store, rooted at
// root, and returns its store path.
func buildHello(ctx context.Context, t *testing.T, n *nix.Nix, root string) nix.StorePath {
	t.Helper()
	abs, err := filepath.Abs("examples/hello/default.nix")
	require.NoError(t, err)
	drvs, err := n.Instantiate(ctx, nix.Expr{File: abs, Attr: "hello"})
	require.NoError(t, err)
	outs, err := n.Build(ctx, nix.BuildOptions{AddRoot: root}, drvs...)
	require.NoError(t, err)
	require.Len(t, outs, 1)
	return outs[0]
}

// narHash is a NAR's hash as "sha256:<hex>".
func narHash(nar []byte) string {
	sum := sha256.Sum256(nar)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// nixHashHex converts the "sha256:<base-32>" hash nix-store --query --hash
// prints to "sha256:<hex>".
func nixHashHex(t *testing.T, h string) string {
	t.Helper()
	out, err := exec.Command("nix", "--extra-experimental-features", "nix-command", "hash", "to-base16", h).Output()
	require.NoError(t, err, "nix hash to-base16 %s", h)
	return "sha256:" + strings.TrimSpace(string(out))
}

// poisonCache replaces path's entry in the file:// cache at dir by an
// altered copy of the same path (genuineText replaced by alteredText in
// its NAR), uncompressed, with a narinfo signed by secretKeyFile's key:
// what an attacker can publish for a store path it does not own.
func poisonCache(t *testing.T, dir string, path nix.StorePath, genuineNAR []byte, secretKeyFile string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, path.HashPart()+".narinfo"))
	require.NoError(t, err, "the attacker's push put hello in its cache")
	orig, err := nix.ParseNarInfo(data)
	require.NoError(t, err)
	nar := bytes.ReplaceAll(genuineNAR, []byte(genuineText), []byte(alteredText))
	h := narHash(nar)
	narFile := "nar/" + strings.TrimPrefix(h, "sha256:") + ".nar"
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "nar"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, narFile), nar, 0o644))

	ni := &nix.NarInfo{StorePath: path, NarHash: h, NarSize: int64(len(nar)), References: orig.References}
	fp, err := ni.Fingerprint()
	require.NoError(t, err)
	key, err := os.ReadFile(secretKeyFile)
	require.NoError(t, err)
	name, b64, _ := strings.Cut(strings.TrimSpace(string(key)), ":")
	sec, err := base64.StdEncoding.DecodeString(b64)
	require.NoError(t, err)
	sig := name + ":" + base64.StdEncoding.EncodeToString(ed25519.Sign(ed25519.PrivateKey(sec), []byte(fp)))
	refs := make([]string, len(orig.References))
	for i, r := range orig.References {
		refs[i] = strings.TrimPrefix(string(r), nix.StoreDir+"/")
	}
	text := fmt.Sprintf("StorePath: %s\nURL: %s\nCompression: none\nFileHash: %s\nFileSize: %d\nNarHash: %s\nNarSize: %d\nReferences: %s\n",
		path, narFile, h, len(nar), h, len(nar), strings.Join(refs, " "))
	if orig.Deriver != "" {
		text += "Deriver: " + orig.Deriver + "\n"
	}
	text += "Sig: " + sig + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, path.HashPart()+".narinfo"), []byte(text), 0o644))
}
