package job

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/nixrealis/nixrealis/internal/mapkeys"
	"github.com/nixrealis/nixrealis/thermos"
)

// Validating: the checks Aurora's client and scheduler make of a rendered
// payload and update_config, each problem recorded in b.errs with its field
// path.

// goodIdentifier reports whether s matches Aurora's GOOD_IDENTIFIER_PATTERN
// for role, environment and job name, ^[\w\-\.]+$ (ASCII \w).
func goodIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isWordByte(c) && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// goodProcessName reports whether s matches Thermos's process name pattern,
// ^[^./][^/]*$.
func goodProcessName(s string) bool {
	return s != "" && s[0] != '.' && s[0] != '/' && !strings.Contains(s, "/")
}

// negCheck names a field (relative to a path prefix) and whether its value
// is negative.
type negCheck struct {
	name string
	neg  bool
}

// nonNegative reports every negative field among checks under prefix p.
func (b *builder) nonNegative(p string, checks ...negCheck) {
	for _, c := range checks {
		if c.neg {
			b.errs.add(p+c.name, ErrInvalid, "must not be negative")
		}
	}
}

// validateJob checks the rendered payload and settings.
func (b *builder) validateJob(pl *thermos.Job) {
	for _, f := range []struct{ path, val, what string }{
		{"cluster", pl.Cluster, "cluster"},
		{"role", pl.Role, "role"},
		{"environment", pl.Environment, "environment"},
		{"name", pl.Name, "name"},
	} {
		switch {
		case f.val == "":
			article := "a"
			if f.what == "environment" {
				article = "an"
			}
			b.errs.add(f.path, ErrRequired, fmt.Sprintf("the job needs %s %s: set Key.%s%s", article, f.what, strings.ToUpper(f.what[:1]), f.what[1:]))
		case f.path == "cluster":
		case strings.Contains(f.val, "{{"):
			// already reported as a template problem
		case !goodIdentifier(f.val):
			b.errs.add(f.path, ErrInvalid, fmt.Sprintf("invalid %s %q: use only letters, digits, '_', '-' and '.'", f.what, f.val))
		case len(f.val) > 255:
			b.errs.add(f.path, ErrInvalid, fmt.Sprintf("%s is %d characters long: the scheduler allows at most 255", f.what, len(f.val)))
		}
	}
	if b.instances < 1 {
		b.errs.add("instances", ErrInvalid, fmt.Sprintf("%d instances: a job needs at least 1", b.instances))
	}
	switch strings.ToUpper(pl.CronCollisionPolicy) {
	case "KILL_EXISTING", "CANCEL_NEW", "RUN_OVERLAP":
	default:
		b.errs.add("cron_collision_policy", ErrInvalid, fmt.Sprintf("%q is not a cron collision policy: use KILL_EXISTING, CANCEL_NEW or RUN_OVERLAP", pl.CronCollisionPolicy))
	}
	if pl.CronSchedule != nil && pl.Service {
		b.errs.add("cron_schedule", ErrInvalid, "a service cannot be a cron job: drop the schedule or WithService(false)")
	}
	if pl.CronSchedule != nil && strings.TrimSpace(*pl.CronSchedule) == "" {
		b.errs.add("cron_schedule", ErrInvalid, "empty cron schedule")
	}
	for _, k := range mapkeys.Sorted(pl.Constraints) {
		v := pl.Constraints[k]
		if k == "" {
			b.errs.add("constraints", ErrInvalid, "a constraint needs an attribute name")
		}
		if rest, ok := strings.CutPrefix(v, "limit:"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(rest)); err != nil || n < 1 {
				b.errs.add("constraints["+k+"]", ErrInvalid, fmt.Sprintf("%q is not a valid limit value, must be a positive integer: write job.Limit(n)", v))
			}
		} else if strings.TrimPrefix(v, "!") == "" {
			b.errs.add("constraints["+k+"]", ErrInvalid, "a value constraint needs at least one value")
		}
	}
	if d, ok := pl.Constraints["dedicated"]; ok && pl.Role != "" {
		// The scheduler accepts one value, "<role>/..." or "*/...".
		group, _, found := strings.Cut(d, "/")
		if !found || strings.HasPrefix(d, "!") || strings.HasPrefix(d, "limit:") || strings.Contains(d, ",") || (group != pl.Role && group != "*") {
			b.errs.add("constraints[dedicated]", ErrInvalid, fmt.Sprintf("%q: the scheduler accepts a single value \"%s/<group>\" (or \"*/<group>\")", d, pl.Role))
		}
	}
	if pl.Tier != nil && !strings.Contains(*pl.Tier, "{{") && (!goodIdentifier(*pl.Tier) || len(*pl.Tier) > 255) {
		b.errs.add("tier", ErrInvalid, fmt.Sprintf("invalid tier %q: use only letters, digits, '_', '-' and '.'", *pl.Tier))
	}
	if pl.PartitionPolicy != nil && pl.PartitionPolicy.DelaySecs < 0 {
		b.errs.add("partition_policy.delay_secs", ErrInvalid, "must not be negative")
	}
	if s := pl.SLAPolicy; s != nil {
		switch {
		case s.Percentage != nil && (s.Percentage.Percentage <= 0 || s.Percentage.Percentage > 100):
			b.errs.add("sla_policy.percentage", ErrInvalid, fmt.Sprintf("%v is not a percentage in (0, 100]", s.Percentage.Percentage))
		case s.Count != nil && s.Count.Count < 1:
			b.errs.add("sla_policy.count", ErrInvalid, "must be at least 1")
		case s.Coordinator != nil && s.Coordinator.CoordinatorURL == "":
			b.errs.add("sla_policy.coordinator_url", ErrRequired, "a coordinator SLA policy needs the coordinator's URL")
		}
	}
	b.validateUpdate(pl)
	b.validateTask(&pl.Task)
	b.validateAnnounce(pl)
}

func (b *builder) validateUpdate(pl *thermos.Job) {
	u := b.j.update.canonical()
	const p = "update_config."
	n := b.instances
	if u.MaxTotalFailures >= n && n >= 1 {
		b.errs.add(p+"max_total_failures", ErrInvalid, fmt.Sprintf("%d must be less than the %d instance(s): set it to at most %d", u.MaxTotalFailures, n, n-1))
	}
	if _, ok := pl.Constraints["dedicated"]; ok {
		if min := int(math.Floor(float64(n) * 0.02)); u.MaxTotalFailures < min {
			b.errs.add(p+"max_total_failures", ErrInvalid, fmt.Sprintf("a dedicated job of %d instances must tolerate at least %d failures (2%%): raise max_total_failures", n, min))
		}
	}
	b.nonNegative(p,
		negCheck{"watch_secs", *u.Watch < 0},
		negCheck{"max_per_shard_failures", u.MaxPerShardFailures < 0},
		negCheck{"max_total_failures", u.MaxTotalFailures < 0},
		negCheck{"pulse_interval_secs", u.PulseInterval < 0},
	)
	if u.BatchSize < 0 {
		b.errs.add(p+"batch_size", ErrInvalid, fmt.Sprintf("%d: an update needs batches of at least 1 instance", u.BatchSize))
	}
	if s := u.Strategy; s != nil {
		if s.kind == "variable" && len(s.sizes) == 0 {
			b.errs.add(p+"update_strategy.batch_sizes", ErrRequired, "a variable batch strategy needs at least one batch size")
		}
		for i, sz := range s.sizes {
			if sz >= 1 {
				continue
			}
			// A queue or batch strategy has one batch_size; a variable
			// batch strategy a list, batch_sizes.
			field := p + "update_strategy.batch_size"
			if s.kind == "variable" {
				field = fmt.Sprintf("%supdate_strategy.batch_sizes[%d]", p, i)
			}
			b.errs.add(field, ErrInvalid, fmt.Sprintf("batch size %d: must be at least 1", sz))
		}
	}
}

func (b *builder) validateTask(t *thermos.Task) {
	if len(t.Processes) == 0 && !b.j.IsCustomExecutor() {
		b.errs.add("task.processes", ErrRequired, "the task needs at least one process: pass it to job.NewTask")
	}
	if t.Name == "" && len(t.Processes) > 0 {
		b.errs.add("task.name", ErrRequired, "the task name is empty")
	}
	if r := t.Resources; r == nil {
		b.errs.add("task.resources", ErrRequired, "the task must specify resources: call Task.WithResources(job.NewResources(cpu, ram, disk))")
	} else {
		if !(r.CPU > 0) || math.IsInf(r.CPU, 0) {
			b.errs.add("task.resources.cpu", ErrInvalid, fmt.Sprintf("cpu %v: must be positive", r.CPU))
		}
		for _, f := range []struct {
			name string
			v    int64
		}{{"ram", r.RAM}, {"disk", r.Disk}} {
			if f.v < int64(MiB) {
				b.errs.add("task.resources."+f.name, ErrInvalid, fmt.Sprintf("%d bytes is %d MiB: Aurora sends %s in whole MiB and needs it positive, so give at least 1 MiB (job.MiB)", f.v, f.v/int64(MiB), f.name))
			}
		}
		if r.GPU < 0 {
			b.errs.add("task.resources.gpu", ErrInvalid, "must not be negative")
		}
	}
	if t.MaxFailures < 0 {
		b.errs.add("task.max_failures", ErrInvalid, "must not be negative (0 means unlimited)")
	}
	if t.MaxConcurrency < 0 {
		b.errs.add("task.max_concurrency", ErrInvalid, "must not be negative (0 means unlimited)")
	}
	if t.FinalizationWait < 0 {
		b.errs.add("task.finalization_wait", ErrInvalid, "must not be negative")
	}
	seen := make(map[string]int, len(t.Processes))
	for i := range t.Processes {
		p := &t.Processes[i]
		if p.Name != "" && goodProcessName(p.Name) && p.Cmdline != "" && p.MaxFailures >= 0 && p.MinDuration >= 0 {
			if _, dup := seen[p.Name]; !dup {
				seen[p.Name] = i
				continue
			}
		}
		path := procPath(i)
		switch {
		case p.Name == "":
			b.errs.add(path+".name", ErrRequired, "every process needs a name")
		case !goodProcessName(p.Name) && !strings.Contains(p.Name, "{{"):
			b.errs.add(path+".name", ErrInvalid, fmt.Sprintf("invalid process name %q: it may not contain '/' nor start with '.'", p.Name))
		}
		if k, dup := seen[p.Name]; dup && p.Name != "" {
			b.errs.add(path+".name", ErrDuplicate, fmt.Sprintf("process name %q is also used by task.processes[%d]: give each process its own name", p.Name, k))
		} else {
			seen[p.Name] = i
		}
		if p.Cmdline == "" {
			b.errs.add(path+".cmdline", ErrRequired, "every process needs a command line")
		}
		if p.MaxFailures < 0 {
			b.errs.add(path+".max_failures", ErrInvalid, "must not be negative (0 means retry forever)")
		}
		if p.MinDuration < 0 {
			b.errs.add(path+".min_duration", ErrInvalid, "must not be negative")
		}
	}
	b.validatePlan(t)
}

// validatePlan checks the order constraints the way Thermos's planner does,
// separately for the regular and the final processes: every constraint
// names all or none of a group's processes, no process depends on a daemon,
// no non-ephemeral process depends on an ephemeral one, and there is no
// cycle (a topological sort, linear in processes and constraints).
func (b *builder) validatePlan(t *thermos.Task) {
	if len(t.Constraints) == 0 {
		return
	}
	index := make(map[string]int, len(t.Processes))
	for i, p := range t.Processes {
		if _, dup := index[p.Name]; !dup {
			index[p.Name] = i
		}
	}
	n := len(t.Processes)
	adj := make([][]int32, n)
	indeg := make([]int32, n)
	for ci, c := range t.Constraints {
		path := "task.constraints[" + strconv.Itoa(ci) + "]"
		if len(c.Order) == 0 {
			b.errs.add(path, ErrInvalidPlan, "an order constraint must name at least one process")
			continue
		}
		// Which group (final or not) each name belongs to, -1 if unknown.
		var final, regular, unknown int
		for _, name := range c.Order {
			i, ok := index[name]
			switch {
			case !ok:
				unknown++
			case t.Processes[i].Final:
				final++
			default:
				regular++
			}
		}
		if unknown == len(c.Order) {
			continue // Thermos ignores constraints naming only unknown processes
		}
		if unknown > 0 || final > 0 && regular > 0 {
			what := "are final and not final"
			if unknown > 0 {
				what = "do not exist"
			}
			b.errs.add(path, ErrInvalidPlan, fmt.Sprintf("order %q mixes processes that %s: an order constraint must name only processes of the task, and either only final or only non-final ones", c.Order, what))
			continue
		}
		for k := 1; k < len(c.Order); k++ {
			prev, cur := index[c.Order[k-1]], index[c.Order[k]]
			pp, cp := &t.Processes[prev], &t.Processes[cur]
			if pp.Daemon {
				b.errs.add(path, ErrInvalidPlan, fmt.Sprintf("process %s may not depend upon daemon process %s: a daemon never finishes, so drop this order constraint or make %s not a daemon", cp.Name, pp.Name, pp.Name))
				continue
			}
			if !cp.Ephemeral && pp.Ephemeral {
				b.errs.add(path, ErrInvalidPlan, fmt.Sprintf("non-ephemeral process %s may not depend upon ephemeral process %s: drop this order constraint or make %s ephemeral too", cp.Name, pp.Name, cp.Name))
				continue
			}
			adj[prev] = append(adj[prev], int32(cur))
			indeg[cur]++
		}
	}
	// Kahn's algorithm.
	queue := make([]int32, 0, n)
	for i := range n {
		if indeg[i] == 0 {
			queue = append(queue, int32(i))
		}
	}
	done := 0
	for len(queue) > 0 {
		v := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		done++
		for _, w := range adj[v] {
			indeg[w]--
			if indeg[w] == 0 {
				queue = append(queue, w)
			}
		}
	}
	if done < n {
		var names []string
		for i := range n {
			if indeg[i] > 0 {
				names = append(names, t.Processes[i].Name)
				if len(names) == 10 {
					names = append(names, "...")
					break
				}
			}
		}
		b.errs.add("task.constraints", ErrInvalidPlan, fmt.Sprintf("cycles detected in the task schedule among processes %s: remove one of the order constraints that form the cycle", strings.Join(names, ", ")))
	}
}

func (b *builder) validateAnnounce(pl *thermos.Job) {
	a := pl.Announce
	if a == nil {
		return
	}
	_, dedicated := pl.Constraints["dedicated"]
	for _, k := range mapkeys.Sorted(a.Portmap) {
		_, static, ok := resolvePort(a.Portmap, k)
		if !ok {
			b.errs.add("announce.portmap["+k+"]", ErrInvalid, "the portmap aliases form a cycle: make one of them name a real port")
			continue
		}
		if static && !dedicated {
			b.errs.add("announce.portmap["+k+"]", ErrInvalid, fmt.Sprintf("static port %s: a job must be dedicated in order to specify static ports; add WithDedicated(\"role/name\") or use a named port", a.Portmap[k]))
		}
	}
}
