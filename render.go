package nixrealis

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"

	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/thermos"
)

// mib is the unit Aurora's client divides byte counts by (Python 2 floor
// division) to get the TaskConfig's ramMb and diskMb.
const mib = 1 << 20

// minPulseIntervalSecs is the smallest pulse_interval_secs Aurora's client
// accepts (UpdaterConfig.MIN_PULSE_INTERVAL_SECONDS).
const minPulseIntervalSecs = 60

func renderErr(field, format string, args ...any) error {
	return &RenderError{Path: field, Err: fmt.Errorf(format, args...)}
}

// DefaultOwner returns the user Aurora's Python client puts into
// TaskConfig.owner: the local user, looked up as Python's getpass.getuser
// does (LOGNAME, USER, LNAME, USERNAME, then the password database). It
// returns "" when none of them is known.
func DefaultOwner() string {
	for _, k := range []string{"LOGNAME", "USER", "LNAME", "USERNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// RenderJob turns a built job into a fresh gorealis Job whose JobConfig()
// is the JobConfiguration Aurora's Python client sends for it (aurora
// config/thrift.py convert): the TaskConfig fields the client computes,
// with executorConfig.data holding the Thermos payload. owner becomes
// TaskConfig.owner.user and JobConfiguration.owner.user ("" means
// DefaultOwner).
//
// Every call builds new Thrift structures: the job key of the
// JobConfiguration and of its TaskConfig are separate values, and nothing is
// shared with spec or with an earlier result, so results may be used from
// different goroutines. The returned Job is meant to be handed to gorealis
// as is; its resource, constraint and metadata lists were written directly
// (to work around gorealis' AddNamedPorts and AddLabel), so further calls of
// its AddLabel or AddNamedPorts setters would not see them.
func RenderJob(spec job.Spec, owner string) (realis.Job, error) {
	j, err := renderJob(spec.Payload, spec.Instances, spec.Ports, owner)
	if err != nil {
		return nil, err
	}
	if err := renderURIs(j.TaskConfig(), spec.URIs); err != nil {
		return nil, err
	}
	return j, nil
}

func renderJob(p *thermos.Job, instances int, ports []string, owner string) (realis.Job, error) {
	if p == nil {
		return nil, renderErr("payload", "missing: build the job with job.Job.Build")
	}
	if owner == "" {
		owner = DefaultOwner()
	}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	data, err := executorData(p)
	add(err)
	for _, f := range []string{"service", "max_task_failures", "production", "priority"} {
		if t, ok := p.Templates[f]; ok {
			add(renderErr(f, "holds the template %q, which Aurora's TaskConfig cannot carry: bind it to a value", t))
		}
	}
	if r := p.Task.Resources; r != nil {
		for _, f := range []string{"cpu", "ram", "disk", "gpu"} {
			if t, ok := r.Templates[f]; ok {
				add(renderErr("task.resources."+f, "holds the template %q, which Aurora's TaskConfig cannot carry: bind it to a value", t))
			}
		}
	}
	if instances <= 0 || instances > math.MaxInt32 {
		add(renderErr("instances", "%d is not a valid instance count: give at least 1", instances))
	}
	priority, err := int32Field("priority", p.Priority)
	add(err)
	maxTaskFailures, err := int32Field("max_task_failures", p.MaxTaskFailures)
	add(err)

	j := realis.NewJob().
		Environment(p.Environment).
		Role(p.Role).
		Name(p.Name).
		ExecutorName(executorName(p)).
		ExecutorData(data).
		IsService(p.Service).
		InstanceCount(int32(min(max(instances, 0), math.MaxInt32))).
		MaxFailure(maxTaskFailures).
		Priority(priority)

	// Resources: numCpus, ramMb and diskMb through gorealis' setters (they keep
	// its own bookkeeping consistent), the rest appended one by one.
	tc := j.TaskConfig()
	if r := p.Task.Resources; r == nil {
		add(renderErr("task.resources", "missing: give the task cpu, ram and disk"))
	} else {
		j.CPU(r.CPU).RAM(floorDiv(r.RAM, mib)).Disk(floorDiv(r.Disk, mib))
		if r.CPU <= 0 || floorDiv(r.RAM, mib) <= 0 || floorDiv(r.Disk, mib) <= 0 {
			add(renderErr("task.resources", "cpu, ram and disk must all be positive and ram and disk at least 1 MiB, got cpu %v, ram %d bytes, disk %d bytes", r.CPU, r.RAM, r.Disk))
		}
		// AddNamedPorts with several names makes every port the last name
		// (gorealis' loop-variable bug), and duplicate set elements fail
		// Thrift's write; append each distinct name on its own.
		for _, name := range dedupSorted(ports) {
			tc.Resources = append(tc.Resources, &aurora.Resource{NamedPort: new(name)})
		}
		if r.GPU != 0 {
			tc.Resources = append(tc.Resources, &aurora.Resource{NumGpus: new(r.GPU)})
		}
	}

	// Constraints: a set, built in name order so the result is deterministic.
	names := make([]string, 0, len(p.Constraints))
	for name := range p.Constraints {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		value := p.Constraints[name]
		if rest, ok := strings.CutPrefix(value, "limit:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 32)
			if err != nil {
				add(renderErr("constraints["+name+"]", "%q is not a valid limit value, must be integer (write it as \"limit:2\")", value))
				continue
			}
			j.AddLimitConstraint(name, int32(n))
			continue
		}
		negated := strings.HasPrefix(value, "!")
		j.AddValueConstraint(name, negated, dedupSorted(strings.Split(strings.TrimPrefix(value, "!"), ","))...)
	}
	if tc.Constraints == nil {
		tc.Constraints = []*aurora.Constraint{}
	}

	// Metadata: a set of (key, value) pairs. gorealis' AddLabel keeps one value
	// per key, Aurora keeps every distinct pair, so the list is written here.
	tc.Metadata = []*aurora.Metadata{}
	seen := make(map[thermos.Metadata]bool, len(p.Metadata))
	for _, m := range p.Metadata {
		if !seen[m] {
			seen[m] = true
			tc.Metadata = append(tc.Metadata, &aurora.Metadata{Key: m.Key, Value: m.Value})
		}
	}

	if p.Tier != nil {
		j.Tier(*p.Tier)
	}
	tc.Production = new(p.Production)
	tc.ContactEmail = cloneString(p.Contact)
	tc.TaskLinks = map[string]string{}

	if p.PartitionPolicy != nil {
		j.PartitionPolicy(&aurora.PartitionPolicy{
			Reschedule: p.PartitionPolicy.Reschedule,
			DelaySecs:  new(int64(p.PartitionPolicy.DelaySecs)),
		})
	}
	if sp := p.SLAPolicy; sp != nil {
		policy, err := slaPolicy(sp)
		add(err)
		if policy != nil {
			j.SlaPolicy(policy)
		}
	}
	container, err := renderContainer(p.Container)
	add(err)
	if container != nil {
		tc.Container = container
	}

	if p.CronSchedule != nil {
		j.CronSchedule(*p.CronSchedule)
	}
	policy, err := cronCollisionPolicy(p.CronCollisionPolicy)
	add(err)
	j.CronCollisionPolicy(policy)

	// Owner: Aurora's client sends the local user, gorealis' Role() the role.
	// Separate Identity and JobKey values, so that nothing is aliased.
	jc := j.JobConfig()
	jc.Owner = &aurora.Identity{User: owner}
	tc.Owner = &aurora.Identity{User: owner}
	key := *jc.Key
	tc.Job = &key

	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return j, nil
}

// executorName is TaskConfig.executorConfig.name: Thermos' name unless the
// job names a custom executor.
func executorName(p *thermos.Job) string {
	if p.ExecutorConfig.Name == "" {
		return aurora.AURORA_EXECUTOR_NAME
	}
	return p.ExecutorConfig.Name
}

// executorData is TaskConfig.executorConfig.data: the payload for Thermos,
// the custom executor's data verbatim otherwise.
func executorData(p *thermos.Job) (string, error) {
	if executorName(p) != aurora.AURORA_EXECUTOR_NAME {
		return p.ExecutorConfig.Data, nil
	}
	b, err := thermos.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("%w: payload: %w", ErrRender, err)
	}
	return string(b), nil
}

func int32Field(field string, v int) (int32, error) {
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, renderErr(field, "%d does not fit Aurora's 32-bit field", v)
	}
	return int32(v), nil
}

// floorDiv divides as Python 2 does for integers: rounding toward minus
// infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func dedupSorted(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}

func cloneString(s *string) *string {
	if s == nil {
		return nil
	}
	return new(*s)
}

// cronCollisionPolicy looks the policy up as Aurora's client does: by its
// upper-cased name, "" meaning the default KILL_EXISTING.
func cronCollisionPolicy(name string) (aurora.CronCollisionPolicy, error) {
	if name == "" {
		return aurora.CronCollisionPolicy_KILL_EXISTING, nil
	}
	p, err := aurora.CronCollisionPolicyFromString(strings.ToUpper(name))
	if err != nil {
		return 0, renderErr("cron_collision_policy", "%q is not a policy: use KILL_EXISTING, CANCEL_NEW or RUN_OVERLAP", name)
	}
	return p, nil
}

func slaPolicy(sp *thermos.SLAPolicy) (*aurora.SlaPolicy, error) {
	n := 0
	var out aurora.SlaPolicy
	if p := sp.Percentage; p != nil {
		n++
		out.PercentageSlaPolicy = &aurora.PercentageSlaPolicy{Percentage: p.Percentage, DurationSecs: int64(p.DurationSecs)}
	}
	if p := sp.Count; p != nil {
		n++
		out.CountSlaPolicy = &aurora.CountSlaPolicy{Count: int64(p.Count), DurationSecs: int64(p.DurationSecs)}
	}
	if p := sp.Coordinator; p != nil {
		n++
		out.CoordinatorSlaPolicy = &aurora.CoordinatorSlaPolicy{CoordinatorUrl: p.CoordinatorURL, StatusKey: p.StatusKey}
	}
	if n != 1 {
		return nil, renderErr("sla_policy", "has %d policies set: set exactly one of percentage, count or coordinator", n)
	}
	return &out, nil
}

// renderContainer converts the job's container; nil means Aurora's default,
// an empty Mesos container, which realis.NewJob already holds.
func renderContainer(c *thermos.Container) (*aurora.Container, error) {
	if c == nil {
		return nil, nil
	}
	n := 0
	var out *aurora.Container
	for _, d := range []*thermos.Docker{c.Docker, c.LegacyDocker} {
		if d == nil {
			continue
		}
		n++
		dc := realis.NewDockerContainer().Image(d.Image)
		for _, p := range d.Parameters {
			dc = dc.AddParameter(p.Name, p.Value)
		}
		out = dc.Build()
		if out.Docker.Parameters == nil {
			out.Docker.Parameters = []*aurora.DockerParameter{}
		}
	}
	if m := c.Mesos; m != nil {
		n++
		mc := realis.NewMesosContainer()
		if img := m.Image; img != nil {
			switch {
			case img.Docker != nil && img.Appc == nil:
				mc = mc.DockerImage(img.Docker.Name, img.Docker.Tag)
			case img.Appc != nil && img.Docker == nil:
				mc = mc.AppcImage(img.Appc.Name, img.Appc.ImageID)
			default:
				return nil, renderErr("container.mesos.image", "set exactly one of docker or appc")
			}
		}
		out = mc.Build()
		out.Mesos.Volumes = []*aurora.Volume{}
		for i, v := range m.Volumes {
			mode, err := volumeMode(v.Mode)
			if err != nil {
				return nil, &RenderError{Path: fmt.Sprintf("container.mesos.volumes[%d].mode", i), Err: err}
			}
			out.Mesos.Volumes = append(out.Mesos.Volumes, &aurora.Volume{ContainerPath: v.ContainerPath, HostPath: v.HostPath, Mode: mode})
		}
	}
	if n != 1 {
		return nil, renderErr("container", "has %d kinds set: set exactly one of docker or mesos", n)
	}
	return out, nil
}

func volumeMode(s string) (aurora.Mode, error) {
	switch strings.ToUpper(s) {
	case "RO":
		return aurora.Mode_RO, nil
	case "RW":
		return aurora.Mode_RW, nil
	}
	return 0, fmt.Errorf("%q is not a volume mode: use RO or RW", s)
}

// UpdateSettings returns the JobUpdateSettings that `aurora update start`
// sends for an update_config (aurora client/api/updater_util.py,
// UpdaterConfig), and rejects what that client rejects: batch_size below 1,
// negative watch_secs, pulse_interval_secs below 60, and an explicit
// update_strategy combined with wait_for_batch_completion or a batch_size
// above 1. Without a strategy the scheduler gets a queue strategy of
// batch_size (a batch strategy with wait_for_batch_completion).
//
// One deliberate difference: Aurora's client fails on an explicit
// QueueUpdateStrategy or BatchUpdateStrategy (it reads a misspelt
// attribute); here they are sent as written, with updateGroupSize set to
// their batch size.
func UpdateSettings(u thermos.UpdateConfig) (*aurora.JobUpdateSettings, error) {
	var errs []error
	if u.BatchSize <= 0 {
		errs = append(errs, renderErr("update_config.batch_size", "%d: batch size should be greater than 0", u.BatchSize))
	}
	if u.WatchSecs < 0 {
		errs = append(errs, renderErr("update_config.watch_secs", "%d: watch seconds should be greater than or equal to 0", u.WatchSecs))
	}
	if u.PulseIntervalSecs != nil && *u.PulseIntervalSecs < minPulseIntervalSecs {
		errs = append(errs, renderErr("update_config.pulse_interval_secs", "%d: pulse interval seconds must be at least %d seconds", *u.PulseIntervalSecs, minPulseIntervalSecs))
	}
	if u.UpdateStrategy != nil && u.WaitForBatchCompletion {
		errs = append(errs, renderErr("update_config.update_strategy", "ambiguous update configuration: cannot combine wait_for_batch_completion with an explicit update strategy"))
	}
	if u.UpdateStrategy != nil && u.BatchSize > 1 {
		errs = append(errs, renderErr("update_config.update_strategy", "ambiguous update configuration: cannot combine update strategy with batch size; set the batch size inside the update strategy instead"))
	}
	for _, f := range []struct {
		name string
		v    int
	}{
		{"batch_size", u.BatchSize},
		{"max_per_shard_failures", u.MaxPerShardFailures},
		{"max_total_failures", u.MaxTotalFailures},
		{"watch_secs", u.WatchSecs * 1000},
	} {
		if f.v < math.MinInt32 || f.v > math.MaxInt32 {
			errs = append(errs, renderErr("update_config."+f.name, "%d is too large for Aurora's 32-bit field", f.v))
		}
	}
	if u.PulseIntervalSecs != nil && *u.PulseIntervalSecs*1000 > math.MaxInt32 {
		errs = append(errs, renderErr("update_config.pulse_interval_secs", "%d is too large for Aurora's 32-bit field", *u.PulseIntervalSecs))
	}

	s := &aurora.JobUpdateSettings{
		UpdateGroupSize:            int32(u.BatchSize),
		MaxPerInstanceFailures:     int32(u.MaxPerShardFailures),
		MaxFailedInstances:         int32(u.MaxTotalFailures),
		MinWaitInInstanceRunningMs: int32(u.WatchSecs * 1000),
		RollbackOnFailure:          u.RollbackOnFailure,
		WaitForBatchCompletion:     u.WaitForBatchCompletion,
		SlaAware:                   new(u.SLAAware),
	}
	if u.PulseIntervalSecs != nil && *u.PulseIntervalSecs != 0 {
		s.BlockIfNoPulsesAfterMs = new(int32(*u.PulseIntervalSecs * 1000))
	}
	switch st := u.UpdateStrategy; {
	case st == nil && u.WaitForBatchCompletion:
		s.UpdateStrategy = &aurora.JobUpdateStrategy{BatchStrategy: &aurora.BatchJobUpdateStrategy{GroupSize: int32(u.BatchSize)}}
	case st == nil:
		s.UpdateStrategy = &aurora.JobUpdateStrategy{QueueStrategy: &aurora.QueueJobUpdateStrategy{GroupSize: int32(u.BatchSize)}}
	default:
		n := 0
		if q := st.Queue; q != nil {
			n++
			s.UpdateGroupSize = int32(q.BatchSize)
			s.UpdateStrategy = &aurora.JobUpdateStrategy{QueueStrategy: &aurora.QueueJobUpdateStrategy{GroupSize: int32(q.BatchSize)}}
			if q.BatchSize <= 0 {
				errs = append(errs, renderErr("update_config.update_strategy.batch_size", "%d: batch size should be greater than 0", q.BatchSize))
			}
		}
		if b := st.Batch; b != nil {
			n++
			s.UpdateGroupSize = int32(b.BatchSize)
			s.UpdateStrategy = &aurora.JobUpdateStrategy{BatchStrategy: &aurora.BatchJobUpdateStrategy{GroupSize: int32(b.BatchSize), AutopauseAfterBatch: b.AutopauseAfterBatch}}
			if b.BatchSize <= 0 {
				errs = append(errs, renderErr("update_config.update_strategy.batch_size", "%d: batch size should be greater than 0", b.BatchSize))
			}
		}
		if v := st.VariableBatch; v != nil {
			n++
			sizes := make([]int32, len(v.BatchSizes))
			for i, b := range v.BatchSizes {
				sizes[i] = int32(b)
				if b <= 0 || b > math.MaxInt32 {
					errs = append(errs, renderErr(fmt.Sprintf("update_config.update_strategy.batch_sizes[%d]", i), "%d: batch size should be greater than 0", b))
				}
			}
			if len(sizes) == 0 {
				errs = append(errs, renderErr("update_config.update_strategy.batch_sizes", "missing: give at least one batch size"))
			}
			s.UpdateStrategy = &aurora.JobUpdateStrategy{VarBatchStrategy: &aurora.VariableBatchJobUpdateStrategy{GroupSizes: sizes, AutopauseAfterBatch: v.AutopauseAfterBatch}}
		}
		if n != 1 {
			errs = append(errs, renderErr("update_config.update_strategy", "has %d strategies set: set exactly one of queue, batch or variable batch", n))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}
