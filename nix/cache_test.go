package nix_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/nix"
)

// keyPair generates a binary cache key pair with nix-store and returns the
// secret key file and the public key.
func keyPair(t *testing.T, n *nix.Nix, name string) (secretFile, publicKey string) {
	t.Helper()
	dir := t.TempDir()
	secretFile, publicFile := filepath.Join(dir, name+".sec"), filepath.Join(dir, name+".pub")
	require.NoError(t, n.GenerateKey(t.Context(), name, secretFile, publicFile))
	pub, err := os.ReadFile(publicFile)
	require.NoError(t, err)
	k, err := nix.ParsePublicKey(string(pub))
	require.NoError(t, err)
	assert.Equal(t, name, k.Name)
	fi, err := os.Stat(secretFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "secret key is private")
	return secretFile, string(pub)
}

// agent returns a Nix on a fresh, empty chroot store: a simulated remote
// agent.
func agent(t *testing.T, events func(nix.Event)) (*nix.Nix, string) {
	t.Helper()
	dir := t.TempDir()
	return &nix.Nix{
		Store:    dir,
		Env:      []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "xdg-cache")},
		Progress: events,
	}, dir
}

// buildClosure builds pkgs.<attr> (fresh nonce) rooted in a temp dir and
// returns its output and closure paths.
func buildClosure(t *testing.T, n *nix.Nix, attr string, args map[string]string) (nix.StorePath, []nix.StorePath) {
	t.Helper()
	ctx := t.Context()
	drvs := instantiate(t, n, attr, args)
	outs, err := n.Build(ctx, nix.BuildOptions{AddRoot: filepath.Join(t.TempDir(), "result")}, drvs...)
	require.NoError(t, err)
	require.Len(t, outs, 1)
	infos, err := n.Closure(ctx, outs...)
	require.NoError(t, err)
	var closure []nix.StorePath
	for _, pi := range infos {
		closure = append(closure, pi.Path)
	}
	return outs[0], closure
}

func TestSignedCacheToAgent(t *testing.T) {
	t.Parallel()
	testenv.NeedNix(t)
	ctx := t.Context()
	var client nix.Nix
	secret, public := keyPair(t, &client, "test-cache-1")
	_, otherPublic := keyPair(t, &client, "other-cache-1")

	out, closure := buildClosure(t, &client, "greeter", nil)
	require.Len(t, closure, 2)
	blob, _ := buildClosure(t, &client, "blob", map[string]string{"size": "1000000"})
	blobInfo, err := client.Closure(ctx, blob)
	require.NoError(t, err)

	// Publish, signing while uploading.
	var copyEvents eventLog
	client.Progress = copyEvents.add
	cacheDir := t.TempDir()
	cache := "file://" + cacheDir
	require.NoError(t, client.Copy(ctx, nix.CopyOptions{To: cache, SecretKeyFile: secret, Compression: "zstd"}, out, blob))
	client.Progress = nil
	assert.FileExists(t, filepath.Join(cacheDir, "nix-cache-info"))
	for _, p := range closure {
		assert.FileExists(t, filepath.Join(cacheDir, p.HashPart()+".narinfo"))
	}
	var copied []string
	for _, ev := range copyEvents.all() {
		if ev.Action == nix.ActionStart && ev.Activity == nix.ActCopyPath {
			copied = append(copied, ev.Path)
		}
	}
	assert.ElementsMatch(t, []string{string(closure[0]), string(closure[1]), string(blob)}, copied, "one ActCopyPath per closure path")

	// The narinfos Nix wrote agree with what path-info says of the paths.
	infos, err := client.Closure(ctx, out)
	require.NoError(t, err)
	for _, pi := range infos {
		data, err := os.ReadFile(filepath.Join(cacheDir, pi.Path.HashPart()+".narinfo"))
		require.NoError(t, err)
		ni, err := nix.ParseNarInfo(data)
		require.NoError(t, err)
		assert.Equal(t, pi.Path, ni.StorePath)
		assert.Equal(t, pi.NarSize, ni.NarSize)
		h, err := nix.NormalizeHash(pi.NarHash)
		require.NoError(t, err)
		assert.Equal(t, ni.NarHash, h, "path-info's SRI hash rendered as the narinfo's base-32")
		assert.Equal(t, pi.References, ni.References)
		assert.Equal(t, "zstd", ni.Compression)
	}

	// Verify in Go before anything uses the cache.
	require.NoError(t, nix.VerifyCache(ctx, cache, public, out, blob))
	require.NoError(t, nix.VerifyCache(ctx, cacheDir, otherPublic+" "+public, out), "any of several keys")
	err = nix.VerifyCache(ctx, cache, otherPublic, out)
	assert.ErrorIs(t, err, nix.ErrBadSignature)
	assert.Contains(t, err.Error(), "signed by test-cache-1; trusted: other-cache-1")

	// Realise into an empty agent store from the cache, key trusted.
	var agentEvents eventLog
	var tracker nix.Tracker
	a, agentDir := agent(t, func(ev nix.Event) { agentEvents.add(ev); tracker.Update(ev) })
	root := filepath.Join(t.TempDir(), "sandbox", ".gcroots", "sandbox")
	require.NoError(t, os.MkdirAll(filepath.Dir(root), 0o755))
	got, err := a.Realise(ctx, nix.RealiseOptions{
		AddRoot: root, Indirect: true,
		Substituters: []string{cache}, TrustedPublicKeys: []string{public},
	}, out, blob)
	require.NoError(t, err)
	assert.Equal(t, []nix.StorePath{out, blob}, got)
	for r, want := range map[string]nix.StorePath{root: out, root + "-2": blob} {
		target, err := os.Readlink(r)
		require.NoError(t, err)
		assert.Equal(t, string(want), target, "GC root %s", r)
	}
	for _, p := range closure {
		assert.DirExists(t, filepath.Join(agentDir, string(p)), "closure path in the agent store")
	}
	infos, err = a.Closure(ctx, out)
	require.NoError(t, err)
	require.Len(t, infos, 2)
	for _, pi := range infos {
		require.Len(t, pi.Signatures, 1)
		assert.True(t, strings.HasPrefix(pi.Signatures[0], "test-cache-1:"), "signature %q", pi.Signatures[0])
		assert.False(t, pi.Ultimate, "substituted, not built")
	}
	var substituted []string
	var bytesDone, bytesExpected, pathsDone, pathsExpected int64
	for _, ev := range agentEvents.all() {
		if ev.Action == nix.ActionStart && ev.Activity == nix.ActCopyPath {
			substituted = append(substituted, ev.Path)
		}
		if ev.Action == nix.ActionResult && ev.Result == nix.ResProgress {
			switch ev.Activity {
			case nix.ActCopyPath:
				bytesDone, bytesExpected = max(bytesDone, ev.Done), max(bytesExpected, ev.Expected)
			case nix.ActCopyPaths:
				pathsDone, pathsExpected = ev.Done, ev.Expected
			}
		}
	}
	assert.Len(t, substituted, 3, "ActCopyPath per substituted path")
	assert.Equal(t, blobInfo[0].NarSize, bytesExpected, "byte progress of the blob while substituting")
	assert.Positive(t, bytesDone)
	assert.LessOrEqual(t, bytesDone, bytesExpected)
	assert.Equal(t, int64(3), pathsDone)
	assert.Equal(t, int64(3), pathsExpected)
	var narTotal int64
	for _, pi := range append(infos, blobInfo...) {
		narTotal += pi.NarSize
	}
	st := tracker.Status()
	assert.Equal(t, nix.Status{PathsDone: 3, PathsExpected: 3, BytesDone: narTotal, BytesExpected: narTotal}, st)

	// Realising again is idempotent (the root is replaced).
	_, err = a.Realise(ctx, nix.RealiseOptions{AddRoot: root, Substituters: []string{cache}, TrustedPublicKeys: []string{public}}, out)
	require.NoError(t, err)

	// The root holds the closure against the agent's garbage collector;
	// removing the sandbox frees it.
	gc := func() {
		t.Helper()
		out, err := a.Command(ctx, "nix-store", "--store", agentDir, "--gc").CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	gc()
	for _, p := range append(closure, blob) {
		assert.DirExists(t, filepath.Join(agentDir, string(p)), "rooted path survives GC")
	}
	require.NoError(t, os.RemoveAll(filepath.Dir(filepath.Dir(root))))
	gc()
	for _, p := range append(closure, blob) {
		assert.NoDirExists(t, filepath.Join(agentDir, string(p)), "unrooted path collected")
	}

	// The same cache over HTTP (loopback), for Go's check and for Nix.
	srv := httptest.NewServer(http.FileServer(http.Dir(cacheDir)))
	defer srv.Close()
	require.NoError(t, nix.VerifyCache(ctx, srv.URL, public, out, blob))
	h, hDir := agent(t, nil)
	_, err = h.Realise(ctx, nix.RealiseOptions{Substituters: []string{srv.URL}, TrustedPublicKeys: []string{public}}, out)
	require.NoError(t, err)
	assert.DirExists(t, filepath.Join(hDir, string(out)))

	// Untrusted key: refused by Nix, with the named error.
	b, _ := agent(t, nil)
	_, err = b.Realise(ctx, nix.RealiseOptions{Substituters: []string{cache}, TrustedPublicKeys: []string{otherPublic}}, out)
	require.Error(t, err)
	assert.ErrorIs(t, err, nix.ErrBadSignature)
	assert.Contains(t, err.Error(), "not signed by any of the keys")

	// Copy --from the cache into a store that trusts the key.
	c, cDir := agent(t, nil)
	require.NoError(t, c.Copy(ctx, nix.CopyOptions{From: cache, TrustedPublicKeys: []string{public}}, out))
	assert.DirExists(t, filepath.Join(cDir, string(out)))
	d, _ := agent(t, nil)
	err = d.Copy(ctx, nix.CopyOptions{From: cache, TrustedPublicKeys: []string{otherPublic}}, out)
	assert.ErrorIs(t, err, nix.ErrBadSignature)
}

func TestUnsignedCacheRefused(t *testing.T) {
	t.Parallel()
	testenv.NeedNix(t)
	ctx := t.Context()
	var client nix.Nix
	_, public := keyPair(t, &client, "test-cache-1")
	out, _ := buildClosure(t, &client, "hello", nil)
	cacheDir := t.TempDir()
	cache := "file://" + cacheDir
	require.NoError(t, client.Copy(ctx, nix.CopyOptions{To: cache}, out))

	err := nix.VerifyCache(ctx, cache, public, out)
	assert.ErrorIs(t, err, nix.ErrBadSignature)
	assert.Contains(t, err.Error(), "unsigned")

	a, agentDir := agent(t, nil)
	_, err = a.Realise(ctx, nix.RealiseOptions{Substituters: []string{cache}, TrustedPublicKeys: []string{public}}, out)
	require.Error(t, err)
	assert.ErrorIs(t, err, nix.ErrBadSignature)
	assert.NoDirExists(t, filepath.Join(agentDir, string(out)))
}

func TestRealiseMissingAndUnreachable(t *testing.T) {
	t.Parallel()
	testenv.NeedNix(t)
	ctx := t.Context()
	var client nix.Nix
	secret, public := keyPair(t, &client, "test-cache-1")
	out, _ := buildClosure(t, &client, "hello", nil)
	emptyCache := "file://" + t.TempDir()
	require.NoError(t, client.Copy(ctx, nix.CopyOptions{To: emptyCache, SecretKeyFile: secret}, out))

	a, _ := agent(t, nil)
	other, _ := buildClosure(t, &client, "hello", nil) // a different nonce: not published
	_, err := a.Realise(ctx, nix.RealiseOptions{Substituters: []string{emptyCache}, TrustedPublicKeys: []string{public}}, other)
	assert.ErrorIs(t, err, nix.ErrNotInCache)
	assert.NotErrorIs(t, err, nix.ErrBadSignature)
	assert.ErrorIs(t, nix.VerifyCache(ctx, emptyCache, public, other), nix.ErrNotInCache)

	// A cache nobody listens on: Nix only warns, then cannot build.
	_, err = a.Realise(ctx, nix.RealiseOptions{Substituters: []string{"http://127.0.0.1:9"}, TrustedPublicKeys: []string{public}}, out)
	assert.ErrorIs(t, err, nix.ErrCacheUnreachable)
	assert.NotErrorIs(t, err, nix.ErrNotInCache)
	assert.ErrorIs(t, nix.VerifyCache(ctx, "http://127.0.0.1:9", public, out), nix.ErrCacheUnreachable)
	assert.ErrorIs(t, nix.VerifyCache(ctx, "file:///nonexistent/cache", public, out), nix.ErrCacheUnreachable)
}

func TestSign(t *testing.T) {
	t.Parallel()
	testenv.NeedNix(t)
	ctx := t.Context()
	var n nix.Nix
	secret, public := keyPair(t, &n, "sign-test-1")
	out, closure := buildClosure(t, &n, "greeter", nil)
	require.NoError(t, n.Sign(ctx, secret, closure...))
	infos, err := n.Closure(ctx, out)
	require.NoError(t, err)
	require.Len(t, infos, 2)
	for _, pi := range infos {
		assert.Contains(t, strings.Join(pi.Signatures, " "), "sign-test-1:", "%s signed", pi.Path)
	}
	// The local signatures travel to a cache copied without a key.
	cache := "file://" + t.TempDir()
	require.NoError(t, n.Copy(ctx, nix.CopyOptions{To: cache}, out))
	require.NoError(t, nix.VerifyCache(ctx, cache, public, out))
}

// TestCopySecretKeyPathQuoted signs with a key whose path needs escaping
// in the store URL (space, &, =, +, %).
func TestCopySecretKeyPathQuoted(t *testing.T) {
	t.Parallel()
	testenv.NeedNix(t)
	ctx := t.Context()
	var n nix.Nix
	dir := filepath.Join(t.TempDir(), "a dir & x=y+z%20")
	require.NoError(t, os.Mkdir(dir, 0o700))
	secret, public := filepath.Join(dir, "k.sec"), filepath.Join(dir, "k.pub")
	require.NoError(t, n.GenerateKey(ctx, "quoted-1", secret, public))
	pub, err := os.ReadFile(public)
	require.NoError(t, err)
	out, _ := buildClosure(t, &n, "hello", nil)
	cache := "file://" + t.TempDir() + "?compression=none"
	require.NoError(t, n.Copy(ctx, nix.CopyOptions{To: cache, SecretKeyFile: secret}, out))
	require.NoError(t, nix.VerifyCache(ctx, cache, string(pub), out))
}
