package zktest_test

import (
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/samuel/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/internal/proc"
	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/internal/zktest"
)

type silent struct{}

func (silent) Printf(string, ...any) {}

// connect opens a go-zookeeper session to addr and waits until it has one.
func connect(t *testing.T, addr string, timeout time.Duration) (*zk.Conn, <-chan zk.Event) {
	t.Helper()
	c, events, err := zk.Connect([]string{addr}, timeout, zk.WithLogger(silent{}))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	waitState(t, events, zk.StateHasSession, 10*time.Second)
	return c, events
}

func waitState(t *testing.T, events <-chan zk.Event, want zk.State, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-events:
			require.True(t, ok, "event channel closed before state %v", want)
			if ev.Type == zk.EventSession && ev.State == want {
				return
			}
		case <-deadline:
			t.Fatalf("no %v event within %v", want, timeout)
		}
	}
}

// listeningPorts returns the TCP ports process pid listens on, from /proc.
func listeningPorts(t *testing.T, pid int) []string {
	t.Helper()
	ports, err := proc.ListeningPorts(pid)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("listening ports: %v", err)
	}
	require.NoError(t, err)
	var out []string
	for _, p := range ports {
		out = append(out, strconv.Itoa(p))
	}
	return out
}

func TestStartServesAndCloseLeavesNothing(t *testing.T) {
	testenv.NeedZooKeeper(t)
	parent := t.TempDir()
	s, err := zktest.Start(parent)
	require.NoError(t, err)

	host, _, err := net.SplitHostPort(s.Addr)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", host)
	assert.Equal(t, []string{s.Addr}, s.Servers())
	assert.Equal(t, 2*time.Second, s.TickTime)
	assert.DirExists(t, s.Dir)
	assert.True(t, strings.HasPrefix(s.Dir, parent), "Dir %s is not under %s", s.Dir, parent)

	out, err := s.FourLetter("ruok")
	require.NoError(t, err)
	assert.Equal(t, "imok", out)
	out, err = s.FourLetter("srvr")
	require.NoError(t, err)
	assert.Contains(t, out, "Mode: standalone")
	assert.Contains(t, out, "Zookeeper version: 3.")

	// A real client round trip.
	c, _ := connect(t, s.Addr, 4*time.Second)
	_, err = c.Create("/zktest", []byte("hello"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	data, _, err := c.Get("/zktest")
	require.NoError(t, err)
	assert.Equal(t, "hello", string(data))

	// The admin server is off: the JVM listens on the client port only.
	_, port, err := net.SplitHostPort(s.Addr)
	require.NoError(t, err)
	assert.Equal(t, []string{port}, listeningPorts(t, s.Pid()))

	pid := s.Pid()
	require.NoError(t, s.Close())
	assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "JVM %d still exists after Close", pid)
	assert.ErrorIs(t, syscall.Kill(-pid, 0), syscall.ESRCH, "process group %d still exists after Close", pid)
	assert.NoDirExists(t, s.Dir)
	_, err = net.DialTimeout("tcp", s.Addr, time.Second)
	assert.Error(t, err, "something still listens on %s after Close", s.Addr)
	assert.ErrorIs(t, s.Close(), zktest.ErrClosed)
}

func TestStartTwiceGivesTwoServers(t *testing.T) {
	testenv.NeedZooKeeper(t)
	dir := t.TempDir()
	a, err := zktest.Start(dir)
	require.NoError(t, err)
	defer a.Close()
	b, err := zktest.Start(dir)
	require.NoError(t, err)
	defer b.Close()
	assert.NotEqual(t, a.Addr, b.Addr)
	assert.NotEqual(t, a.Dir, b.Dir)

	ca, _ := connect(t, a.Addr, 4*time.Second)
	_, err = ca.Create("/only-in-a", nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	cb, _ := connect(t, b.Addr, 4*time.Second)
	ok, _, err := cb.Exists("/only-in-a")
	require.NoError(t, err)
	assert.False(t, ok, "the two servers share data")
}

func TestWithTickTimeBoundsSessions(t *testing.T) {
	testenv.NeedZooKeeper(t)
	s, err := zktest.Start(t.TempDir(), zktest.WithTickTime(100*time.Millisecond))
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, 100*time.Millisecond, s.TickTime)

	out, err := s.FourLetter("conf")
	require.NoError(t, err)
	assert.Contains(t, out, "tickTime=100\n")
	assert.Contains(t, out, "minSessionTimeout=200\n")
	assert.Contains(t, out, "maxSessionTimeout=2000\n")
}

func TestStartErrors(t *testing.T) {
	tests := []struct {
		name    string
		opts    []zktest.Option
		wantIs  error
		wantMsg string
	}{
		{"no java", []zktest.Option{zktest.WithJava("/nonexistent/java")}, zktest.ErrNotInstalled, "java"},
		{"no jar", []zktest.Option{zktest.WithJava("true"), zktest.WithClassPath("/nonexistent/zookeeper.jar")}, zktest.ErrNotInstalled, "/nonexistent/zookeeper.jar"},
		{"tick too small", []zktest.Option{zktest.WithTickTime(time.Microsecond)}, nil, "tick time 1µs: must be at least 1ms"},
		{"start timeout zero", []zktest.Option{zktest.WithStartTimeout(0)}, nil, "start timeout 0s: must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := zktest.Start(dir, tt.opts...)
			require.Error(t, err)
			assert.Nil(t, s)
			if tt.wantIs != nil {
				assert.ErrorIs(t, err, tt.wantIs)
			}
			assert.Contains(t, err.Error(), tt.wantMsg)
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Empty(t, entries, "a failed Start left files behind")
		})
	}
}

// A JVM that exits at once (here: java given a class that does not exist)
// makes Start fail quickly with the server's log in the error, and leaves
// nothing behind.
func TestStartReportsJVMFailure(t *testing.T) {
	testenv.NeedZooKeeper(t)
	dir := t.TempDir()
	s, err := zktest.Start(dir, zktest.WithClassPath("/usr/share/java/slf4j-simple.jar"))
	require.Error(t, err)
	assert.Nil(t, s)
	assert.Contains(t, err.Error(), "java exited before serving")
	assert.Contains(t, err.Error(), "ZooKeeperServerMain", "the log tail is missing from the error")
	entries, rerr := os.ReadDir(dir)
	require.NoError(t, rerr)
	assert.Empty(t, entries)
}

func TestProxyCutExpiresSession(t *testing.T) {
	testenv.NeedZooKeeper(t)
	s, err := zktest.Start(t.TempDir(), zktest.WithTickTime(100*time.Millisecond))
	require.NoError(t, err)
	defer s.Close()
	p, err := zktest.NewProxy(s.Addr)
	require.NoError(t, err)
	defer p.Close()
	assert.Equal(t, s.Addr, p.Target)

	direct, _ := connect(t, s.Addr, 2*time.Second)
	c, events := connect(t, p.Addr, 400*time.Millisecond)
	_, err = c.Create("/eph", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	first := c.SessionID()

	p.Cut()
	waitState(t, events, zk.StateDisconnected, 5*time.Second)
	// The server expires the unreachable session and drops its node.
	require.Eventually(t, func() bool {
		ok, _, err := direct.Exists("/eph")
		return err == nil && !ok
	}, 10*time.Second, 20*time.Millisecond, "ephemeral node outlived its session")

	p.Restore()
	waitState(t, events, zk.StateExpired, 10*time.Second)
	waitState(t, events, zk.StateHasSession, 10*time.Second)
	assert.NotEqual(t, first, c.SessionID(), "the client kept its expired session")

	require.NoError(t, p.Close())
	assert.ErrorIs(t, p.Close(), zktest.ErrClosed)
	_, err = net.DialTimeout("tcp", p.Addr, time.Second)
	assert.Error(t, err, "the proxy still listens after Close")
}

func TestProxyUnreachableTarget(t *testing.T) {
	// A target nobody listens on: the proxy accepts, fails to dial and
	// closes the client's connection.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	target := l.Addr().String()
	require.NoError(t, l.Close())

	p, err := zktest.NewProxy(target)
	require.NoError(t, err)
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = c.Read(make([]byte, 1))
	require.Error(t, err)
	var ne net.Error
	assert.False(t, errors.As(err, &ne) && ne.Timeout(), "connection not closed by the proxy: %v", err)
}
