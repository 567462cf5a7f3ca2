package auroratest

import (
	"net"
	"testing"
	"time"

	"github.com/samuel/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/internal/zktest"
)

// After the session expires (the network is cut for longer than the
// session timeout), the node comes back under a new session.
func TestRegisterZKSessionExpiry(t *testing.T) {
	// A 100ms tick lets the server grant the 400ms session asked for.
	zs := startZK(t, zktest.WithTickTime(100*time.Millisecond))
	look := zkClient(t, zs.Addr)
	proxy, err := zktest.NewProxy(zs.Addr)
	require.NoError(t, err)
	defer proxy.Close()

	reg, err := registerZKTimeouts([]string{proxy.Addr}, "/aurora/scheduler", "127.0.0.1", 8081, 400*time.Millisecond, 10*time.Second)
	require.NoError(t, err)
	defer reg.Close()
	first := reg.Node()
	require.NotEmpty(t, first)
	_, st, err := look.Get(first)
	require.NoError(t, err)
	firstOwner := st.EphemeralOwner

	proxy.Cut()
	testenv.Eventually(t, 10*time.Second, 20*time.Millisecond, func() (bool, error) {
		m, err := memberList(look, "/aurora/scheduler")
		return len(m) == 0, err
	}, "the server never expired the cut-off session")
	proxy.Restore()

	var again string
	testenv.Eventually(t, 15*time.Second, 20*time.Millisecond, func() (bool, error) {
		m, err := memberList(look, "/aurora/scheduler")
		if err != nil || len(m) != 1 {
			return false, err
		}
		again = "/aurora/scheduler/" + m[0]
		return true, nil
	}, "the registration did not come back after the session expired")
	assert.NotEqual(t, first, again)
	data, st, err := look.Get(again)
	require.NoError(t, err)
	assert.Equal(t, wantJSON(8081), string(data))
	assert.NotEqual(t, firstOwner, st.EphemeralOwner)
	// (gorealis' lookup of the node is TestRegisterZK's: its client, on
	// this test's short sessions, could reconnect mid-call and hit
	// go-zookeeper's watch race; see startZK.)

	// With a 400 ms session on a loaded machine the connection may be
	// between reconnects when Close runs: then the node goes with the
	// session, as Close's doc says, not at once (TestRegisterZK checks the
	// delete on a steady session).
	require.NoError(t, reg.Close())
	testenv.Eventually(t, 15*time.Second, 20*time.Millisecond, func() (bool, error) {
		m, err := memberList(look, "/aurora/scheduler")
		return len(m) == 0, err
	}, "the registration outlived Close and its session")
}

// A network blip shorter than the session timeout keeps the session, and
// with it the same node: no duplicate member_ appears.
func TestRegisterZKReconnectKeepsNode(t *testing.T) {
	// Sessions of up to 20s, so the blip (go-zookeeper retries once a
	// second) stays well inside the 8s session even on a loaded machine.
	zs := startZK(t, zktest.WithTickTime(time.Second))
	look := zkClient(t, zs.Addr)
	proxy, err := zktest.NewProxy(zs.Addr)
	require.NoError(t, err)
	defer proxy.Close()

	reg, err := registerZKTimeouts([]string{proxy.Addr}, "/aurora/scheduler", "127.0.0.1", 8081, 8*time.Second, 10*time.Second)
	require.NoError(t, err)
	defer reg.Close()
	first := reg.Node()
	sid := reg.conn.SessionID()

	proxy.Cut()
	require.Eventually(t, func() bool { return reg.conn.State() != zk.StateHasSession },
		10*time.Second, 5*time.Millisecond, "the client never noticed the cut")
	proxy.Restore()
	require.Eventually(t, func() bool { return reg.conn.State() == zk.StateHasSession },
		10*time.Second, 5*time.Millisecond, "the client never reconnected")
	assert.Equal(t, sid, reg.conn.SessionID(), "the session did not survive a short blip")
	testenv.Never(t, 500*time.Millisecond, 20*time.Millisecond, func() (bool, error) {
		m, err := memberList(look, "/aurora/scheduler")
		return err == nil && (len(m) != 1 || "/aurora/scheduler/"+m[0] != first), err
	}, "the node changed or was duplicated")
	assert.Equal(t, first, reg.Node())
}

// Someone deleting the node (an operator, a cleanup script) does not end
// the registration: Curator's PersistentNode re-creates it, and so do we.
func TestRegisterZKNodeDeleted(t *testing.T) {
	zs := startZK(t)
	look := zkClient(t, zs.Addr)
	reg, err := registerZK(zs.Servers(), "/aurora/scheduler", "127.0.0.1", 8081)
	require.NoError(t, err)
	defer reg.Close()
	first := reg.(*zkRegistration).Node()
	require.NoError(t, look.Delete(first, -1))

	testenv.Eventually(t, 10*time.Second, 20*time.Millisecond, func() (bool, error) {
		m, err := memberList(look, "/aurora/scheduler")
		return len(m) == 1 && "/aurora/scheduler/"+m[0] != first, err
	}, "the deleted node was not re-created")
	url, err := leader(zs.Addr, "/aurora/scheduler")
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8081", url)
}

// ZooKeeper going away first (a test closing it before the scheduler)
// must not hang Close; the node goes with the session in any case.
func TestRegisterZKCloseAfterZooKeeperGone(t *testing.T) {
	zs := startZK(t)
	reg, err := registerZK(zs.Servers(), "/aurora/scheduler", "127.0.0.1", 8081)
	require.NoError(t, err)
	require.NoError(t, zs.Close())
	require.Eventually(t, func() bool { return reg.(*zkRegistration).conn.State() != zk.StateHasSession },
		10*time.Second, 5*time.Millisecond)

	closed := make(chan error, 1)
	go func() { closed <- reg.Close() }()
	select {
	case err := <-closed:
		assert.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Close hangs when ZooKeeper is gone")
	}
}

func TestRegisterZKBadArguments(t *testing.T) {
	tests := []struct {
		name    string
		servers []string
		path    string
		host    string
		port    int
		want    []string
	}{
		{"no servers", []string{}, "/aurora/scheduler", "h", 1, []string{"ZooKeeper: no servers given"}},
		{"comma list in one element", []string{"a:2181,b:2181"}, "/aurora/scheduler", "h", 1, []string{`ZooKeeper[0] "a:2181,b:2181": want one host:port address per element`}},
		{"empty server", []string{""}, "/aurora/scheduler", "h", 1, []string{`ZooKeeper[0] ""`}},
		{"empty path", []string{"127.0.0.1:2181"}, "", "h", 1, []string{`ZKPath "": empty`}},
		{"relative path", []string{"127.0.0.1:2181"}, "aurora/scheduler", "h", 1, []string{`ZKPath "aurora/scheduler": must start with "/"`}},
		{"trailing slash", []string{"127.0.0.1:2181"}, "/aurora/", "h", 1, []string{`ZKPath "/aurora/": must not end with "/"`}},
		{"double slash", []string{"127.0.0.1:2181"}, "/aurora//scheduler", "h", 1, []string{`ZKPath "/aurora//scheduler": empty element`}},
		{"dot dot", []string{"127.0.0.1:2181"}, "/aurora/../x", "h", 1, []string{`ZKPath "/aurora/../x": relative element ".."`}},
		{"control character", []string{"127.0.0.1:2181"}, "/aurora\x01", "h", 1, []string{`invalid character U+0001`}},
		{"no host", []string{"127.0.0.1:2181"}, "/a", "", 1, []string{"empty host"}},
		{"bad port", []string{"127.0.0.1:2181"}, "/a", "h", 0, []string{"port 0 out of range 1-65535"}},
		{"everything wrong", nil, "x", "", 70000, []string{"no servers", `must start with "/"`, "empty host", "port 70000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, err := registerZK(tt.servers, tt.path, tt.host, tt.port)
			require.Error(t, err)
			assert.Nil(t, reg)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// An unreachable ZooKeeper fails registration after the wait instead of
// hanging the scheduler's Start.
func TestRegisterZKUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	type result struct {
		reg *zkRegistration
		err error
	}
	done := make(chan result, 1)
	go func() {
		reg, err := registerZKTimeouts([]string{addr}, "/aurora/scheduler", "127.0.0.1", 8081, time.Second, 300*time.Millisecond)
		done <- result{reg, err}
	}()
	// It returns (a hang guard, not a measurement: the close of the failed
	// registration waits at most go-zookeeper's 1s for the server).
	var r result
	select {
	case r = <-done:
	case <-time.After(time.Minute):
		t.Fatal("registration with an unreachable ZooKeeper hung")
	}
	require.Error(t, r.err)
	assert.Nil(t, r.reg)
	assert.Contains(t, r.err.Error(), "ZooKeeper ["+addr+"]: no registration under /aurora/scheduler within 300ms")
}

// A ZooKeeper setting that cannot work stops Start with a message naming
// the field, before any connection is tried.
func TestServerBadZooKeeperSettings(t *testing.T) {
	tests := []struct {
		name      string
		zookeeper []string
		path      string
		want      string
	}{
		{"relative path", []string{"127.0.0.1:2181"}, "aurora/scheduler",
			`auroratest: ZooKeeper registration: ZKPath "aurora/scheduler": must start with "/" (e.g. "/aurora/scheduler")`},
		{"empty list", []string{}, "",
			"auroratest: ZooKeeper registration: ZooKeeper: no servers given; list host:port addresses, or leave it nil to skip registration"},
		{"comma-separated string", []string{"a:2181,b:2181"}, "",
			`auroratest: ZooKeeper registration: ZooKeeper[0] "a:2181,b:2181": want one host:port address per element`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := NewUnstartedServer(nil)
			srv.ZooKeeper = tt.zookeeper
			srv.ZKPath = tt.path
			defer srv.Close()
			assert.PanicsWithValue(t, tt.want, srv.Start)
		})
	}
}
