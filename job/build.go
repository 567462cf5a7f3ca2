package job

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nixrealis/nixrealis/thermos"
)

// Spec is a built job: the Thermos payload and the Aurora-level settings
// that live outside it.
type Spec struct {
	// Payload is the executor payload (Aurora's MesosJob minus instances
	// and update_config) with every template resolved except the run-time
	// ones ({{mesos.instance}}, {{mesos.hostname}}, {{thermos.task_id}},
	// {{thermos.ports[NAME]}}).
	Payload *thermos.Job
	// Instances is the instance count (never in the payload).
	Instances int
	// Update is update_config (never in the payload).
	Update thermos.UpdateConfig
	// Ports are the named ports Aurora's client requests for each instance,
	// sorted: the names in {{thermos.ports[NAME]}} and the announce portmap,
	// after following portmap aliases, without static ports, and those
	// added with Job.AddPort.
	Ports []string
	// URIs are the resources the Mesos fetcher puts in each task's sandbox
	// (TaskConfig.mesosFetcherUris); nil when there are none.
	URIs []URI
}

// ExecutorData returns what Aurora's client puts in
// TaskConfig.executorConfig.data: the marshalled payload for the Thermos
// executor, or a custom executor's data verbatim.
func (s Spec) ExecutorData() ([]byte, error) {
	if s.Payload == nil {
		return nil, fmt.Errorf("job: spec has no payload")
	}
	if s.Payload.ExecutorConfig.Name != thermos.AuroraExecutorName {
		return []byte(s.Payload.ExecutorConfig.Data), nil
	}
	return thermos.Marshal(s.Payload)
}

// builder holds the state of one Build.
type builder struct {
	j    *Job
	errs errorList
	r    renderer
	// ports referenced with {{thermos.ports[NAME]}} in the task
	refPorts []string
	// whether refPorts collects (only while rendering the task)
	inTask  bool
	payload *thermos.Job
	// the instance count, resolved
	instances int
	// The fixed scope links and struct nodes, allocated with the builder.
	stdScope, jobScope, taskScope scope
	jn                            jobNode
	tn                            taskNode
}

// Build resolves templates and defaults, validates the whole job and
// returns its Spec. The error, if any, is an errors.Join of *FieldError
// values, one per problem, each wrapping ErrRequired, ErrInvalid,
// ErrDuplicate, ErrUnbound, ErrInvalidPlan or ErrTemplateInNumericField.
// Build never panics and never modifies j.
//
// Build follows `aurora job create`: a template left in a numeric field is
// rejected, as the CLI's type check does, although Aurora's library path
// would write it into the payload as a string.
func (j Job) Build() (Spec, error) {
	b := &builder{j: &j, instances: j.Instances()}
	b.payload = j.payload()
	spec := b.build()
	if err := b.errs.err(); err != nil {
		return Spec{}, err
	}
	return spec, nil
}

func (b *builder) build() Spec {
	j := b.j
	// Scope chains, innermost last: job fields, then job bindings (later
	// calls win), then the standard bindings.
	b.stdScope = scope{root: stdRoot}
	jsc := b.bindAll(&b.stdScope, "", j.vars)
	jn := &b.jn
	jn.j = j
	b.jobScope = scope{parent: jsc, root: jn}
	jsc = &b.jobScope
	jn.sc = jsc

	t := &j.task
	tsc := b.bindAll(jsc, "task.", t.vars)
	tn := &b.tn
	tn.t = t
	b.taskScope = scope{parent: tsc, root: tn}
	tsc = &b.taskScope
	tn.sc = tsc
	jn.task = tn
	// One allocation each for all process nodes and scopes.
	n := len(t.processes)
	tn.procs = make([]processNode, n)
	pscopes := make([]scope, n)
	for i := range t.processes {
		p := &t.processes[i]
		sc := tsc
		if len(p.vars) > 0 {
			sc = b.bindAll(tsc, fmt.Sprintf("task.processes[%d].", i), p.vars)
		}
		pn := &tn.procs[i]
		pn.p = p
		pscopes[i] = scope{parent: sc, root: pn}
		pn.sc = &pscopes[i]
	}
	var asc *scope
	if j.announce != nil {
		an := &announcerNode{a: j.announce}
		asc = jsc.push(an)
		an.sc = asc
		jn.ann = an
	}

	pl := b.payload
	b.inTask = true
	pl.Task = b.buildTask(t, tsc)
	b.inTask = false
	b.buildJob(pl, jsc, asc)
	b.validateJob(pl)

	spec := Spec{Payload: pl, Instances: b.instances, Update: b.buildUpdate()}
	spec.Ports = b.ports(pl)
	b.buildFetcher(&spec)
	return spec
}

// bindAll checks vars, the bind() calls of the object at prefix, and
// pushes them on sc, later calls innermost; it returns the innermost scope.
func (b *builder) bindAll(sc *scope, prefix string, vars []Vars) *scope {
	for i, v := range vars {
		checkVars(fmt.Sprintf("%sbind[%d]", prefix, i), v, &b.errs)
		sc = sc.push(varsNode{v: v})
	}
	return sc
}

// resolvePort follows portmap aliases from name; static reports a numeric
// (static) port; ok is false on an alias cycle.
func resolvePort(portmap map[string]string, name string) (port string, static, ok bool) {
	seen := 0
	for {
		if _, err := strconv.Atoi(strings.TrimSpace(name)); err == nil {
			return name, true, true
		}
		next, alias := portmap[name]
		if !alias {
			return name, false, true
		}
		if seen > len(portmap) {
			return name, false, false
		}
		seen++
		name = next
	}
}

// ports computes the named ports Aurora's client requests.
func (b *builder) ports(pl *thermos.Job) []string {
	var pm map[string]string
	if pl.Announce != nil {
		pm = pl.Announce.Portmap
	}
	set := make(map[string]struct{})
	add := func(name string) {
		if p, static, ok := resolvePort(pm, name); ok && !static {
			set[p] = struct{}{}
		}
	}
	for _, v := range pm {
		add(v)
	}
	for _, n := range b.refPorts {
		add(n)
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// dur converts whole seconds to a Duration.
func dur(s int) time.Duration { return time.Duration(s) * time.Second }

// fdur converts fractional seconds to a Duration.
func fdur(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
