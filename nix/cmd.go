package nix

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nixrealis/nixrealis/internal/proc"
)

// DefaultWaitDelay is how long a cancelled nix command gets between SIGINT
// and SIGKILL when [Nix.WaitDelay] is zero.
const DefaultWaitDelay = 5 * time.Second

// Command returns an *exec.Cmd running the named nix binary (nix,
// nix-store, nix-instantiate, ...) from [Nix.Dir] or $PATH with args
// exactly as given: Store, Options and the log format are not added. It
// sets the environment from [Nix.Env] and puts the command in its own
// process group. When ctx is done, the command is cancelled the way every
// method of [Nix] is: SIGINT to its process group (Nix's Ctrl-C, which
// stops its builders); if it has not exited after [Nix.WaitDelay], SIGKILL
// to the processes below it (Nix starts builders in their own sessions) and
// to its group. Once it has exited, Wait gives its stdout and stderr at most
// another WaitDelay to close (Cmd.WaitDelay). A missing binary is reported
// by Start/Run as an error wrapping [ErrNotFound], like exec.Command's
// Cmd.Err.
func (n *Nix) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	path, lookErr := n.lookPath(name)
	if lookErr != nil {
		path = name
	}
	cmd, _ := n.command(ctx, path, args)
	cmd.Err = lookErr
	return cmd
}

// command is exec.CommandContext with the package's environment, process
// group and cancellation (see [Nix.Command]). cancelled reports whether
// ctx's end interrupted the command.
func (n *Nix) command(ctx context.Context, path string, args []string) (cmd *exec.Cmd, cancelled *atomic.Bool) {
	cmd = exec.CommandContext(ctx, path, args...)
	if len(n.Env) > 0 {
		cmd.Env = append(os.Environ(), n.Env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	delay := n.waitDelay()
	cancelled = new(atomic.Bool)
	cmd.Cancel = func() error {
		if err := signalGroup(cmd.Process, syscall.SIGINT); err != nil {
			return err // os.ErrProcessDone: it had exited already
		}
		cancelled.Store(true)
		if !awaitExit(cmd.Process, delay) {
			killTree(cmd.Process)
		}
		return nil
	}
	cmd.WaitDelay = delay
	return cmd, cancelled
}

func (n *Nix) waitDelay() time.Duration {
	if n.WaitDelay > 0 {
		return n.WaitDelay
	}
	return DefaultWaitDelay
}

// awaitExit waits up to d for p to have exited and been waited for, and
// reports whether it has. os/exec calls Cancel before it reaps the process
// and offers no notification of the exit, so this polls: Signal returns
// os.ErrProcessDone once Wait has collected the process (and, with a
// pidfd, never signals a reused pid).
func awaitExit(p *os.Process, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for tick := time.Millisecond; ; tick = min(2*tick, 50*time.Millisecond) {
		if errors.Is(p.Signal(syscall.Signal(0)), os.ErrProcessDone) {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		time.Sleep(min(tick, left))
	}
}

// killTree sends SIGKILL to the processes below p and their process groups,
// then to p's process group. Nix starts builders in their own sessions, so
// killing nix's group alone would orphan them when nix does not exit on
// SIGINT. The descendants are found while p, still alive, is their
// ancestor: once it is gone they belong to init. Best effort: where there
// is no /proc to list them, only p's group is killed.
func killTree(p *os.Process) {
	desc, _ := proc.Descendants(p.Pid)
	self := syscall.Getpgrp()
	for _, d := range desc {
		if d.PGID > 1 && d.PGID != self {
			_ = syscall.Kill(-d.PGID, syscall.SIGKILL)
		}
		_ = syscall.Kill(d.PID, syscall.SIGKILL)
	}
	_ = signalGroup(p, syscall.SIGKILL)
}

// signalGroup sends sig to the process group p leads.
func signalGroup(p *os.Process, sig syscall.Signal) error {
	if p == nil {
		return os.ErrProcessDone
	}
	err := syscall.Kill(-p.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}
