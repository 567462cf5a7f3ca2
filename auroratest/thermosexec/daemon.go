//go:build linux

package thermosexec

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/nixrealis/nixrealis/internal/proc"
)

// daemonSocket is where, under an agent's Store/nix, its nix-daemon
// listens: /nix/var/nix/daemon-socket/socket as its tasks see it.
const daemonSocket = "var/nix/daemon-socket/socket"

// daemonWrapper runs in the daemon's own mount namespace: it bind-mounts
// the agent's /nix over /nix and becomes nix-daemon. $1 is the agent's nix
// directory.
const daemonWrapper = `mount --bind "$1" /nix || { echo "thermosexec: cannot bind-mount the agent's Nix store $1 over /nix" >&2; exit 125; }
exec nix-daemon`

// nixDaemon is the nix-daemon of one agent with its own store: it runs as
// root with the agent's nix.conf (the operator's), so the tasks, which run
// as unprivileged users and reach the store only through it
// (NIX_REMOTE=daemon), cannot add substituters or keys: Nix's multi-user
// model, in which the daemon enforces the trust.
type nixDaemon struct {
	cmd  *exec.Cmd
	conf string // the nix.conf it was started with
	done chan struct{}
}

// startDaemon makes sure the agent whose store is store has its nix-daemon
// running with the current nix.conf, starting it on the agent's first task
// (or again when the nix.conf changed), and waits until it accepts
// connections.
func (e *Executor) startDaemon(store string) error {
	store, err := filepath.Abs(store)
	if err != nil {
		return err
	}
	conf, err := e.agentNixConf()
	if err != nil {
		return err
	}
	e.daemonMu.Lock()
	defer e.daemonMu.Unlock()
	if d := e.daemons[store]; d != nil {
		select {
		case <-d.done:
		default:
			if d.conf == conf {
				return nil
			}
		}
		d.stop()
		delete(e.daemons, store)
	}
	if err := prepareMultiUser(store); err != nil {
		return err
	}
	// Nix initialises a fresh store (database, schema) without a lock,
	// so the daemon's workers for tasks starting together would race on
	// it: initialise it here, once, as root (what init_sandbox's flock did
	// when its tasks could write the store).
	initCmd := exec.Command("nix-store", "--store", store, "--init")
	initCmd.Env = append(os.Environ(), "NIX_CONF_DIR="+filepath.Join(store, AgentNixConfDir))
	if out, err := initCmd.CombinedOutput(); err != nil {
		return fmt.Errorf("cannot initialise the agent's Nix store %s (nix-store --init): %v: %s", store, err, strings.TrimSpace(string(out)))
	}
	nixDir := filepath.Join(store, "nix")
	sock := filepath.Join(nixDir, daemonSocket)
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("cannot remove the agent's stale nix-daemon socket: %w", err)
	}
	log, err := os.OpenFile(filepath.Join(store, "nix-daemon.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("cannot start the agent's nix-daemon: %w", err)
	}
	defer log.Close()
	cmd := exec.Command("/bin/sh", "-c", daemonWrapper, "thermosexec", nixDir)
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	cmd.Env = []string{"PATH=" + path, "HOME=/", "NIX_CONF_DIR=" + filepath.Join(store, AgentNixConfDir)}
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = log, log
	// Pdeathsig: a killed executor (SIGKILL) leaves no daemon behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Unshareflags: syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot start the agent's nix-daemon (Nix's nix-daemon must be on PATH): %w", err)
	}
	d := &nixDaemon{cmd: cmd, conf: conf, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(d.done)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for !canConnect(sock) {
		select {
		case <-d.done:
			return fmt.Errorf("the agent's nix-daemon exited at once (%v); see %s", cmd.ProcessState, filepath.Join(store, "nix-daemon.log"))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			d.stop()
			return fmt.Errorf("the agent's nix-daemon does not listen on %s after 60 s; see %s", sock, filepath.Join(store, "nix-daemon.log"))
		}
	}
	if e.daemons == nil {
		e.daemons = map[string]*nixDaemon{}
	}
	e.daemons[store] = d
	return nil
}

// canConnect reports whether a Unix socket at path accepts connections. It
// dials through the directory's file descriptor, as the path may be longer
// than a socket address allows.
func canConnect(path string) bool {
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return false
	}
	defer dir.Close()
	c, err := net.Dial("unix", fmt.Sprintf("/proc/self/fd/%d/%s", dir.Fd(), filepath.Base(path)))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// prepareMultiUser creates the directories of a multi-user store that Nix's
// installer creates and its unprivileged users write: their profiles and
// GC roots (mode 1777, as the installer makes them).
func prepareMultiUser(store string) error {
	for _, d := range []string{"profiles/per-user", "gcroots/per-user", "daemon-socket"} {
		p := filepath.Join(store, "nix/var/nix", d)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return fmt.Errorf("cannot create the agent's Nix store: %w", err)
		}
		if d != "daemon-socket" {
			if err := os.Chmod(p, 0o1777); err != nil {
				return fmt.Errorf("cannot create the agent's Nix store: %w", err)
			}
		}
	}
	return nil
}

// stop ends the daemon and every process it forked (one per client
// connection), and waits until they are gone.
func (d *nixDaemon) stop() {
	pid := d.cmd.Process.Pid
	kids, _ := proc.Descendants(pid)
	syscall.Kill(-pid, syscall.SIGKILL)
	for _, k := range kids {
		syscall.Kill(k.PID, syscall.SIGKILL)
	}
	<-d.done
	deadline := time.Now().Add(30 * time.Second)
	for _, k := range kids {
		for time.Now().Before(deadline) {
			p, err := proc.Stat(k.PID)
			if err != nil || p.StartTime != k.StartTime || !p.Live() {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// stopDaemons stops every agent's nix-daemon (Executor.Close).
func (e *Executor) stopDaemons() {
	e.daemonMu.Lock()
	defer e.daemonMu.Unlock()
	for s, d := range e.daemons {
		d.stop()
		delete(e.daemons, s)
	}
}

// daemonPIDs returns the process ids of the agents' running nix-daemons,
// for tests that check Close leaves none behind.
func (e *Executor) daemonPIDs() []int {
	e.daemonMu.Lock()
	defer e.daemonMu.Unlock()
	var pids []int
	for _, d := range e.daemons {
		pids = append(pids, d.cmd.Process.Pid)
	}
	return pids
}
