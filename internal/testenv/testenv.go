// Package testenv gates tests that need real external programs (nix,
// ZooKeeper) the way the project's CI requires: on a developer's machine
// without them such a test skips and says why; in CI (CI=true), where
// scripts/test.sh installs them, a missing program fails the test instead,
// so a green CI always means the real parts ran.
package testenv

import (
	"os"
	"os/exec"
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
	if InCI() {
		t.Fatalf("required in CI: "+format, args...)
	}
	t.Skipf(format+" (run scripts/test.sh to install it)", args...)
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

// NeedNix returns the path of nix-store after checking that the nix CLI is
// installed, or skips t (fails it in CI).
func NeedNix(t testing.TB) string {
	t.Helper()
	NeedCommand(t, "nix")
	NeedCommand(t, "nix-instantiate")
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
