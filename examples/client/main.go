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
//	go run ./examples/client -cmd=create
//
// With -url, -zkurl or -clusters it talks to a real Aurora cluster (flag
// names as in gorealis' example client); -cache, -secretKey and -publicKey
// then name the binary cache the cluster's agents trust:
//
//	go run ./examples/client -url=http://192.168.33.7:8081 -cmd=create \
//	    -cache=file:///srv/nix-cache -secretKey=cluster.sec
//	go run ./examples/client -url=... -cmd=update -instances=3 -message=v2
//	go run ./examples/client -url=... -cmd=kill
//
// With -config=FILE.aurora the job comes from an Aurora configuration
// file instead (picked by -cluster, -role, -env and -name; -bind
// name=value binds its templates, as aurora's --bind), with a Nix sandbox
// only if the file names Nix packages; -cmd=inspect -write-json prints its
// executor payload alone:
//
//	go run ./examples/client -cmd=create -config=examples/hello/hello_world.aurora
//
// Commands: create, kill, restart, status, inspect, diff, update, and for an
// update named by -updateId: pause, resume, abort, rollback, pulse, info.
// inspect needs no scheduler. Errors print one line and exit 1; bad flags
// exit 2.
//
// What the client does is printed as lines on stdout. Nix's progress is a
// bar on stderr when stderr is a terminal, else one line on stdout per Nix
// activity: a pipe or a log gets no bar and no control characters.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	realis "github.com/paypal/gorealis"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/internal/composeexample"
	"github.com/nixrealis/nixrealis/internal/configexample"
	"github.com/nixrealis/nixrealis/nix"
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
	out := newPrinter(stdout, stderr)
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
		fmt.Fprintf(out, "created %s: %d instance(s) RUNNING\n", created.Key, c.instances)
		if cluster != nil {
			if err := cluster.show(ctx, client, key, out, c.executor == "compose"); err != nil {
				return err
			}
			if c.keep {
				fmt.Fprintf(out, "the embedded scheduler is at %s; interrupt (Ctrl-C) to stop it\n", cluster.srv.URL)
				fmt.Fprintf(out, "its cache: -url=%s -cache=%s -secretKey=%s\n", cluster.srv.URL, cluster.cacheURL, cluster.secretKey)
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
		fmt.Fprintf(out, "killed %s\n", key)
	case "restart":
		if err := client.Restart(ctx, key, nil); err != nil {
			return err
		}
		fmt.Fprintf(out, "restarted %s\n", key)
	case "status":
		st, err := client.Status(ctx, key)
		if err != nil {
			return err
		}
		printStatus(out, st)
	case "diff":
		d, err := client.Diff(ctx, c.exampleJob())
		if err != nil {
			return err
		}
		if !d.Changed {
			fmt.Fprintf(out, "%s runs what the job describes\n", key)
			return nil
		}
		fmt.Fprint(out, d.Text)
	case "update":
		res, err := client.Update(ctx, c.exampleJob(), nixrealis.Message(msg))
		if res != nil {
			out.finish()
			switch {
			case res.NoOp:
				fmt.Fprintf(out, "%s is unchanged by the update: nothing to do\n", key)
			case res.Key != nil:
				fmt.Fprintf(out, "update %s: %s %s\n", res.Key.ID, res.Status, res.Message)
			}
		}
		return err
	case "pause":
		return done(out, "paused", uk, client.Pause(ctx, uk, nixrealis.Message(msg)))
	case "resume":
		return done(out, "resumed", uk, client.Resume(ctx, uk, nixrealis.Message(msg)))
	case "abort":
		return done(out, "aborted", uk, client.Abort(ctx, uk, nixrealis.Message(msg)))
	case "rollback":
		return done(out, "rolling back", uk, client.Rollback(ctx, uk, nixrealis.Message(msg)))
	case "pulse":
		return done(out, "pulsed", uk, client.Pulse(ctx, uk))
	case "info":
		d, err := client.UpdateInfo(ctx, uk)
		if err != nil {
			return err
		}
		printUpdate(out, d)
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
