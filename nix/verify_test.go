package nix_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/nix"
)

// realNarInfo is a narinfo written by Nix 2.8 (NIX.md §3.3).
const realNarInfo = `StorePath: /nix/store/psv7wgmj5ivc4iinjk7bkza2qwskcq3c-aurora-sandbox-devcluster-www-data-devel-hello_world
URL: nar/1m0qiwlwy9nc56lmqamynjb5qxwfagvkdxfh7748pdzmd9w5hdbd.nar.zst
Compression: zstd
FileHash: sha256:1m0qiwlwy9nc56lmqamynjb5qxwfagvkdxfh7748pdzmd9w5hdbd
FileSize: 232
NarHash: sha256:15wc910l59lb9bhj2h2rciykf4647gmw7b2n1fifgh4q4calf456
NarSize: 416
References: h3vngh0nc6cqz3bzz2czp5p9g9vvwzrb-dep-tool
Deriver: salp79wv9lj5gxz8qz6n86pglnmdxlln-aurora-sandbox-devcluster-www-data-devel-hello_world.drv
Sig: aurora-cache-1:nWvS/jBDmR5GXaYD51z06X0BFTXdTuZIStRB2tipJ19N4k9t9/Su5mdf6/zmNEuJ8I8i/IlQXXJjK/NQeo0yBg==
`

func TestParseNarInfo(t *testing.T) {
	ni, err := nix.ParseNarInfo([]byte(realNarInfo))
	require.NoError(t, err)
	assert.Equal(t, nix.StorePath("/nix/store/psv7wgmj5ivc4iinjk7bkza2qwskcq3c-aurora-sandbox-devcluster-www-data-devel-hello_world"), ni.StorePath)
	assert.Equal(t, int64(416), ni.NarSize)
	assert.Equal(t, int64(232), ni.FileSize)
	assert.Equal(t, "zstd", ni.Compression)
	assert.Equal(t, []nix.StorePath{"/nix/store/h3vngh0nc6cqz3bzz2czp5p9g9vvwzrb-dep-tool"}, ni.References)
	assert.Len(t, ni.Sigs, 1)
	fp, err := ni.Fingerprint()
	require.NoError(t, err)
	assert.Equal(t, "1;/nix/store/psv7wgmj5ivc4iinjk7bkza2qwskcq3c-aurora-sandbox-devcluster-www-data-devel-hello_world;"+
		"sha256:15wc910l59lb9bhj2h2rciykf4647gmw7b2n1fifgh4q4calf456;416;/nix/store/h3vngh0nc6cqz3bzz2czp5p9g9vvwzrb-dep-tool", fp)

	// The signature Nix 2.8 made with aurora-cache-1 (NIX.md §3.3) verifies.
	key, err := nix.ParsePublicKey("aurora-cache-1:owhzNC7uktpmQsjnAd+IOmeptbDLsfr+rJE3CbSBfWU=")
	require.NoError(t, err)
	require.NoError(t, ni.Verify(key))

	for _, bad := range []struct{ name, text, want string }{
		{"no store path", "NarHash: sha256:15wc910l59lb9bhj2h2rciykf4647gmw7b2n1fifgh4q4calf456\n", "no StorePath"},
		{"no nar hash", "StorePath: /nix/store/h3vngh0nc6cqz3bzz2czp5p9g9vvwzrb-dep-tool\n", "no NarHash"},
		{"bad size", "NarSize: many\n", "NarSize"},
		{"bad reference", "References: not-a-path\n", "References"},
		{"no colon", "garbage\n", `want "Key: value"`},
	} {
		_, err := nix.ParseNarInfo([]byte(bad.text))
		assert.ErrorContains(t, err, bad.want, bad.name)
	}
}

func TestNarInfoVerify(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	key := nix.PublicKey{Name: "test-1", Key: pub}
	parsed, err := nix.ParsePublicKey(key.String() + "\n")
	require.NoError(t, err)
	require.Equal(t, key, parsed)

	sign := func(ni *nix.NarInfo, name string, k ed25519.PrivateKey) string {
		fp, err := ni.Fingerprint()
		require.NoError(t, err)
		return name + ":" + base64.StdEncoding.EncodeToString(ed25519.Sign(k, []byte(fp)))
	}
	base := func() *nix.NarInfo {
		ni, err := nix.ParseNarInfo([]byte(realNarInfo))
		require.NoError(t, err)
		ni.Sigs = nil
		return ni
	}
	_, otherPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)

	tests := []struct {
		name    string
		edit    func(ni *nix.NarInfo)
		wantErr string
	}{
		{"valid", func(ni *nix.NarInfo) { ni.Sigs = []string{sign(ni, "test-1", priv)} }, ""},
		{"valid among others", func(ni *nix.NarInfo) {
			ni.Sigs = []string{sign(ni, "other-1", otherPriv), "junk", sign(ni, "test-1", priv)}
		}, ""},
		{"unsigned", func(ni *nix.NarInfo) {}, "unsigned"},
		{"other key", func(ni *nix.NarInfo) { ni.Sigs = []string{sign(ni, "other-1", otherPriv)} }, "signed by other-1; trusted: test-1"},
		{"other key under our name", func(ni *nix.NarInfo) { ni.Sigs = []string{sign(ni, "test-1", otherPriv)} }, "no valid signature"},
		{"NarSize edited", func(ni *nix.NarInfo) { ni.Sigs = []string{sign(ni, "test-1", priv)}; ni.NarSize++ }, "no valid signature"},
		{"reference dropped", func(ni *nix.NarInfo) { ni.Sigs = []string{sign(ni, "test-1", priv)}; ni.References = nil }, "no valid signature"},
		{"bad base64", func(ni *nix.NarInfo) { ni.Sigs = []string{"test-1:!!!"} }, "no valid signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ni := base()
			tt.edit(ni)
			err := ni.Verify(key)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, nix.ErrBadSignature)
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestParsePublicKeyErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "want name:base64"},
		{"nocolon", "want name:base64"},
		{":AAAA", "want name:base64"},
		{"k:!!!", "illegal base64"},
		{"k:" + base64.StdEncoding.EncodeToString(make([]byte, 64)), "64 bytes, want 32 (is this the secret key?)"},
	} {
		_, err := nix.ParsePublicKey(tt.in)
		assert.ErrorContains(t, err, tt.want, "ParsePublicKey(%q)", tt.in)
	}
}

func TestNormalizeHash(t *testing.T) {
	// One hash in Nix's three renderings (nix hash to-base32/to-base16/to-sri).
	const b32 = "sha256:15wc910l59lb9bhj2h2rciykf4647gmw7b2n1fifgh4q4calf456"
	for _, in := range []string{
		b32,
		"sha256:a61047152398c0e7a20b56acc3eb3bc410377d64594021e14a8ba64241488c97",
		"sha256-phBHFSOYwOeiC1asw+s7xBA3fWRZQCHhSoumQkFIjJc=",
	} {
		got, err := nix.NormalizeHash(in)
		require.NoError(t, err, in)
		assert.Equal(t, b32, got, in)
	}
	for _, bad := range []string{"md5:abc", "sha256:xyz", "sha256-AAAA", "sha256:" + strings.Repeat("e", 52), "sha256:" + strings.Repeat("z", 52)} {
		_, err := nix.NormalizeHash(bad)
		assert.Error(t, err, bad)
	}
}

func TestVerifyCacheDirectory(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	key := nix.PublicKey{Name: "test-1", Key: pub}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nix-cache-info"), []byte("StoreDir: /nix/store\n"), 0o644))
	write := func(path, narHash string, refs ...string) nix.StorePath {
		p := nix.StorePath(path)
		ni := &nix.NarInfo{StorePath: p, NarHash: narHash, NarSize: 100}
		for _, r := range refs {
			ni.References = append(ni.References, nix.StorePath(r))
		}
		fp, err := ni.Fingerprint()
		require.NoError(t, err)
		var b strings.Builder
		b.WriteString("StorePath: " + path + "\nNarHash: " + narHash + "\nNarSize: 100\nReferences:")
		for _, r := range refs {
			b.WriteString(" " + strings.TrimPrefix(r, "/nix/store/"))
		}
		b.WriteString("\nSig: test-1:" + base64.StdEncoding.EncodeToString(ed25519.Sign(priv, []byte(fp))) + "\n")
		require.NoError(t, os.WriteFile(filepath.Join(dir, p.HashPart()+".narinfo"), []byte(b.String()), 0o644))
		return p
	}
	const h = "sha256:15wc910l59lb9bhj2h2rciykf4647gmw7b2n1fifgh4q4calf456"
	dep := write("/nix/store/h3vngh0nc6cqz3bzz2czp5p9g9vvwzrb-dep", h)
	top := write("/nix/store/psv7wgmj5ivc4iinjk7bkza2qwskcq3c-top", h, string(dep), "/nix/store/psv7wgmj5ivc4iinjk7bkza2qwskcq3c-top")
	require.NoError(t, nix.VerifyCache(t.Context(), "file://"+dir, key.String(), top))

	missing := write("/nix/store/0000000000000000000000000000000a-has-missing-ref", h, "/nix/store/0000000000000000000000000000000b-gone")
	err = nix.VerifyCache(t.Context(), dir, key.String(), missing)
	assert.ErrorIs(t, err, nix.ErrNotInCache)
	assert.ErrorContains(t, err, "0000000000000000000000000000000b-gone")

	// Tamper with the dependency's NarSize: the top path's walk finds it.
	f := filepath.Join(dir, dep.HashPart()+".narinfo")
	b, err := os.ReadFile(f)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(f, []byte(strings.Replace(string(b), "NarSize: 100", "NarSize: 101", 1)), 0o644))
	err = nix.VerifyCache(t.Context(), dir, key.String(), top)
	assert.ErrorIs(t, err, nix.ErrBadSignature)
	assert.ErrorContains(t, err, string(dep))

	assert.ErrorContains(t, nix.VerifyCache(t.Context(), dir, "", top), "publicKey is empty")
	assert.ErrorContains(t, nix.VerifyCache(t.Context(), "s3://bucket", key.String(), top), `scheme "s3"`)
}

func FuzzParseNarInfo(f *testing.F) {
	f.Add([]byte(realNarInfo))
	f.Add([]byte("StorePath: /nix/store/h3vngh0nc6cqz3bzz2czp5p9g9vvwzrb-dep\nNarHash: sha256-phBHFSOYwOeiC1asw+s7xBA3fWRZQCHhSoumQkFIjJc=\nReferences: \nCA: fixed:r:sha256:x\n"))
	key, err := nix.ParsePublicKey("aurora-cache-1:owhzNC7uktpmQsjnAd+IOmeptbDLsfr+rJE3CbSBfWU=")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ni, err := nix.ParseNarInfo(data)
		if err != nil {
			return
		}
		if _, err := nix.ParseStorePath(string(ni.StorePath)); err != nil {
			t.Fatalf("ParseNarInfo accepted StorePath %q: %v", ni.StorePath, err)
		}
		// A cache's narinfo is untrusted input: verifying must not panic.
		_ = ni.Verify(key)
	})
}
