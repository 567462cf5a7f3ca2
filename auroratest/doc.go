// Package auroratest provides an in-process Apache Aurora scheduler for
// tests, speaking Aurora's real Thrift API over HTTP, as net/http/httptest
// provides an HTTP server.
//
// NewServer returns a running scheduler on a loopback port; gorealis talks
// to it unchanged through the options ClientOptions returns:
//
//	srv := auroratest.NewServer()
//	defer srv.Close()
//	r, err := realis.NewRealisClient(srv.ClientOptions()...)
//
// The server serves /api with gorealis' generated AuroraAdmin processor in
// both Thrift JSON (application/x-thrift, gorealis' default) and Thrift
// binary, always with HTTP status 200 and a Response that carries
// ServerInfo: every failure is a response code with Aurora's message,
// never a transport error (gorealis would retry those for a minute). It
// also serves /health and /leaderhealth.
//
// It implements the calls gorealis uses to create, kill, update, restart
// and inspect jobs (createJob, killTasks, restartShards, addInstances,
// startJobUpdate, pause/resume/abort/rollback/pulseJobUpdate,
// getJobUpdateDetails, getJobUpdateSummaries, getJobUpdateDiff,
// getTasksStatus, getTasksWithoutConfigs, getPendingReason, getJobs,
// getJobSummary, getConfigSummary, populateJobConfig, getTierConfigs and
// the cron calls) with the semantics of Aurora 0.23: Aurora's validations
// in Aurora's order with Aurora's messages, the fields Aurora populates
// (tier, production, taskLinks, the default container), Aurora's task
// state machine (PENDING, ASSIGNED, STARTING, RUNNING, KILLING, the
// terminal states; new task ids with ancestorId on restart and
// reschedule; flapping tasks THROTTLED) and its job update state machine
// (queue, batch and variable-batch strategies, watch time, per-instance
// and total failure limits, rollback on failure, auto-pause, pulses).
// Every other call answers ERROR "auroratest does not implement <call>".
//
// Tasks are assigned to simulated agents (Server.Hosts) with named ports
// allocated from free loopback ports, and run by an Executor. The default,
// NopExecutor, marks them RUNNING without running anything; Server.FailTask
// and NopExecutor.Fail make tasks fail.
//
// Time can be scaled with Server.TimeScale so that a rolling update with
// Aurora's 45 s watch runs in milliseconds while keeping the real
// scheduler's semantics.
//
// Task history is pruned as Aurora prunes it (terminal tasks go after 48 h,
// or after 1 h beyond the 100 latest of a job), on the scaled clock.
//
// Not modelled: quota enforcement (setQuota stores a quota and getQuota
// reports it with the consumption, but production jobs are accepted
// whatever their quota), resource offers and constraints (tasks never stay
// PENDING for lack of resources, so getPendingReason's reasons are empty),
// cron schedules firing on their own (startCronJob runs a cron job), host
// maintenance, partition awareness, and the update ERROR state (which
// Aurora enters on internal failures only).
package auroratest
