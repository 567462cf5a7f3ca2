//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/internal/composeexample"
	"github.com/nixrealis/nixrealis/internal/configexample"
	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/nix"
	"github.com/nixrealis/nixrealis/sandbox"
)

// exampleJob is the job the client manages: a service whose task runs the
// package set's hello once, then its ticker; both come from Nix.
func (c *config) exampleJob() job.Job {
	if c.loaded != nil {
		return c.loaded.Job
	}
	if c.executor == "compose" {
		return composeexample.Job(c.key(), c.composeURI)
	}
	hello := job.NewProcess("hello", "hello {{mesos.instance}}")
	ticker := job.NewProcess("ticker", "ticker")
	if c.message != "" {
		ticker = job.NewProcess("ticker", "echo "+shellQuote(c.message)+"; ticker")
	}
	task := job.SequentialTask("hello", hello, ticker).
		WithResources(job.NewResources(0.1, 16*job.MiB, 16*job.MiB))
	u := job.DefaultUpdate()
	u.Watch = new(10 * time.Second)
	return job.New(c.key(), task).WithService(true).WithInstances(c.instances).WithUpdate(u)
}

// packagesFor names the Nix packages each process uses: those the
// -config file names (without a set: from -packages), else the example
// job's.
func (c *config) packagesFor() (sandbox.Packages, error) {
	if c.loaded != nil {
		return c.loaded.SandboxPackages(c.packageSet)
	}
	set, err := c.packageSet()
	if err != nil {
		return nil, err
	}
	return sandbox.Packages{"hello": {set.Attr("hello")}, "ticker": {set.Attr("ticker")}}, nil
}

// packageSet is the -packages set, which must exist.
func (c *config) packageSet() (sandbox.PackageSet, error) {
	abs, err := filepath.Abs(c.packages)
	if err != nil {
		return sandbox.PackageSet{}, fmt.Errorf("-packages=%s: %w", c.packages, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return sandbox.PackageSet{}, fmt.Errorf("-packages=%s: %w (run from the repository root, or point -packages at the package set)", c.packages, err)
	}
	return sandbox.File(abs), nil
}

// usesNix reports whether the job gets a Nix sandbox (init_sandbox): the
// example job does, the compose job never, a -config file's job if it
// names Nix packages.
func (c *config) usesNix() bool {
	if c.loaded != nil {
		return c.loaded.UsesNix()
	}
	return c.executor != "compose"
}

// loadFile loads the -config file's job; the job key flags become its
// key, and the commands printed for later (kill, status, abort) name the
// job by key. What the file print()s goes to stderr: stdout holds only
// the command's output (with -write-json, only the payload).
func (c *config) loadFile(stderr io.Writer) error {
	if c.file.Path == "" {
		return nil
	}
	f, err := c.file.Load(c.key(), stderr)
	var uerr *configexample.UsageError
	if errors.As(err, &uerr) {
		return usageError{uerr.Msg}
	}
	if err != nil {
		return err
	}
	c.loaded = f
	k := f.Key()
	c.cluster, c.role, c.env, c.name = k.Cluster, k.Role, k.Environment, k.Name
	c.instances = f.Spec.Instances
	var kept []string
	for _, s := range c.set {
		switch flagName, _, _ := strings.Cut(s, "="); flagName {
		case "-config", "-bind", "-write-json", "-cluster", "-role", "-env", "-name":
		default:
			kept = append(kept, s)
		}
	}
	for _, kv := range [][2]string{{"cluster", c.cluster}, {"role", c.role}, {"env", c.env}, {"name", c.name}} {
		kept = append(kept, "-"+kv[0]+"="+shellQuote(kv[1]))
	}
	c.set = kept
	return nil
}

// preparer is the Nix side: which packages the processes use, and the
// binary cache the agents realise the sandbox from.
func (c *config) preparer(n *nix.Nix, cluster *embeddedCluster) (nixrealis.Sandbox, error) {
	if !c.usesNix() {
		// A custom executor's job, or a -config file's that names no Nix
		// packages, has no Nix sandbox.
		return nixrealis.Sandbox{}, nil
	}
	pkgs, err := c.packagesFor()
	if err != nil {
		return nixrealis.Sandbox{}, err
	}
	cacheURL, secret, public := c.cache, c.secretKey, c.publicKey
	if cluster != nil {
		cacheURL, secret, public = cluster.cacheURL, cluster.secretKey, cluster.publicKey
	}
	if c.cmd != "inspect" && (cacheURL == "" || secret == "") {
		if c.cmd == "create" || c.cmd == "update" || c.cmd == "diff" {
			return nixrealis.Sandbox{}, usageError{fmt.Sprintf("-cmd=%s on a real cluster needs -cache (the binary cache its agents substitute from) and -secretKey (the key they trust)", c.cmd)}
		}
	}
	if public != "" && secret != "" {
		// The agents trust the key in their nix.conf; a -publicKey that
		// is not -secretKey's would make every init_sandbox fail.
		derived, err := sandbox.ReadPublicKey(secret)
		if err != nil {
			return nixrealis.Sandbox{}, fmt.Errorf("-secretKey=%s: %w", secret, err)
		}
		if derived != public {
			return nixrealis.Sandbox{}, usageError{fmt.Sprintf("-publicKey=%s is not the public key of -secretKey=%s (%s)", public, secret, derived)}
		}
	}
	// The payload carries only store paths and, on a real cluster, the
	// name of the cache: the agents' own nix.conf must already trust it
	// and its key (init_sandbox refuses a cache it does not list). The
	// embedded cluster's agent is configured with both by its operator,
	// startEmbedded, so its payload names no cache.
	agent := sandbox.Agent{}
	if cacheURL != "" && cluster == nil {
		agent.Caches = []string{cacheURL}
	}
	if c.nixBinDir != "" {
		agent.NixBinDirs = []string{c.nixBinDir}
	}
	gcroot := ""
	if cluster != nil {
		gcroot = filepath.Join(cluster.dir, "client-gcroot")
	}
	return nixrealis.Sandbox{
		GCRoot:   gcroot,
		Packages: pkgs,
		Options:  sandbox.Options{Nix: n, Agent: agent},
		Cache:    sandbox.Cache{URL: cacheURL, SecretKeyFile: secret},
	}, nil
}
