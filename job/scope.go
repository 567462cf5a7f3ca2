package job

import (
	"strconv"
	"time"

	"github.com/nixrealis/nixrealis/thermos"
)

// The struct scopes of Pystachio: inside a struct, its own fields are
// variables ({{name}} in a process is the process's name), and a parent's
// fields are visible to its children (a job's {{role}} inside a process).
// Each node below exposes one struct's fields as written, with the scope
// chain in which their own templates resolve. {{self.x}} names field x of
// the innermost struct, as in Pystachio.

func secs(d time.Duration) int { return int(d / time.Second) }

func itoa(n int) string { return strconv.Itoa(n) }

// payloadField looks up the scalar field name of v, a payload struct as
// the job's values give it before templates are rendered, by thermos'
// schema: a string resolves in sc (its own templates are rendered there), a
// number or boolean is its value as Pystachio's str() writes it, or the
// template standing in for it (tmpl[name]), rendered in sc.
func payloadField(v any, name string, tmpl map[string]string, sc *scope) (node, bool) {
	x, ok := thermos.Field(v, name)
	if !ok {
		return nil, false
	}
	s, _ := formatScalar(x)
	if _, str := x.(string); str {
		return leaf{val: s, sc: sc}, true
	}
	if t, ok := tmpl[name]; ok {
		return leaf{val: t, sc: sc}, true
	}
	return leaf{val: s}, true
}

// The field names of the payload structs, by thermos' schema.
var (
	jobFields       = nameSet(thermos.FieldNames(&thermos.Job{}))
	taskFields      = nameSet(thermos.FieldNames(&thermos.Task{}))
	processFields   = nameSet(thermos.FieldNames(&thermos.Process{}))
	resourcesFields = nameSet(thermos.FieldNames(&thermos.Resources{}))
)

// fieldSet is a set of field names with a quick first check, by length
// and first byte, that turns most names away without a map lookup (a
// {{mesos.instance}} in a process asks every scope on the way for "mesos").
type fieldSet struct {
	quick [64][4]uint64 // bit c of quick[len] for a name of length len starting with c
	names map[string]bool
}

func nameSet(names []string) *fieldSet {
	s := &fieldSet{names: make(map[string]bool, len(names))}
	for _, n := range names {
		s.names[n] = true
		if n != "" && len(n) < 64 {
			s.quick[len(n)][n[0]>>6] |= 1 << (n[0] & 63)
		}
	}
	return s
}

func (s *fieldSet) has(name string) bool {
	if name == "" || len(name) >= 64 || s.quick[len(name)][name[0]>>6]&(1<<(name[0]&63)) == 0 {
		return len(name) >= 64 && s.names[name]
	}
	return s.names[name]
}

type processNode struct {
	p  *Process
	sc *scope
	// raw is p as a payload process, made on the first lookup.
	raw *thermos.Process
}

func (n *processNode) child(name string, _ bool) (node, bool) {
	switch name {
	case "self":
		return n, true
	case "resources":
		if n.p.resources != nil {
			return resourcesNode{r: n.p.resources, tmpl: n.p.templates, sc: n.sc}, true
		}
		return nil, false
	}
	if !processFields.has(name) {
		return nil, false // most lookups go on to the enclosing scopes
	}
	if n.raw == nil {
		raw := n.p.payload()
		n.raw = &raw
	}
	return payloadField(n.raw, name, n.p.templates, n.sc)
}

type resourcesNode struct {
	r    *Resources
	tmpl map[string]string
	sc   *scope
}

func (n resourcesNode) child(name string, _ bool) (node, bool) {
	if !resourcesFields.has(name) {
		return nil, false
	}
	raw := n.r.payload()
	x, ok := thermos.Field(&raw, name)
	if !ok {
		return nil, false
	}
	if t, ok := n.tmpl["resources."+name]; ok {
		return leaf{val: t, sc: n.sc}, true
	}
	v, _ := formatScalar(x)
	return leaf{val: v}, true
}

type taskNode struct {
	t     *Task
	sc    *scope
	procs []processNode
	// raw is t as a payload task, made on the first lookup.
	raw *thermos.Task
}

func (n *taskNode) child(name string, _ bool) (node, bool) {
	t := n.t
	switch name {
	case "self":
		return n, true
	case "processes":
		return listNode(n.procs), true
	case "resources":
		if t.resources != nil {
			return resourcesNode{r: t.resources, tmpl: t.templates, sc: n.sc}, true
		}
		return nil, false
	}
	if !taskFields.has(name) {
		return nil, false
	}
	if n.raw == nil {
		raw := t.payload()
		raw.Name = n.taskName()
		n.raw = &raw
	}
	return payloadField(n.raw, name, t.templates, n.sc)
}

func (n *taskNode) taskName() string {
	if n.t.name == "" && len(n.t.processes) == 0 {
		return "" // reported as missing processes
	}
	if n.t.name == "" {
		return "{{processes[0].name}}"
	}
	return n.t.name
}

type listNode []processNode

func (l listNode) child(name string, index bool) (node, bool) {
	if !index {
		return nil, false
	}
	i, err := strconv.Atoi(name)
	if err != nil || i < 0 || i >= len(l) {
		return nil, false
	}
	return &l[i], true
}

type mapNode struct {
	m  map[string]string
	sc *scope
}

func (n mapNode) child(name string, _ bool) (node, bool) {
	v, ok := n.m[name]
	if !ok {
		return nil, false
	}
	return leaf{val: v, sc: n.sc}, true
}

type announcerNode struct {
	a  *Announcer
	sc *scope
}

func (n *announcerNode) child(name string, _ bool) (node, bool) {
	switch name {
	case "primary_port":
		return leaf{val: n.a.PrimaryPort, sc: n.sc}, true
	case "zk_path":
		if n.a.ZKPath != "" {
			return leaf{val: n.a.ZKPath, sc: n.sc}, true
		}
	case "portmap":
		return mapNode{m: n.portmap(), sc: n.sc}, true
	}
	return nil, false
}

var defaultPortmap = map[string]string{"aurora": "{{primary_port}}"}

func (n *announcerNode) portmap() map[string]string {
	if n.a.Portmap == nil {
		return defaultPortmap
	}
	return n.a.Portmap
}

type jobNode struct {
	j    *Job
	sc   *scope
	task *taskNode
	ann  *announcerNode
	// raw is j as a payload job (without its task), made on the first
	// lookup.
	raw *thermos.Job
}

func (n *jobNode) child(name string, _ bool) (node, bool) {
	j := n.j
	switch name {
	case "self":
		return n, true
	case "instances":
		// Not in the payload: a whole job's field.
		if tm, ok := j.templates[name]; ok {
			return leaf{val: tm, sc: n.sc}, true
		}
		return leaf{val: itoa(j.Instances())}, true
	case "task":
		return n.task, true
	case "announce":
		if n.ann != nil {
			return n.ann, true
		}
		return nil, false
	case "constraints":
		if j.constraints != nil {
			return mapNode{m: j.constraints, sc: n.sc}, true
		}
		return nil, false
	}
	if !jobFields.has(name) {
		return nil, false
	}
	if n.raw == nil {
		n.raw = j.payload()
		n.raw.Name = n.jobName()
	}
	return payloadField(n.raw, name, j.templates, n.sc)
}

func (n *jobNode) jobName() string {
	if n.j.key.Name == "" {
		return "{{task.name}}"
	}
	return n.j.key.Name
}

// stdNode holds the deprecated names Aurora's client binds before
// interpolating (AuroraConfig.standard_bindings): {{mesos.role}} and
// {{thermos.user}} are {{role}}, {{mesos.cluster}} is {{cluster}}. The
// values are substituted as written and resolved where they are used.
type stdNode struct{ ns string }

// Pre-boxed nodes, so that looking up {{mesos.instance}} allocates nothing.
var (
	stdRoot    node = stdNode{}
	stdMesos   node = stdNode{ns: "mesos"}
	stdThermos node = stdNode{ns: "thermos"}
	stdRole    node = leaf{val: "{{role}}"}
	stdCluster node = leaf{val: "{{cluster}}"}
)

func (n stdNode) child(name string, _ bool) (node, bool) {
	switch n.ns {
	case "":
		switch name {
		case "mesos":
			return stdMesos, true
		case "thermos":
			return stdThermos, true
		}
	case "mesos":
		switch name {
		case "role":
			return stdRole, true
		case "cluster":
			return stdCluster, true
		}
	case "thermos":
		if name == "user" {
			return stdRole, true
		}
	}
	return nil, false
}
