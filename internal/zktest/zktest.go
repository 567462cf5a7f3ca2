// Package zktest runs a real, throwaway ZooKeeper server for tests: the
// server from Debian's zookeeper package (a JVM), in standalone mode, on
// 127.0.0.1 with a free port and its own data directory, without the admin
// server. It is meant to be started once per test binary (from TestMain) or
// once per test, and stopped with Close, which leaves no process behind.
//
// A Proxy sits between clients and the server and can cut every connection
// on demand, so tests can make a ZooKeeper session expire for real.
//
// To share one server across a test binary:
//
//	var zkAddr string
//
//	func TestMain(m *testing.M) {
//		srv, err := zktest.Start("")
//		if err != nil {
//			// errors.Is(err, zktest.ErrNotInstalled): run without it, and let
//			// testenv.NeedZooKeeper skip (or, in CI, fail) the tests that need it.
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(m.Run())
//		}
//		zkAddr = srv.Addr
//		code := m.Run()
//		srv.Close() // os.Exit skips deferred calls
//		os.Exit(code)
//	}
//
// Should the test binary die before Close, the kernel kills the JVM with it
// (Linux); only the directory under the temporary directory stays.
package zktest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ClassPath is the Java class path of Debian's zookeeper package: the
// server jar (whose manifest names its dependencies) and an slf4j binding so
// the server's log goes to the log file instead of being dropped.
const ClassPath = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar"

// mainClass is ZooKeeper's standalone server entry point.
const mainClass = "org.apache.zookeeper.server.ZooKeeperServerMain"

// ErrNotInstalled is returned (wrapped) by Start when java or the ZooKeeper
// jar is missing. Tests can skip on it outside CI.
var ErrNotInstalled = errors.New("zktest: zookeeper not installed")

// ErrClosed is returned by Server.Close and Proxy.Close when called twice.
var ErrClosed = errors.New("zktest: already closed")

// Server is a running ZooKeeper server. Its fields are set by Start and must
// not be changed.
type Server struct {
	// Addr is the client address, "127.0.0.1:port".
	Addr string
	// Dir is the directory holding the server's configuration (zoo.cfg),
	// data (data/) and log (zookeeper.log). Close removes it.
	Dir string
	// TickTime is the server's tick; sessions may last from 2 to 20 ticks.
	TickTime time.Duration

	cmd     *exec.Cmd
	logFile *os.File
	exited  chan struct{} // closed when the JVM has exited
	waitErr error         // set before exited is closed

	closeOnce sync.Once
	closeErr  error
}

// An Option changes how Start runs the server.
type Option func(*config)

type config struct {
	tickTime     time.Duration
	startTimeout time.Duration
	java         string
	classPath    string
}

// WithTickTime sets ZooKeeper's tickTime (default 2s, ZooKeeper's own
// default). The server grants session timeouts between 2 and 20 ticks, so a
// short tick lets a test expire a session quickly. It is rounded down to
// whole milliseconds and must be at least 1ms.
func WithTickTime(d time.Duration) Option {
	return func(c *config) { c.tickTime = d }
}

// WithStartTimeout bounds how long Start waits for the server to serve
// (default 60s; a JVM usually needs one to three seconds).
func WithStartTimeout(d time.Duration) Option {
	return func(c *config) { c.startTimeout = d }
}

// WithJava sets the java program (default: "java" looked up in $PATH).
func WithJava(path string) Option {
	return func(c *config) { c.java = path }
}

// WithClassPath replaces ClassPath, for a ZooKeeper installed elsewhere.
func WithClassPath(cp string) Option {
	return func(c *config) { c.classPath = cp }
}

// Start starts a ZooKeeper server in a new directory under dir (the system
// temporary directory if dir is empty) and returns once it serves requests.
// It picks a free port on 127.0.0.1, retrying with another one if that port
// is taken in the meantime. The caller must call Close.
func Start(dir string, opts ...Option) (*Server, error) {
	cfg := config{tickTime: 2 * time.Second, startTimeout: 60 * time.Second, java: "java", classPath: ClassPath}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.tickTime < time.Millisecond {
		return nil, fmt.Errorf("zktest: tick time %v: must be at least 1ms", cfg.tickTime)
	}
	if cfg.startTimeout <= 0 {
		return nil, fmt.Errorf("zktest: start timeout %v: must be positive", cfg.startTimeout)
	}
	java, err := exec.LookPath(cfg.java)
	if err != nil {
		return nil, fmt.Errorf("%w: java: %w", ErrNotInstalled, err)
	}
	cfg.java = java
	for _, jar := range filepath.SplitList(cfg.classPath) {
		if _, err := os.Stat(jar); err != nil {
			return nil, fmt.Errorf("%w: class path entry: %w", ErrNotInstalled, err)
		}
	}

	const attempts = 5
	for i := 1; ; i++ {
		s, err := start(dir, cfg)
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, errPortTaken) || i == attempts {
			return nil, err
		}
	}
}

// errPortTaken marks a start that failed because another process took the
// chosen port between choosing and binding it.
var errPortTaken = errors.New("port taken")

func start(parent string, cfg config) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(parent, "zktest-")
	if err != nil {
		return nil, fmt.Errorf("zktest: %w", err)
	}
	s := &Server{
		Addr:     net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Dir:      dir,
		TickTime: cfg.tickTime.Truncate(time.Millisecond),
		exited:   make(chan struct{}),
	}
	fail := func(err error) (*Server, error) {
		s.stop()
		os.RemoveAll(dir)
		return nil, err
	}

	dataDir := filepath.Join(dir, "data")
	if err := os.Mkdir(dataDir, 0o755); err != nil {
		return fail(fmt.Errorf("zktest: %w", err))
	}
	zooCfg := fmt.Sprintf(`# written by zktest
tickTime=%d
dataDir=%s
clientPort=%d
clientPortAddress=127.0.0.1
maxClientCnxns=0
forceSync=no
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,stat,mntr,cons,conf,envi
`, s.TickTime.Milliseconds(), dataDir, port)
	cfgPath := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(zooCfg), 0o644); err != nil {
		return fail(fmt.Errorf("zktest: %w", err))
	}
	s.logFile, err = os.Create(filepath.Join(dir, "zookeeper.log"))
	if err != nil {
		return fail(fmt.Errorf("zktest: %w", err))
	}

	s.cmd = exec.Command(cfg.java,
		"-Xms16m", "-Xmx256m",
		"-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
		"-Djava.net.preferIPv4Stack=true",
		"-Dzookeeper.admin.enableServer=false",
		"-Dzookeeper.jmx.log4j.disable=true",
		"-Dorg.slf4j.simpleLogger.showDateTime=true",
		"-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSZ",
		"-cp", cfg.classPath,
		mainClass, cfgPath)
	s.cmd.Dir = dir
	s.cmd.Stdout = s.logFile
	s.cmd.Stderr = s.logFile
	s.cmd.SysProcAttr = sysProcAttr()
	// The JVM is started and waited for on one locked OS thread: on Linux
	// the kernel kills it (Pdeathsig) when the thread that started it ends,
	// so that thread must live exactly as long as the JVM, and the test
	// binary dying takes the JVM with it.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := s.cmd.Start(); err != nil {
			started <- err
			close(s.exited)
			return
		}
		started <- nil
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	if err := <-started; err != nil {
		s.cmd = nil
		return fail(fmt.Errorf("zktest: start %s: %w", cfg.java, err))
	}

	if err := s.waitReady(cfg.startTimeout); err != nil {
		log := s.logTail()
		if strings.Contains(log, "Address already in use") {
			err = fmt.Errorf("%w: %w", err, errPortTaken)
		}
		return fail(fmt.Errorf("zktest: server on %s: %w\nlog %s:\n%s", s.Addr, err, s.logFile.Name(), log))
	}
	return s, nil
}

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("zktest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls the srvr four-letter command until the server says it is
// standalone, the JVM exits, or the timeout passes.
func (s *Server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		// A short timeout per try: ZooKeeper 3.8.0 leaves a command
		// connection open when it answers before its database is loaded
		// (a NullPointerException closing the socket).
		out, err := s.fourLetter("srvr", 300*time.Millisecond)
		switch {
		case err == nil && strings.Contains(out, "Mode: standalone"):
			return nil
		case err == nil:
			last = fmt.Errorf("not serving yet: %q", strings.TrimSpace(out))
		default:
			last = err
		}
		select {
		case <-s.exited:
			return fmt.Errorf("java exited before serving: %v", s.waitErr)
		case <-time.After(25 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not serving after %v: %w", timeout, last)
		}
	}
}

// FourLetter sends one of ZooKeeper's four-letter commands ("ruok", "srvr",
// "stat", "mntr", "cons", "conf", "envi" are enabled) and returns the reply.
func (s *Server) FourLetter(cmd string) (string, error) {
	return s.fourLetter(cmd, 5*time.Second)
}

func (s *Server) fourLetter(cmd string, timeout time.Duration) (string, error) {
	c, err := net.DialTimeout("tcp", s.Addr, timeout)
	if err != nil {
		return "", fmt.Errorf("zktest: %s: %w", cmd, err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return "", fmt.Errorf("zktest: %s: %w", cmd, err)
	}
	if _, err := io.WriteString(c, cmd); err != nil {
		return "", fmt.Errorf("zktest: %s: %w", cmd, err)
	}
	out, err := io.ReadAll(c)
	if err != nil {
		return string(out), fmt.Errorf("zktest: %s: %w", cmd, err)
	}
	return string(out), nil
}

// Servers returns []string{s.Addr}, the form ZooKeeper clients take.
func (s *Server) Servers() []string { return []string{s.Addr} }

// Pid returns the process id of the server's JVM (also its process group).
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Close kills the server's process group, waits for the JVM to exit and
// removes Dir. A second call returns ErrClosed.
func (s *Server) Close() error {
	err := ErrClosed
	s.closeOnce.Do(func() {
		s.stop()
		s.closeErr = os.RemoveAll(s.Dir)
		err = s.closeErr
	})
	return err
}

// stop kills the JVM's process group and waits for it to exit.
func (s *Server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		// The JVM leads its own process group (sysProcAttr), so this also
		// reaches anything it started.
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
	}
	if s.logFile != nil {
		s.logFile.Close()
	}
}

// logTail returns the last lines of the server's log, for error messages.
func (s *Server) logTail() string {
	data, err := os.ReadFile(s.logFile.Name())
	if err != nil {
		return "(" + err.Error() + ")"
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	const keep = 30
	if len(lines) > keep {
		lines = lines[len(lines)-keep:]
	}
	return strings.Join(lines, "\n")
}
