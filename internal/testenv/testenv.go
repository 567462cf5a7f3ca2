// Package testenv gates tests that need real external programs (nix,
// ZooKeeper) or root the way the project's CI requires: on a developer's
// machine without them such a test skips and says why; in CI (CI=true),
// where scripts/test.sh installs them and the tests run as root, a missing
// program or privilege fails the test instead, so a green CI always means
// the real parts ran.
package testenv

import (
	"os"
	"os/exec"
	"sync"
	"testing"
)

// InCI reports whether the tests run under the project's CI (CI=true).
func InCI() bool {
	v := os.Getenv("CI")
	return v == "true" || v == "1"
}

// Unavailable skips t, or fails it in CI, with the reason given.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	unavailable(t, "run scripts/test.sh to install it", format, args...)
}

// unavailable is Unavailable with the skip's hint of how to make the test
// run.
func unavailable(t testing.TB, hint, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("required in CI: "+format, args...)
	}
	t.Skipf(format+" ("+hint+")", args...)
}

// NeedRoot skips t (fails it in CI) unless the tests run as root, as they
// must for an agent store (a mount namespace per agent) or to run a task
// as another user than the executor's.
func NeedRoot(t testing.TB) {
	t.Helper()
	needRoot(t, os.Geteuid())
}

// needRoot is NeedRoot for a process of effective user id euid.
func needRoot(t testing.TB, euid int) {
	t.Helper()
	if euid != 0 {
		unavailable(t, "run the tests as root", "needs root, for agent stores' mount namespaces and tasks' users")
	}
}

// NeedCommand returns the absolute path of the named program, or skips t
// (fails it in CI) when the program is not installed.
func NeedCommand(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "%s not installed: %v", name, err)
	}
	return p
}

// NixConfig holds the Nix settings the tests need, whatever the machine's
// nix.conf says: the tests' package sets build with the host's /bin/sh (no
// build sandbox), as root without build users, asking no public cache (the
// tests name their own caches and CI has no network), and the tests run
// nix-command subcommands (nix copy, nix show-derivation).
const NixConfig = "sandbox = false\n" +
	"build-users-group =\n" +
	"substituters =\n" +
	"extra-experimental-features = nix-command\n"

var nixConfigOnce sync.Once

// NeedNix returns the path of nix-store after checking that the nix CLI is
// installed, or skips t (fails it in CI). It adds [NixConfig] to the
// process's NIX_CONFIG, once, so that every nix command the tests run
// after it, and their child processes, use the tests' settings rather
// than depending on the machine's configuration. (init_sandbox runs with
// the environment Thermos gives, without NIX_CONFIG: it only substitutes.)
// A multi-user Nix daemon ignores these settings from a user it does not
// trust; run the tests as root or as a trusted user.
func NeedNix(t testing.TB) string {
	t.Helper()
	NeedCommand(t, "nix")
	NeedCommand(t, "nix-instantiate")
	nixConfigOnce.Do(func() {
		cfg := NixConfig
		if old := os.Getenv("NIX_CONFIG"); old != "" {
			cfg = old + "\n" + cfg
		}
		os.Setenv("NIX_CONFIG", cfg)
	})
	return NeedCommand(t, "nix-store")
}

// ZooKeeperHome is where Debian's zookeeper package installs the server.
const ZooKeeperHome = "/usr/share/zookeeper"

// NeedZooKeeper checks that Debian's zookeeper package and a java runtime
// are installed, or skips t (fails it in CI).
func NeedZooKeeper(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(ZooKeeperHome + "/bin/zkServer.sh"); err != nil {
		Unavailable(t, "zookeeper not installed: %v", err)
	}
	NeedCommand(t, "java")
}
