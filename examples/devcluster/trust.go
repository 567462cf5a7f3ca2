//go:build linux

package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/auroratest/thermosexec"
	"github.com/nixrealis/nixrealis/nix"
	"github.com/nixrealis/nixrealis/sandbox"
)

// usageError is a mistake in the command line: main prints it and exits 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// usagef is a usageError: a flag's value that cannot work, said with the
// flag's name and the fix; the command exits 2 with it.
func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// trust is what the operator says the agents trust: the substituters and
// trusted-public-keys of their nix.conf.
type trust struct {
	caches, keys []string
}

// parseTrust reads -substituters and -trusted_public_keys (comma-separated
// lists). A cache URL must be one Nix accepts as a substituter without
// turning signature checks off (nix.CheckStoreURL); a key must be
// name:base64 of an ed25519 public key. Anything else is a usageError
// naming the flag.
func parseTrust(substituters, keys string) (trust, error) {
	var tr trust
	var errs []error
	for _, c := range splitList(substituters) {
		u, err := url.Parse(c)
		switch {
		case err != nil || u.Scheme == "" || strings.ContainsAny(c, " \t\n"):
			errs = append(errs, fmt.Errorf("-substituters: %q is not a store URL; want e.g. file:///srv/nix-cache or https://cache.example", c))
		case nix.CheckStoreURL(c) != nil:
			errs = append(errs, fmt.Errorf("-substituters: %w", nix.CheckStoreURL(c)))
		default:
			tr.caches = append(tr.caches, c)
		}
	}
	for _, k := range splitList(keys) {
		if _, err := nix.ParsePublicKey(k); err != nil {
			errs = append(errs, fmt.Errorf("-trusted_public_keys: %q is not a Nix public key (name:base64, as in the .pub file nix-store --generate-binary-cache-key writes)", k))
			continue
		}
		tr.keys = append(tr.keys, k)
	}
	if len(errs) == 0 {
		// What the agents' nix.conf will hold must pass its own checks too.
		if _, err := sandbox.AgentNixConf(tr.caches, tr.keys); err != nil {
			errs = append(errs, fmt.Errorf("-substituters or -trusted_public_keys: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return trust{}, usageError{strings.ReplaceAll(err.Error(), "\n", "; ")}
	}
	return tr, nil
}

// splitList splits a comma-separated flag value, dropping empty elements
// and the space around each.
func splitList(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// set configures ex's agents with the operator's trust: each agent of srv
// gets a Nix store of its own, <root>/<host>/store, or
// <root>/<host>/<agent id>/store for agents that share a host name (root
// is ex.Root, or thermosexec's default), whose nix.conf the executor writes from
// TrustedCaches and TrustedKeys. An agent with its own store runs its
// tasks in a private mount namespace, which needs root.
func (tr trust) set(ex *thermosexec.Executor, srv *auroratest.Server, geteuid func() int) error {
	if len(tr.caches) == 0 && len(tr.keys) == 0 {
		return nil
	}
	if geteuid() != 0 {
		return errors.New("-substituters and -trusted_public_keys give every agent a Nix store of its own, which needs root (a private mount namespace); run devcluster as root, or leave them out and list the cache and key in this machine's nix.conf")
	}
	root := ex.Root
	if root == "" {
		root = filepath.Join(os.TempDir(), "thermosexec")
	}
	ex.TrustedCaches, ex.TrustedKeys = tr.caches, tr.keys
	ex.Agents = map[string]thermosexec.Agent{}
	hosts := agentHosts(srv)
	shared := map[string]int{}
	for _, h := range hosts {
		shared[h]++
	}
	for i, h := range hosts {
		if shared[h] == 1 {
			ex.Agents[h] = thermosexec.Agent{Store: filepath.Join(root, h, "store")}
			continue
		}
		id := auroratest.AgentID(i)
		ex.Agents[id] = thermosexec.Agent{Store: filepath.Join(root, h, id, "store")}
	}
	return nil
}

// agentHosts lists the host names of srv's agents as it will place tasks:
// Agents, else Hosts, else auroratest.DefaultAgents.
func agentHosts(srv *auroratest.Server) []string {
	if srv.Agents == nil && srv.Hosts != nil {
		return srv.Hosts
	}
	agents := srv.Agents
	if agents == nil {
		agents = auroratest.DefaultAgents()
	}
	hosts := make([]string, len(agents))
	for i, a := range agents {
		hosts[i] = a.Host
	}
	return hosts
}
