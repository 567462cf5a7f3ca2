//go:build linux

package composeexample

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/nixrealis/nixrealis/auroratest/thermosexec"
)

// Executor stands in for the docker-compose executor
// (thermosexec.CustomExecutor): it reads the compose file the fileName
// label names from the sandbox (fetched and extracted there by the
// agent), writes <file>-generated.yml with the allocated ports filled in,
// as the real executor does, and runs every service's command with
// /bin/sh -c in the sandbox, with PORT and PORT0, PORT1, ... set to the
// task's ports (in port-name order). It reports RUNNING once all have
// started; the task ends when they all have (FAILED if one failed) or is
// killed. The zero value is ready to use.
type Executor struct{}

var _ thermosexec.CustomExecutor = Executor{}

// compose is the part of a docker-compose file the stand-in reads.
type compose struct {
	Services map[string]struct {
		Command any      `yaml:"command"`
		Ports   []string `yaml:"ports"`
	} `yaml:"services"`
}

// Run implements thermosexec.CustomExecutor.
func (Executor) Run(ctx context.Context, t *thermosexec.CustomTask) error {
	file := ""
	for _, m := range t.Config.GetMetadata() {
		if m.Key == "fileName" {
			file = m.Value
		}
	}
	if file == "" {
		return errors.New("the task has no fileName label naming its compose file")
	}
	path := filepath.Join(t.Sandbox, filepath.Clean("/"+file))
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("compose file %s (label fileName): %w", file, err)
	}
	var c compose
	if err := yaml.Unmarshal(b, &c); err != nil {
		return fmt.Errorf("compose file %s: %w", file, err)
	}
	if len(c.Services) == 0 {
		return fmt.Errorf("compose file %s declares no services", file)
	}

	names := make([]string, 0, len(t.Ports))
	for n := range t.Ports {
		names = append(names, n)
	}
	slices.Sort(names)
	env := make([]string, 0, len(names)+1)
	vars := map[string]string{}
	for i, n := range names {
		p := strconv.Itoa(int(t.Ports[n]))
		vars["PORT"+strconv.Itoa(i)] = p
		if i == 0 {
			vars["PORT"] = p
		}
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	generated := os.Expand(string(b), func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return "${" + k + "}"
	})
	if err := os.WriteFile(path+"-generated.yml", []byte(generated), 0o644); err != nil {
		return err
	}

	services := make([]string, 0, len(c.Services))
	for s := range c.Services {
		services = append(services, s)
	}
	slices.Sort(services)
	errs := make(chan error, len(services))
	for _, s := range services {
		cmdline, err := commandLine(c.Services[s].Command)
		if err != nil {
			return fmt.Errorf("service %s: %w", s, err)
		}
		cmd := t.Command(ctx, "/bin/sh", "-c", cmdline)
		cmd.Env = append(cmd.Env, env...)
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("service %s: %w", s, err)
		}
		go func() {
			if err := cmd.Wait(); err != nil {
				errs <- fmt.Errorf("service %s: %w", s, err)
				return
			}
			errs <- nil
		}()
	}
	t.Running(fmt.Sprintf("%d service(s) of %s up", len(services), file))
	var first error
	for range services {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// commandLine is a service's command as one shell command line.
func commandLine(c any) (string, error) {
	switch v := c.(type) {
	case string:
		if strings.TrimSpace(v) == "" {
			return "", errors.New("empty command")
		}
		return v, nil
	case []any:
		parts := make([]string, 0, len(v))
		for _, p := range v {
			parts = append(parts, "'"+strings.ReplaceAll(fmt.Sprint(p), "'", `'\''`)+"'")
		}
		if len(parts) == 0 {
			return "", errors.New("empty command")
		}
		return strings.Join(parts, " "), nil
	case nil:
		return "", errors.New("no command: the stand-in runs commands, not images")
	default:
		return "", fmt.Errorf("command %v: give a string or a list", c)
	}
}
