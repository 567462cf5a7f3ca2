package nix

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// killDescendants sends SIGKILL to every descendant of pid and to their
// process groups. Nix starts builders in their own sessions, so killing
// nix's process group alone would orphan them when nix itself does not
// exit on SIGINT. Best effort: it reads /proc.
func killDescendants(pid int) {
	self := syscall.Getpgrp()
	for _, d := range descendants(pid) {
		if d.pgrp > 1 && d.pgrp != self {
			_ = syscall.Kill(-d.pgrp, syscall.SIGKILL)
		}
		_ = syscall.Kill(d.pid, syscall.SIGKILL)
	}
}

type procInfo struct{ pid, ppid, pgrp int }

// descendants lists the processes below pid, read from /proc/*/stat.
func descendants(pid int) []procInfo {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := make(map[int][]procInfo)
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may contain spaces and ')'.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(stat[i+1:])
		if len(f) < 3 {
			continue
		}
		ppid, err1 := strconv.Atoi(string(f[1]))
		pgrp, err2 := strconv.Atoi(string(f[2]))
		if err1 != nil || err2 != nil {
			continue
		}
		children[ppid] = append(children[ppid], procInfo{pid: p, ppid: ppid, pgrp: pgrp})
	}
	var out []procInfo
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c.pid)
		}
	}
	return out
}
