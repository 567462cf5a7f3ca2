package auroratest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/samuel/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/internal/zktest"
)

// startZK starts a real ZooKeeper for one test. Its 100ms tick (unless
// opts change it) caps sessions at 2s, so an expiry takes seconds, not
// Aurora's 15s.
func startZK(t testing.TB, opts ...zktest.Option) *zktest.Server {
	t.Helper()
	testenv.NeedZooKeeper(t)
	opts = append([]zktest.Option{zktest.WithTickTime(100 * time.Millisecond)}, opts...)
	s, err := zktest.Start(t.TempDir(), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// zkClient is an independent ZooKeeper session for looking at the tree.
func zkClient(t testing.TB, addr string) *zk.Conn {
	t.Helper()
	c, events, err := zk.Connect([]string{addr}, 2*time.Second, zk.WithLogger(zkQuiet{}))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				return c
			}
		case <-deadline:
			t.Fatalf("no ZooKeeper session with %s", addr)
		}
	}
}

// members returns the member_ children of path.
func members(t testing.TB, c *zk.Conn, path string) []string {
	t.Helper()
	m, err := memberList(c, path)
	require.NoError(t, err)
	return m
}

// memberList returns the member_ children of path (none when path does
// not exist).
func memberList(c *zk.Conn, path string) ([]string, error) {
	children, _, err := c.Children(path)
	if err == zk.ErrNoNode {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("children of %s: %w", path, err)
	}
	var m []string
	for _, ch := range children {
		if strings.HasPrefix(ch, "member_") {
			m = append(m, ch)
		}
	}
	return m, nil
}

// leader asks gorealis where the scheduler is, as a client with
// realis.ZKUrl does, with a short back-off.
func leader(addr, path string) (string, error) {
	return realis.LeaderFromZKOpts(
		realis.ZKEndpoints(addr), realis.ZKPath(path),
		realis.ZKBackoff(realis.Backoff{Steps: 2, Duration: 10 * time.Millisecond, Factor: 1}),
		realis.ZKTimeout(2*time.Second))
}

// wantJSON is Aurora's ServiceInstance for 127.0.0.1:port, byte for byte
// as Gson writes it (JsonCodec: fields in declaration order, no spaces).
func wantJSON(port int) string {
	return fmt.Sprintf(`{"serviceEndpoint":{"host":"127.0.0.1","port":%d},`+
		`"additionalEndpoints":{"http":{"host":"127.0.0.1","port":%d}},"status":"ALIVE"}`, port, port)
}

var memberName = regexp.MustCompile(`^member_[0-9]{10}$`)

func TestRegisterZK(t *testing.T) {
	zs := startZK(t)
	look := zkClient(t, zs.Addr)
	const port = 8081

	// go-zookeeper logs every connection through package log unless given
	// a logger: registration must stay silent.
	var logged bytes.Buffer
	prev := log.Writer()
	log.SetOutput(&logged)
	defer log.SetOutput(prev)

	reg, err := registerZK(zs.Servers(), "/aurora/scheduler", "127.0.0.1", port)
	require.NoError(t, err)

	m := members(t, look, "/aurora/scheduler")
	require.Len(t, m, 1)
	assert.Regexp(t, memberName, m[0])
	data, stat, err := look.Get("/aurora/scheduler/" + m[0])
	require.NoError(t, err)
	assert.Equal(t, wantJSON(port), string(data))
	assert.NotZero(t, stat.EphemeralOwner, "member node is not ephemeral")
	assert.Equal(t, "/aurora/scheduler/"+m[0], reg.(*zkRegistration).Node())
	for _, p := range []string{"/aurora", "/aurora/scheduler"} {
		_, st, err := look.Get(p)
		require.NoError(t, err, p)
		assert.Zero(t, st.EphemeralOwner, "%s must be persistent", p)
	}

	// gorealis finds it both ways a client can ask.
	url, err := leader(zs.Addr, "/aurora/scheduler")
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8081", url)
	url, err = realis.LeaderFromZK(realis.Cluster{Name: "devcluster", ZK: zs.Addr, SchedZKPath: "/aurora/scheduler"})
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8081", url)

	require.NoError(t, reg.Close())
	assert.Empty(t, members(t, look, "/aurora/scheduler"), "member node outlived Close")
	ok, _, err := look.Exists("/aurora/scheduler")
	require.NoError(t, err)
	assert.True(t, ok, "Close removed the parent path, which Aurora keeps")
	_, err = leader(zs.Addr, "/aurora/scheduler")
	assert.ErrorContains(t, err, "no leader found")
	assert.NoError(t, reg.Close(), "second Close")

	assert.Empty(t, logged.String(), "registration wrote to the log")
}

func TestRegisterZKPaths(t *testing.T) {
	zs := startZK(t)
	look := zkClient(t, zs.Addr)
	tests := []struct {
		name, path string
		wantNode   *regexp.Regexp
	}{
		{"deep path created", "/clusters/eu/west/aurora/scheduler", regexp.MustCompile(`^/clusters/eu/west/aurora/scheduler/member_[0-9]{10}$`)},
		{"existing parent", "/clusters/eu", regexp.MustCompile(`^/clusters/eu/member_[0-9]{10}$`)},
		{"root", "/", regexp.MustCompile(`^/member_[0-9]{10}$`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, err := registerZK(zs.Servers(), tt.path, "127.0.0.1", 9000)
			require.NoError(t, err)
			node := reg.(*zkRegistration).Node()
			assert.Regexp(t, tt.wantNode, node)
			data, _, err := look.Get(node)
			require.NoError(t, err)
			assert.Equal(t, wantJSON(9000), string(data))
			require.NoError(t, reg.Close())
			ok, _, err := look.Exists(node)
			require.NoError(t, err)
			assert.False(t, ok)
		})
	}
}

// Two schedulers under one path each get their own sequence number, as
// Aurora's (leader and a stale one) would.
func TestRegisterZKTwoSchedulers(t *testing.T) {
	zs := startZK(t)
	look := zkClient(t, zs.Addr)
	a, err := registerZK(zs.Servers(), "/aurora/scheduler", "127.0.0.1", 1111)
	require.NoError(t, err)
	defer a.Close()
	b, err := registerZK(zs.Servers(), "/aurora/scheduler", "127.0.0.1", 2222)
	require.NoError(t, err)
	defer b.Close()
	m := members(t, look, "/aurora/scheduler")
	assert.ElementsMatch(t, []string{"member_0000000000", "member_0000000001"}, m)

	require.NoError(t, a.Close())
	url, err := leader(zs.Addr, "/aurora/scheduler")
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:2222", url)
}

// After the session expires (the network is cut for longer than the
// session timeout), the node comes back under a new session.
func TestRegisterZKSessionExpiry(t *testing.T) {
	zs := startZK(t)
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
	url, err := leader(zs.Addr, "/aurora/scheduler")
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8081", url)

	require.NoError(t, reg.Close())
	assert.Empty(t, members(t, look, "/aurora/scheduler"))
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

func TestZKServiceInstanceJSON(t *testing.T) {
	tests := []struct {
		host string
		port int
		want string
	}{
		{"127.0.0.1", 8081, wantJSON(8081)},
		{"aurora.local", 443, `{"serviceEndpoint":{"host":"aurora.local","port":443},"additionalEndpoints":{"http":{"host":"aurora.local","port":443}},"status":"ALIVE"}`},
	}
	for _, tt := range tests {
		t.Run(tt.host+":"+strconv.Itoa(tt.port), func(t *testing.T) {
			got, err := zkServiceInstanceJSON(tt.host, tt.port)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
}

// The whole path a user takes: a scheduler started with ZooKeeper set is
// found by a gorealis client that knows only ZooKeeper, and answers real
// calls; after Close it is gone from ZooKeeper.
func TestServerDiscoveredThroughZooKeeper(t *testing.T) {
	zs := startZK(t)
	look := zkClient(t, zs.Addr)

	srv := NewUnstartedServer(nil)
	srv.TimeScale = 1000
	srv.ZooKeeper = zs.Servers()
	srv.Start()
	defer srv.Close()

	m := members(t, look, "/aurora/scheduler")
	require.Len(t, m, 1)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	port, err := strconv.Atoi(u.Port())
	require.NoError(t, err)
	data, _, err := look.Get("/aurora/scheduler/" + m[0])
	require.NoError(t, err)
	assert.Equal(t, wantJSON(port), string(data))
	got, err := leader(zs.Addr, "/aurora/scheduler")
	require.NoError(t, err)
	assert.Equal(t, srv.URL, got)

	// gorealis prefers ZooKeeper to a scheduler URL, so with a dead URL
	// the calls below only work if the client found srv through ZooKeeper.
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	deadURL := "http://" + dead.Addr().String()
	require.NoError(t, dead.Close())
	r, err := realis.NewRealisClient(append(srv.ClientOptions(),
		realis.SchedulerUrl(deadURL), realis.ZKUrl(zs.Addr))...)
	require.NoError(t, err)
	defer r.Close()

	job := realis.NewJob().
		Environment("prod").Role("vagrant").Name("zk").
		ExecutorName(aurora.AURORA_EXECUTOR_NAME).ExecutorData(`{"name": "zk"}`).
		CPU(0.25).RAM(64).Disk(100).IsService(true).InstanceCount(2)
	resp, err := r.CreateJob(job)
	require.NoError(t, err)
	assert.Equal(t, aurora.ResponseCode_OK, resp.ResponseCode)
	_, jobs, err := r.GetJobs("vagrant")
	require.NoError(t, err)
	require.Len(t, jobs.Configs, 1)
	assert.Equal(t, "zk", jobs.Configs[0].Key.Name)
	ok, err := (&realis.Monitor{Client: r}).Instances(job.JobKey(), 2, 1, 10)
	require.NoError(t, err)
	assert.True(t, ok)

	srv.Close()
	assert.Empty(t, members(t, look, "/aurora/scheduler"), "the scheduler stayed registered after Close")
	_, err = leader(zs.Addr, "/aurora/scheduler")
	assert.ErrorContains(t, err, "no leader found")
}

// ZKPath moves the registration; gorealis finds it with ZookeeperOptions.
func TestServerZKPath(t *testing.T) {
	zs := startZK(t)
	srv := NewUnstartedServer(nil)
	srv.ZooKeeper = zs.Servers()
	srv.ZKPath = "/clusters/test/scheduler"
	srv.Start()
	defer srv.Close()

	got, err := leader(zs.Addr, "/clusters/test/scheduler")
	require.NoError(t, err)
	assert.Equal(t, srv.URL, got)
	_, err = leader(zs.Addr, "/aurora/scheduler")
	assert.Error(t, err, "registered under the default path too")

	r, err := realis.NewRealisClient(append(srv.ClientOptions(), realis.ZookeeperOptions(
		realis.ZKEndpoints(zs.Addr), realis.ZKPath("/clusters/test/scheduler")))...)
	require.NoError(t, err)
	defer r.Close()
	resp, _, err := r.GetJobs("vagrant")
	require.NoError(t, err)
	assert.Equal(t, aurora.ResponseCode_OK, resp.ResponseCode)
}

// FuzzZKServiceInstanceJSON checks that whatever host and port the node is
// written with, gorealis' decoding (its serviceInstance shape) reads back
// exactly one "http" endpoint with that host and port.
func FuzzZKServiceInstanceJSON(f *testing.F) {
	f.Add("127.0.0.1", 8081)
	f.Add("aurora.local", 443)
	f.Add("h\"<&>\u2028", 1)
	f.Add("\xff", 65535)
	f.Add("\xd7\xd7", 8130)
	f.Fuzz(func(t *testing.T, host string, port int) {
		data, err := zkServiceInstanceJSON(host, port)
		require.NoError(t, err)
		// gorealis' serviceInstance, field for field (zk.go).
		var got struct {
			Service struct {
				Host string `json:"host"`
				Port int    `json:"port"`
			} `json:"serviceEndpoint"`
			AdditionalEndpoints map[string]struct {
				Host string `json:"host"`
				Port int    `json:"port"`
			} `json:"additionalEndpoints"`
			Status string `json:"status"`
		}
		require.NoError(t, json.Unmarshal(data, &got))
		// encoding/json writes each invalid UTF-8 byte as U+FFFD.
		var w strings.Builder
		for i := 0; i < len(host); {
			r, size := utf8.DecodeRuneInString(host[i:])
			w.WriteRune(r) // utf8.RuneError for an invalid byte
			i += size
		}
		want := w.String()
		require.Len(t, got.AdditionalEndpoints, 1)
		ep, ok := got.AdditionalEndpoints["http"]
		require.True(t, ok)
		assert.Equal(t, want, ep.Host)
		assert.Equal(t, port, ep.Port)
		assert.Equal(t, want, got.Service.Host)
		assert.Equal(t, port, got.Service.Port)
		assert.Equal(t, "ALIVE", got.Status)
	})
}

// BenchmarkRegisterZK measures one scheduler registration and its removal
// (session, parent check, create, watch, delete, close) against a real
// ZooKeeper.
func BenchmarkRegisterZK(b *testing.B) {
	zs := startZK(b)
	b.ReportAllocs()
	for b.Loop() {
		reg, err := registerZK(zs.Servers(), "/aurora/scheduler", "127.0.0.1", 8081)
		if err != nil {
			b.Fatal(err)
		}
		if err := reg.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLeaderFromZK measures what a gorealis client pays to find the
// registered scheduler (realis.LeaderFromZKOpts: connect, list, get).
func BenchmarkLeaderFromZK(b *testing.B) {
	zs := startZK(b)
	reg, err := registerZK(zs.Servers(), "/aurora/scheduler", "127.0.0.1", 8081)
	if err != nil {
		b.Fatal(err)
	}
	defer reg.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := leader(zs.Addr, "/aurora/scheduler"); err != nil {
			b.Fatal(err)
		}
	}
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

// A scheduler registered in ZooKeeper, found by a gorealis client that is
// given only the ZooKeeper address, as with a real Aurora cluster.
func ExampleServer_zooKeeper() {
	zs, err := zktest.Start("") // or any ZooKeeper: "host:port"
	if err != nil {
		log.Fatal(err)
	}
	defer zs.Close()

	srv := NewUnstartedServer(nil)
	srv.ZooKeeper = []string{zs.Addr} // registers under /aurora/scheduler
	srv.Start()
	defer srv.Close()

	r, err := realis.NewRealisClient(realis.ZKUrl(zs.Addr), realis.SetLogger(realis.NoopLogger{}))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	resp, _, err := r.GetJobs("vagrant")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.ResponseCode)
}
