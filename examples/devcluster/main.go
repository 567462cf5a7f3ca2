//go:build linux

// Command devcluster keeps an in-process Aurora scheduler (auroratest)
// running on a loopback port for manual use, in place of Aurora's retired
// Vagrant devcluster: point gorealis, the example client (-url) or any
// Aurora Thrift client at it, across invocations, until Ctrl-C or
// SIGTERM. Stopping it kills every task as a kill does (final processes
// included) and returns once none of their processes is left.
//
//	go run ./examples/devcluster                   # http://127.0.0.1:8081
//	go run ./examples/devcluster -user aurora -password secret
//	go run ./examples/devcluster -executor thermos # really run the tasks
//	go run ./examples/devcluster -executor thermos -run_as nobody # every role as nobody
//	go run ./examples/devcluster -executor thermos \
//	    -custom_executor_config=auroratest/testdata/custom_executor_config.json \
//	    -enable_mesos_fetcher                      # the custom-executors guide
//	go run ./examples/devcluster -executor thermos -sandboxes DIR -data_dir DIR2
//	go run ./examples/devcluster -executor thermos \
//	    -substituters file:///tmp/demo-cache -trusted_public_keys "$(cat /tmp/demo.pub)"
//
// The agents trust what their operator says: with -substituters and
// -trusted_public_keys (as root) every agent has a Nix store of its own
// (under -sandboxes, DIR/<host>/store, or DIR/<host>/<agent id>/store for
// agents that share a host name) whose nix.conf lists exactly those
// caches and keys, and a job's init_sandbox can realise only what they
// serve, signed by those keys. Without them the agents share this
// machine's /nix and its nix.conf.
//
// Partitions: POST /admin/partition on the scheduler's port, with
// host=HOST (every agent of that host) or agent=AGENT_ID (one agent, a
// task's slaveId, when agents share a host), cuts agents off as a network
// partition would: their tasks go PARTITIONED and, per their job's
// PartitionPolicy, are LOST and rescheduled (no policy: at once) or wait
// for POST /admin/restore with the same parameters. With -user, give the
// credentials:
//
//	curl -u aurora:secret -X POST 'http://127.0.0.1:8081/admin/partition?host=agent-one'
//	curl -u aurora:secret -X POST 'http://127.0.0.1:8081/admin/restore?host=agent-one'
//
// The thermos executor runs every task as its role's user, as Thermos
// does: the user must exist on this machine, or the task fails to launch
// saying so. -run_as USER maps every role to one unprivileged user
// instead. A task never runs as root (role root, or -run_as root) unless
// -unsafe_run_tasks_as_root is given. The sandboxes (and the caches a job
// names) must be reachable by that user. Run as another user than root,
// devcluster cannot switch users and runs the tasks as itself.
//
// With -data_dir the scheduler's state survives a restart, even SIGKILL:
// started again on the same directories, it has its jobs, tasks, updates,
// quotas and maintenance back, the thermos executor re-adopts the task
// processes still running in their sandboxes, and the tasks whose
// processes are gone are LOST and rescheduled.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	osuser "os/user"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/auroratest/thermosexec"
	"github.com/nixrealis/nixrealis/internal/composeexample"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		if errors.As(err, new(usageError)) {
			fmt.Fprintln(os.Stderr, "devcluster:", err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "devcluster:", err)
		os.Exit(1)
	}
}

// run starts the scheduler as the flags say, prints its URL and serves
// until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("devcluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.Int("port", 8081, "loopback `port` to serve on (0 picks a free one)")
	cluster := fs.String("cluster", "devcluster", "cluster `name` in every response")
	user := fs.String("user", "", "basic-auth `user`; empty turns authentication off")
	password := fs.String("password", "", "basic-auth `password` (with -user)")
	executor := fs.String("executor", "nop", "`executor`: nop (tasks RUNNING, nothing runs) or thermos (run the Thermos payloads locally)")
	sandboxes := fs.String("sandboxes", "", "`directory` for the thermos executor's sandboxes (default under the temp dir)")
	timeScale := fs.Float64("timescale", 1, "run the scheduler's and the thermos executor's `clock` this many times faster than real time")
	hosts := fs.String("hosts", "", "comma-separated simulated agent `hosts` (default agent-one,agent-two,agent-three)")
	agentsFile := fs.String("agents", "", "JSON `file` listing the agents: [{\"host\": ..., \"attributes\": \"zone:west;host:a\", \"resources\": \"cpus:4;mem:8192;disk:20000;ports:[31000-31999]\"}] (default: three agents, see auroratest.DefaultAgents)")
	minSLA := fs.Int("min_required_instances_for_sla_check", 20, "SLA policies apply to jobs with at least this many `instances`")
	envs := fs.String("allowed_job_environments", auroratest.DefaultAllowedEnvironments, "`regexp` job environments must match")
	tierConfig := fs.String("tier_config", "", "Aurora tier configuration JSON `file` ({\"default\": ..., \"tiers\": {name: {\"preemptible\": bool, \"revocable\": bool}}}); default Aurora's tiers.json")
	latency := fs.Duration("latency", 0, "answer every call no sooner than this `duration` after it arrives (e.g. 20ms)")
	zk := fs.String("zk", "", "comma-separated ZooKeeper `servers` to register with (empty: none)")
	customExecutors := fs.String("custom_executor_config", "", "Aurora's custom executor `file` (JSON); with -executor thermos the guide's docker-compose-executor runs under nixrealis' stand-in")
	fetcherOn := fs.Bool("enable_mesos_fetcher", false, "allow jobs to pass URIs to the Mesos fetcher (Aurora's flag)")
	dataDir := fs.String("data_dir", "", "`directory` keeping the scheduler's state (a bbolt database) across restarts, even SIGKILL; backups go under it (empty: in memory)")
	substituters := fs.String("substituters", "", "comma-separated binary cache `URLs` the agents substitute from (their nix.conf's substituters; with -executor thermos, as root: every agent then has a Nix store of its own); a job can name only these")
	trustedKeys := fs.String("trusted_public_keys", "", "comma-separated `keys` (name:base64, the cache's .pub file) whose signatures the agents accept (their nix.conf's trusted-public-keys)")
	runAs := fs.String("run_as", "", "with -executor thermos as root: run every task as this unprivileged `user` (the operator's mapping of all roles; default: each task as its role's user, which must exist on this machine, or the task fails saying so)")
	unsafeRoot := fs.Bool("unsafe_run_tasks_as_root", false, "UNSAFE: let a task whose user is root (role root, or -run_as root) run as root; without it such a task fails to launch")
	verbose := fs.Bool("v", false, "log the scheduler's and executor's activity to stderr")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage of devcluster:\n")
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nPartitions: POST /admin/partition?host=HOST (or agent=AGENT_ID) cuts agents off,\n"+
			"POST /admin/restore?host=HOST (or agent=AGENT_ID) reconnects them, e.g.\n"+
			"  curl -X POST 'http://127.0.0.1:8081/admin/partition?host=agent-one'\n")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q: %w", fs.Args(), flag.ErrHelp)
	}
	if *port < 0 || *port > 65535 {
		return usagef("-port %d: must be between 0 and 65535 (0 picks a free port)", *port)
	}
	if (*user == "") != (*password == "") {
		return usagef("-user and -password: give both to turn on authentication, or neither")
	}
	if *timeScale <= 0 {
		return usagef("-timescale %v: must be positive (1 is real time, 10 ten times faster)", *timeScale)
	}

	if *minSLA <= 0 {
		return usagef("-min_required_instances_for_sla_check %d: must be positive (Aurora's default is 20)", *minSLA)
	}
	if *latency < 0 {
		return usagef("-latency %v: must not be negative (0, the default, answers at once)", *latency)
	}
	tr, err := parseTrust(*substituters, *trustedKeys)
	if err != nil {
		return err
	}
	if *executor != "thermos" && (*substituters != "" || *trustedKeys != "") {
		return usageError{"-substituters and -trusted_public_keys configure the agents of the thermos executor; add -executor thermos"}
	}
	if *executor != "thermos" && (*runAs != "" || *unsafeRoot) {
		return usageError{"-run_as and -unsafe_run_tasks_as_root say which user the thermos executor's tasks run as; add -executor thermos"}
	}
	if *runAs != "" {
		if err := checkRunAs(*runAs, *unsafeRoot); err != nil {
			return err
		}
	}
	allowedEnvs, err := regexp.Compile(*envs)
	if err != nil {
		return usagef("-allowed_job_environments %q: not a regular expression: %v", *envs, err)
	}

	srv := auroratest.NewUnstartedServer(nil)
	srv.MinRequiredInstancesForSLA = *minSLA
	srv.AllowedEnvironments = allowedEnvs
	srv.Latency = *latency
	if *agentsFile != "" {
		data, err := os.ReadFile(*agentsFile)
		if err != nil {
			return usagef("-agents: %v", err)
		}
		if srv.Agents, err = auroratest.ParseAgents(data); err != nil {
			return usagef("-agents %s: %v", *agentsFile, err)
		}
	}
	if *tierConfig != "" {
		data, err := os.ReadFile(*tierConfig)
		if err != nil {
			return usagef("-tier_config: %v", err)
		}
		if srv.Tiers, srv.DefaultTier, err = auroratest.ParseTierConfig(data); err != nil {
			return usagef("-tier_config %s: %v", *tierConfig, err)
		}
	}
	srv.Cluster = *cluster
	srv.Username, srv.Password = *user, *password
	srv.TimeScale = *timeScale
	if *hosts != "" {
		srv.Hosts = strings.Split(*hosts, ",")
	}
	if *zk != "" {
		srv.ZooKeeper = strings.Split(*zk, ",")
	}
	srv.EnableMesosFetcher = *fetcherOn
	srv.DataDir = *dataDir
	if *customExecutors != "" {
		cfgs, err := auroratest.LoadExecutorConfig(*customExecutors)
		if err != nil {
			return usagef("-custom_executor_config: %v", err)
		}
		srv.CustomExecutors = cfgs
	}
	var logger *slog.Logger
	if *verbose {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
		srv.Logger = logger
	}
	switch *executor {
	case "nop":
		srv.Executor = &auroratest.NopExecutor{}
	case "thermos":
		ex := &thermosexec.Executor{Root: *sandboxes, TimeScale: *timeScale, Console: stderr, Logger: logger,
			Custom: map[string]thermosexec.CustomExecutor{composeexample.ExecutorName: composeexample.Executor{}},
			RunAs:  *runAs, UnsafeRunTasksAsRoot: *unsafeRoot}
		if err := tr.set(ex, srv, os.Geteuid); err != nil {
			return err
		}
		srv.Executor = ex
		// On the way out, after the scheduler stopped taking calls: kill
		// every task as a kill does (final processes included) and wait
		// until none of their processes is left.
		defer ex.Close()
	default:
		return usagef("-executor %q: must be nop or thermos", *executor)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		return fmt.Errorf("listen on 127.0.0.1:%d (is another scheduler running? try -port 0): %w", *port, err)
	}
	srv.Listener = l
	srv.Start()
	defer srv.Close()

	fmt.Fprintf(stdout, "Aurora scheduler %q serving %s/api (executor %s", srv.Cluster, srv.URL, *executor)
	if *user != "" {
		fmt.Fprintf(stdout, ", basic auth as %s", *user)
	}
	fmt.Fprintln(stdout, "); Ctrl-C stops it")
	if *executor == "thermos" {
		fmt.Fprintln(stdout, tasksRunAs(*runAs, *unsafeRoot, os.Geteuid()))
	}
	<-ctx.Done()
	fmt.Fprintln(stdout, "stopping")
	return nil
}

// checkRunAs checks -run_as: the user exists on this machine and is not
// root unless -unsafe_run_tasks_as_root allows it.
func checkRunAs(name string, unsafeRoot bool) error {
	u, err := osuser.Lookup(name)
	if err != nil {
		return usageError{fmt.Sprintf("-run_as %q: no such user on this machine; create it or name one that exists (e.g. nobody)", name)}
	}
	if u.Uid == "0" && !unsafeRoot {
		return usageError{fmt.Sprintf("-run_as %q is root (uid 0): tasks never run as root; name an unprivileged user, or add -unsafe_run_tasks_as_root", name)}
	}
	return nil
}

// tasksRunAs is the line saying which user the tasks run as.
func tasksRunAs(runAs string, unsafeRoot bool, euid int) string {
	var line string
	switch {
	case euid != 0:
		line = "tasks run as this process' user (switching users needs root)"
	case runAs != "":
		line = "tasks run as user " + runAs + " (-run_as)"
	default:
		line = "tasks run as their role's user, which must exist on this machine (-run_as USER maps every role to one user)"
	}
	if unsafeRoot {
		line += "; UNSAFE: tasks of user root run as root (-unsafe_run_tasks_as_root)"
	}
	return line
}
