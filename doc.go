// Package nixrealis runs Nix-built software as Apache Aurora jobs from Go.
//
// It is a companion to gorealis (github.com/paypal/gorealis v1.25.0), the Go
// client of Aurora's Thrift API, and the only package of this module that
// imports it. A job is composed in Go with package job; its software comes
// from a Nix sandbox (package sandbox) that a first process, init_sandbox,
// brings into the task on the agent; package thermos is the executor
// payload Aurora's Thermos executor runs.
//
// # Rendering
//
// RenderJob turns a built job (job.Spec) into a fresh gorealis Job whose
// JobConfiguration and TaskConfig are exactly what Aurora's Python client
// sends for the same configuration (aurora config/thrift.py): resources
// with ramMb and diskMb floor-divided and one namedPort per port, value and
// limit constraints, metadata, tier, production, priority, container,
// executor config with the Thermos payload, cron settings, instance count,
// owner. UpdateSettings turns update_config into the JobUpdateSettings that
// `aurora update start` sends. Both are checked against the golden output
// of the real client (testdata/golden). Rendering works around gorealis'
// known bugs: it never calls AddNamedPorts with several names and never
// shares a JobKey pointer between calls or between the job and its task.
// JobConfigJSON writes a JobConfiguration as JSON in Aurora's tooling's
// convention; job.Spec.Key is the built job's key.
//
// # Client
//
// A Client wraps a realis.Realis (New) or makes one from gorealis' options
// (Dial); it is safe for concurrent use and silent unless given a
// *slog.Logger (WithLogger) or a progress callback (WithProgress). Its
// methods take a context; a done context makes them return at once.
//
//   - Create runs the Nix step (WithPreparer: evaluate, build, sign and push
//     the sandbox's closure), builds and renders the job, and submits it
//     with CreateJob, as CreateService does (services) or ScheduleCronJob
//     (cron jobs); it returns once every instance is RUNNING (or, for an
//     ad-hoc job, FINISHED), or with ErrTaskFailed and the task's status
//     message when one failed. It stays correct when gorealis retries a request whose first attempt
//     reached the scheduler unanswered: exactly one job, no false "already
//     exists". Sandbox is the Preparer built on package sandbox.
//   - Kill kills a job or some instances and waits until they are gone; an
//     active update is an ErrUpdateInProgress unless AbortActiveUpdate.
//   - Update starts an update with the job's update_config and follows it
//     to its end by polling the update's status; a no-op update ("Job is
//     unchanged by proposed update.") succeeds. Pause, Resume, Abort,
//     Rollback, Pulse, Follow and UpdateInfo act on a running update.
//   - Restart (waits until the restarted instances run again), Status
//     (tasks by state with pending reasons), Inspect (like
//     `aurora job inspect`) and Diff (the job against what runs, ignoring
//     what the scheduler fills in: a JobDiff with each changed value's path,
//     old and new value, and a unified diff per group of instances).
//
// Each method takes options of its own type (CreateOption, UpdateOption,
// KillOption, RestartOption, ControlOption), so an option a method does not
// understand does not compile. Create, Update, Kill and Restart wait for
// their outcome unless given NoWait; a message for an update or an update
// control is given with Message.
//
// Errors are *OpError values whose kind errors.Is tells apart:
// ErrUnreachable, ErrRejected (with Aurora's message), ErrAuth,
// ErrScheduler, ErrUpdateInProgress,
// ErrNixFailed (with Nix's message), ErrTimeout (also
// context.DeadlineExceeded when the caller's deadline passed),
// ErrAlreadyExists, ErrNotFound, ErrUpdateFailed, ErrTaskFailed (with the
// task's status message), ErrInvalidJob (with the job package's field
// errors inside). gorealis' errors are translated once, in this package,
// by one table from Aurora's response code and message to the kind.
//
// The package example runs a job on auroratest, the in-process Aurora
// scheduler this module provides for tests: create, status, kill.
package nixrealis
