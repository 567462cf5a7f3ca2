//go:build linux

package thermosexec

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nixrealis/nixrealis/internal/proc"
	"github.com/nixrealis/nixrealis/thermos"
)

const (
	sigterm = syscall.SIGTERM
	sigkill = syscall.SIGKILL
)

// profileName is the file Thermos has bash source before every process
// (through BASH_ENV) when it exists in the sandbox.
const profileName = ".thermos_profile"

// nsWrapper runs in the new mount namespace: it bind-mounts the agent's
// /nix over /nix, then becomes the process's bash. $1 is the agent's nix
// directory, $2 the cmdline, $3 the BASH_ENV value (or empty).
// With $4 set (uid:gid:groups, groups comma-separated), bash runs as that
// user (setpriv drops root after the mount, as Thermos' runner setuids).
const nsWrapper = `mount --bind "$1" /nix || { echo "thermosexec: cannot bind-mount the agent's Nix store $1 over /nix" >&2; exit 125; }
[ -z "$3" ] || export BASH_ENV="$3"
[ -n "$4" ] || exec /bin/bash -c "$2"
IFS=: read -r uid gid groups <<EOT
$4
EOT
exec setpriv --reuid="$uid" --regid="$gid" --groups="$groups" -- /bin/bash -c "$2"`

var (
	userOnce sync.Once
	userName string
)

// currentUser is the user processes run as, bound to {{thermos.user}} and
// given as USER and LOGNAME.
func currentUser() string {
	userOnce.Do(func() {
		if u, err := user.Current(); err == nil {
			userName = u.Username
		} else {
			userName = strconv.Itoa(os.Getuid())
		}
	})
	return userName
}

// baseEnv is the environment Thermos gives a process: HOME (the sandbox),
// USER and LOGNAME (the task's user u) and the executor's PATH; nothing
// else.
func baseEnv(sandbox, u string) []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	return []string{"HOME=" + sandbox, "LOGNAME=" + u, "USER=" + u, "PATH=" + path}
}

// prepareStore checks that an agent store can be bind-mounted and creates
// its directories.
func prepareStore(store string) error {
	if os.Geteuid() != 0 {
		return errNoRoot
	}
	if fi, err := os.Stat("/nix"); err != nil || !fi.IsDir() {
		return fmt.Errorf("the agent's Nix store %s must be mounted over /nix, but this machine has no /nix directory: install Nix (scripts/deps.sh)", store)
	}
	for _, d := range []string{"nix/store", "nix/var/nix"} {
		if err := os.MkdirAll(filepath.Join(store, d), 0o755); err != nil {
			return fmt.Errorf("cannot create the agent's Nix store: %w", err)
		}
	}
	return nil
}

// command builds the exec.Cmd that runs cmdline with bash in the sandbox,
// as Thermos does, inside the agent's mount namespace when it has its own
// store. extraEnv is appended (BASH_ENV).
func (t *task) command(cmdline string) *exec.Cmd {
	env := t.env
	bashEnv := ""
	if _, err := os.Stat(filepath.Join(t.sandbox, profileName)); err == nil {
		bashEnv = filepath.Join(t.sandbox, profileName)
	}
	var cmd *exec.Cmd
	attr := &syscall.SysProcAttr{Setpgid: true}
	if t.agent.Store != "" {
		cmd = exec.Command("/bin/sh", "-c", nsWrapper, "thermosexec", filepath.Join(t.agent.Store, "nix"), cmdline, bashEnv, t.user.setprivSpec())
		attr.Unshareflags = syscall.CLONE_NEWNS
	} else {
		cmd = exec.Command("/bin/bash", "-c", cmdline)
		attr.Credential = t.user.cred
		if bashEnv != "" {
			env = append(env[:len(env):len(env)], "BASH_ENV="+bashEnv)
		}
	}
	cmd.Env = env
	cmd.Dir = t.sandbox
	cmd.SysProcAttr = attr
	return cmd
}

// startProcess starts the next run of p, recorded in t.runs and t.live.
func (t *task) startProcess(p *thermos.Process) error {
	t.mu.Lock()
	run := 0
	for _, r := range t.runs {
		if r.Process == p.Name {
			run++
		}
	}
	idx := len(t.runs)
	t.runs = append(t.runs, ProcessRun{Process: p.Name, Run: run, State: ProcessRunning, Start: time.Now(), ExitCode: -1})
	t.mu.Unlock()
	fail := func(err error) error {
		t.mu.Lock()
		r := &t.runs[idx]
		r.State, r.Stop = ProcessFailed, time.Now()
		t.mu.Unlock()
		return err
	}

	logDir := filepath.Join(t.sandbox, ".logs", p.Name, strconv.Itoa(run))
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return fail(err)
	}
	cmd := t.command(p.Cmdline)
	outs, err := t.outputs(p, logDir, cmd)
	if err != nil {
		return fail(err)
	}
	err = cmd.Start()
	for _, c := range outs.closeAfterStart {
		c.Close()
	}
	if err != nil {
		msg := fmt.Sprintf("thermosexec: cannot start process %q: %v\n", p.Name, err)
		_ = os.WriteFile(filepath.Join(logDir, "stderr"), []byte(msg), 0o644)
		return fail(fmt.Errorf("cannot start process %q: %w", p.Name, err))
	}
	pid := cmd.Process.Pid
	start := startTimeOf(pid)
	t.mu.Lock()
	t.runs[idx].PID = pid
	t.runs[idx].startTime = start
	t.mu.Unlock()
	t.writeCheckpoint()
	t.live[idx] = &liveProc{name: p.Name, pgid: pid}
	t.e.logf("thermosexec: process started", "task", t.lt.TaskID, "process", p.Name, "run", run, "pid", pid)
	go func() {
		err := cmd.Wait()
		at := time.Now()
		ev := exitEvent{idx: idx, code: 0, at: at}
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					ev.code, ev.signaled = -1, true
				} else {
					ev.code = ee.ExitCode()
				}
			} else {
				ev.code = -1
			}
		}
		t.exits <- ev
	}()
	return nil
}

// signal sends sig to the process group of a live run.
func (lp *liveProc) signal(sig syscall.Signal) {
	lp.signalled = true
	_ = syscall.Kill(-lp.pgid, sig)
}

// killGroup SIGKILLs a whole process group.
func killGroup(pgid int) {
	if pgid > 0 {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// reapLeftovers SIGKILLs what is left of the task: any process in one of
// its runs' process groups, and any process still working in its sandbox
// (one that left its group with setsid, say). It returns once none is left
// (zombies aside, which are gone as far as the task is concerned) or after
// two seconds, so that after a task ends no process of it is left.
func (t *task) reapLeftovers() {
	if t.sandbox == "" {
		return
	}
	t.mu.Lock()
	groups := make(map[int]bool, len(t.runs))
	for _, r := range t.runs {
		if r.PID > 0 {
			groups[r.PID] = true
		}
	}
	t.mu.Unlock()
	deadline := time.Now().Add(2 * time.Second)
	for {
		pids := taskPIDs(groups, t.sandbox)
		if len(pids) == 0 || time.Now().After(deadline) {
			return
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// taskPIDs lists the live (not zombie) processes in one of groups or whose
// working directory is dir or below. A group with no process at all costs
// one kill(2); the working directories cost one readlink(2) per process on
// the machine.
func taskPIDs(groups map[int]bool, dir string) []int {
	var out []int
	busy := map[int]bool{}
	for pg := range groups {
		if syscall.Kill(-pg, 0) == nil {
			busy[pg] = true
		}
	}
	pids, err := proc.PIDs()
	if err != nil {
		return nil
	}
	self := os.Getpid()
	for _, pid := range pids {
		if pid == self {
			continue
		}
		if cwd, err := proc.Cwd(pid); err == nil && (cwd == dir || strings.HasPrefix(cwd, dir+"/")) {
			out = append(out, pid)
			continue
		}
		if len(busy) > 0 {
			if p, err := proc.Stat(pid); err == nil && p.Live() && busy[p.PGID] {
				out = append(out, pid)
			}
		}
	}
	return out
}

// outputs wires a process's stdout and stderr according to its logger:
// destination file (the default), console, both or none; mode standard or
// rotate (log_size bytes, backups older files stdout.1 ... stdout.N).
type outputSet struct {
	closeAfterStart []io.Closer
}

func checkLogger(l *thermos.Logger) error {
	switch l.Destination {
	case "", "file", "console", "both", "none":
	default:
		return fmt.Errorf("destination %q is not one of file, console, both, none", l.Destination)
	}
	switch l.Mode {
	case "", "standard", "rotate":
	default:
		return fmt.Errorf("mode %q is not one of standard, rotate", l.Mode)
	}
	if l.Mode == "rotate" && l.Rotate != nil {
		if l.Rotate.LogSize <= 0 {
			return fmt.Errorf("rotate.log_size %d: must be at least one byte", l.Rotate.LogSize)
		}
		if l.Rotate.Backups <= 0 {
			return fmt.Errorf("rotate.backups %d: must be at least 1", l.Rotate.Backups)
		}
	}
	return nil
}

func (t *task) outputs(p *thermos.Process, logDir string, cmd *exec.Cmd) (outputSet, error) {
	var os_ outputSet
	dest, mode := "file", "standard"
	var rot *thermos.RotatePolicy
	if l := p.Logger; l != nil {
		if l.Destination != "" {
			dest = l.Destination
		}
		if l.Mode != "" {
			mode = l.Mode
		}
		rot = l.Rotate
		if mode == "rotate" && rot == nil {
			rot = thermos.DefaultRotatePolicy()
		}
	}
	var cons io.Writer = console{t.e}
	for i, name := range []string{"stdout", "stderr"} {
		path := filepath.Join(logDir, name)
		var f *os.File
		var err error
		var closer io.Closer
		switch {
		case dest == "none":
			f, err = os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		case dest == "file" && mode == "standard":
			f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		default:
			// A pipe we copy from: console, both, or rotation.
			var r *os.File
			r, f, err = os.Pipe()
			if err == nil {
				var w io.Writer = cons
				if dest != "console" {
					var fw io.WriteCloser
					if mode == "rotate" {
						fw = &rotatingFile{path: path, limit: rot.LogSize, backups: rot.Backups}
					} else {
						fw, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
						if err != nil {
							r.Close()
							f.Close()
							return os_, err
						}
					}
					w = fw
					if dest == "both" {
						w = io.MultiWriter(fw, cons)
					}
					closer = fw
				}
				t.copiers.Add(1)
				go func(w io.Writer, c io.Closer) {
					defer t.copiers.Done()
					_, _ = io.Copy(w, r)
					r.Close()
					if c != nil {
						c.Close()
					}
				}(w, closer)
			}
		}
		if err != nil {
			return os_, err
		}
		os_.closeAfterStart = append(os_.closeAfterStart, f)
		if i == 0 {
			cmd.Stdout = f
		} else {
			cmd.Stderr = f
		}
	}
	return os_, nil
}

// rotatingFile writes path until it holds limit bytes, then shifts it to
// path.1 (path.1 to path.2, ..., keeping backups files) and starts anew.
type rotatingFile struct {
	path    string
	limit   int64
	backups int
	mu      sync.Mutex
	f       *os.File
	size    int64
}

func (r *rotatingFile) Write(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for len(b) > 0 {
		if r.f == nil {
			f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
			if err != nil {
				return n, err
			}
			fi, _ := f.Stat()
			r.f, r.size = f, fi.Size()
		}
		room := r.limit - r.size
		if room <= 0 {
			r.rotate()
			continue
		}
		chunk := b[:min(int64(len(b)), room)]
		m, err := r.f.Write(chunk)
		n += m
		r.size += int64(m)
		if err != nil {
			return n, err
		}
		b = b[m:]
	}
	return n, nil
}

func (r *rotatingFile) rotate() {
	r.f.Close()
	r.f = nil
	for k := r.backups - 1; k >= 1; k-- {
		_ = os.Rename(fmt.Sprintf("%s.%d", r.path, k), fmt.Sprintf("%s.%d", r.path, k+1))
	}
	_ = os.Rename(r.path, r.path+".1")
}

func (r *rotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f != nil {
		err := r.f.Close()
		r.f = nil
		return err
	}
	return nil
}
