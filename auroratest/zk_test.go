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

// startZK starts a real ZooKeeper for one test, with ZooKeeper's default
// 2s tick unless opts change it. A short tick caps sessions (at 20 ticks)
// and so the receive timeout of every client, gorealis' included: on a
// loaded machine those then reconnect mid-call, and go-zookeeper's
// re-setting of watches races with its own reader (a data race inside the
// library). Only a test of session expiry asks for a short tick.
func startZK(t testing.TB, opts ...zktest.Option) *zktest.Server {
	t.Helper()
	testenv.NeedZooKeeper(t)
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
