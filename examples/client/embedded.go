//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paypal/gorealis/gen-go/apache/aurora"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/auroratest/thermosexec"
	"github.com/nixrealis/nixrealis/internal/composeexample"
	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/nix"
	"github.com/nixrealis/nixrealis/sandbox"
)

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
