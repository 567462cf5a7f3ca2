package auroratest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/samuel/go-zookeeper/zk"
)

// ZooKeeper registration, as Aurora's scheduler does it
// (CuratorSingletonService.Advertiser): the leader keeps an
// EPHEMERAL_SEQUENTIAL node "member_NNNNNNNNNN" under -serverset_path
// (default /aurora/scheduler) whose body is the Gson encoding of a
// ServiceInstance (discovery/JsonCodec.java):
//
//	{"serviceEndpoint":{"host":"h","port":p},"additionalEndpoints":{"http":{"host":"h","port":p}},"status":"ALIVE"}
//
// Curator's PersistentNode re-creates the node when its session expires or
// someone deletes it; registerZK does the same. gorealis' LeaderFromZK reads
// the first member_ child and builds "<key>://<host>:<port>" from its only
// additionalEndpoints entry.

const (
	// zkMemberToken is Aurora's MEMBER_TOKEN, the prefix of the node name.
	zkMemberToken = "member_"
	// zkEndpointName is -serverset_endpoint_name's default.
	zkEndpointName = "http"
	// zkSessionTimeout is -zk_session_timeout's default
	// (ZooKeeperUtils.DEFAULT_ZK_SESSION_TIMEOUT).
	zkSessionTimeout = 15 * time.Second
	// zkRegisterTimeout bounds how long registerZK waits for the first
	// registration, so an unreachable ZooKeeper fails Start instead of
	// hanging it (Aurora itself waits forever).
	zkRegisterTimeout = 10 * time.Second
)

// zkEndpoint and zkServiceInstance are Aurora's ServiceInstance JSON, in
// Gson's field order.
type zkEndpoint struct {
	Host string `json:"host"`
	Port int    `json:"port"`
}

type zkServiceInstance struct {
	ServiceEndpoint     zkEndpoint            `json:"serviceEndpoint"`
	AdditionalEndpoints map[string]zkEndpoint `json:"additionalEndpoints"`
	Status              string                `json:"status"`
}

// zkServiceInstanceJSON returns the node body Aurora writes for a scheduler
// serving HTTP on host:port.
func zkServiceInstanceJSON(host string, port int) ([]byte, error) {
	ep := zkEndpoint{Host: host, Port: port}
	return json.Marshal(zkServiceInstance{
		ServiceEndpoint:     ep,
		AdditionalEndpoints: map[string]zkEndpoint{zkEndpointName: ep},
		Status:              "ALIVE",
	})
}

// zkQuiet is a go-zookeeper logger that drops everything: the library
// otherwise logs every connection to stdout/stderr through package log.
type zkQuiet struct{}

func (zkQuiet) Printf(string, ...any) {}

// zkRegistration keeps the scheduler's member_ node in ZooKeeper until
// Close.
type zkRegistration struct {
	conn   *zk.Conn
	parent string // ZKPath
	prefix string // parent + "/member_"
	data   []byte

	kick chan struct{} // a (new) session or a watch fired: check the node
	quit chan struct{} // closed by Close
	done chan struct{} // closed when run returns

	first     chan error // the first registration's outcome, sent once
	firstOnce sync.Once

	mu      sync.Mutex
	node    string // full path of our member_ node, "" if none
	session int64  // the session that created node
	watched string // the node an active watch is set on, "" if none

	closeOnce sync.Once
	closeErr  error
}

// registerZK registers a scheduler serving HTTP on host:port with the
// ZooKeeper ensemble servers under path, as Aurora does, and keeps the
// registration while the returned Closer is open: the node is re-created
// after a session expiry or a deletion. It returns once the node exists.
// Close removes the node and closes the ZooKeeper session.
func registerZK(servers []string, path, host string, port int) (io.Closer, error) {
	return registerZKTimeouts(servers, path, host, port, zkSessionTimeout, zkRegisterTimeout)
}

func registerZKTimeouts(servers []string, path, host string, port int, session, wait time.Duration) (*zkRegistration, error) {
	if err := validateZK(servers, path, host, port); err != nil {
		return nil, err
	}
	data, err := zkServiceInstanceJSON(host, port)
	if err != nil {
		return nil, fmt.Errorf("ZooKeeper: encode ServiceInstance: %w", err)
	}
	r := &zkRegistration{
		parent: path,
		prefix: strings.TrimSuffix(path, "/") + "/" + zkMemberToken,
		data:   data,
		kick:   make(chan struct{}, 1),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
		first:  make(chan error, 1),
	}
	// The callback runs on the library's goroutine and must not block: it
	// only wakes run, which then does the ZooKeeper calls.
	onEvent := func(ev zk.Event) {
		if ev.Type == zk.EventSession && ev.State == zk.StateHasSession {
			r.wake()
		}
	}
	conn, _, err := zk.Connect(append([]string(nil), servers...), session,
		zk.WithLogger(zkQuiet{}), zk.WithLogInfo(false), zk.WithEventCallback(onEvent))
	if err != nil {
		return nil, fmt.Errorf("ZooKeeper %v: %w", servers, err)
	}
	r.conn = conn
	go r.run()

	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case err = <-r.first:
	case <-timer.C:
		err = fmt.Errorf("ZooKeeper %v: no registration under %s within %v (is ZooKeeper running there? Server.ZooKeeper lists host:port addresses)", servers, path, wait)
	}
	if err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// validateZK checks registerZK's arguments, naming the Server field at
// fault.
func validateZK(servers []string, path, host string, port int) error {
	var errs []error
	if len(servers) == 0 {
		errs = append(errs, errors.New("ZooKeeper: no servers given; list host:port addresses, or leave it nil to skip registration"))
	}
	for i, s := range servers {
		if strings.TrimSpace(s) == "" || strings.ContainsAny(s, ", \t\n") {
			errs = append(errs, fmt.Errorf("ZooKeeper[%d] %q: want one host:port address per element", i, s))
		}
	}
	if err := validateZKPath(path); err != nil {
		errs = append(errs, err)
	}
	if host == "" {
		errs = append(errs, errors.New("ZooKeeper registration: empty host"))
	}
	if port <= 0 || port > 65535 {
		errs = append(errs, fmt.Errorf("ZooKeeper registration: port %d out of range 1-65535", port))
	}
	return errors.Join(errs...)
}

// validateZKPath applies ZooKeeper's path rules (PathUtils.validatePath),
// which Aurora applies to -serverset_path.
func validateZKPath(path string) error {
	bad := func(why string) error {
		return fmt.Errorf("ZKPath %q: %s (e.g. %q)", path, why, "/aurora/scheduler")
	}
	switch {
	case path == "":
		return bad("empty")
	case path[0] != '/':
		return bad(`must start with "/"`)
	case path == "/":
		return nil
	case strings.HasSuffix(path, "/"):
		return bad(`must not end with "/"`)
	}
	for _, part := range strings.Split(path[1:], "/") {
		switch part {
		case "":
			return bad(`empty element ("//")`)
		case ".", "..":
			return bad(`relative element "` + part + `"`)
		}
	}
	for _, c := range path {
		if c == 0 || (c > 0 && c < 0x20) || (c >= 0x7f && c <= 0x9f) ||
			(c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff0 && c <= 0xffff) {
			return bad(fmt.Sprintf("invalid character %U", c))
		}
	}
	return nil
}

// wake asks run to check the registration, without blocking.
func (r *zkRegistration) wake() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// run keeps the node registered: on every new session, and whenever the
// node's watch fires, it makes sure a node of the current session exists.
// Failures are retried with back-off until the next wake or Close.
func (r *zkRegistration) run() {
	defer close(r.done)
	for {
		select {
		case <-r.quit:
			return
		case <-r.kick:
		}
		backoff := 50 * time.Millisecond
		for {
			err := r.ensure()
			if err == nil || zkPermanent(err) {
				r.firstOnce.Do(func() { r.first <- err })
			}
			if err == nil {
				break
			}
			select {
			case <-r.quit:
				return
			case <-r.kick:
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 2*time.Second)
		}
	}
}

// zkPermanent reports whether err will not go away by retrying.
func zkPermanent(err error) bool {
	for _, e := range []error{zk.ErrInvalidPath, zk.ErrNoAuth, zk.ErrInvalidACL,
		zk.ErrNoChildrenForEphemerals, zk.ErrAuthFailed, zk.ErrAPIError} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// ensure makes sure a member_ node of the current session exists, creating
// the parent path and the node as needed, and watches it.
func (r *zkRegistration) ensure() error {
	if r.conn.State() != zk.StateHasSession {
		return zk.ErrNoServer // wait for the next session
	}
	sid := r.conn.SessionID()
	r.mu.Lock()
	node, owner := r.node, r.session
	r.mu.Unlock()

	if node == "" || owner != sid {
		var err error
		node, err = r.create(sid)
		if err != nil {
			return err
		}
		r.mu.Lock()
		r.node, r.session = node, sid
		r.mu.Unlock()
	}

	// Watch the node: a deletion (or the session ending) wakes run. One
	// watch at a time: a reconnection within the session keeps it.
	r.mu.Lock()
	watched := r.watched == node
	r.mu.Unlock()
	if watched && owner == sid {
		// A reconnection within the session: the client library sets the
		// watch again on the server, which fires it if the node went away
		// meanwhile, so there is nothing to ask. Asking anyway would race
		// go-zookeeper: its reply would update the client's last zxid
		// while the library reads it to set the watches again (a data
		// race inside the library, seen under -race on a loaded machine).
		return nil
	}
	ok, stat, ch, err := r.conn.ExistsW(node)
	if err != nil {
		return fmt.Errorf("ZooKeeper: check %s: %w", node, err)
	}
	if !ok || stat.EphemeralOwner != sid {
		r.mu.Lock()
		r.node = ""
		r.mu.Unlock()
		if ok {
			// Not ours (the path was reused): forget it, create anew.
			return fmt.Errorf("ZooKeeper: %s belongs to another session", node)
		}
		r.wake()
		return nil
	}
	r.mu.Lock()
	r.watched = node
	r.mu.Unlock()
	go func() {
		select {
		case <-ch:
			r.mu.Lock()
			if r.watched == node {
				r.watched = ""
			}
			r.mu.Unlock()
			r.wake()
		case <-r.quit:
		}
	}()
	return nil
}

// create creates the parent path and a member_ node for session sid, or
// adopts one of sid's that a create whose reply was lost already made.
func (r *zkRegistration) create(sid int64) (string, error) {
	if err := r.createParents(); err != nil {
		return "", err
	}
	children, _, err := r.conn.Children(r.parent)
	if err != nil {
		return "", fmt.Errorf("ZooKeeper: list %s: %w", r.parent, err)
	}
	base := strings.TrimSuffix(r.parent, "/") + "/"
	for _, c := range children {
		if !strings.HasPrefix(c, zkMemberToken) {
			continue
		}
		data, stat, err := r.conn.Get(base + c)
		if err == nil && stat.EphemeralOwner == sid && bytes.Equal(data, r.data) {
			return base + c, nil
		}
	}
	node, err := r.conn.Create(r.prefix, r.data, zk.FlagEphemeral|zk.FlagSequence, zk.WorldACL(zk.PermAll))
	if err != nil {
		return "", fmt.Errorf("ZooKeeper: create %s: %w", r.prefix, err)
	}
	return node, nil
}

// createParents creates each missing element of the parent path as a
// persistent, empty node open to everyone, as Curator does.
func (r *zkRegistration) createParents() error {
	if r.parent == "/" {
		return nil
	}
	ok, _, err := r.conn.Exists(r.parent)
	if err != nil {
		return fmt.Errorf("ZooKeeper: check %s: %w", r.parent, err)
	}
	if ok {
		return nil
	}
	p := ""
	for _, part := range strings.Split(r.parent[1:], "/") {
		p += "/" + part
		_, err := r.conn.Create(p, nil, 0, zk.WorldACL(zk.PermAll))
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("ZooKeeper: create %s: %w", p, err)
		}
	}
	return nil
}

// Node returns the path of the current member_ node ("" if none right now).
func (r *zkRegistration) Node() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.node
}

// Close stops keeping the registration, deletes the node (waiting at most a
// few seconds when ZooKeeper is unreachable; the node then goes when the
// session expires) and closes the session. Later calls do nothing.
func (r *zkRegistration) Close() error {
	r.closeOnce.Do(func() {
		close(r.quit)
		<-r.done
		r.mu.Lock()
		node := r.node
		r.node = ""
		r.mu.Unlock()
		if node != "" && r.conn.State() == zk.StateHasSession {
			deleted := make(chan error, 1)
			go func() { deleted <- r.conn.Delete(node, -1) }()
			select {
			case err := <-deleted:
				if err != nil && !errors.Is(err, zk.ErrNoNode) {
					r.closeErr = fmt.Errorf("ZooKeeper: delete %s: %w", node, err)
				}
			case <-time.After(3 * time.Second):
				r.closeErr = fmt.Errorf("ZooKeeper: delete %s: no answer within 3s", node)
			}
		}
		// Closing the session removes the node in any case.
		r.conn.Close()
	})
	return r.closeErr
}
