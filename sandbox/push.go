package sandbox

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/nixrealis/nixrealis/nix"
)

// Cache is the cluster's binary cache as the client publishes to it.
type Cache struct {
	// URL is any store URL Nix accepts: file:///srv/cache, s3://bucket,
	// ssh://host, ssh-ng://host, a local store directory, ... (a store Nix
	// can copy to). file:// and s3:// caches are signed while uploading;
	// for the others the closure is signed in the client's store first
	// (which needs a trusted user when a nix daemon is used).
	URL string
	// SecretKeyFile is the cluster's signing key ("name:base64" as
	// written by nix-store --generate-binary-cache-key).
	SecretKeyFile string
	// Compression of NARs in file:// and s3:// caches; empty means zstd.
	Compression string
}

// PushOptions configure [Push].
type PushOptions struct {
	// Nix runs the nix commands; nil means the nix on $PATH and the
	// default store.
	Nix *nix.Nix
	// GCRoot, when set, is where the built sandbox is rooted in the client
	// store (a symlink path the caller owns). Empty means a temporary root
	// removed when Push returns (the cache then holds the closure).
	GCRoot string
}

// ReadPublicKey returns the public half ("name:base64") of the secret key in
// the file at path, the value agents list in trusted-public-keys.
func ReadPublicKey(secretKeyFile string) (string, error) {
	data, err := os.ReadFile(secretKeyFile)
	if err != nil {
		return "", fmt.Errorf("sandbox: reading secret key: %w", err)
	}
	name, b64, ok := strings.Cut(strings.TrimSpace(string(data)), ":")
	key, err := base64.StdEncoding.DecodeString(b64)
	if !ok || name == "" || err != nil || len(key) != ed25519.PrivateKeySize {
		return "", fmt.Errorf("%w: %s is not a Nix secret key (name:base64 of %d bytes, as written by nix-store --generate-binary-cache-key)", ErrInvalid, secretKeyFile, ed25519.PrivateKeySize)
	}
	pub := ed25519.PrivateKey(key).Public().(ed25519.PublicKey)
	return name + ":" + base64.StdEncoding.EncodeToString(pub), nil
}

// Push builds the sandbox derivation p.Drv in the client's store, signs its
// closure with c's secret key and copies it to the cache, skipping paths
// the cache already holds. For file:// and http(s):// caches it then
// verifies that the cache holds the whole closure signed by the key, so an
// agent asking for it cannot miss it (Nix caches misses for an hour).
//
// Paths the cache already had keep their old signatures; if those were made
// with another key, verification fails with an error wrapping
// nix.ErrBadSignature.
func Push(ctx context.Context, p Paths, c Cache, opts PushOptions) error {
	n := opts.Nix
	if n == nil {
		n = &nix.Nix{}
	}
	var errs []error
	if !p.Drv.IsDerivation() {
		errs = append(errs, fmt.Errorf("%w: Paths.Drv %q is not a derivation; pass Prepared.Paths from Prepare", ErrInvalid, p.Drv))
	}
	u, err := url.Parse(c.URL)
	if c.URL == "" || err != nil || strings.ContainsAny(c.URL, "\x00\n") {
		errs = append(errs, fmt.Errorf("%w: Cache.URL %q is not a store URL; want e.g. file:///srv/nix-cache or s3://bucket", ErrInvalid, c.URL))
	} else if err := nix.CheckStoreURL(c.URL); err != nil {
		errs = append(errs, fmt.Errorf("%w: Cache.URL: %w", ErrInvalid, err))
	}
	if c.SecretKeyFile == "" {
		errs = append(errs, fmt.Errorf("%w: Cache.SecretKeyFile is empty; agents accept only signed paths", ErrInvalid))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	pub, err := ReadPublicKey(c.SecretKeyFile)
	if err != nil {
		return err
	}

	root := opts.GCRoot
	if root == "" {
		dir, err := os.MkdirTemp("", "nixrealis-push-")
		if err != nil {
			return fmt.Errorf("sandbox: push: %w", err)
		}
		defer os.RemoveAll(dir)
		root = dir + "/sandbox"
	}
	outs, err := n.Build(ctx, nix.BuildOptions{AddRoot: root}, p.Drv)
	if err != nil {
		return fmt.Errorf("sandbox: building %s: %w", p.Drv, err)
	}
	if p.Out != "" && (len(outs) != 1 || outs[0] != p.Out) {
		return fmt.Errorf("sandbox: building %s gave %v, want %s", p.Drv, outs, p.Out)
	}

	copts := nix.CopyOptions{To: c.URL}
	switch u.Scheme {
	case "file", "s3":
		// Sign while uploading: no write access to the local store needed.
		copts.SecretKeyFile = c.SecretKeyFile
		copts.Compression = c.Compression
		if copts.Compression == "" {
			copts.Compression = "zstd"
		}
	default:
		// Other stores receive the local signatures: sign the closure.
		infos, err := n.Closure(ctx, outs...)
		if err != nil {
			return fmt.Errorf("sandbox: closure of %s: %w", outs[0], err)
		}
		paths := make([]nix.StorePath, len(infos))
		for i, in := range infos {
			paths[i] = in.Path
		}
		if err := n.Sign(ctx, c.SecretKeyFile, paths...); err != nil {
			return fmt.Errorf("sandbox: signing the closure of %s: %w", outs[0], err)
		}
		// A store that checks signatures on import trusts the cluster's
		// key (a remote daemon may ignore this for an untrusted user).
		copts.TrustedPublicKeys = []string{pub}
	}
	if err := n.Copy(ctx, copts, outs...); err != nil {
		return fmt.Errorf("sandbox: copying %s to %s: %w", outs[0], c.URL, err)
	}
	switch u.Scheme {
	case "file", "http", "https":
		if err := nix.VerifyCache(ctx, c.URL, pub, outs...); err != nil {
			return fmt.Errorf("sandbox: verifying %s in %s: %w", outs[0], c.URL, err)
		}
	}
	return nil
}
