// Package proc reads the process table from Linux's /proc file system:
// which processes exist, each one's parent, process group, state and
// command name (/proc/PID/stat), its working directory, command line and
// listening TCP ports. nix uses it to find a cancelled command's builders,
// thermosexec to find a task's processes, and tests to check that nothing
// is left behind.
//
// Where there is no Linux /proc (macOS, the BSDs), every function returns
// an error that wraps errors.ErrUnsupported.
package proc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// A Process is one line of /proc/PID/stat, the fields this package reads.
type Process struct {
	PID   int
	PPID  int    // parent
	PGID  int    // process group
	State byte   // R running, S sleeping, D disk wait, Z zombie, T stopped, X dead, ...
	Comm  string // command name, as the kernel truncates it (16 bytes)
	// StartTime is when the process started, in clock ticks since boot:
	// with PID it identifies a process, as PIDs are reused.
	StartTime uint64
}

// Live reports whether p is running or could run: not a zombie (exited,
// not yet waited for) and not dead.
func (p Process) Live() bool { return p.State != 'Z' && p.State != 'X' }

// check reports errors.ErrUnsupported where /proc is not Linux's.
func check() error {
	if runtime.GOOS != "linux" && runtime.GOOS != "android" {
		return fmt.Errorf("proc: no Linux /proc on %s: %w", runtime.GOOS, errors.ErrUnsupported)
	}
	return nil
}

// PIDs lists the processes on the machine (the numeric entries of /proc),
// in no particular order.
func PIDs() ([]int, error) {
	if err := check(); err != nil {
		return nil, err
	}
	f, err := os.Open("/proc")
	if err != nil {
		return nil, fmt.Errorf("proc: %w", err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("proc: reading /proc: %w", err)
	}
	pids := make([]int, 0, len(names))
	for _, name := range names {
		if name == "" || name[0] < '0' || name[0] > '9' {
			continue
		}
		if pid, err := strconv.Atoi(name); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// Stat reads /proc/pid/stat. A process that does not exist (or no longer)
// gives an error wrapping fs.ErrNotExist.
func Stat(pid int) (Process, error) {
	if err := check(); err != nil {
		return Process{}, err
	}
	b, err := os.ReadFile(path(pid, "stat"))
	if err != nil {
		return Process{}, fmt.Errorf("proc: %w", err)
	}
	p, err := parseStat(b)
	if err != nil {
		return Process{}, fmt.Errorf("proc: %s: %w", path(pid, "stat"), err)
	}
	return p, nil
}

// parseStat reads "pid (comm) state ppid pgrp ...". The command name may
// hold spaces and parentheses: it ends at the last ')'.
func parseStat(b []byte) (Process, error) {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return Process{}, fmt.Errorf("no (comm) in %q", b)
	}
	f := bytes.Fields(b[end+1:])
	if len(f) < 3 || len(f[0]) != 1 {
		return Process{}, fmt.Errorf("too few fields after (comm) in %q", b)
	}
	pid, err1 := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	ppid, err2 := strconv.Atoi(string(f[1]))
	pgid, err3 := strconv.Atoi(string(f[2]))
	if err := errors.Join(err1, err2, err3); err != nil {
		return Process{}, err
	}
	p := Process{PID: pid, PPID: ppid, PGID: pgid, State: f[0][0], Comm: string(b[open+1 : end])}
	if len(f) > 19 {
		// Field 22 of stat(5); f starts at field 3.
		p.StartTime, _ = strconv.ParseUint(string(f[19]), 10, 64)
	}
	return p, nil
}

// Alive reports whether process pid exists and is [Process.Live].
func Alive(pid int) bool {
	p, err := Stat(pid)
	return err == nil && p.Live()
}

// List reads the stat of every process. Processes that exit while it reads
// are left out.
func List() ([]Process, error) {
	pids, err := PIDs()
	if err != nil {
		return nil, err
	}
	ps := make([]Process, 0, len(pids))
	for _, pid := range pids {
		if p, err := Stat(pid); err == nil {
			ps = append(ps, p)
		}
	}
	return ps, nil
}

// Descendants lists the processes below pid (children, their children,
// ...), parents before their children. A process that has left pid's tree
// (its parent exited, so it belongs to init or a subreaper now) is not
// found.
func Descendants(pid int) ([]Process, error) {
	ps, err := List()
	if err != nil {
		return nil, err
	}
	children := make(map[int][]Process)
	for _, p := range ps {
		children[p.PPID] = append(children[p.PPID], p)
	}
	var out []Process
	for queue := []int{pid}; len(queue) > 0; queue = queue[1:] {
		for _, c := range children[queue[0]] {
			out = append(out, c)
			queue = append(queue, c.PID)
		}
	}
	return out, nil
}

// Cwd returns process pid's working directory. A zombie has none.
func Cwd(pid int) (string, error) {
	if err := check(); err != nil {
		return "", err
	}
	dir, err := os.Readlink(path(pid, "cwd"))
	if err != nil {
		return "", fmt.Errorf("proc: %w", err)
	}
	return dir, nil
}

// Cmdline returns process pid's arguments. A zombie's (and a kernel
// thread's) is empty.
func Cmdline(pid int) ([]string, error) {
	if err := check(); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path(pid, "cmdline"))
	if err != nil {
		return nil, fmt.Errorf("proc: %w", err)
	}
	b = bytes.TrimSuffix(b, []byte{0})
	if len(b) == 0 {
		return nil, nil
	}
	return strings.Split(string(b), "\x00"), nil
}

func path(pid int, file string) string {
	return "/proc/" + strconv.Itoa(pid) + "/" + file
}
