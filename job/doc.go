// Package job is what users of nixrealis write: Aurora jobs composed in Go,
// built into exactly the Thermos payload and settings Aurora's own client
// produces for the equivalent .aurora file.
//
// # Values
//
// A Process is a command line; a Task groups processes with order
// constraints, resources and a failure policy; a Job runs a task as
// instances on a cluster, with scheduling, health-check, lifecycle,
// announce, update, container and SLA settings. All three are immutable
// values: every With/Add method returns a modified copy and never changes
// the receiver, slices and maps included, so any value can serve as a
// template for others and one Process can be shared by several tasks.
// A With method called again replaces the value of the earlier call; an Add
// method appends to what earlier calls added; Bind adds a binding that wins
// over earlier ones.
//
// # Defaults
//
// One rule holds everywhere: what is not set is Aurora's default. The zero
// Process, Task and Job are NewProcess, NewTask and New without arguments
// (max_failures 1 and min_duration 5s; max_failures 1 and finalization_wait
// 30s; one instance, KILL_EXISTING, max_task_failures 1, the default health
// check, lifecycle and update config, the Thermos executor); their With
// methods set a field whatever the value, so WithMaxFailures(0) is 0. In
// the plain structs (Update, HealthCheck, HTTPLifecycle, Logger,
// RotatePolicy, PartitionPolicy, Announcer, and HTTPChecker's arguments) a
// zero field is unset, so Update{BatchSize: 2} watches 45s and rolls back
// on failure like Aurora's UpdateConfig(batch_size=2). The few fields whose
// zero Aurora takes as a setting of its own (Update.Watch and
// RollbackOnFailure, HealthCheck.InitialInterval, the HTTPLifecycle waits,
// PartitionPolicy.Reschedule) are pointers, nil when unset:
// Update{RollbackOnFailure: new(false)}. The Default* functions return the
// defaults spelt out, as a starting point to edit.
//
// Durations are time.Duration and sizes are Bytes (MiB, GiB, or Aurora's
// names MB, GB, TB for the same binary units, untyped constants so that
// 7.5*GB works as in .aurora files); they are converted to Aurora's
// seconds and bytes when the job is built.
//
// SequentialTask, SimpleTask, Concat and Combine follow Aurora's helpers
// exactly: Combine and Concat take the last task as the base, unite the
// processes and constraints, and sum (Combine) or take the maximum of
// (Concat) the resources; Concat also orders every process of one task
// before every process of the next.
//
// # Templates
//
// Every string may contain Pystachio templates: {{name}}, {{a.b}},
// {{a[b]}}, resolved repeatedly so that {{a{{b}}}} works. A struct's own
// fields are variables for itself and its children ({{name}} in a process
// is the process's name, {{role}}, {{environment}} and {{cluster}} are
// visible everywhere), and the defaults are templates too: a task is named
// after its first process and a job after its task. Bind adds values
// (job.Vars), closer bindings winning. {{mesos.role}}, {{mesos.cluster}}
// and {{thermos.user}} resolve to the role and cluster as Aurora's client
// does; {{mesos.instance}}, {{mesos.hostname}}, {{thermos.task_id}} and
// {{thermos.ports[NAME]}} are left for Thermos to fill at run time. Any
// other unbound reference is an error naming it. Numeric fields take
// templates through WithTemplate; such a template must be resolved by a
// binding, as `aurora job create` requires.
//
// # Build
//
// Job.Build resolves templates and defaults, validates everything and
// returns a Spec: the thermos payload, the instance count, the
// update_config and the named ports to request. Its error is an
// errors.Join of *FieldError values, one per problem, each with the path of
// the field (task.processes[2].name) and a sentinel for errors.Is
// (ErrRequired, ErrInvalid, ErrDuplicate, ErrUnbound, ErrInvalidPlan,
// ErrTemplateInNumericField). Order constraints are checked like Thermos's
// planner does, in time linear in processes and constraints.
//
// Spec.WithTiers applies the tier back-fill that `aurora job create`
// performs with the scheduler's tier configuration (DefaultTiers is
// Aurora's default tiers.json), and Spec.ExecutorData gives the bytes of
// TaskConfig.executorConfig.data. FromThermos goes the other way: it turns
// an existing payload into a Job to be edited and built again.
//
// Outside the standard library, the package imports only thermos and
// nixrealis' internal helpers (no gorealis, no Nix).
package job
