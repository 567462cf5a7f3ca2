//go:build linux

package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	realis "github.com/paypal/gorealis"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/internal/configexample"
	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/nix"
)

// config holds the command line.
type config struct {
	cmd, url, clusters, cluster, zkURL, username, password string
	role, env, name, updateID                              string
	caCertsPath, clientCert, clientKey                     string
	packages, cache, secretKey, publicKey, nixBinDir       string
	instances                                              int
	message                                                string
	timeout                                                time.Duration
	keep, binary                                           bool
	// set holds the flags given on the command line that name the
	// cluster and the job, as -name='value', for the commands printed to
	// undo what was done; passwordSet says -password was given too.
	set         []string
	passwordSet bool
	// executor picks the example job (thermos or compose); composeURI
	// is where the compose job's sample app is.
	executor, composeURI string
	// file holds -config, -bind and -write-json; loaded is the -config
	// file's job (nil without -config).
	file   configexample.Flags
	loaded *configexample.File
}

// command is the example client's command line for cmd on the same
// cluster and job, for the user to run (without the password's value).
func (c *config) command(cmd string, extra ...string) string {
	words := append([]string{"go run ./examples/client"}, c.set...)
	if c.passwordSet {
		words = append(words, "-password=…")
	}
	return strings.Join(append(append(words, "-cmd="+cmd), extra...), " ")
}

// createFailed says, when a create fails or is interrupted after it
// reached the scheduler, what is already there and how to undo it.
func (c *config) createFailed(created *nixrealis.Created, err error, embedded, submitted bool) error {
	key := c.key()
	if errors.Is(err, context.Canceled) {
		err = fmt.Errorf("interrupted: %w", err)
	}
	if embedded {
		return fmt.Errorf("%w (the embedded cluster stopped with this client; nothing it ran is left)", err)
	}
	switch {
	case created != nil && created.Update != nil:
		key = created.Key
		id := created.Update.ID
		return fmt.Errorf("%w; job %s was already created by update %s, which the scheduler goes on rolling forward: to undo, run %s, then %s",
			err, key, id, c.command("abort", "-updateId="+id), c.command("kill"))
	case created != nil:
		return fmt.Errorf("%w; job %s was already created: to undo, run %s", err, created.Key, c.command("kill"))
	case submitted:
		return fmt.Errorf("%w; the job %s may have reached the scheduler: see %s, and undo with %s (an active update: %s first)",
			err, key, c.command("status"), c.command("kill"), c.command("abort", "-updateId=ID"))
	}
	return fmt.Errorf("%w; nothing was submitted to the scheduler", err)
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.cmd, "cmd", "", "command: create, kill, restart, status, inspect, diff, update, pause, resume, abort, rollback, pulse, info")
	fs.StringVar(&c.url, "url", "", "URL of the Aurora scheduler, as [http://]host:port (none: start an embedded cluster)")
	fs.StringVar(&c.clusters, "clusters", "", "clusters.json of the aurora client, to find the scheduler through ZooKeeper")
	fs.StringVar(&c.cluster, "cluster", "devcluster", "cluster to run the job on (with -clusters: which entry)")
	fs.StringVar(&c.zkURL, "zkurl", "", "ZooKeeper to find the scheduler leader in (host:port[,host:port])")
	fs.StringVar(&c.username, "username", "aurora", "user name for the scheduler's basic auth")
	fs.StringVar(&c.password, "password", "secret", "password for the scheduler's basic auth")
	fs.StringVar(&c.role, "role", "vagrant", "the job's role")
	fs.StringVar(&c.env, "env", "devel", "the job's environment")
	fs.StringVar(&c.name, "name", "hello_nix", "the job's name")
	fs.StringVar(&c.updateID, "updateId", "", "update to operate on (pause, resume, abort, rollback, pulse, info)")
	fs.StringVar(&c.caCertsPath, "caCertsPath", "", "directory of CA certificates for TLS to the scheduler")
	fs.StringVar(&c.clientCert, "clientCert", "", "client certificate for TLS to the scheduler")
	fs.StringVar(&c.clientKey, "clientKey", "", "client private key for TLS to the scheduler")
	fs.StringVar(&c.packages, "packages", "examples/hello/default.nix", "the Nix package set the job's processes take their packages from")
	fs.StringVar(&c.cache, "cache", "", "binary cache URL to push to (file://, http(s)://, s3://, ssh://); the agents' nix.conf must list it in substituters or trusted-substituters, as the payload only names it (with store paths, no key); embedded: a temporary file:// cache its agent trusts")
	fs.StringVar(&c.secretKey, "secretKey", "", "the cluster's secret signing key file (nix-store --generate-binary-cache-key)")
	fs.StringVar(&c.publicKey, "publicKey", "", "the public key the agents' nix.conf trusts (name:base64), checked against -secretKey; the payload carries no key")
	fs.StringVar(&c.nixBinDir, "nixBinDir", "", "directory holding nix-store on the agents (default: the usual places)")
	fs.IntVar(&c.instances, "instances", 1, "number of instances")
	fs.StringVar(&c.message, "message", "", "message for the update (shown by the scheduler), and the text the job's ticker prints")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Minute, "give up after this long")
	fs.BoolVar(&c.keep, "keep", false, "embedded cluster: keep it running (and the job) until interrupted, and its files (under $TMPDIR/nixrealis-example-*) afterwards; without -keep they are removed on exit")
	fs.BoolVar(&c.binary, "binary", false, "speak Thrift's binary protocol instead of JSON")
	fs.StringVar(&c.executor, "executor", "thermos", "the example job: thermos (the Nix job) or compose (the docker-compose job of Aurora's custom-executors guide, default key www-data/prod/docker-compose)")
	c.file.Register(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./examples/client -cmd=COMMAND [flags]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		// The flag package has printed the problem and the usage already;
		// ErrHelp makes main exit 2 without printing it again.
		if !errors.Is(err, flag.ErrHelp) {
			err = fmt.Errorf("%w: %v", flag.ErrHelp, err)
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Sprintf("unexpected argument %q: every option is a -flag", fs.Arg(0))}
	}
	switch c.cmd {
	case "":
		return nil, usageError{"-cmd is required: one of create, kill, restart, status, inspect, diff, update, pause, resume, abort, rollback, pulse, info"}
	case "create", "kill", "restart", "status", "inspect", "diff", "update":
	case "pause", "resume", "abort", "rollback", "pulse", "info":
		if c.updateID == "" {
			return nil, usageError{fmt.Sprintf("-cmd=%s needs -updateId (see -cmd=status for the active update)", c.cmd)}
		}
	default:
		return nil, usageError{fmt.Sprintf("unknown -cmd=%q: use one of create, kill, restart, status, inspect, diff, update, pause, resume, abort, rollback, pulse, info", c.cmd)}
	}
	if c.executor != "thermos" && c.executor != "compose" {
		return nil, usageError{fmt.Sprintf("-executor=%q: use thermos or compose", c.executor)}
	}
	if c.executor == "compose" {
		// The guide's job: role www-data (its user must exist on the
		// agent), environment prod, name docker-compose, unless given.
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range map[string]*string{"role": &c.role, "env": &c.env, "name": &c.name} {
			if !set[name] {
				*v = map[string]string{"role": "www-data", "env": "prod", "name": "docker-compose"}[name]
			}
		}
	}
	if c.instances < 1 {
		return nil, usageError{fmt.Sprintf("-instances=%d: a job needs at least 1 instance", c.instances)}
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "cmd", "updateId", "message", "instances", "timeout", "keep":
		case "password":
			c.passwordSet = true
		default:
			c.set = append(c.set, "-"+f.Name+"="+shellQuote(f.Value.String()))
		}
	})
	if err := c.check(); err != nil {
		return nil, err
	}
	if err := c.file.Check(fs, c.cmd); err != nil {
		return nil, usageError{err.Error()}
	}
	return c, nil
}

// check finds the flag values that cannot work before anything runs: a
// usage error naming the flag.
func (c *config) check() error {
	for _, f := range []struct{ name, v string }{{"cluster", c.cluster}, {"role", c.role}, {"env", c.env}, {"name", c.name}} {
		if !identRE.MatchString(f.v) {
			return usageError{fmt.Sprintf("-%s=%q: a job key part is 1 to 255 characters of A-Z, a-z, 0-9, _, . and -", f.name, f.v)}
		}
	}
	if c.url != "" {
		u, err := url.Parse(schemed(c.url))
		if err != nil || u.Hostname() == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return usageError{fmt.Sprintf("-url=%s: want the scheduler as [http[s]://]host:port", c.url)}
		}
	}
	if c.cache != "" {
		u, err := url.Parse(c.cache)
		switch {
		case err != nil || u.Scheme == "" || strings.ContainsAny(c.cache, " \t\n"):
			return usageError{fmt.Sprintf("-cache=%s: not a binary cache URL; want e.g. file:///srv/nix-cache, https://cache.example or s3://bucket", c.cache)}
		case u.Scheme == "file" && (u.Host != "" || !strings.HasPrefix(u.Path, "/")):
			return usageError{fmt.Sprintf("-cache=%s: a file:// cache needs an absolute directory, as in file:///srv/nix-cache", c.cache)}
		case (u.Scheme == "http" || u.Scheme == "https") && u.Hostname() == "":
			return usageError{fmt.Sprintf("-cache=%s: an %s:// cache needs a host", c.cache, u.Scheme)}
		}
		if err := nix.CheckStoreURL(c.cache); err != nil {
			return usageError{fmt.Sprintf("-cache: %v", err)}
		}
	}
	if c.publicKey != "" {
		name, key, ok := strings.Cut(c.publicKey, ":")
		raw, err := base64.StdEncoding.DecodeString(key)
		if !ok || name == "" || err != nil || len(raw) != ed25519.PublicKeySize {
			return usageError{fmt.Sprintf("-publicKey=%s: not a Nix public key; want name:base64 as in the .pub file of nix-store --generate-binary-cache-key", c.publicKey)}
		}
	}
	if c.nixBinDir != "" && !filepath.IsAbs(c.nixBinDir) {
		return usageError{fmt.Sprintf("-nixBinDir=%s: must be an absolute directory on the agents (Thermos gives processes no useful PATH), e.g. /nix/var/nix/profiles/default/bin", c.nixBinDir)}
	}
	return nil
}

// identRE is an Aurora identifier (a job key part).
var identRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,255}$`)

// schemed adds http:// to a scheduler address without a scheme.
func schemed(u string) string {
	if !strings.Contains(u, "://") {
		return "http://" + u
	}
	return u
}

func (c *config) embedded() bool { return c.url == "" && c.zkURL == "" && c.clusters == "" }

func (c *config) key() job.Key {
	return job.Key{Cluster: c.cluster, Role: c.role, Environment: c.env, Name: c.name}
}

// realisOptions connects to a real scheduler, as gorealis' example does.
func (c *config) realisOptions() ([]realis.ClientOption, error) {
	opts := []realis.ClientOption{
		realis.BasicAuth(c.username, c.password),
		realis.TimeoutMS(20000),
		realis.BackOff(realis.Backoff{Steps: 3, Duration: time.Second, Factor: 2, Jitter: 0.1}),
	}
	if c.binary {
		opts = append(opts, realis.ThriftBinary())
	} else {
		opts = append(opts, realis.ThriftJSON())
	}
	switch {
	case c.clusters != "":
		clusters, err := realis.LoadClusters(c.clusters)
		if err != nil {
			return nil, fmt.Errorf("-clusters=%s: %w", c.clusters, err)
		}
		cl, ok := clusters[c.cluster]
		if !ok {
			names := make([]string, 0, len(clusters))
			for n := range clusters {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, usageError{fmt.Sprintf("-cluster=%s is not in %s (it has: %s)", c.cluster, c.clusters, strings.Join(names, ", "))}
		}
		url, err := realis.LeaderFromZK(cl)
		if err != nil {
			return nil, fmt.Errorf("finding the scheduler of %s in ZooKeeper: %w", c.cluster, err)
		}
		opts = append(opts, realis.SchedulerUrl(url))
	case c.zkURL != "":
		opts = append(opts, realis.ZKUrl(c.zkURL))
	default:
		opts = append(opts, realis.SchedulerUrl(schemed(c.url)))
	}
	if c.caCertsPath != "" {
		opts = append(opts, realis.Certspath(c.caCertsPath))
	}
	if (c.clientKey == "") != (c.clientCert == "") {
		return nil, usageError{"-clientCert and -clientKey go together: give both or neither"}
	}
	if c.clientKey != "" {
		opts = append(opts, realis.ClientCerts(c.clientKey, c.clientCert))
	}
	return opts, nil
}
