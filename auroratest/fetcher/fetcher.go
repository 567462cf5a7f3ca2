// Package fetcher puts a task's URIs into its sandbox as the Mesos fetcher
// does before an executor starts: it downloads (or copies) each resource,
// extracts archives, marks files executable and serves repeated downloads
// from a cache, for auroratest's simulated agents.
//
// What it fetches: file:// URLs and absolute paths on this machine, and
// http:// and https:// URLs on a loopback address (the simulated agents
// have no other network; redirects elsewhere are refused too). Archives
// ending in .tar, .tar.gz, .tgz, .tar.bz2, .tbz2 and .zip are extracted
// into the sandbox, and a lone .gz file is decompressed, as the Mesos
// fetcher does; the downloaded file stays beside what it held. Entries
// that would land outside the sandbox are refused.
package fetcher

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// URI is one resource to fetch: Mesos' CommandInfo.URI.
type URI struct {
	// Value is the resource: file:///path, /path or a loopback
	// http(s):// URL.
	Value string
	// Executable makes the fetched file executable (mode 0755).
	Executable bool
	// Extract unpacks an archive into the sandbox.
	Extract bool
	// Cache serves the resource from the fetcher's cache when it holds
	// it, and keeps it there otherwise.
	Cache bool
	// OutputFile, if set, is the fetched file's name relative to the
	// sandbox; empty means the last element of Value's path.
	OutputFile string
}

// ErrFetch is wrapped by every error Fetch returns.
var ErrFetch = errors.New("fetch failed")

// A Fetcher fetches URIs into sandboxes. The zero value works, with no
// cache: every URI is downloaded each time. A Fetcher is safe for
// concurrent use.
type Fetcher struct {
	// CacheDir holds cached downloads (the agent's --fetcher_cache_dir),
	// one per user and URI value, as in Mesos. Empty turns caching off.
	CacheDir string
	// Timeout bounds one http(s) download; 0 means one minute.
	Timeout time.Duration
	// RootCAs are the certificate authorities https downloads trust; nil
	// means the system's (a test's httptest TLS server: add its
	// Certificate()).
	RootCAs *x509.CertPool
}

// Result says what Fetch did with one URI.
type Result struct {
	// URI is the URI fetched.
	URI URI
	// Path is the fetched file in the sandbox.
	Path string
	// FromCache is true when the file came from the cache instead of
	// its source.
	FromCache bool
	// Extracted lists the top-level names an extraction created or
	// replaced in the sandbox, sorted; nil when nothing was extracted.
	Extracted []string
}

// Fetch fetches uris into sandbox, in order, for user (the cache is per
// user, as in Mesos; "" is a user too). It stops at the first failure,
// returning an error that names the URI and wraps ErrFetch.
func (f *Fetcher) Fetch(ctx context.Context, sandbox, user string, uris []URI) ([]Result, error) {
	out := make([]Result, 0, len(uris))
	for _, u := range uris {
		r, err := f.fetchOne(ctx, sandbox, user, u)
		if err != nil {
			return out, fmt.Errorf("%w: %s: %w", ErrFetch, u.Value, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func (f *Fetcher) fetchOne(ctx context.Context, sandbox, user string, u URI) (Result, error) {
	r := Result{URI: u}
	name, err := outputName(u)
	if err != nil {
		return r, err
	}
	r.Path = filepath.Join(sandbox, name)
	if err := os.MkdirAll(filepath.Dir(r.Path), 0o755); err != nil {
		return r, err
	}
	if u.Cache && f.CacheDir != "" {
		cached := f.cachePath(user, u.Value)
		// One download per cache entry: concurrent fetches of the same
		// resource (from any Fetcher sharing the directory) wait for it.
		unlock, err := lockFile(cached + ".lock")
		if err != nil {
			return r, err
		}
		if _, err := os.Stat(cached); err == nil {
			r.FromCache = true
		} else if err := f.download(ctx, u.Value, cached); err != nil {
			unlock()
			return r, err
		}
		err = copyFile(cached, r.Path)
		unlock()
		if err != nil {
			return r, err
		}
	} else if err := f.download(ctx, u.Value, r.Path); err != nil {
		return r, err
	}
	if u.Executable {
		if err := makeExecutable(r.Path); err != nil {
			return r, err
		}
	}
	if u.Extract {
		if r.Extracted, err = extract(r.Path, sandbox); err != nil {
			return r, fmt.Errorf("extracting %s: %w", filepath.Base(r.Path), err)
		}
	}
	return r, nil
}

// outputName is the sandbox-relative name the resource is saved under.
func outputName(u URI) (string, error) {
	if u.OutputFile != "" {
		n := filepath.Clean(u.OutputFile)
		if filepath.IsAbs(n) || n == ".." || strings.HasPrefix(n, "../") {
			return "", fmt.Errorf("output file %q is outside the sandbox: give a relative name", u.OutputFile)
		}
		return n, nil
	}
	p := u.Value
	if pu, err := url.Parse(u.Value); err == nil && pu.Scheme != "" {
		p = pu.Path
	}
	base := path.Base(p)
	if base == "/" || base == "." || base == "" || strings.HasSuffix(p, "/") {
		return "", errors.New("the URI names no file (it ends with '/'): give a file or an output file")
	}
	return base, nil
}

func (f *Fetcher) cachePath(user, value string) string {
	sum := sha256.Sum256([]byte(user + "\x00" + value))
	return filepath.Join(f.CacheDir, hex.EncodeToString(sum[:16]), "resource")
}

// download copies the resource at value to dst, through a temporary file
// in dst's directory so a reader never sees half a file.
func (f *Fetcher) download(ctx context.Context, value, dst string) error {
	src, err := f.open(ctx, value)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return replaceFile(dst, src)
}

// open opens the resource for reading.
func (f *Fetcher) open(ctx context.Context, value string) (io.ReadCloser, error) {
	if strings.HasPrefix(value, "/") {
		return os.Open(value)
	}
	u, err := url.Parse(value)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("file URL on host %q: only this machine's files can be fetched", u.Host)
		}
		return os.Open(u.Path)
	case "http", "https":
		if !isLoopbackHost(u.Hostname()) {
			return nil, fmt.Errorf("host %q is not a loopback address: auroratest's agents fetch only from this machine (serve the file on 127.0.0.1, or use a file:// URL)", u.Hostname())
		}
		return f.get(ctx, u.String())
	case "":
		return nil, errors.New("a relative path: give an absolute path or a file:// URL")
	default:
		return nil, fmt.Errorf("scheme %q: auroratest's fetcher supports file://, absolute paths and loopback http(s)://", u.Scheme)
	}
}

func (f *Fetcher) get(ctx context.Context, rawURL string) (io.ReadCloser, error) {
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	dialer := &net.Dialer{}
	client := &http.Client{
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: f.RootCAs, MinVersion: tls.VersionTLS12},
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				host, _, err := net.SplitHostPort(addr)
				if err != nil || !isLoopbackHost(host) {
					return nil, fmt.Errorf("refusing to connect to %s: not a loopback address", addr)
				}
				return dialer.DialContext(ctx, network, addr)
			},
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	return cancelOnClose{resp.Body, cancel}, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error { err := c.ReadCloser.Close(); c.cancel(); return err }

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// lockFile takes an exclusive lock on path (created if missing) and
// returns its release.
func lockFile(path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking the cache entry: %w", err)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return replaceFile(dst, in)
}

// makeExecutable replaces path by an executable copy (mode 0755) that no
// other process has ever held open for writing; see writeUnforked.
func makeExecutable(path string) error {
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".exec-tmp")
	os.Remove(tmp) // left by an earlier, interrupted fetch
	err = writeUnforked(tmp, in, 0o755)
	if err == nil {
		err = os.Chmod(tmp, 0o755) // whatever the umask, as before
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// writeUnforked writes src to a new file dst with mode perm (less the
// umask), holding syscall.ForkLock for reading from its creation to its
// close, so that no process is forked while the file is open: os/exec
// takes the lock for writing around every fork. A process forked while a file is open for
// writing holds a copy of its descriptor until it execs (close-on-exec
// closes it only then), and running the file meanwhile fails with "text
// file busy" (ETXTBSY, golang/go#22315), as when the executor starts
// another task's process while this task's files are fetched. Forks wait
// for the write, so only local copies go through here, never a download.
func writeUnforked(dst string, src io.Reader, perm fs.FileMode) error {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	return createFile(dst, src, perm)
}

// createFile writes src to a new file dst with mode perm (less the
// umask); dst must not exist.
func createFile(dst string, src io.Reader, perm fs.FileMode) error {
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, src); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// replaceFile writes src to dst (mode 0644) through a temporary file in
// dst's directory, renamed over dst, so a reader never sees half a file.
func replaceFile(dst string, src io.Reader) error {
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".fetch-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
