package fetcher_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest/fetcher"
	"github.com/nixrealis/nixrealis/internal/testenv"
)

// TestFetchedExecutableRunsWhileOthersFork runs each fetched executable
// at once while other goroutines start processes without pause, as an
// executor does that fetches one task's files while it starts another's.
// A process forked while the fetcher held the file open for writing keeps
// the descriptor until it execs; running the file meanwhile would fail
// with "text file busy" (ETXTBSY, golang/go#22315). Every kind of write
// is covered: a download, a copy from the cache and an archive's entry.
func TestFetchedExecutableRunsWhileOthersFork(t *testing.T) {
	src := t.TempDir()
	script := []byte("#!/bin/sh\nexit 0\n")
	require.NoError(t, testenv.WriteExecutable(filepath.Join(src, "run.sh"), script))
	archive := filepath.Join(src, "run.tar")
	require.NoError(t, testenv.WriteExecutable(archive, tarGz(t, false, entry{name: "inner.sh", body: string(script), mode: 0o755})))

	testenv.ForkInBackground(t, 4)

	f := &fetcher.Fetcher{CacheDir: t.TempDir()}
	cases := []struct {
		name string
		uri  fetcher.URI
		run  string
	}{
		{"download", fetcher.URI{Value: "file://" + filepath.Join(src, "run.sh"), Executable: true}, "run.sh"},
		{"cache", fetcher.URI{Value: "file://" + filepath.Join(src, "run.sh"), Executable: true, Cache: true}, "run.sh"},
		{"extract", fetcher.URI{Value: "file://" + archive, Extract: true}, "inner.sh"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for i := range 100 {
				sandbox := t.TempDir()
				_, err := f.Fetch(context.Background(), sandbox, "", []fetcher.URI{c.uri})
				require.NoError(t, err)
				out, err := exec.Command(filepath.Join(sandbox, c.run)).CombinedOutput()
				require.NoError(t, err, "run %d of the fetched %s: %s", i, c.run, out)
			}
		})
	}
}
