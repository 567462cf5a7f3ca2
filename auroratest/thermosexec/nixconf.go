//go:build linux

package thermosexec

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nixrealis/nixrealis/sandbox"
)

// AgentNixConfDir is where, under an agent's Store, the executor writes
// the agent's nix.conf (Store/etc/nix/nix.conf). The agent's processes get
// NIX_CONF_DIR pointing there, so Nix reads that file instead of the
// host's /etc/nix/nix.conf. It is outside Store/nix, which is what the
// processes see as /nix.
const AgentNixConfDir = "etc/nix"

// agentNixConf is the nix.conf of an agent with its own store: the
// operator's trust (Executor.TrustedCaches and TrustedKeys, through
// sandbox.AgentNixConf) and what a single-user store run by root needs.
func (e *Executor) agentNixConf() (string, error) {
	trust, err := sandbox.AgentNixConf(e.TrustedCaches, e.TrustedKeys)
	if err != nil {
		return "", fmt.Errorf("Executor.TrustedCaches and TrustedKeys (the agents' nix.conf): %w", err)
	}
	return "# nix.conf of a simulated agent, written by thermosexec from\n" +
		"# Executor.TrustedCaches and Executor.TrustedKeys (the operator's).\n" +
		trust +
		// A single-user store owned by root, as Debian's nix-bin runs:
		// no build users and no build sandbox.
		"build-users-group =\n" +
		"sandbox = false\n", nil
}

// writeAgentNixConf writes the agent's nix.conf under store, replacing it
// atomically when its content changed, so that tasks starting together on
// one agent never read a partly written file.
func (e *Executor) writeAgentNixConf(store string) error {
	conf, err := e.agentNixConf()
	if err != nil {
		return err
	}
	dir := filepath.Join(store, AgentNixConfDir)
	path := filepath.Join(dir, "nix.conf")
	if old, err := os.ReadFile(path); err == nil && string(old) == conf {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create the agent's nix.conf: %w", err)
	}
	f, err := os.CreateTemp(dir, ".nix.conf.*")
	if err != nil {
		return fmt.Errorf("cannot write the agent's nix.conf: %w", err)
	}
	_, err = f.WriteString(conf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("cannot write the agent's nix.conf: %w", err)
	}
	return nil
}
