package sandbox

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nixrealis/nixrealis/internal/testenv"
)

// fakeNixStore records its arguments, NUL-terminated, in args.bin next to
// itself and succeeds, creating the GC root symlink like nix-store would.
const fakeNixStore = `#!/bin/sh
d=$(dirname "$0")
for a in "$@"; do printf '%s\0' "$a"; done > "$d/args.bin"
`

// fakeNixShowConfig prints the file config next to itself, as nix
// show-config prints the agent's configuration.
const fakeNixShowConfig = `#!/bin/sh
cat "$(dirname "$0")/config"
`

// FuzzInitSandboxQuoting runs the init_sandbox script, with a nix-store
// that only records its arguments, for arbitrary caches, keys, nix bin
// directories and store paths: whatever InitCommand accepts reaches
// nix-store as exactly the intended arguments and runs nothing else (no
// file appears but the ones init_sandbox makes).
func FuzzInitSandboxQuoting(f *testing.F) {
	for _, in := range hostileInputs {
		f.Add(in[0], in[1], in[2], in[3])
	}
	if _, err := exec.LookPath("bash"); err != nil {
		f.Skip("bash not installed")
	}
	f.Fuzz(func(t *testing.T, storePath, cache, key, binDir string) {
		checkInitQuoting(t, storePath, cache, key, binDir)
	})
}

// hostileInputs are accepted by InitCommand and full of shell syntax:
// store path, cache URL, trusted key, nix bin dir.
var hostileInputs = [][4]string{
	{"/nix/store/00000000000000000000000000000000-x", "https://cache.example/?a=1&b=$(touch${IFS}pwned)", "k-1:AAAA", "/opt/nix/bin"},
	{"/nix/store/00000000000000000000000000000000-a?b=c", "s3://b/';touch${IFS}pwned;'", "k.a_b-c:AA+/", "/x'$(touch${IFS}pwned)'"},
	{"/nix/store/00000000000000000000000000000000-x", "ssh://h/\"$(touch${IFS}pwned)\"`touch${IFS}pwned`", "a:b+/=", "/dir with space/*"},
	{"/nix/store/00000000000000000000000000000000-x", "file:///tmp/$(touch${IFS}pwned)", "k:AA==", "/\\;touch pwned"},
	{"/nix/store/00000000000000000000000000000000-?=+._-", "http://x/${PATH}'\\''", "k:A", "/bin;$(id)"},
}

// TestInitSandboxQuoting runs the quoting check on inputs full of shell
// syntax, which InitCommand must accept.
func TestInitSandboxQuoting(t *testing.T) {
	for _, in := range hostileInputs {
		if !checkInitQuoting(t, in[0], in[1], in[2], in[3]) {
			t.Errorf("InitCommand rejected %q", in)
		}
	}
}

// checkInitQuoting reports whether InitCommand accepted the inputs and,
// if it did, fails t unless the script passes them to nix-store intact
// and runs nothing else.
func checkInitQuoting(t *testing.T, storePath, cache, key, binDir string) bool {
	t.Helper()
	{
		fake := t.TempDir()
		if err := testenv.WriteExecutable(filepath.Join(fake, "nix-store"), []byte(fakeNixStore)); err != nil {
			t.Fatal(err)
		}
		if _, err := InitCommand(storePath, Agent{Caches: []string{cache}, TrustedKeys: []string{key}}); err == nil {
			t.Fatalf("InitCommand accepted the payload's trusted key %q", key)
		}
		// The agent's operator trusts the cache: as a substituter (used as
		// it is) or, for odd lengths, only as a trusted substituter (added
		// with extra-substituters).
		asSubstituter := len(cache)%2 == 0
		conf := "substituters = " + cache + "\ntrusted-substituters = \n"
		if !asSubstituter {
			conf = "substituters = \ntrusted-substituters = https://other.example " + cache + "\n"
		}
		if err := os.WriteFile(filepath.Join(fake, "config"), []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := testenv.WriteExecutable(filepath.Join(fake, "nix"), []byte(fakeNixShowConfig)); err != nil {
			t.Fatal(err)
		}
		a := Agent{Caches: []string{cache}, NixBinDirs: []string{fake, binDir}}
		script, err := InitCommand(storePath, a)
		if err != nil {
			return false // rejected input is fine; accepted input must be safe
		}
		if strings.Contains(script, "{{") {
			t.Fatalf("script contains a Thermos template: %q", script)
		}
		sbx := t.TempDir()
		cmd := exec.Command("/bin/bash", "-c", script, InitProcessName)
		cmd.Dir = sbx
		cmd.Env = []string{"HOME=" + sbx, "PATH=/usr/bin:/bin"}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		runErr := cmd.Run()

		if strings.HasPrefix(cache, "file:") {
			// The cache directory is checked before nix-store runs.
			if code := cmd.ProcessState.ExitCode(); code != ExitCacheUnreachable {
				t.Fatalf("file cache %q: exit %d, stderr %q", cache, code, stderr.String())
			}
		} else {
			if runErr != nil {
				t.Fatalf("init_sandbox failed: %v: %s", runErr, stderr.String())
			}
			got, err := os.ReadFile(filepath.Join(fake, "args.bin"))
			if err != nil {
				t.Fatalf("nix-store was not run: %v", err)
			}
			args := strings.Split(strings.TrimSuffix(string(got), "\x00"), "\x00")
			want := []string{"--option", "require-sigs", "true"}
			if !asSubstituter {
				want = append(want, "--option", "extra-substituters", cache)
			}
			want = append(want, "--add-root", GCRootPath, "--indirect", "--realise", storePath)
			if !slices.Equal(args, want) {
				t.Fatalf("nix-store args\n got %q\nwant %q", args, want)
			}
			link, err := os.Readlink(filepath.Join(sbx, LinkPath))
			if err != nil || link != storePath {
				t.Fatalf("link %q, %v; want %q", link, err, storePath)
			}
		}
		// Nothing but what init_sandbox makes, here or next to the fake.
		for dir, allowed := range map[string][]string{
			sbx:  {".gcroots", LinkPath, ProfilePath},
			fake: {"nix-store", "args.bin", "nix", "config"},
		} {
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if !slices.Contains(allowed, e.Name()) {
					t.Fatalf("unexpected file %s in %s (injected command?)", e.Name(), dir)
				}
			}
		}
	}
	return true
}
