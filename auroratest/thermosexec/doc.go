// Package thermosexec is a local Thermos executor for auroratest: it runs
// each task's Thermos payload on this machine with real processes and
// Thermos' semantics, so a job created through gorealis really runs.
//
// An Executor implements auroratest.Executor. For each launched task it
//
//   - decodes the payload (thermos.Unmarshal) and binds the run-time
//     templates Thermos binds: {{thermos.ports[NAME]}} (the assigned ports,
//     plus the announce portmap's aliases), {{thermos.task_id}},
//     {{thermos.user}}, {{mesos.instance}} and {{mesos.hostname}}; any other
//     reference fails the task with a message naming it and its field;
//   - creates the task's sandbox, one directory per task under its agent's
//     sandbox root, and runs each process as Thermos does: /bin/bash -c
//     cmdline in the sandbox, with only HOME (the sandbox), USER, LOGNAME and
//     the executor's PATH, plus BASH_ENV=.thermos_profile when that file
//     exists, each process leading its own process group; output goes to
//     .logs/<process>/<run>/stdout and stderr (or as the process's logger
//     says: console, both, none, rotation);
//   - schedules the processes as Thermos' TaskPlanner does: order constraints
//     (a partial order), max_concurrency, per-process max_failures with
//     min_duration between runs, daemons restarted on success, ephemeral
//     processes not waited for, the task's max_failures; then CLEANING
//     (SIGTERM to the process groups still running) and FINALIZING (SIGKILL
//     for what is left, then the final processes) within finalization_wait;
//   - reports STARTING, RUNNING (for a task with a health check only once
//     it is healthy, as Aurora's executor does) and FINISHED, or FAILED with
//     the failing process named, or KILLED.
//
// Kill runs the task's HTTP lifecycle when it has one (graceful shutdown
// endpoint, wait, shutdown endpoint, wait), then SIGTERM, final processes
// and SIGKILL after the preemption wait. As in Aurora's executor, a killed
// task's SIGTERM and final processes are bounded by the preemption wait
// (Executor.PreemptionWait, one minute by default) rather than by
// finalization_wait, which bounds them when the task ends by itself. When a task ends no process of it
// is left: each run's process group is killed when its bash exits, and any
// process still working in the sandbox is killed at the end.
//
// Each task checkpoints the processes it has running (PID and /proc start
// time) in its sandbox, .thermos_checkpoint.json, as Thermos' runner
// checkpoints what it forks. Executor.Recover (auroratest.Recoverer) reads
// it when a scheduler restarts on its DataDir: a task whose processes
// still run is re-adopted, RUNNING, watched until they end (FAILED, their
// exit status being unknown) or killed (SIGTERM, the preemption wait,
// SIGKILL); a task none of whose processes runs (a PID reused by another
// process does not count) is not known, and the scheduler marks it LOST.
// Executor.Statuses (auroratest.Lister) answers the scheduler's
// triggerImplicitTaskReconciliation as a Mesos agent answers the master:
// every task launched or adopted and not ended, in the state its runner
// last reported; the scheduler then kills those it has terminal or no
// longer has, SIGTERM and all, as any kill.
//
// Health checks follow Aurora's executor: a shell check always, an HTTP
// check when the task has a port named "health"; initial_interval_secs,
// interval_secs, timeout_secs, max_consecutive_failures and
// min_consecutive_successes as in its ThreadedHealthChecker, and a
// .healthchecksnooze file in the sandbox turns the checks off. An unhealthy
// task is shut down like a killed one and reported FAILED with
// "Failed health check! <reason>".
//
// # Fetcher URIs and custom executors
//
// Before a task runs, its TaskConfig.mesosFetcherUris are fetched into its
// sandbox (package fetcher: file://, absolute paths, loopback http(s),
// extraction, the agent's cache), for Thermos and custom executors alike.
//
// A task whose executorConfig.name is not Thermos' is run by the
// CustomExecutor registered under that name in Executor.Custom, a Go
// stand-in for the real executor binary: the agent creates a sandbox
// named after the task's executor id (the executor's task_prefix and the
// task id), fetches the URIs, reports STARTING, and hands the task to the
// stand-in, which reports RUNNING and returns when the task ends or is
// killed. CustomTask.Command runs as the task's user (see Users).
//
// # Users
//
// A task, Thermos' or a custom executor's, runs as its role's user, as
// Thermos' runner and a Mesos agent do (Aurora's guide: "user www-data
// must exist on the Agent"), or, when the operator set Executor.RunAs, as
// that one user whatever the role (the example client's embedded cluster
// maps every role to nobody). The user must exist on the agent's machine;
// otherwise the task fails before any process runs with "Failed to
// launch: user "NAME" does not exist on HOST: ...". A user of uid 0 (role
// root, or RunAs root) is refused the same way unless the operator set
// Executor.UnsafeRunTasksAsRoot. The sandbox is chowned to the user, who
// must be able to search the directories above it (the launch fails
// saying which one it cannot); USER, LOGNAME and {{thermos.user}} name it,
// HOME is the sandbox. Only a root executor can switch users: one that
// is not root runs every task as itself and looks no role up.
//
// # Simulated agents
//
// Each agent (Executor.Agents, by LaunchedTask.AgentID or, failing that,
// LaunchedTask.Host; two agents may share a host name) is simulated with
// a sandbox root (Agent.SandboxRoot, by default Root/<host>/sandboxes,
// where each task's sandbox is named after its task id) and, optionally,
// its own Nix store (Agent.Store, the root of a
// chroot store as given to `nix --store`). The payload names /nix/store
// paths; so that a process on that agent sees the agent's store there, and
// not the client's, the agent's processes run in a private mount namespace
// with the agent's Store/nix bind-mounted over /nix (store and database
// together, so nix-store run by init_sandbox realises paths into the
// agent's store). This needs root, as the project's tests and CI have. An
// agent without a Store runs with the host's /nix.
//
// An agent with a Store is a multi-user Nix machine: on its first task the
// executor starts the agent's nix-daemon, as root, in a mount namespace of
// its own with the same bind mount and NIX_CONF_DIR at the agent's
// nix.conf (Store/etc/nix/nix.conf, from Executor.TrustedCaches and
// TrustedKeys, naming no trusted users). It listens on
// Store/nix/var/nix/daemon-socket/socket, which the tasks see at
// /nix/var/nix/daemon-socket/socket, and the tasks' processes get
// NIX_REMOTE=daemon: running as unprivileged users, they reach the store
// only through the daemon, which ignores the substituters and keys an
// untrusted client asks for, so a job's own commands cannot make the agent
// trust a cache or key its operator did not. The per-user profile and GC
// root directories are created mode 1777, as Nix's installer makes them.
// Executor.Close stops the daemons and their workers. The daemon is
// started with PR_SET_PDEATHSIG, so it also dies when the executor's
// process is killed.
//
// # Time
//
// TimeScale makes the executor's clock run TimeScale times faster than
// real time, as auroratest.Server.TimeScale does the scheduler's: every
// duration the payload gives (min_duration, finalization_wait, health
// check timings, lifecycle waits) is divided by it, so tests keep Aurora's
// semantics while running fast; the processes run in real time.
//
// # Linux only
//
// The executor needs Linux: it finds a task's processes in /proc (those
// that left their process group included), and runs an agent's processes
// in a private mount namespace. Its files build only on Linux; elsewhere
// the package is empty, and so are the programs and tests that use it
// (examples/client, examples/devcluster, the root package's end-to-end
// test). The other packages (thermos, job, nix, sandbox, auroratest, the
// root package) build on macOS too.
//
// What the executor does not simulate: resource limits (cgroups) and
// Thermos' full checkpoint stream; its checkpoint holds only what
// recovery needs, the running processes (see Executor.Recover above).
package thermosexec
