//go:build linux

// Command client is nixrealis' example client. It creates, kills, updates,
// restarts and inspects a Nix-built job on Apache Aurora through gorealis.
//
// With no -url, -zkurl or -clusters it starts an embedded cluster
// (auroratest with the local Thermos executor and one simulated agent whose
// Nix store starts empty), builds the example job's packages from
// examples/hello, signs and pushes them to a binary cache of its own,
// creates the job, waits until it runs and prints its output:
//
//	go run examples/client.go -cmd=create
//
// With -url, -zkurl or -clusters it talks to a real Aurora cluster (flag
// names as in gorealis' example client); -cache, -secretKey and -publicKey
// then name the binary cache the cluster's agents trust:
//
//	go run examples/client.go -url=http://192.168.33.7:8081 -cmd=create \
//	    -cache=file:///srv/nix-cache -secretKey=cluster.sec
//	go run examples/client.go -url=... -cmd=update -instances=3 -message=v2
//	go run examples/client.go -url=... -cmd=kill
//
// With -config=FILE.aurora the job comes from an Aurora configuration
// file instead (picked by -cluster, -role, -env and -name; -bind
// name=value binds its templates, as aurora's --bind), with a Nix sandbox
// only if the file names Nix packages; -cmd=inspect -write-json prints its
// executor payload alone:
//
//	go run examples/client.go -cmd=create -config=examples/hello/hello_world.aurora
//
// Commands: create, kill, restart, status, inspect, diff, update, and for an
// update named by -updateId: pause, resume, abort, rollback, pulse, info.
// inspect needs no scheduler. Errors print one line and exit 1; bad flags
// exit 2.
package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/auroratest/thermosexec"
	"github.com/nixrealis/nixrealis/internal/composeexample"
	"github.com/nixrealis/nixrealis/internal/configexample"
	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/nix"
	"github.com/nixrealis/nixrealis/sandbox"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	var uerr usageError
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case errors.As(err, &uerr):
		fmt.Fprintf(os.Stderr, "client: %v\nRun with -h for usage.\n", err)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "client: %v\n", oneLine(err))
		os.Exit(1)
	}
}

// usageError is a mistake in the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

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
	words := append([]string{"go run examples/client.go"}, c.set...)
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
		fmt.Fprintf(fs.Output(), "Usage: go run examples/client.go -cmd=COMMAND [flags]\n\n")
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

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if err := c.loadFile(stderr); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	out := &printer{w: stdout, tty: isTerminal(stdout)}
	defer out.finish()

	var (
		realisOpts []realis.ClientOption
		cluster    *embeddedCluster
		n          = &nix.Nix{Progress: nil}
	)
	if c.embedded() {
		switch c.cmd {
		case "create", "inspect":
		default:
			return usageError{fmt.Sprintf("-cmd=%s needs a running scheduler: pass -url (for example, start `go run ./examples/devcluster -executor=thermos` and use -url=http://127.0.0.1:8081), -zkurl or -clusters; without them only create and inspect run, on an embedded cluster", c.cmd)}
		}
		if c.cmd == "create" {
			// A package set that is not there fails before the cluster starts.
			if _, err := c.packagesFor(); err != nil {
				return err
			}
			cluster, err = startEmbedded(ctx, n, c, out)
			if err != nil {
				return err
			}
			defer cluster.close(c.keep, out)
			realisOpts = cluster.srv.ClientOptions()
		}
	}
	if c.executor == "compose" {
		// The guide's sample app, built here; the agents fetch it from
		// file://: in the embedded cluster's directory, else in a
		// directory of its own that outlives this command.
		var dir string
		if cluster != nil {
			dir = filepath.Join(cluster.dir, "sample-app")
		}
		if c.composeURI, err = composeexample.SampleAppURI(dir); err != nil {
			return err
		}
	}
	if !c.embedded() {
		realisOpts, err = c.realisOptions()
		if err != nil {
			return err
		}
	}

	prep, err := c.preparer(n, cluster)
	if err != nil {
		return err
	}
	clientOpts := []nixrealis.Option{nixrealis.WithProgress(out.progress)}
	if c.usesNix() {
		clientOpts = append(clientOpts, nixrealis.WithPreparer(prep))
	}
	if c.cmd == "inspect" {
		// Inspect renders the job (evaluating its sandbox) and needs no scheduler.
		j := c.exampleJob()
		if c.usesNix() {
			j, err = prep.Prepare(ctx, j, false, nil)
		}
		if err != nil {
			return err
		}
		spec, err := j.Build()
		if err != nil {
			return err
		}
		if c.file.WriteJSON {
			return configexample.WriteJSON(stdout, spec)
		}
		fmt.Fprint(stdout, nixrealis.FormatInspect(spec))
		return nil
	}
	client, err := nixrealis.Dial(realisOpts, clientOpts...)
	if err != nil {
		return err
	}
	defer client.Close()
	return c.dispatch(ctx, client, out, cluster)
}

func (c *config) dispatch(ctx context.Context, client *nixrealis.Client, out *printer, cluster *embeddedCluster) error {
	key := c.key()
	uk := nixrealis.UpdateKey{Job: key, ID: c.updateID}
	msg := c.message
	switch c.cmd {
	case "create":
		created, err := client.Create(ctx, c.exampleJob())
		if err != nil {
			return c.createFailed(created, err, cluster != nil, out.submitted())
		}
		out.finish()
		fmt.Fprintf(out.w, "created %s: %d instance(s) RUNNING\n", created.Key, c.instances)
		if cluster != nil {
			if err := cluster.show(ctx, client, key, out.w, c.executor == "compose"); err != nil {
				return err
			}
			if c.keep {
				fmt.Fprintf(out.w, "the embedded scheduler is at %s; interrupt (Ctrl-C) to stop it\n", cluster.srv.URL)
				fmt.Fprintf(out.w, "its cache: -url=%s -cache=%s -secretKey=%s\n", cluster.srv.URL, cluster.cacheURL, cluster.secretKey)
				<-ctx.Done()
			}
		}
		return nil
	case "kill":
		if err := client.Kill(ctx, key, nil); err != nil {
			if errors.Is(err, nixrealis.ErrUpdateInProgress) {
				if st, serr := client.Status(ctx, key); serr == nil && st.ActiveUpdate != nil {
					return fmt.Errorf("%s has an active update %s: abort it first with %s", key, st.ActiveUpdate.ID, c.command("abort", "-updateId="+st.ActiveUpdate.ID))
				}
			}
			return err
		}
		fmt.Fprintf(out.w, "killed %s\n", key)
	case "restart":
		if err := client.Restart(ctx, key, nil); err != nil {
			return err
		}
		fmt.Fprintf(out.w, "restarted %s\n", key)
	case "status":
		st, err := client.Status(ctx, key)
		if err != nil {
			return err
		}
		printStatus(out.w, st)
	case "diff":
		d, err := client.Diff(ctx, c.exampleJob())
		if err != nil {
			return err
		}
		if !d.Changed {
			fmt.Fprintf(out.w, "%s runs what the job describes\n", key)
			return nil
		}
		fmt.Fprint(out.w, d.Text)
	case "update":
		res, err := client.Update(ctx, c.exampleJob(), nixrealis.Message(msg))
		if res != nil {
			out.finish()
			switch {
			case res.NoOp:
				fmt.Fprintf(out.w, "%s is unchanged by the update: nothing to do\n", key)
			case res.Key != nil:
				fmt.Fprintf(out.w, "update %s: %s %s\n", res.Key.ID, res.Status, res.Message)
			}
		}
		return err
	case "pause":
		return done(out.w, "paused", uk, client.Pause(ctx, uk, nixrealis.Message(msg)))
	case "resume":
		return done(out.w, "resumed", uk, client.Resume(ctx, uk, nixrealis.Message(msg)))
	case "abort":
		return done(out.w, "aborted", uk, client.Abort(ctx, uk, nixrealis.Message(msg)))
	case "rollback":
		return done(out.w, "rolling back", uk, client.Rollback(ctx, uk, nixrealis.Message(msg)))
	case "pulse":
		return done(out.w, "pulsed", uk, client.Pulse(ctx, uk))
	case "info":
		d, err := client.UpdateInfo(ctx, uk)
		if err != nil {
			return err
		}
		printUpdate(out.w, d)
	}
	return nil
}

func done(w io.Writer, what string, uk nixrealis.UpdateKey, err error) error {
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s update %s\n", what, uk)
	return nil
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

// embeddedCluster is auroratest with the local Thermos executor, one
// simulated agent with its own (initially empty) Nix store, and a signed
// file:// binary cache.
type embeddedCluster struct {
	dir                            string
	process                        string // whose output show prints
	srv                            *auroratest.Server
	exec                           *thermosexec.Executor
	cacheURL, secretKey, publicKey string
}

// embeddedTaskUser is the unprivileged user the embedded cluster runs every
// task as, whatever its role: one that every Debian machine has.
const embeddedTaskUser = "nobody"

func startEmbedded(ctx context.Context, n *nix.Nix, c *config, out *printer) (*embeddedCluster, error) {
	dir, err := os.MkdirTemp("", "nixrealis-example-")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			removeAll(dir)
		}
	}()
	e := &embeddedCluster{dir: dir, process: "hello", cacheURL: "file://" + filepath.Join(dir, "cache"), secretKey: filepath.Join(dir, "cluster.sec")}
	if err := n.GenerateKey(ctx, "example-cluster-1", e.secretKey, filepath.Join(dir, "cluster.pub")); err != nil {
		return nil, fmt.Errorf("making the example cluster's signing key: %w", err)
	}
	if e.publicKey, err = sandbox.ReadPublicKey(e.secretKey); err != nil {
		return nil, err
	}
	if c.loaded != nil {
		e.process = c.loaded.FirstProcess()
	}
	agent := thermosexec.Agent{}
	if os.Geteuid() == 0 {
		// The agent has a Nix store of its own, empty at first: init_sandbox
		// must realise the sandbox from the binary cache, as on a real
		// cluster. (This needs a private mount namespace, hence root.)
		agent.Store = filepath.Join(dir, "agent-1-store")
	} else {
		out.line("not root: the simulated agent shares this machine's Nix store")
	}
	// Every task runs as nobody (the operator's mapping of all roles, so
	// that the default role, vagrant, needs no user on this machine; never
	// root), who must reach the sandboxes and the cache.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	e.exec = &thermosexec.Executor{
		Root: filepath.Join(dir, "agents"),
		// The operator's trust: the agent's nix.conf lists the cache the
		// example pushes to and its key.
		TrustedCaches: []string{e.cacheURL},
		TrustedKeys:   []string{e.publicKey},
		Agents:        map[string]thermosexec.Agent{"agent-1": agent},
		RunAs:         embeddedTaskUser,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		// The docker-compose executor of Aurora's custom-executors guide,
		// played by a stand-in that needs no Docker.
		Custom: map[string]thermosexec.CustomExecutor{composeexample.ExecutorName: composeexample.Executor{}},
	}
	e.srv = auroratest.NewUnstartedServer(e.exec)
	// -custom_executor_config (the guide's file) and -enable_mesos_fetcher.
	e.srv.CustomExecutors = composeexample.Config()
	e.srv.EnableMesosFetcher = true
	e.srv.Hosts = []string{"agent-1"}
	e.srv.Cluster = c.cluster
	// The scheduler's clock runs 10 times faster, so the update that
	// creates the service watches it for 1 s instead of 10 s.
	e.srv.TimeScale = 10
	e.srv.Start()
	out.line(fmt.Sprintf("embedded Aurora scheduler at %s (agent-1; files under %s)", e.srv.URL, dir))
	if os.Geteuid() == 0 {
		out.line("tasks run as user " + embeddedTaskUser + " (every role; the embedded cluster's mapping)")
	}
	ok = true
	return e, nil
}

// close stops the cluster, its tasks with it, and removes its files (the
// cluster's secret key among them) unless keep is set.
func (e *embeddedCluster) close(keep bool, out *printer) {
	e.srv.Close()
	e.exec.Close()
	if keep {
		out.line("the embedded cluster's files are kept under " + e.dir)
		return
	}
	if err := removeAll(e.dir); err != nil {
		out.line(fmt.Sprintf("could not remove the embedded cluster's files: %v", err))
	}
}

// removeAll removes dir, making read-only directories (as Nix leaves a
// store's) writable first where that is what stops it.
func removeAll(dir string) error {
	if os.RemoveAll(dir) == nil {
		return nil
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}

// show prints where each instance's output is and its first lines.
func (e *embeddedCluster) show(ctx context.Context, client *nixrealis.Client, key job.Key, w io.Writer, compose bool) error {
	st, err := client.Status(ctx, key)
	if err != nil {
		return err
	}
	for _, t := range st.ByState[aurora.ScheduleStatus_RUNNING] {
		info, ok := e.exec.Task(t.TaskID)
		if !ok {
			continue
		}
		if compose {
			if err := composeexample.Show(ctx, w, t.TaskID, info.Host, info.Sandbox, t.Ports[job.GorealisPort(0)]); err != nil {
				return err
			}
			continue
		}
		logs := filepath.Join(info.Sandbox, ".logs", e.process, "0", "stdout")
		// RUNNING means init_sandbox is done; the process prints right
		// after (or ends having printed nothing).
		var text []byte
		for {
			if text, err = os.ReadFile(logs); err == nil && len(text) > 0 {
				break
			}
			if info, _ = e.exec.Task(t.TaskID); ended(info, e.process) {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("instance %d printed nothing in %s: %w", t.Instance, logs, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
		fmt.Fprintf(w, "instance %d (%s on %s), output in %s:\n", t.Instance, t.TaskID, info.Host, logs)
		for _, l := range firstLines(string(text), 5) {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	return nil
}

// ended reports whether the first run of process has ended, so that its
// output is all there is.
func ended(info thermosexec.TaskInfo, process string) bool {
	runs := info.RunsOf(process)
	return len(runs) > 0 && runs[0].State != thermosexec.ProcessRunning
}

func firstLines(s string, n int) []string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return lines
}

func printStatus(w io.Writer, st *nixrealis.JobStatus) {
	fmt.Fprintf(w, "%s: %d task(s)\n", st.Key, len(st.Tasks))
	states := make([]aurora.ScheduleStatus, 0, len(st.ByState))
	for s := range st.ByState {
		states = append(states, s)
	}
	sort.Slice(states, func(i, j int) bool { return states[i].String() < states[j].String() })
	for _, s := range states {
		fmt.Fprintf(w, "  %s:", s)
		for _, t := range st.ByState[s] {
			fmt.Fprintf(w, " %d", t.Instance)
		}
		fmt.Fprintln(w)
	}
	if st.ActiveUpdate != nil {
		fmt.Fprintf(w, "  active update: %s\n", st.ActiveUpdate.ID)
	}
}

func printUpdate(w io.Writer, d *aurora.JobUpdateDetails) {
	if d == nil || d.Update == nil || d.Update.Summary == nil {
		fmt.Fprintln(w, "no such update")
		return
	}
	s := d.Update.Summary
	status := "?"
	if s.State != nil {
		status = s.State.Status.String()
	}
	fmt.Fprintf(w, "update %s of %s/%s/%s: %s\n", s.Key.ID, s.Key.Job.Role, s.Key.Job.Environment, s.Key.Job.Name, status)
	for _, ev := range d.UpdateEvents {
		m := ""
		if ev.Message != nil {
			m = " " + *ev.Message
		}
		fmt.Fprintf(w, "  %s %s%s\n", time.UnixMilli(ev.TimestampMs).UTC().Format(time.RFC3339), ev.Status, m)
	}
}

// printer shows progress: a one-line bar rewritten in place on a
// terminal, plain lines otherwise.
type printer struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	tracker nix.Tracker
	open    bool // a bar line is on screen
	last    string
	// sent is set once an operation's request went to the scheduler.
	sent bool
}

// submitted reports whether a request went to the scheduler.
func (p *printer) submitted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent
}

func (p *printer) line(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	fmt.Fprintln(p.w, s)
}

// clear ends the bar's line, keeping its last state on screen.
func (p *printer) clear() {
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
}

func (p *printer) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
}

func (p *printer) progress(pr nixrealis.Progress) {
	if pr.Nix != nil {
		p.tracker.Update(*pr.Nix)
		st := p.tracker.Status()
		bar := fmt.Sprintf("nix: built %d/%d, copied %d/%d paths, %s/%s",
			st.BuildsDone, st.BuildsExpected, st.PathsDone, st.PathsExpected, size(st.BytesDone), size(st.BytesExpected))
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.tty {
			fmt.Fprintf(p.w, "\r\033[K%s", bar)
			p.open = true
		} else if pr.Nix.Text != "" && bar != p.last {
			// Plain output: one line per Nix activity that says something.
			fmt.Fprintf(p.w, "nix: %s\n", pr.Nix.Text)
		}
		p.last = bar
		return
	}
	if pr.Stage == nixrealis.StageSubmit {
		p.mu.Lock()
		p.sent = true
		p.mu.Unlock()
	}
	if pr.Message == "" {
		return
	}
	s := fmt.Sprintf("%s: %s", pr.Stage, pr.Message)
	if pr.Total > 0 {
		s += fmt.Sprintf(" (%d/%d)", pr.Done, pr.Total)
	}
	p.line(s)
}

func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb"
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// oneLine keeps an error to one line for the terminal.
func oneLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " (…)"
	}
	return s
}
