package auroratest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/paypal/gorealis/gen-go/apache/aurora"

	"github.com/nixrealis/nixrealis/auroratest/fetcher"
)

// ThermosTaskPrefix is the task prefix Aurora gives the Thermos executor:
// the Mesos executor id of a Thermos task is "thermos-" + its task id.
const ThermosTaskPrefix = "thermos-"

// Aurora's defaults for the Thermos executor's own resources
// (-thermos_executor_cpu, -thermos_executor_ram).
const (
	DefaultThermosExecutorCPU   = 0.25
	DefaultThermosExecutorRAMMB = 128
)

// ExecutorConfig is one entry of Aurora's -custom_executor_config file: an
// executor the scheduler can launch tasks with besides Thermos, chosen by
// TaskConfig.executorConfig.name.
type ExecutorConfig struct {
	// Name is the executor's name (executor.name), which jobs give in
	// executorConfig.name.
	Name string
	// Command is how an agent starts the executor (executor.command).
	Command ExecutorCommand
	// Resources are the executor's own resources (executor.resources), the
	// overhead Aurora adds to every task it runs: an offer must hold the
	// task's resources plus these.
	Resources []ExecutorResource
	// VolumeMounts are mounted into the containers of its tasks
	// (volume_mounts).
	VolumeMounts []VolumeMount
	// TaskPrefix prefixes the Mesos executor id of each of its tasks
	// (task_prefix): the executor id is TaskPrefix + the task id.
	TaskPrefix string
}

// ExecutorCommand is Mesos' CommandInfo as the configuration file gives it.
type ExecutorCommand struct {
	// Value is the command: run by /bin/sh -c when Shell is set, else the
	// executable run with Arguments.
	Value     string
	Shell     bool
	Arguments []string
	// URIs are fetched into the sandbox before the executor starts.
	URIs []fetcher.URI
}

// ExecutorResource is one scalar resource of an executor: "cpus" (cores)
// or "mem" (MB).
type ExecutorResource struct {
	Name   string
	Scalar float64
}

// VolumeMount is one volume_mounts entry.
type VolumeMount struct {
	HostPath, ContainerPath string
	// Mode is "RO" or "RW".
	Mode string
}

// CPUs returns the executor's "cpus" resource (0 when it has none).
func (c ExecutorConfig) CPUs() float64 { return c.scalar("cpus") }

// RAMMB returns the executor's "mem" resource in MB (0 when it has none).
func (c ExecutorConfig) RAMMB() float64 { return c.scalar("mem") }

func (c ExecutorConfig) scalar(name string) float64 {
	var sum float64
	for _, r := range c.Resources {
		if r.Name == name {
			sum += r.Scalar
		}
	}
	return sum
}

// ErrExecutorConfig is wrapped by every error ParseExecutorConfig returns.
var ErrExecutorConfig = errors.New("invalid custom executor config")

// LoadExecutorConfig reads a -custom_executor_config file.
func LoadExecutorConfig(path string) ([]ExecutorConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrExecutorConfig, err)
	}
	cfgs, err := ParseExecutorConfig(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfgs, nil
}

// ParseExecutorConfig parses the contents of a -custom_executor_config
// file, Aurora's JSON format: a list of {"executor": ExecutorInfo,
// "volume_mounts": [...], "task_prefix": "..."} objects whose ExecutorInfo
// uses Mesos' protobuf field names (name, command {value, shell,
// arguments, uris [{value, executable, extract, cache, output_file}]},
// resources [{name, type: "SCALAR", scalar: {value}}]). As with Aurora's
// Jackson reader, booleans may be written as strings ("shell": "true"),
// unknown fields are refused, and two executors may not share a name (nor
// be named AuroraExecutor, Thermos' name).
func ParseExecutorConfig(data []byte) ([]ExecutorConfig, error) {
	var raw []struct {
		Executor     *rawExecutor `json:"executor"`
		VolumeMounts []struct {
			HostPath      string `json:"host_path"`
			ContainerPath string `json:"container_path"`
			Mode          string `json:"mode"`
		} `json:"volume_mounts"`
		TaskPrefix *string `json:"task_prefix"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrExecutorConfig, err)
	}
	bad := func(i int, field, format string, args ...any) error {
		return fmt.Errorf("%w: [%d].%s: %s", ErrExecutorConfig, i, field, fmt.Sprintf(format, args...))
	}
	out := make([]ExecutorConfig, 0, len(raw))
	seen := map[string]int{aurora.AURORA_EXECUTOR_NAME: -1}
	for i, r := range raw {
		e := r.Executor
		switch {
		case e == nil:
			return nil, bad(i, "executor", "required: describe the executor (name, command, resources)")
		case e.Name == "":
			return nil, bad(i, "executor.name", "required: the name jobs give in executorConfig.name")
		case e.Command == nil || e.Command.Value == "":
			return nil, bad(i, "executor.command.value", "required: the command that starts the executor")
		case e.Resources == nil:
			return nil, bad(i, "executor.resources", "required: the executor's own resources (cpus, mem), [] for none")
		case r.TaskPrefix == nil:
			return nil, bad(i, "task_prefix", "required: the prefix of its tasks' executor ids, e.g. \"my-executor-\"")
		}
		if k, dup := seen[e.Name]; dup {
			if k < 0 {
				return nil, bad(i, "executor.name", "%q is Thermos' name: give the custom executor another", e.Name)
			}
			return nil, bad(i, "executor.name", "%q is also the name of entry [%d]: each executor needs its own name", e.Name, k)
		}
		seen[e.Name] = i
		c := ExecutorConfig{Name: e.Name, TaskPrefix: *r.TaskPrefix}
		c.Command = ExecutorCommand{Value: e.Command.Value, Shell: bool(e.Command.Shell), Arguments: e.Command.Arguments}
		for k, u := range e.Command.URIs {
			if u.Value == "" {
				return nil, bad(i, "executor.command.uris["+strconv.Itoa(k)+"].value", "required: where the file is")
			}
			c.Command.URIs = append(c.Command.URIs, fetcher.URI{Value: u.Value, Executable: bool(u.Executable), Extract: bool(u.Extract), Cache: bool(u.Cache), OutputFile: u.OutputFile})
		}
		for k, res := range e.Resources {
			p := "executor.resources[" + strconv.Itoa(k) + "]"
			switch {
			case res.Name != "cpus" && res.Name != "mem":
				return nil, bad(i, p+".name", "%q: give cpus or mem", res.Name)
			case res.Type != "SCALAR":
				return nil, bad(i, p+".type", "%q: should always be SCALAR", res.Type)
			case res.Scalar == nil || res.Scalar.Value < 0:
				return nil, bad(i, p+".scalar", "required: {\"value\": a non-negative number}")
			}
			c.Resources = append(c.Resources, ExecutorResource{Name: res.Name, Scalar: res.Scalar.Value})
		}
		for k, v := range r.VolumeMounts {
			if v.Mode != "RO" && v.Mode != "RW" {
				return nil, bad(i, "volume_mounts["+strconv.Itoa(k)+"].mode", "%q: give RO or RW", v.Mode)
			}
			c.VolumeMounts = append(c.VolumeMounts, VolumeMount{HostPath: v.HostPath, ContainerPath: v.ContainerPath, Mode: v.Mode})
		}
		out = append(out, c)
	}
	return out, nil
}

// rawExecutor is Mesos' ExecutorInfo in the configuration file; the fields
// Aurora replaces or does not use are accepted and ignored.
type rawExecutor struct {
	Name    string `json:"name"`
	Command *struct {
		Value     string    `json:"value"`
		Shell     jsonBool  `json:"shell"`
		Arguments []string  `json:"arguments"`
		URIs      []rawURI  `json:"uris"`
		User      string    `json:"user"`
		Env       rawIgnore `json:"environment"`
	} `json:"command"`
	Resources []struct {
		Name   string `json:"name"`
		Type   string `json:"type"`
		Scalar *struct {
			Value float64 `json:"value"`
		} `json:"scalar"`
		Role rawIgnore `json:"role"`
	} `json:"resources"`
	Type                rawIgnore `json:"type"`
	ExecutorID          rawIgnore `json:"executor_id"`
	FrameworkID         rawIgnore `json:"framework_id"`
	Container           rawIgnore `json:"container"`
	Source              rawIgnore `json:"source"`
	Data                rawIgnore `json:"data"`
	Discovery           rawIgnore `json:"discovery"`
	ShutdownGracePeriod rawIgnore `json:"shutdown_grace_period"`
	Labels              rawIgnore `json:"labels"`
}

type rawURI struct {
	Value      string   `json:"value"`
	Executable jsonBool `json:"executable"`
	Extract    jsonBool `json:"extract"`
	Cache      jsonBool `json:"cache"`
	OutputFile string   `json:"output_file"`
}

// rawIgnore accepts any JSON value.
type rawIgnore = json.RawMessage

// jsonBool is a boolean that may also be written as the string "true" or
// "false", as Jackson accepts.
type jsonBool bool

func (b *jsonBool) UnmarshalJSON(data []byte) error {
	s := strings.TrimSpace(string(data))
	switch strings.ToLower(strings.Trim(s, `"`)) {
	case "true":
		*b = true
	case "false", "null", "":
		*b = false
	default:
		return fmt.Errorf("%s is not a boolean: write true or false", s)
	}
	return nil
}
