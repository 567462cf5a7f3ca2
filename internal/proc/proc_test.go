package proc

import (
	"bufio"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStat(t *testing.T) {
	for _, tt := range []struct {
		name, stat string
		want       Process
		err        bool
	}{
		{name: "plain", stat: "42 (bash) S 1 42 42 34816 42 4194560 1 0\n",
			want: Process{PID: 42, PPID: 1, PGID: 42, State: 'S', Comm: "bash"}},
		{name: "comm with spaces and parentheses", stat: "7 (a) b (c)) Z 3 5 5 0",
			want: Process{PID: 7, PPID: 3, PGID: 5, State: 'Z', Comm: "a) b (c)"}},
		{name: "empty comm", stat: "9 () R 2 9 9",
			want: Process{PID: 9, PPID: 2, PGID: 9, State: 'R'}},
		{name: "start time", stat: "5 (sleep) S 1 5 5 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 270442 5677056 200",
			want: Process{PID: 5, PPID: 1, PGID: 5, State: 'S', Comm: "sleep", StartTime: 270442}},
		{name: "no comm", stat: "9 R 2 9 9", err: true},
		{name: "truncated", stat: "9 (x) R 2", err: true},
		{name: "state not one letter", stat: "9 (x) RR 2 9", err: true},
		{name: "pid not a number", stat: "x (x) R 2 9", err: true},
		{name: "pgrp not a number", stat: "9 (x) R 2 y", err: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.stat))
			if tt.err {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestSelf(t *testing.T) {
	self := os.Getpid()
	p, err := Stat(self)
	require.NoError(t, err)
	assert.Equal(t, self, p.PID)
	assert.Equal(t, os.Getppid(), p.PPID)
	assert.Equal(t, syscall.Getpgrp(), p.PGID)
	assert.True(t, p.Live())
	assert.True(t, Alive(self))

	wd, err := os.Getwd()
	require.NoError(t, err)
	cwd, err := Cwd(self)
	require.NoError(t, err)
	assert.Equal(t, wd, cwd)

	args, err := Cmdline(self)
	require.NoError(t, err)
	assert.Equal(t, os.Args, args)

	pids, err := PIDs()
	require.NoError(t, err)
	assert.Contains(t, pids, self)
	ps, err := List()
	require.NoError(t, err)
	// State changes between two reads (running, sleeping): compare the rest.
	found := false
	for _, q := range ps {
		if q.PID == p.PID {
			found = true
			assert.Equal(t, []any{p.PPID, p.PGID, p.Comm}, []any{q.PPID, q.PGID, q.Comm})
		}
	}
	assert.True(t, found, "List has this process")
}

// TestChildTree starts sh in a directory and process group of its own,
// with a sleep below it, and reads them back; then kills them and sees the
// zombie and, once waited for, nothing.
func TestChildTree(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("/bin/sh", "-c", "sleep 3600 & echo $!; wait", "tree-test")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	sh := cmd.Process.Pid
	t.Cleanup(func() {
		_ = syscall.Kill(-sh, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	sleep, err := strconv.Atoi(strings.TrimSpace(line))
	require.NoError(t, err)

	p, err := Stat(sh)
	require.NoError(t, err)
	assert.NotZero(t, p.StartTime)
	assert.Equal(t, Process{PID: sh, PPID: os.Getpid(), PGID: sh, State: p.State, Comm: "sh", StartTime: p.StartTime}, p)
	cwd, err := Cwd(sh)
	require.NoError(t, err)
	assert.Equal(t, dir, cwd)
	args, err := Cmdline(sh)
	require.NoError(t, err)
	assert.Equal(t, []string{"/bin/sh", "-c", "sleep 3600 & echo $!; wait", "tree-test"}, args)

	desc, err := Descendants(sh)
	require.NoError(t, err)
	require.Len(t, desc, 1, "%v", desc)
	assert.Equal(t, sleep, desc[0].PID)
	assert.Equal(t, sh, desc[0].PPID)
	assert.Equal(t, sh, desc[0].PGID)
	mine, err := Descendants(os.Getpid())
	require.NoError(t, err)
	assert.Subset(t, pidsOf(mine), []int{sh, sleep}, "grandchildren too")

	require.NoError(t, syscall.Kill(-sh, syscall.SIGKILL))
	testenv.Eventually(t, 30*time.Second, 5*time.Millisecond, func() (bool, error) { return !Alive(sh), nil },
		"sh %d is still not a zombie after SIGKILL", sh)
	p, err = Stat(sh)
	require.NoError(t, err, "a zombie until waited for")
	assert.Equal(t, byte('Z'), p.State)
	assert.False(t, p.Live())
	args, err = Cmdline(sh)
	require.NoError(t, err)
	assert.Empty(t, args, "a zombie has no command line")
	_, err = Cwd(sh)
	assert.Error(t, err, "a zombie has no working directory")

	_ = cmd.Wait()
	_, err = Stat(sh)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.False(t, Alive(sh))
}

func pidsOf(ps []Process) []int {
	var pids []int
	for _, p := range ps {
		pids = append(pids, p.PID)
	}
	return pids
}

func TestListeningPorts(t *testing.T) {
	l4, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer l4.Close()
	l6, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		l6 = nil // no IPv6 on this machine
	} else {
		defer l6.Close()
	}
	ports, err := ListeningPorts(os.Getpid())
	require.NoError(t, err)
	assert.Contains(t, ports, l4.Addr().(*net.TCPAddr).Port)
	if l6 != nil {
		assert.Contains(t, ports, l6.Addr().(*net.TCPAddr).Port)
	}

	// A connected (not listening) socket is not a listening port.
	c, err := net.Dial("tcp4", l4.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	again, err := ListeningPorts(os.Getpid())
	require.NoError(t, err)
	assert.NotContains(t, again, c.LocalAddr().(*net.TCPAddr).Port)
}

func TestListening(t *testing.T) {
	// Lines as Linux writes /proc/net/tcp (trailing fields cut).
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0
   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2222 1 0
   2: 0100007F:0CEA 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 3333 1 0
`
	for _, tt := range []struct {
		name   string
		inodes map[string]bool
		want   []int
	}{
		{"both listening", map[string]bool{"1111": true, "2222": true}, []int{3306, 8080}},
		{"another process's socket", map[string]bool{"2222": true}, []int{8080}},
		{"established, not listening", map[string]bool{"3333": true}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := listening(table, tt.inodes)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := listening("header\n 0: 0100007F:XYZ 0 0A a b c d e 1111\n", map[string]bool{"1111": true})
	assert.ErrorContains(t, err, `local address "0100007F:XYZ"`)
}
