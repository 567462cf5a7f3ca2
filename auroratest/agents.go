package auroratest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// An Agent is one simulated Mesos agent: the host it runs on, its
// attributes and its resources, written as Mesos agent flags are
// (--attributes, --resources):
//
//	Agent{Host: "agent-one", Attributes: "host:agent-one;zone:west;rack:a1",
//		Resources: "cpus:4;mem:8192;disk:20000;gpus:1;ports:[11000-11999]"}
//
// Attributes are name:value pairs separated by ';'; a name may repeat, and
// Aurora's constraints see the union of its values. Aurora adds no host
// attribute of its own: a `host` limit or value constraint needs the agent
// to declare one, as Aurora's devclusters do. An agent with a `dedicated`
// attribute only takes tasks with a matching dedicated constraint.
//
// Resources are cpus, mem (MB), disk (MB), gpus and ports (ranges
// [a-b,c-d]); a resource left out is zero. Two agents may share a Host
// (both agents of gorealis' docker-compose devcluster are localhost):
// maintenance is by host, placement by agent.
type Agent struct {
	Host       string `json:"host"`
	Attributes string `json:"attributes"`
	Resources  string `json:"resources"`
}

// DefaultAgentResources are the resources of each default agent and of
// each agent named by Server.Hosts.
const DefaultAgentResources = "cpus:64;mem:262144;disk:2000000;ports:[31000-32999]"

// DefaultAgents returns the agents a Server has when neither Agents nor
// Hosts is set: three agents, agent-one (zone west), agent-two (zone
// east) and agent-three (zone east), each with a host attribute naming it,
// rack r1, r2, r3, and DefaultAgentResources.
func DefaultAgents() []Agent {
	return []Agent{
		{Host: "agent-one", Attributes: "host:agent-one;zone:west;rack:r1", Resources: DefaultAgentResources},
		{Host: "agent-two", Attributes: "host:agent-two;zone:east;rack:r2", Resources: DefaultAgentResources},
		{Host: "agent-three", Attributes: "host:agent-three;zone:east;rack:r3", Resources: DefaultAgentResources},
	}
}

// ParseAgents reads a JSON list of agents, as devcluster's -agents file
// holds it, and checks each one:
//
//	[{"host": "localhost", "attributes": "zone:west;host:agent-one",
//	  "resources": "cpus:4;mem:8192;disk:20000;ports:[31000-31099]"}]
func ParseAgents(data []byte) ([]Agent, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var agents []Agent
	if err := dec.Decode(&agents); err != nil {
		return nil, fmt.Errorf("agents: want a JSON list of {\"host\", \"attributes\", \"resources\"}: %w", err)
	}
	for i, a := range agents {
		if _, err := a.parse(i); err != nil {
			return nil, err
		}
	}
	return agents, nil
}

// portRange is an inclusive range of ports.
type portRange struct{ first, last int32 }

// resources is a bag of Aurora's resource types, in Aurora's order.
type resources struct {
	cpus, ram, disk float64
	ports           int
	gpus            float64
}

func (r resources) add(o resources) resources {
	return resources{r.cpus + o.cpus, r.ram + o.ram, r.disk + o.disk, r.ports + o.ports, r.gpus + o.gpus}
}

func (r resources) sub(o resources) resources {
	return resources{r.cpus - o.cpus, r.ram - o.ram, r.disk - o.disk, r.ports - o.ports, r.gpus - o.gpus}
}

// agent is the scheduler's view of one Agent.
type agent struct {
	id, host  string
	attrs     map[string][]string // name -> sorted distinct values
	dedicated bool
	total     resources
	ranges    []portRange
	used      resources
	ports     map[int32]bool // ports held by tasks on this agent
	tasks     map[*taskRec]bool
	index     int
	cut       *partitionState // non-nil while partitioned
}

func (a *agent) free() resources {
	f := a.total.sub(a.used)
	f.ports = a.total.ports - len(a.ports)
	return f
}

// AgentID returns the Mesos agent id a Server gives its i-th agent
// (Server.Agents[i], counting from 0): the slaveId of the tasks placed on
// it and LaunchedTask.AgentID. Two agents that share a host name have
// different ids.
func AgentID(i int) string { return fmt.Sprintf("auroratest-agent-S%d", i) }

// parse checks a and returns the scheduler's agent; i numbers it.
func (a Agent) parse(i int) (*agent, error) {
	where := fmt.Sprintf("agent %d (host %q)", i, a.Host)
	if strings.TrimSpace(a.Host) == "" {
		return nil, fmt.Errorf("agent %d: host is empty: give each agent a host name", i)
	}
	ag := &agent{
		id:    AgentID(i),
		host:  a.Host,
		attrs: map[string][]string{},
		ports: map[int32]bool{},
		tasks: map[*taskRec]bool{},
		index: i,
	}
	if err := parseAttributes(a.Attributes, ag.attrs); err != nil {
		return nil, fmt.Errorf("%s: attributes %q: %w", where, a.Attributes, err)
	}
	_, ag.dedicated = ag.attrs[dedicatedAttribute]
	if err := parseResources(a.Resources, ag); err != nil {
		return nil, fmt.Errorf("%s: resources %q: %w", where, a.Resources, err)
	}
	return ag, nil
}

const dedicatedAttribute = "dedicated"

// parseAttributes reads Mesos' --attributes syntax: name:value;...
func parseAttributes(s string, into map[string][]string) error {
	return eachPair(s, "zone:west;rack:a1", func(_, name, value string) error {
		if !contains(into[name], value) {
			into[name] = append(into[name], value)
			sort.Strings(into[name])
		}
		return nil
	})
}

// parseResources reads Mesos' --resources syntax: name:value;... with
// scalars for cpus, mem, disk and gpus and ranges for ports.
func parseResources(s string, ag *agent) error {
	seen := map[string]bool{}
	return eachPair(s, "cpus:4;mem:8192;ports:[31000-31999]", func(part, name, value string) error {
		if strings.Contains(name, "(") {
			return fmt.Errorf("%q: reserved resources (name(role)) are not modelled; drop the role", part)
		}
		if seen[name] {
			return fmt.Errorf("%s given twice", name)
		}
		seen[name] = true
		if name == "ports" {
			ranges, n, err := parseRanges(value)
			if err != nil {
				return fmt.Errorf("ports: %w", err)
			}
			ag.ranges, ag.total.ports = ranges, n
			return nil
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil || v < 0 {
			return fmt.Errorf("%s: %q is not a non-negative number", name, value)
		}
		switch name {
		case "cpus":
			ag.total.cpus = v
		case "mem":
			ag.total.ram = v
		case "disk":
			ag.total.disk = v
		case "gpus":
			ag.total.gpus = v
		default:
			return fmt.Errorf("unknown resource %q: use cpus, mem, disk, gpus or ports", name)
		}
		return nil
	})
}

// eachPair calls fn with every part of s in Mesos' name:value;... syntax,
// blank parts skipped, names and values trimmed; a part that is not
// name:value is an error that shows example.
func eachPair(s, example string, fn func(part, name, value string) error) error {
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || value == "" {
			return fmt.Errorf("%q is not name:value (write e.g. %s)", part, example)
		}
		if err := fn(part, name, value); err != nil {
			return err
		}
	}
	return nil
}

// parseRanges reads [a-b,c-d] and returns the ranges and the number of
// ports in them.
func parseRanges(s string) ([]portRange, int, error) {
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return nil, 0, fmt.Errorf("%q is not a list of ranges like [31000-31999]", s)
	}
	var out []portRange
	n := 0
	for _, r := range strings.Split(s[1:len(s)-1], ",") {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		a, b, ok := strings.Cut(r, "-")
		if !ok {
			b = a
		}
		first, err1 := strconv.ParseUint(strings.TrimSpace(a), 10, 16)
		last, err2 := strconv.ParseUint(strings.TrimSpace(b), 10, 16)
		if err1 != nil || err2 != nil || first == 0 || last < first {
			return nil, 0, fmt.Errorf("%q is not a range first-last of ports 1-65535", r)
		}
		for _, o := range out {
			if int32(first) <= o.last && int32(last) >= o.first {
				return nil, 0, fmt.Errorf("range %q overlaps %d-%d", r, o.first, o.last)
			}
		}
		out = append(out, portRange{int32(first), int32(last)})
		n += int(last - first + 1)
	}
	return out, n, nil
}

// agents returns the configured agents: Agents, or Hosts with
// DefaultAgentResources, or DefaultAgents.
func (s *Server) agentList() []Agent {
	switch {
	case len(s.Agents) > 0:
		return s.Agents
	case len(s.Hosts) > 0:
		out := make([]Agent, len(s.Hosts))
		for i, h := range s.Hosts {
			out[i] = Agent{Host: h, Attributes: "host:" + h, Resources: DefaultAgentResources}
		}
		return out
	default:
		return DefaultAgents()
	}
}

// parseAgents checks the configured agents.
func (s *Server) parseAgents() ([]*agent, error) {
	var out []*agent
	for i, a := range s.agentList() {
		ag, err := a.parse(i)
		if err != nil {
			return nil, err
		}
		out = append(out, ag)
	}
	return out, nil
}

// hostMode is the maintenance mode of a host, NONE when never set.
func (st *state) hostMode(host string) aurora.MaintenanceMode {
	if m, ok := st.modes[host]; ok {
		return m
	}
	return aurora.MaintenanceMode_NONE
}
