package auroratest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"

	"github.com/nixrealis/nixrealis/internal/auroratiers"
)

// DefaultAllowedEnvironments is Aurora's default -allowed_job_environments.
const DefaultAllowedEnvironments = `^(prod|devel|test|staging\d*)$`

// Tier is one of Aurora's tiers (-tier_config). A tier that is neither
// preemptible nor revocable is a production tier.
type Tier struct {
	Preemptible, Revocable bool
}

// DefaultTiers returns Aurora's default tier configuration (tiers.json):
// preemptible (the default tier), preferred (production) and
// revocable.
func DefaultTiers() map[string]Tier {
	_, tiers := auroratiers.Default()
	m := make(map[string]Tier, len(tiers))
	for _, t := range tiers {
		m[t.Name] = Tier{Preemptible: t.Preemptible, Revocable: t.Revocable}
	}
	return m
}

// defaultTier is the default tier of Aurora's default tiers.json.
func defaultTier() string {
	def, _ := auroratiers.Default()
	return def
}

// A Server is an in-process Aurora scheduler serving Aurora's Thrift API on
// a loopback address, for tests. It is modelled on
// net/http/httptest.Server: NewServer returns a running server, its URL is
// in the URL field, Close stops it.
//
// The exported configuration fields may be changed after
// NewUnstartedServer and before Start; they must not be changed afterwards.
// Their zero values mean Aurora's defaults.
type Server struct {
	// URL is the scheduler's base URL, of the form http://127.0.0.1:port
	// with no trailing slash. gorealis' SchedulerUrl turns it into
	// URL + "/api".
	URL string

	// Listener, if set before Start, is the listener the server serves
	// on; it must be on a loopback address. nil means a new listener on
	// 127.0.0.1 (or [::1]) on a free port.
	Listener net.Listener

	// Executor runs the tasks. nil means a NopExecutor, which marks tasks
	// RUNNING without running anything.
	Executor Executor

	// TimeScale makes the scheduler's clock run TimeScale times faster
	// than real time, as thermosexec.Executor.TimeScale does the
	// executor's: every duration is divided by it, so with TimeScale 1000
	// a 45 s update watch lasts 45 ms. Timestamps reported to clients are
	// on the scaled clock. Zero means 1.
	TimeScale float64

	// StartTime is the scheduler's clock at Start: tests set it to put
	// cron fire times where they want them (with Advance, a schedule then
	// fires when the test says so, however loaded the machine). Zero
	// means now. With DataDir, a later clock recovered from storage wins,
	// so the clock never goes back.
	StartTime time.Time

	// Cluster is the cluster name in every response's ServerInfo
	// (-cluster_name). Empty means "devcluster".
	Cluster string

	// Username and Password turn on HTTP basic authentication
	// (-http_authentication_mechanism=BASIC) when Username is not empty:
	// calls that change state then need these credentials and are
	// answered HTTP 401 without them, as Aurora does; read-only calls stay
	// open. With authentication off the audit user is "UNSECURE".
	Username, Password string

	// AllowedEnvironments is -allowed_job_environments. nil means
	// DefaultAllowedEnvironments.
	AllowedEnvironments *regexp.Regexp

	// Tiers and DefaultTier are -tier_config. nil means DefaultTiers()
	// with default tier "preemptible".
	Tiers       map[string]Tier
	DefaultTier string

	// Executors names the executors the scheduler accepts in
	// TaskConfig.executorConfig.name besides CustomExecutors. nil means
	// {"AuroraExecutor"}.
	Executors []string
	// CustomExecutors is -custom_executor_config (see
	// LoadExecutorConfig): executors jobs may name besides Thermos, each
	// with its own resources (added to every task's, as Aurora does when
	// matching offers) and task prefix (of its tasks' executor ids).
	CustomExecutors []ExecutorConfig
	// ThermosExecutorCPU and ThermosExecutorRAMMB are
	// -thermos_executor_cpu and -thermos_executor_ram, the Thermos
	// executor's own resources; zero means Aurora's defaults, 0.25 and
	// 128 MB.
	ThermosExecutorCPU, ThermosExecutorRAMMB float64

	// Agents are the simulated Mesos agents tasks are placed on, with
	// their attributes and finite resources. nil means agents named by
	// Hosts, or DefaultAgents when Hosts is nil too.
	Agents []Agent

	// Hosts is a shorthand for Agents: one agent per host name, with a
	// host attribute naming it and DefaultAgentResources. It is ignored
	// when Agents is set.
	Hosts []string

	// Flags of the same name in Aurora; all default to false.
	AllowGPUResource      bool // -allow_gpu_resource
	EnableMesosFetcher    bool // -enable_mesos_fetcher
	AllowContainerVolumes bool // -allow_container_volumes
	AllowDockerParameters bool // -allow_docker_parameters
	SLAAwareKillNonProd   bool // -sla_aware_kill_non_prod
	// AllowDocker adds DOCKER to -allowed_container_types (default MESOS).
	AllowDocker bool
	// DockerWithoutExecutor is -require_docker_use_executor=false.
	DockerWithoutExecutor bool

	// MaxTasksPerJob is -max_tasks_per_job; zero means 4000.
	MaxTasksPerJob int
	// MaxUpdateInstanceFailures is -max_update_instance_failures; zero
	// means 20000.
	MaxUpdateInstanceFailures int
	// MinRequiredInstancesForSLA is -min_required_instances_for_sla_check;
	// zero means 20.
	MinRequiredInstancesForSLA int

	// ZooKeeper lists ZooKeeper servers (host:port) to register the
	// scheduler with, as Aurora does (an ephemeral sequential member_
	// node under ZKPath). nil means no registration.
	ZooKeeper []string
	// ZKPath is -serverset_path; empty means "/aurora/scheduler".
	ZKPath string

	// Latency is how long (in real time) every call waits before it is
	// answered, as calls to a real scheduler take tens of milliseconds;
	// the call takes effect at once, even when the client gives up
	// waiting. Zero answers at once.
	Latency time.Duration

	// Logger receives the scheduler's log lines. nil discards them.
	Logger *slog.Logger

	// DataDir, when set, is where the scheduler keeps its state: jobs,
	// cron templates, tasks and their events, updates and their events,
	// quotas and host maintenance, in a bbolt database (scheduler.db),
	// written before each call is answered. A Server started on a
	// directory another one used (even one that was SIGKILLed) recovers
	// that state, and reconciles the tasks that were on agents with its
	// Executor (see Recoverer). Backups (performBackup) go under
	// DataDir/backups. Empty means the state is in memory only.
	DataDir string

	mu       sync.Mutex
	started  bool
	closed   bool
	http     *http.Server
	zk       io.Closer
	ctx      context.Context
	cancel   context.CancelFunc
	loopDone chan struct{}
	kick     chan struct{}
	inflight sync.WaitGroup

	realStart time.Time
	epoch     time.Time
	scale     float64
	advanced  atomic.Int64 // nanoseconds Advance added to the clock

	st     *state
	staged *state // a backup loaded by stageRecovery
}

// NewServer starts and returns a new Server whose tasks ex runs (nil
// means a NopExecutor), like net/http/httptest.NewServer. The caller
// should call Close when finished, to shut it down. It panics if it cannot
// listen on a loopback address. To configure other fields first, use
// NewUnstartedServer.
func NewServer(ex Executor) *Server {
	s := NewUnstartedServer(ex)
	s.Start()
	return s
}

// NewUnstartedServer returns a new Server whose tasks ex runs (nil means a
// NopExecutor) that is not yet started: change its fields, then call
// Start.
func NewUnstartedServer(ex Executor) *Server {
	return &Server{Executor: ex}
}

// Start starts the server. It panics if the server was already started,
// if it cannot listen on a loopback address or Listener is not on one, and
// if ZooKeeper registration was asked for and fails: as with
// net/http/httptest, a panic is acceptable in a test helper.
func (s *Server) Start() {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		panic("auroratest: Server already started")
	}
	s.started = true
	s.applyDefaults()
	l := s.Listener
	if l == nil {
		var err error
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			if l, err = net.Listen("tcp6", "[::1]:0"); err != nil {
				s.mu.Unlock()
				panic(fmt.Sprintf("auroratest: failed to listen on a port: %v", err))
			}
		}
	} else if tcp, ok := l.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		s.mu.Unlock()
		panic(fmt.Sprintf("auroratest: Listener %v is not on a loopback address", l.Addr()))
	}
	s.Listener = l
	s.URL = "http://" + l.Addr().String()
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.kick = make(chan struct{}, 1)
	s.loopDone = make(chan struct{})
	s.realStart = time.Now()
	s.epoch = s.realStart
	if !s.StartTime.IsZero() {
		s.epoch = s.StartTime
	}
	agents, err := s.parseAgents()
	if err != nil {
		s.mu.Unlock()
		l.Close()
		panic("auroratest: " + err.Error())
	}
	if s.DataDir == "" {
		s.st = newState(s, agents)
	} else if err := s.openStorage(); err != nil {
		s.mu.Unlock()
		l.Close()
		panic("auroratest: " + err.Error())
	}
	mux := http.NewServeMux()
	mux.Handle("/api", s.withLatency(s.apiHandler()))
	mux.Handle("/admin/partition", s.partitionHandler(true))
	mux.Handle("/admin/restore", s.partitionHandler(false))
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "OK") })
	mux.HandleFunc("/leaderhealth", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "OK") })
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go s.http.Serve(l)
	go s.loop()
	s.mu.Unlock()

	if s.ZooKeeper != nil {
		tcp := l.Addr().(*net.TCPAddr)
		c, err := registerZK(s.ZooKeeper, s.ZKPath, tcp.IP.String(), tcp.Port)
		if err != nil {
			s.Close()
			panic(fmt.Sprintf("auroratest: ZooKeeper registration: %v", err))
		}
		s.mu.Lock()
		s.zk = c
		s.mu.Unlock()
	}
}

func (s *Server) applyDefaults() {
	if s.Executor == nil {
		s.Executor = &NopExecutor{}
	}
	s.scale = s.TimeScale
	if s.scale <= 0 {
		s.scale = 1
	}
	if s.Cluster == "" {
		s.Cluster = "devcluster"
	}
	if s.AllowedEnvironments == nil {
		s.AllowedEnvironments = regexp.MustCompile(DefaultAllowedEnvironments)
	}
	if s.Tiers == nil {
		s.Tiers = DefaultTiers()
		if s.DefaultTier == "" {
			s.DefaultTier = defaultTier()
		}
	}
	if s.Executors == nil {
		s.Executors = []string{aurora.AURORA_EXECUTOR_NAME}
	}
	if s.MaxTasksPerJob <= 0 {
		s.MaxTasksPerJob = 4000
	}
	if s.MaxUpdateInstanceFailures <= 0 {
		s.MaxUpdateInstanceFailures = 20000
	}
	if s.MinRequiredInstancesForSLA <= 0 {
		s.MinRequiredInstancesForSLA = 20
	}
	if s.ZKPath == "" {
		s.ZKPath = "/aurora/scheduler"
	}
}

// Close shuts the server down: it stops accepting calls, waits for the
// calls in flight to finish, stops the executor's tasks (by cancelling the
// context given to Launch) and deregisters from ZooKeeper. Close may be
// called more than once. Close does not wait for the tasks to end: with
// DataDir, a task whose end is reported after Close has closed storage is
// still RUNNING there, and a Server started again on the directory finds
// it gone and marks it LOST, rescheduling it as Aurora does the tasks of
// an agent that went away (a service comes back running).
func (s *Server) Close() {
	s.mu.Lock()
	if !s.started || s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	zk := s.zk
	s.mu.Unlock()

	if zk != nil {
		zk.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s.http.Shutdown(ctx)
	s.inflight.Wait()
	s.cancel()
	<-s.loopDone
	s.mu.Lock()
	if s.st.store != nil {
		s.commit()
		s.st.store.db.Close()
	}
	s.mu.Unlock()
}

// ClientOptions returns the gorealis options that point a client at this
// server: SchedulerUrl, basic auth when the server has it, a back-off of a
// few milliseconds instead of gorealis' default 10 s and 50 s, and a quiet
// logger.
func (s *Server) ClientOptions() []realis.ClientOption {
	opts := []realis.ClientOption{
		realis.SchedulerUrl(s.URL),
		realis.BackOff(realis.Backoff{Steps: 3, Duration: 5 * time.Millisecond, Factor: 2, Jitter: 0.1}),
		realis.SetLogger(realis.NoopLogger{}),
		realis.TimeoutMS(20000),
	}
	if s.Username != "" {
		opts = append(opts, realis.BasicAuth(s.Username, s.Password))
	}
	return opts
}

// now returns the scheduler's (scaled) time.
func (s *Server) now() time.Time {
	return s.epoch.Add(time.Duration(float64(time.Since(s.realStart))*s.scale) + time.Duration(s.advanced.Load()))
}

// Now returns the scheduler's clock: StartTime (or the time of Start)
// plus the real time since Start times TimeScale, plus what Advance
// added.
func (s *Server) Now() time.Time { return s.now() }

// Advance moves the scheduler's clock forward by d (a negative d is
// ignored) and does at once the work that has come due: cron jobs whose
// fire time has come are triggered before Advance returns (their new
// tasks exist, or the tasks their KILL_EXISTING policy kills are
// KILLING), so a test can fire a schedule deterministically. Rolling
// updates, throttled tasks, preemption and history pruning see the jump
// on their next round, as if the time had passed.
func (s *Server) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanced.Add(int64(d))
	if s.st != nil && s.started && !s.closed {
		s.st.cronWake = s.st.fireCron(s.now())
		s.commit()
	}
	s.wake()
}

// realDuration converts a duration on the scheduler's clock into real time.
func (s *Server) realDuration(d time.Duration) time.Duration {
	return time.Duration(float64(d) / s.scale)
}

func (s *Server) logf(format string, args ...any) {
	if s.Logger != nil {
		s.Logger.Info(fmt.Sprintf(format, args...))
	}
}

// wake asks the scheduling loop to run soon.
func (s *Server) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

type ctxKey int

const userKey ctxKey = 0

// readOnly lists the methods of Aurora's ReadOnlyScheduler service: they
// need no authentication.
var readOnly = map[string]bool{
	"getRoleSummary": true, "getJobSummary": true, "getTasksStatus": true,
	"getTasksWithoutConfigs": true, "getPendingReason": true, "getConfigSummary": true,
	"getJobs": true, "getQuota": true, "populateJobConfig": true,
	"getJobUpdateSummaries": true, "getJobUpdateDetails": true, "getJobUpdateDiff": true,
	"getTierConfigs": true,
}

// MaxRequestBytes bounds the body of a call to /api; a larger one is
// answered HTTP 413 without being read whole. 16 MiB is far above what
// Aurora's clients send: a call carries at most a few TaskConfigs, and the
// Thermos payload of a job with hundreds of processes is a few hundred
// kilobytes.
const MaxRequestBytes = 16 << 20

// methodPeekBytes is how much of an unauthenticated request is read to
// find its method name: enough for Aurora's longest method name in either
// protocol.
const methodPeekBytes = 512

const (
	mediaJSON   = "application/vnd.apache.thrift.json"
	mediaBinary = "application/vnd.apache.thrift.binary"
)

// readMethodName reads from body only as far as the message's method name,
// and at most methodPeekBytes, returning the name ("" when it is not
// there) and the bytes read.
func readMethodName(ctx context.Context, in thrift.TProtocolFactory, body io.Reader) (string, []byte) {
	head := make([]byte, 0, methodPeekBytes)
	for len(head) < cap(head) {
		n, err := body.Read(head[len(head):cap(head)])
		head = head[:len(head)+n]
		if n > 0 {
			name, _, _, perr := in.GetProtocol(thrift.NewStreamTransportR(bytes.NewReader(head))).ReadMessageBegin(ctx)
			if perr == nil {
				return name, head
			}
		}
		if err != nil {
			break
		}
	}
	return "", head
}

func (s *Server) apiHandler() http.Handler {
	proc := aurora.NewAuroraAdminProcessor(&api{s: s})
	jsonF := thrift.NewTJSONProtocolFactory()
	binF := thrift.NewTBinaryProtocolFactoryDefault()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inflight.Add(1)
		defer s.inflight.Done()
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		var in thrift.TProtocolFactory
		ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
		switch strings.TrimSpace(strings.ToLower(ct)) {
		case "", "application/x-thrift", "application/json", mediaJSON:
			in = jsonF
		case mediaBinary:
			in = binF
		default:
			http.Error(w, "unsupported content type", http.StatusUnsupportedMediaType)
			return
		}
		out, outType := thrift.TProtocolFactory(jsonF), mediaJSON
		if strings.HasPrefix(r.Header.Get("Accept"), mediaBinary) {
			out, outType = binF, mediaBinary
		}
		// Authenticate before reading the body: only the method name, at
		// its very start, is needed to tell a read-only call, so an
		// unauthenticated client cannot make the server buffer its body.
		var head []byte
		user := "UNSECURE"
		if s.Username != "" {
			u, p, ok := r.BasicAuth()
			authed := ok && u == s.Username && p == s.Password
			if !authed {
				var name string
				name, head = readMethodName(r.Context(), in, r.Body)
				if !readOnly[name] {
					w.Header().Set("WWW-Authenticate", `Basic realm="Apache Aurora Scheduler"`)
					w.Header().Set("Connection", "close")
					http.Error(w, "unauthenticated", http.StatusUnauthorized)
					return
				}
			} else {
				user = u
			}
		}
		if r.ContentLength > MaxRequestBytes {
			w.Header().Set("Connection", "close")
			http.Error(w, fmt.Sprintf("request body of %d bytes is larger than the limit of %d", r.ContentLength, MaxRequestBytes), http.StatusRequestEntityTooLarge)
			return
		}
		body, err := io.ReadAll(io.LimitReader(io.MultiReader(bytes.NewReader(head), r.Body), MaxRequestBytes+1))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if len(body) > MaxRequestBytes {
			w.Header().Set("Connection", "close")
			http.Error(w, fmt.Sprintf("request body is larger than the limit of %d bytes", MaxRequestBytes), http.StatusRequestEntityTooLarge)
			return
		}
		slot := &reasonsSlot{}
		ctx := withReasonsSlot(context.WithValue(r.Context(), userKey, user), slot)
		var buf bytes.Buffer
		tr := thrift.NewStreamTransport(bytes.NewReader(body), &buf)
		iprot := limitedProtocol{TProtocol: in.GetProtocol(tr), max: len(body)}
		oprot := &unsetDataProtocol{TProtocol: &reasonsProtocol{TProtocol: out.GetProtocol(tr), slot: slot}}
		if _, err := proc.Process(ctx, iprot, oprot); err != nil {
			s.logf("api: %v", err)
		}
		w.Header().Set("Content-Type", outType)
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		w.Write(buf.Bytes())
	})
}
