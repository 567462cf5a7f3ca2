package proc

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// ListeningPorts returns the TCP ports (IPv4 and IPv6) on which process
// pid has a listening socket, sorted, each once: the sockets among its
// open files (/proc/PID/fd) matched by inode with /proc/net/tcp and tcp6.
func ListeningPorts(pid int) ([]int, error) {
	if err := check(); err != nil {
		return nil, err
	}
	fdDir := path(pid, "fd")
	fds, err := os.ReadDir(fdDir)
	if err != nil {
		return nil, fmt.Errorf("proc: %w", err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fdDir + "/" + fd.Name())
		if ino, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	var ports []int
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(table)
		if err != nil {
			continue // no IPv6
		}
		p, err := listening(string(data), inodes)
		if err != nil {
			return nil, fmt.Errorf("proc: %s: %w", table, err)
		}
		ports = append(ports, p...)
	}
	slices.Sort(ports)
	return slices.Compact(ports), nil
}

// listening reads a /proc/net/tcp table: the local ports of the sockets in
// state LISTEN (0A) whose inode is in inodes.
func listening(table string, inodes map[string]bool) ([]int, error) {
	var ports []int
	lines := strings.Split(table, "\n")
	for _, line := range lines[1:] { // a header first
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		f := strings.Fields(line)
		if len(f) < 10 || f[3] != "0A" || !inodes[f[9]] {
			continue
		}
		_, hexPort, _ := strings.Cut(f[1], ":")
		n, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil {
			return nil, fmt.Errorf("local address %q: %w", f[1], err)
		}
		ports = append(ports, int(n))
	}
	return ports, nil
}
