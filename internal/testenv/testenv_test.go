package testenv

import (
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestNixConfigIsEnough builds a derivation like the tests' package sets
// (builder /bin/sh, host tools) with no nix.conf at all: the settings
// NeedNix puts in NIX_CONFIG are all the tests need, so they pass whatever
// the machine's Nix configuration is (Nix's defaults there are a build
// sandbox without /bin/sh, build users of group nixbld, and the public
// cache).
func TestNixConfigIsEnough(t *testing.T) {
	NeedNix(t)
	expr := fmt.Sprintf(`derivation {
		name = "testenv-probe-%s";
		system = builtins.currentSystem;
		builder = "/bin/sh";
		args = [ "-c" "echo ok > $out" ];
	}`, rand.Text())
	cmd := exec.Command("nix-build", "--no-out-link", "-E", expr)
	cmd.Env = append(os.Environ(), "NIX_CONF_DIR="+t.TempDir())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nix-build with only NIX_CONFIG=%q: %v\n%s", os.Getenv("NIX_CONFIG"), err, stderr.String())
	}
	path := strings.TrimSpace(string(out))
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "ok\n" {
		t.Fatalf("built %q: content %q, %v", path, got, err)
	}
}
