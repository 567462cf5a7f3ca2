package nixrealis

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/nixrealis/nixrealis/internal/mapkeys"
	"github.com/nixrealis/nixrealis/job"
)

// Inspect prepares the job's sandbox by evaluation alone (nothing is built
// or pushed), builds the job and describes it the way `aurora job inspect`
// does: job-level information, the task, and each process with its command
// line. Nothing is sent to the scheduler.
func (c *Client) Inspect(ctx context.Context, j job.Job) (string, error) {
	spec, _, _, err := c.build(ctx, "inspect", j, false)
	if err != nil {
		return "", err
	}
	return FormatInspect(spec), nil
}

// FormatInspect describes a built job as `aurora job inspect` does.
func FormatInspect(spec job.Spec) string {
	p := spec.Payload
	var b strings.Builder
	line := func(indent int, format string, args ...any) {
		b.WriteString(strings.Repeat(" ", indent))
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	line(0, "Job level information")
	line(2, "name:       '%s'", p.Name)
	line(2, "role:       '%s'", p.Role)
	if p.Contact != nil {
		line(2, "contact:    '%s'", *p.Contact)
	}
	line(2, "cluster:    '%s'", p.Cluster)
	line(2, "instances:  '%d'", spec.Instances)
	if p.CronSchedule != nil {
		line(2, "cron:")
		line(4, "schedule: '%s'", *p.CronSchedule)
		line(4, "policy:   '%s'", p.CronCollisionPolicy)
	}
	if len(p.Constraints) > 0 {
		line(2, "constraints:")
		for _, name := range mapkeys.Sorted(p.Constraints) {
			line(4, "'%s': '%s'", name, p.Constraints[name])
		}
	}
	if p.Service {
		line(2, "service:    True")
	}
	if p.Production {
		line(2, "production: True")
	}
	line(0, "")
	t := p.Task
	line(0, "Task level information")
	line(2, "name: '%s'", t.Name)
	if len(t.Constraints) > 0 {
		line(2, "constraints:")
		for _, c := range t.Constraints {
			line(4, "%s", strings.Join(c.Order, " < "))
		}
	}
	if r := t.Resources; r != nil {
		line(2, "resources:  cpu %s, ram %d MiB, disk %d MiB%s", strconv.FormatFloat(r.CPU, 'g', -1, 64), floorDiv(r.RAM, mib), floorDiv(r.Disk, mib), gpuText(r.GPU))
	}
	if len(spec.Ports) > 0 {
		line(2, "ports:      %s", strings.Join(spec.Ports, ", "))
	}
	inspectExecutor(line, spec)
	line(0, "")
	for _, pr := range t.Processes {
		line(0, "Process '%s':", pr.Name)
		if pr.MaxFailures != 1 {
			line(2, "max failures: %d", pr.MaxFailures)
		}
		if pr.Daemon {
			line(2, "daemon")
		}
		if pr.Ephemeral {
			line(2, "ephemeral")
		}
		if pr.Final {
			line(2, "final")
		}
		line(2, "cmdline:")
		for _, l := range strings.Split(pr.Cmdline, "\n") {
			line(4, "%s", l)
		}
		line(0, "")
	}
	return b.String()
}

func gpuText(n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", gpu %d", n)
}
