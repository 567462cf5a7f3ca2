package fetcher_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest/fetcher"
)

type entry struct {
	name, body string
	mode       int64
	link       string // a symbolic link to this target
}

func tarGz(t *testing.T, gz bool, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w *tar.Writer
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		w = tar.NewWriter(zw)
	} else {
		w = tar.NewWriter(&buf)
	}
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		if e.mode == 0 {
			h.Mode = 0o644
		}
		if e.link != "" {
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.link, 0
		}
		require.NoError(t, w.WriteHeader(h))
		_, err := w.Write([]byte(e.body))
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	if zw != nil {
		require.NoError(t, zw.Close())
	}
	return buf.Bytes()
}

func zipOf(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, e := range entries {
		f, err := w.Create(e.name)
		require.NoError(t, err)
		_, err = f.Write([]byte(e.body))
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func gzOf(t *testing.T, body string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write([]byte(body))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestFetch(t *testing.T) {
	src := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(src, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	app := tarGz(t, true, entry{name: "sample-app/docker-compose.yml", body: "command: run\n"}, entry{name: "sample-app/run.sh", body: "#!/bin/sh\n", mode: 0o755})
	tgz := write("sample-app.tar.gz", app)
	write("plain.tar", tarGz(t, false, entry{name: "a/b.txt", body: "b"}, entry{name: "a/link", link: "b.txt"}))
	write("app.zip", zipOf(t, entry{name: "z/one.txt", body: "one"}))
	write("notes.txt.gz", gzOf(t, "notes"))
	write("tool", []byte("#!/bin/sh\necho tool\n"))
	write("evil.tar", tarGz(t, false, entry{name: "../escaped", body: "x"}))
	write("evil-link.tar", tarGz(t, false, entry{name: "out", link: "../../etc"}))

	tests := []struct {
		name     string
		uri      fetcher.URI
		files    map[string]string // sandbox-relative path: content
		mode     map[string]os.FileMode
		extract  []string
		errText  string
		noResult bool
	}{
		{name: "file URL, extracted", uri: fetcher.URI{Value: "file://" + tgz, Extract: true},
			files:   map[string]string{"sample-app/docker-compose.yml": "command: run\n", "sample-app.tar.gz": string(app)},
			mode:    map[string]os.FileMode{"sample-app/run.sh": 0o755, "sample-app/docker-compose.yml": 0o644},
			extract: []string{"sample-app"}},
		{name: "absolute path, not extracted", uri: fetcher.URI{Value: tgz},
			files: map[string]string{"sample-app.tar.gz": string(app)}},
		{name: "plain tar with a symbolic link", uri: fetcher.URI{Value: filepath.Join(src, "plain.tar"), Extract: true},
			files: map[string]string{"a/b.txt": "b", "a/link": "b"}, extract: []string{"a"}},
		{name: "zip", uri: fetcher.URI{Value: filepath.Join(src, "app.zip"), Extract: true},
			files: map[string]string{"z/one.txt": "one"}, extract: []string{"z"}},
		{name: "lone gz is decompressed", uri: fetcher.URI{Value: filepath.Join(src, "notes.txt.gz"), Extract: true},
			files: map[string]string{"notes.txt": "notes"}, extract: []string{"notes.txt"}},
		{name: "executable", uri: fetcher.URI{Value: filepath.Join(src, "tool"), Executable: true},
			mode: map[string]os.FileMode{"tool": 0o755}},
		{name: "not executable by default", uri: fetcher.URI{Value: filepath.Join(src, "tool")},
			mode: map[string]os.FileMode{"tool": 0o644}},
		{name: "output file", uri: fetcher.URI{Value: filepath.Join(src, "tool"), OutputFile: "bin/mytool"},
			files: map[string]string{"bin/mytool": "#!/bin/sh\necho tool\n"}},
		{name: "entry outside the sandbox", uri: fetcher.URI{Value: filepath.Join(src, "evil.tar"), Extract: true}, errText: "outside the sandbox"},
		{name: "link outside the sandbox", uri: fetcher.URI{Value: filepath.Join(src, "evil-link.tar"), Extract: true}, errText: "outside the sandbox"},
		{name: "output file outside the sandbox", uri: fetcher.URI{Value: tgz, OutputFile: "../x"}, errText: "outside the sandbox", noResult: true},
		{name: "remote host", uri: fetcher.URI{Value: "https://github.com/mesos/docker-compose-executor/releases/download/0.1.0/sample-app.tar.gz"}, errText: `host "github.com" is not a loopback address`},
		{name: "relative path", uri: fetcher.URI{Value: "some/file"}, errText: "relative path"},
		{name: "unknown scheme", uri: fetcher.URI{Value: "hdfs://nn/file"}, errText: `scheme "hdfs"`},
		{name: "missing file", uri: fetcher.URI{Value: filepath.Join(src, "nope")}, errText: "no such file"},
		{name: "URI naming no file", uri: fetcher.URI{Value: "file:///tmp/"}, errText: "names no file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sandbox := t.TempDir()
			var f fetcher.Fetcher
			res, err := f.Fetch(context.Background(), sandbox, "vagrant", []fetcher.URI{tt.uri})
			if tt.errText != "" {
				require.ErrorIs(t, err, fetcher.ErrFetch)
				assert.ErrorContains(t, err, tt.errText)
				assert.ErrorContains(t, err, tt.uri.Value, "the error names the URI")
				_, statErr := os.Stat(filepath.Join(filepath.Dir(sandbox), "escaped"))
				assert.True(t, os.IsNotExist(statErr), "nothing was written outside the sandbox")
				return
			}
			require.NoError(t, err)
			require.Len(t, res, 1)
			assert.Equal(t, tt.extract, res[0].Extracted)
			for name, want := range tt.files {
				got, err := os.ReadFile(filepath.Join(sandbox, name))
				require.NoError(t, err, name)
				assert.Equal(t, want, string(got), name)
			}
			for name, want := range tt.mode {
				st, err := os.Stat(filepath.Join(sandbox, name))
				require.NoError(t, err, name)
				assert.Equal(t, want, st.Mode().Perm(), name)
			}
		})
	}
}

func TestFetchHTTPAndCache(t *testing.T) {
	app := tarGz(t, true, entry{name: "sample-app/docker-compose.yml", body: "command: run\n"})
	var hits atomic.Int32
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/sample-app.tar.gz" {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		w.Write(app)
	})
	plain := httptest.NewServer(handler)
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(handler)
	defer tlsSrv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(tlsSrv.Certificate())

	f := &fetcher.Fetcher{CacheDir: t.TempDir(), RootCAs: pool}
	fetch := func(u fetcher.URI, user string) fetcher.Result {
		t.Helper()
		sandbox := t.TempDir()
		res, err := f.Fetch(context.Background(), sandbox, user, []fetcher.URI{u})
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(sandbox, "sample-app", "docker-compose.yml"))
		require.NoError(t, err)
		assert.Equal(t, "command: run\n", string(got))
		return res[0]
	}
	cached := fetcher.URI{Value: plain.URL + "/sample-app.tar.gz", Extract: true, Cache: true}
	assert.False(t, fetch(cached, "vagrant").FromCache)
	assert.True(t, fetch(cached, "vagrant").FromCache, "the second fetch is served from the cache")
	assert.Equal(t, int32(1), hits.Load(), "one download for two fetches with cache")
	assert.False(t, fetch(cached, "www-data").FromCache, "the cache is per user, as in Mesos")
	assert.Equal(t, int32(2), hits.Load())

	uncached := fetcher.URI{Value: tlsSrv.URL + "/sample-app.tar.gz", Extract: true}
	fetch(uncached, "vagrant")
	fetch(uncached, "vagrant")
	assert.Equal(t, int32(4), hits.Load(), "without cache every fetch downloads (https, trusted through RootCAs)")

	_, err := (&fetcher.Fetcher{}).Fetch(context.Background(), t.TempDir(), "", []fetcher.URI{{Value: tlsSrv.URL + "/sample-app.tar.gz"}})
	assert.ErrorContains(t, err, "certificate", "an untrusted certificate is refused")
	_, err = f.Fetch(context.Background(), t.TempDir(), "", []fetcher.URI{{Value: plain.URL + "/missing"}})
	assert.ErrorContains(t, err, "HTTP 404")

	redirect := httptest.NewServer(http.RedirectHandler("http://192.0.2.1/x.tar.gz", http.StatusFound))
	defer redirect.Close()
	_, err = f.Fetch(context.Background(), t.TempDir(), "", []fetcher.URI{{Value: redirect.URL + "/x.tar.gz"}})
	assert.ErrorContains(t, err, "not a loopback address", "a redirect away from this machine is refused")
}

// Concurrent fetches of one cached URI download it once, even through
// different Fetchers sharing the cache directory.
func TestFetchCacheConcurrent(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("data"))
	}))
	defer srv.Close()
	cache := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := &fetcher.Fetcher{CacheDir: cache}
			_, errs[i] = f.Fetch(context.Background(), t.TempDir(), "u", []fetcher.URI{{Value: srv.URL + "/data.bin", Cache: true}})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, int32(1), hits.Load())
}
