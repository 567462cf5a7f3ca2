// Package auroratest provides an in-process Apache Aurora scheduler for
// tests, speaking Aurora's real Thrift API over HTTP, as net/http/httptest
// provides an HTTP server.
//
// NewServer returns a running scheduler on a loopback port whose tasks
// the given Executor runs (nil: a NopExecutor); gorealis talks to it
// unchanged through the options ClientOptions returns:
//
//	srv := auroratest.NewServer(nil)
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
// The storage admin calls work on Server.DataDir's storage (below).
//
// Tasks are placed on simulated Mesos agents (Server.Agents, Agent; by
// default DefaultAgents: three agents with finite resources) as Aurora's
// scheduler places them: an agent must have the cpus, RAM, disk, GPUs and
// ports the task asks for (plus the Thermos executor's 0.25 cpu and 128 MB
// for AuroraExecutor tasks), attributes satisfying its value and limit
// constraints (host, dedicated, ...), no dedicated attribute unless the
// task is dedicated to it, and a host not DRAINING or DRAINED. Otherwise
// the task stays PENDING and getPendingReason gives Aurora's nearest-fit
// veto reasons, worded and joined as Aurora's ("Insufficient: CPU",
// "Constraint not satisfied: zone", "Limit not satisfied: host", "Host is
// dedicated", "Host draining for maintenance", ...). Pending tasks go, as
// resources free up, highest priority first and then oldest first; a
// production task pending for Aurora's 3 min preemption delay preempts
// preemptible tasks ("Preempting in favor of <task id>"). Host maintenance
// (startMaintenance, drainHosts, slaDrainHosts with count, percentage and
// coordinator SLA policies, maintenanceStatus, endMaintenance) follows
// Aurora's MaintenanceController.
//
// Ports come from the agent's port ranges. All simulated agents share this
// machine's loopback interface, so a port is given to one task at a time
// across agents, and only if it can be bound on 127.0.0.1 when the task
// is assigned: an executor running real processes (thermosexec) binds the
// very port the scheduler reports in assignedPorts. When every port of
// the ranges is held by something else on the machine, the task gets a
// free ephemeral port instead.
//
// Tasks are run by an Executor. The default, NopExecutor, marks them
// RUNNING without running anything; Server.FailTask and NopExecutor.Fail
// make tasks fail. Server.Latency makes every call wait before it is
// answered, as against a real scheduler.
//
// Custom executors are configured as with Aurora's -custom_executor_config
// (Server.CustomExecutors, LoadExecutorConfig reads Aurora's JSON file):
// jobs may then name them in executorConfig.name (any other name is
// refused with Aurora's "Configuration for executor '...' doesn't
// exist."), each launched task carries its executor's configuration and
// its Mesos executor id (the executor's task_prefix, "thermos-" for
// Thermos, followed by the task id), and the executor's own resources
// are its tasks' overhead, as in Aurora (-thermos_executor_cpu and
// -thermos_executor_ram for Thermos). TaskConfig.mesosFetcherUris are
// accepted only with Server.EnableMesosFetcher (-enable_mesos_fetcher);
// package fetcher puts them into sandboxes as the Mesos fetcher does.
//
// Time can be scaled with Server.TimeScale so that a rolling update with
// Aurora's 45 s watch runs in milliseconds while keeping the real
// scheduler's semantics.
//
// Cron jobs (scheduleCronJob, replaceCronTemplate) fire on their
// schedule on the scaled clock, in UTC (Aurora's default -cron_timezone).
// Schedules are parsed by github.com/robfig/cron/v3 within the grammar of
// Aurora's CrontabEntry: five fields of "*", "5", "1-5", "*/5" and
// "1-5/2" (names for months and days, Sunday 0), not both a day of the
// month and a day of the week; anything else is refused with "Invalid
// cron schedule: ...", and RUN_OVERLAP with "The RUN_OVERLAP collision
// policy has been removed (AURORA-38).". A run, by the schedule or by
// startCronJob, starts the template's instances; when the job still has
// active tasks, KILL_EXISTING (the default) kills them ("Killed by
// cronScheduler") and starts the run once they are gone, CANCEL_NEW skips
// the run. descheduleCronJob, like Aurora's, is refused ("Job is
// currently updating") while the key has an active update and leaves
// runs already started alone. Fire times missed while the clock jumped
// fire once, as Quartz's default misfire policy does. getJobs reports
// the templates with cronSchedule and cronCollisionPolicy, getJobSummary
// their nextCronRunMs. With DataDir the templates survive a restart and are
// scheduled again from the recovered clock; a KILL_EXISTING run waiting
// for its kill does not, as in Aurora, whose Quartz triggers live in
// memory. For deterministic tests, Server.StartTime sets the clock at
// Start and Server.Advance moves it forward, triggering the cron jobs
// that come due before it returns:
//
//	srv := auroratest.NewUnstartedServer(nil)
//	srv.StartTime = time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)
//	srv.Start()
//	// scheduleCronJob with "0 * * * *": nothing runs until 01:00.
//	srv.Advance(time.Hour) // the 01:00 run's tasks exist now
//
// Task history is pruned as Aurora prunes it (terminal tasks go after 48 h,
// or after 1 h beyond the 100 latest of a job), on the scaled clock.
//
// Quota is enforced as Aurora enforces it: createJob, addInstances,
// startJobUpdate and scheduleCronJob of production jobs not on dedicated
// hosts are refused ("Insufficient resource quota: CPU quota exceeded by
// ...") beyond the role's quota (setQuota; no quota means none), and
// getQuota reports consumption split into production and non-production,
// shared and dedicated. A job is production when its tier is (neither
// preemptible nor revocable; no tier means the default tier): as in
// Aurora 0.23, the TaskConfig.production flag a client sends is
// overwritten from the tier, so production=true without a tier is, with
// the default tiers, a non-production job. (`aurora job create` picks a
// tier from the flag before sending, see job.Spec.WithTiers; gorealis
// sends the flag as it is.)
//
// Storage: with Server.DataDir the scheduler's state (jobs, cron
// templates, tasks and their events, updates and their events, quotas,
// host maintenance) is kept in a bbolt database, written before each call
// is answered, so that a Server started again on the directory, even
// after the previous process was SIGKILLed, carries on from it. Tasks that
// were on agents are then reconciled with the Executor: a Recoverer takes
// back those still running (thermosexec re-adopts their processes from
// the checkpoint in their sandboxes), the others are LOST and rescheduled.
// performBackup, listBackups, stageRecovery, queryRecovery,
// deleteRecoveryTasks, commitRecovery, unloadRecovery and snapshot do
// what Aurora's do on that storage (backups are copies of the database in
// DataDir/backups). A bbolt file never shrinks, so snapshot, as Aurora's
// compacts its log, writes the state to a fresh database,
// scheduler.db.snapshot-tmp, and renames it over scheduler.db: what
// pruneTasks and killed jobs deleted no longer takes room (a crash before
// the rename leaves the old file, and Start removes the temporary one);
// forceTaskState, pruneTasks and
// triggerExplicitTaskReconciliation (tasks the executor does not know go
// LOST) and triggerImplicitTaskReconciliation work with or without it.
// Without DataDir everything is in memory.
//
// Reconciliation: as in Aurora, forceTaskState changes only the stored
// state and sends nothing to the agent. triggerImplicitTaskReconciliation
// does what Mesos' implicit reconciliation does for Aurora: an Executor
// that is a Lister (NopExecutor, thermosexec) lists the latest state of
// every task its agents hold, and the scheduler applies each as a status
// update with the Mesos master's message "Reconciliation: Latest task
// state", through Aurora's state machine: a task whose stored state
// differs takes the agent's where the state machine allows it (a task
// forced PARTITIONED, or from there to STARTING, is RUNNING again), and a
// task the agent reports ASSIGNED, STARTING or RUNNING that the scheduler
// has in a terminal state, is killing (restarting, draining, preempting),
// or does not have (pruned, or left out of a committed recovery) is
// killed on the agent. Any report of a live task from an agent is handled
// the same way. A task in the agent's state gets no event.
//
// Partitions: Server.Partition(host) (or PartitionAgent(agentID), as two
// agents may share a host) cuts agents off as a network partition between
// the Mesos master and them would, and Restore (RestoreAgent) reconnects
// them; the server's HTTP endpoints POST /admin/partition and
// /admin/restore with host=HOST or agent=AGENT_ID do the same (with the
// credentials when basic authentication is on). A partitioned agent makes
// no offers; its tasks go PARTITIONED (timesPartitioned counts it) and
// keep running, and what its executor reports, like the kills sent to it,
// is held until it is restored. Per the task's PartitionPolicy, as
// Aurora's PartitionManager does, a task with no policy or with
// reschedule=true goes LOST ("Task partitioned for too long.") delay_secs
// (default 0) after it was partitioned, on the scaled clock, and is
// replaced elsewhere; with reschedule=false it stays PARTITIONED until
// its agent is back and then goes back to its state (or gets the held
// updates). A task partitioned while KILLING, RESTARTING, DRAINING or
// PREEMPTING, or one of those actions on a PARTITIONED task, goes LOST at
// once ("Action performed on partitioned task, marking as LOST."),
// rescheduled unless it was being killed. Tasks LOST meanwhile are killed
// on the agent when it comes back. Partitioned agents and what they hold
// are kept in storage with the rest.
//
// Not modelled: Mesos offers as such (agents are always offered),
// revocable resources and the update ERROR state (which Aurora enters
// on internal failures only).
package auroratest
