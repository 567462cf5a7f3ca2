package nix

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// A PublicKey is a binary cache signing key's public half, written by Nix
// as "name:base64" (the format of trusted-public-keys).
type PublicKey struct {
	Name string
	Key  ed25519.PublicKey
}

// ParsePublicKey parses "name:base64(32-byte ed25519 key)", surrounding
// space ignored (key files have no trailing newline, but may gain one).
func ParsePublicKey(s string) (PublicKey, error) {
	s = strings.TrimSpace(s)
	name, b64, ok := strings.Cut(s, ":")
	if !ok || name == "" {
		return PublicKey{}, fmt.Errorf("nix: public key %q: want name:base64, e.g. cache-1:owhzNC7u...", s)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return PublicKey{}, fmt.Errorf("nix: public key %q: %w", name, err)
	}
	if len(key) != ed25519.PublicKeySize {
		return PublicKey{}, fmt.Errorf("nix: public key %q: %d bytes, want %d (is this the secret key?)", name, len(key), ed25519.PublicKeySize)
	}
	return PublicKey{Name: name, Key: ed25519.PublicKey(key)}, nil
}

// String returns the key as "name:base64".
func (k PublicKey) String() string {
	return k.Name + ":" + base64.StdEncoding.EncodeToString(k.Key)
}

// A NarInfo is a binary cache's description of one store path
// (<hash>.narinfo).
type NarInfo struct {
	StorePath   StorePath
	URL         string // the NAR file, relative to the cache
	Compression string
	FileHash    string
	FileSize    int64
	NarHash     string // "sha256:<nix base-32>"
	NarSize     int64
	References  []StorePath // full paths, sorted
	Deriver     string
	Sigs        []string // "keyname:base64"
	CA          string   // content address, for content-addressed paths
}

// ParseNarInfo parses a narinfo file.
func ParseNarInfo(data []byte) (*NarInfo, error) {
	ni := &NarInfo{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		v = strings.TrimPrefix(v, " ")
		if !ok {
			return nil, fmt.Errorf("nix: narinfo line %d: want \"Key: value\", got %q", i+1, line)
		}
		var err error
		switch k {
		case "StorePath":
			ni.StorePath, err = ParseStorePath(v)
		case "URL":
			ni.URL = v
		case "Compression":
			ni.Compression = v
		case "FileHash":
			ni.FileHash = v
		case "FileSize":
			ni.FileSize, err = strconv.ParseInt(v, 10, 64)
		case "NarHash":
			ni.NarHash = v
		case "NarSize":
			ni.NarSize, err = strconv.ParseInt(v, 10, 64)
		case "References":
			for _, r := range strings.Fields(v) {
				p, perr := ParseStorePath(StoreDir + "/" + r)
				if perr != nil {
					err = perr
					break
				}
				ni.References = append(ni.References, p)
			}
		case "Deriver":
			ni.Deriver = v
		case "Sig":
			ni.Sigs = append(ni.Sigs, v)
		case "CA":
			ni.CA = v
		}
		if err != nil {
			return nil, fmt.Errorf("nix: narinfo line %d (%s): %w", i+1, k, err)
		}
	}
	switch {
	case ni.StorePath == "":
		return nil, errors.New("nix: narinfo has no StorePath")
	case ni.NarHash == "":
		return nil, fmt.Errorf("nix: narinfo for %s has no NarHash", ni.StorePath)
	}
	slices.Sort(ni.References)
	return ni, nil
}

// Fingerprint returns what Nix signs for this path:
// "1;<path>;<NarHash as sha256:base32>;<NarSize>;<references, comma-joined>".
func (ni *NarInfo) Fingerprint() (string, error) {
	h, err := normalizeHash(ni.NarHash)
	if err != nil {
		return "", fmt.Errorf("nix: narinfo for %s: NarHash: %w", ni.StorePath, err)
	}
	refs := slices.Clone(ni.References)
	slices.Sort(refs)
	return "1;" + string(ni.StorePath) + ";" + h + ";" + strconv.FormatInt(ni.NarSize, 10) + ";" +
		strings.Join(strs(refs), ","), nil
}

// Verify checks that some signature on ni is valid for one of keys
// (matched by key name, as Nix does). It returns an error wrapping
// [ErrBadSignature] naming the signatures found otherwise.
func (ni *NarInfo) Verify(keys ...PublicKey) error {
	fp, err := ni.Fingerprint()
	if err != nil {
		return err
	}
	var names []string
	for _, s := range ni.Sigs {
		name, b64, ok := strings.Cut(s, ":")
		if !ok {
			continue
		}
		names = append(names, name)
		sig, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(sig) != ed25519.SignatureSize {
			continue
		}
		for _, k := range keys {
			if k.Name == name && ed25519.Verify(k.Key, []byte(fp), sig) {
				return nil
			}
		}
	}
	trusted := make([]string, len(keys))
	for i, k := range keys {
		trusted[i] = k.Name
	}
	if len(names) == 0 {
		return fmt.Errorf("%s: %w: unsigned; trusted keys: %s", ni.StorePath, ErrBadSignature, strings.Join(trusted, ", "))
	}
	return fmt.Errorf("%s: %w: no valid signature by a trusted key (signed by %s; trusted: %s)",
		ni.StorePath, ErrBadSignature, strings.Join(names, ", "), strings.Join(trusted, ", "))
}

// normalizeHash renders a sha256 hash given as "sha256:<base-32>",
// "sha256:<hex>" or "sha256-<base64>" (SRI, as nix path-info --json writes
// it) in Nix's narinfo form "sha256:<base-32>".
func normalizeHash(h string) (string, error) {
	var raw []byte
	switch {
	case strings.HasPrefix(h, "sha256:"):
		s := h[len("sha256:"):]
		switch len(s) {
		case 52:
			if _, err := decodeBase32(s); err != nil {
				return "", err
			}
			return h, nil
		case 64:
			b, err := hex.DecodeString(s)
			if err != nil {
				return "", fmt.Errorf("hash %q: %w", h, err)
			}
			raw = b
		default:
			return "", fmt.Errorf("hash %q: want 52 base-32 or 64 hex digits", h)
		}
	case strings.HasPrefix(h, "sha256-"):
		b, err := base64.StdEncoding.DecodeString(h[len("sha256-"):])
		if err != nil || len(b) != 32 {
			return "", fmt.Errorf("hash %q: bad SRI sha256", h)
		}
		raw = b
	default:
		return "", fmt.Errorf("hash %q: want sha256:... or sha256-...", h)
	}
	return "sha256:" + encodeBase32(raw), nil
}

// encodeBase32 is Nix's base-32 (libutil/hash.cc printHash32).
func encodeBase32(b []byte) string {
	n := (len(b)*8-1)/5 + 1
	out := make([]byte, 0, n)
	for i := n - 1; i >= 0; i-- {
		bit := i * 5
		j, k := bit/8, uint(bit%8)
		c := b[j] >> k
		if j+1 < len(b) {
			c |= b[j+1] << (8 - k)
		}
		out = append(out, nixBase32[c&0x1f])
	}
	return string(out)
}

func decodeBase32(s string) ([]byte, error) {
	size := len(s) * 5 / 8
	b := make([]byte, size)
	for n := 0; n < len(s); n++ {
		c := s[len(s)-n-1]
		d := strings.IndexByte(nixBase32, c)
		if d < 0 {
			return nil, fmt.Errorf("invalid base-32 character %q", c)
		}
		bit := n * 5
		i, j := bit/8, uint(bit%8)
		if i < size {
			b[i] |= byte(d << j)
		}
		if i+1 < size {
			b[i+1] |= byte(d >> (8 - j))
		} else if d>>(8-j) != 0 {
			return nil, fmt.Errorf("invalid base-32 string %q", s)
		}
	}
	return b, nil
}

// VerifyCache checks, without running Nix, that the binary cache at
// cacheURL (file:///dir, a plain directory, or http(s)://) holds the whole
// closure of paths, each narinfo signed by one of publicKey (one key, or
// several separated by spaces as in trusted-public-keys). Content-addressed
// paths (narinfo CA field) need no signature, as in Nix. It walks the
// References of every narinfo.
//
// The error joins one error per problem: [ErrNotInCache] for a missing
// narinfo, [ErrBadSignature] for an unsigned or untrusted one,
// [ErrCacheUnreachable] when the cache itself cannot be read.
func VerifyCache(ctx context.Context, cacheURL, publicKey string, paths ...StorePath) error {
	var keys []PublicKey
	for _, s := range strings.Fields(publicKey) {
		k, err := ParsePublicKey(s)
		if err != nil {
			return err
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return errors.New("nix: verify cache: publicKey is empty; pass the cache's public key (name:base64)")
	}
	get, err := cacheReader(cacheURL)
	if err != nil {
		return err
	}
	if _, err := get(ctx, "nix-cache-info"); err != nil {
		return fmt.Errorf("nix: verify cache %s: %w: %w", cacheURL, ErrCacheUnreachable, err)
	}
	var errs []error
	seen := make(map[StorePath]bool)
	queue := slices.Clone(paths)
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		if _, err := ParseStorePath(string(p)); err != nil {
			errs = append(errs, err)
			continue
		}
		data, err := get(ctx, p.HashPart()+".narinfo")
		if errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("nix: verify cache %s: %s: %w", cacheURL, p, ErrNotInCache))
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			errs = append(errs, fmt.Errorf("nix: verify cache %s: %s: %w: %w", cacheURL, p, ErrCacheUnreachable, err))
			continue
		}
		ni, err := ParseNarInfo(data)
		if err != nil {
			errs = append(errs, fmt.Errorf("nix: verify cache %s: %s: %w", cacheURL, p, err))
			continue
		}
		if ni.StorePath != p {
			errs = append(errs, fmt.Errorf("nix: verify cache %s: narinfo for %s names %s", cacheURL, p, ni.StorePath))
			continue
		}
		if ni.CA == "" {
			if err := ni.Verify(keys...); err != nil {
				errs = append(errs, fmt.Errorf("nix: verify cache %s: %w", cacheURL, err))
			}
		}
		queue = append(queue, ni.References...)
	}
	return errors.Join(errs...)
}

// cacheReader returns a function reading a file of the cache; a missing
// file gives an error wrapping os.ErrNotExist.
func cacheReader(cacheURL string) (func(context.Context, string) ([]byte, error), error) {
	u, err := url.Parse(cacheURL)
	if err != nil {
		return nil, fmt.Errorf("nix: verify cache: URL %q: %w", cacheURL, err)
	}
	switch u.Scheme {
	case "", "file":
		dir := u.Path
		if u.Scheme == "" {
			dir = cacheURL
		}
		if dir == "" {
			return nil, fmt.Errorf("nix: verify cache: URL %q has no directory; want file:///path", cacheURL)
		}
		return func(ctx context.Context, name string) ([]byte, error) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			return os.ReadFile(filepath.Join(dir, name))
		}, nil
	case "http", "https":
		base := strings.TrimSuffix(u.Scheme+"://"+u.Host+u.Path, "/")
		return func(ctx context.Context, name string) ([]byte, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/"+name, nil)
			if err != nil {
				return nil, err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			switch {
			case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden:
				return nil, fmt.Errorf("GET %s: %s: %w", req.URL, resp.Status, os.ErrNotExist)
			case resp.StatusCode != http.StatusOK:
				return nil, fmt.Errorf("GET %s: %s: %s", req.URL, resp.Status, bytes.TrimSpace(body))
			}
			return body, err
		}, nil
	}
	return nil, fmt.Errorf("nix: verify cache: scheme %q of %q not supported; use file:// or http(s)://", u.Scheme, cacheURL)
}
