package job

import (
	"strconv"
	"time"
)

// The struct scopes of Pystachio: inside a struct, its own fields are
// variables ({{name}} in a process is the process's name), and a parent's
// fields are visible to its children (a job's {{role}} inside a process).
// Each node below exposes one struct's fields as written, with the scope
// chain in which their own templates resolve. {{self.x}} names field x of
// the innermost struct, as in Pystachio.

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func secs(d time.Duration) int { return int(d / time.Second) }

func itoa(n int) string { return strconv.Itoa(n) }

type processNode struct {
	p  *Process
	sc *scope
}

func (n *processNode) field(name, val string) leaf {
	if t, ok := n.p.templates[name]; ok {
		return leaf{val: t, sc: n.sc}
	}
	return leaf{val: val}
}

func (n *processNode) child(name string, _ bool) (node, bool) {
	p := n.p
	switch name {
	case "self":
		return n, true
	case "name":
		return leaf{val: p.name, sc: n.sc}, true
	case "cmdline":
		return leaf{val: p.cmdline, sc: n.sc}, true
	case "max_failures":
		return n.field(name, itoa(p.MaxFailures())), true
	case "daemon":
		return n.field(name, pyBool(p.daemon)), true
	case "ephemeral":
		return n.field(name, pyBool(p.ephemeral)), true
	case "final":
		return n.field(name, pyBool(p.final)), true
	case "min_duration":
		return n.field(name, itoa(secs(p.MinDuration()))), true
	case "resources":
		if p.resources != nil {
			return resourcesNode{r: p.resources, tmpl: p.templates, sc: n.sc}, true
		}
	}
	return nil, false
}

type resourcesNode struct {
	r    *Resources
	tmpl map[string]string
	sc   *scope
}

func (n resourcesNode) child(name string, _ bool) (node, bool) {
	var v string
	switch name {
	case "cpu":
		v = pyFloat(n.r.CPU)
	case "ram":
		v = strconv.FormatInt(int64(n.r.RAM), 10)
	case "disk":
		v = strconv.FormatInt(int64(n.r.Disk), 10)
	case "gpu":
		v = itoa(n.r.GPU)
	default:
		return nil, false
	}
	if t, ok := n.tmpl["resources."+name]; ok {
		return leaf{val: t, sc: n.sc}, true
	}
	return leaf{val: v}, true
}

type taskNode struct {
	t     *Task
	sc    *scope
	procs []processNode
}

func (n *taskNode) child(name string, _ bool) (node, bool) {
	t := n.t
	field := func(v string) (node, bool) {
		if tm, ok := t.templates[name]; ok {
			return leaf{val: tm, sc: n.sc}, true
		}
		return leaf{val: v}, true
	}
	switch name {
	case "self":
		return n, true
	case "name":
		return leaf{val: n.taskName(), sc: n.sc}, true
	case "processes":
		return listNode(n.procs), true
	case "resources":
		if t.resources != nil {
			return resourcesNode{r: t.resources, tmpl: t.templates, sc: n.sc}, true
		}
	case "max_failures":
		return field(itoa(t.MaxFailures()))
	case "max_concurrency":
		return field(itoa(t.maxConcurrency))
	case "finalization_wait":
		return field(itoa(secs(t.FinalizationWait())))
	case "user":
		if t.user != nil {
			return leaf{val: *t.user, sc: n.sc}, true
		}
	}
	return nil, false
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
}

func (n *jobNode) child(name string, _ bool) (node, bool) {
	j := n.j
	str := func(v string) (node, bool) { return leaf{val: v, sc: n.sc}, true }
	field := func(v string) (node, bool) {
		if tm, ok := j.templates[name]; ok {
			return leaf{val: tm, sc: n.sc}, true
		}
		return leaf{val: v}, true
	}
	switch name {
	case "self":
		return n, true
	case "name":
		return str(n.jobName())
	case "role":
		return str(j.key.Role)
	case "cluster":
		return str(j.key.Cluster)
	case "environment":
		return str(j.key.Environment)
	case "contact":
		if j.contact != nil {
			return str(*j.contact)
		}
	case "tier":
		if j.tier != nil {
			return str(*j.tier)
		}
	case "cron_schedule":
		if j.cronSchedule != nil {
			return str(*j.cronSchedule)
		}
	case "cron_collision_policy":
		return str(string(j.CronCollisionPolicy()))
	case "instances":
		return field(itoa(j.Instances()))
	case "service":
		return field(pyBool(j.service))
	case "production":
		return field(pyBool(j.production))
	case "priority":
		return field(itoa(j.priority))
	case "max_task_failures":
		return field(itoa(j.MaxTaskFailures()))
	case "enable_hooks":
		return field(pyBool(j.enableHooks))
	case "task":
		return n.task, true
	case "announce":
		if n.ann != nil {
			return n.ann, true
		}
	case "constraints":
		if j.constraints != nil {
			return mapNode{m: j.constraints, sc: n.sc}, true
		}
	}
	return nil, false
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
