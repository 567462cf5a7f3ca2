package nixrealis

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/paypal/gorealis/gen-go/apache/aurora"

	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/thermos"
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
		for _, name := range sortedKeys(p.Constraints) {
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

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// JobDiff is what Diff found.
type JobDiff struct {
	// Changed is false when what runs is what the job describes.
	Changed bool
	// Text is a readable report: instance count changes, then, for each
	// group of instances running the same configuration, a line diff of
	// that configuration against the job's ("-" running, "+" job).
	Text string
}

// Diff compares the job (prepared by evaluation alone, built and rendered)
// with what the scheduler runs: the instance count and, for each active
// instance, its TaskConfig, with the Thermos payload compared as parsed
// JSON. What the scheduler fills in is ignored: tier, production, taskLinks
// and the default (empty Mesos) container.
func (c *Client) Diff(ctx context.Context, j job.Job) (*JobDiff, error) {
	spec, rj, _, err := c.build(ctx, "diff", j, false)
	if err != nil {
		return nil, err
	}
	k := specKey(spec)
	tasks, err := c.tasks(ctx, "diff", k, aurora.ACTIVE_STATES, true)
	if err != nil {
		return nil, err
	}
	want := normalizedConfig(rj.TaskConfig())
	if len(tasks) == 0 {
		// A cron job runs nothing between runs: compare its template.
		cfg, err := c.jobConfig(ctx, "diff", k)
		if err != nil {
			return nil, err
		}
		if cfg != nil && cfg.CronSchedule != nil && cfg.TaskConfig != nil {
			return cronDiff(rj.JobConfig(), cfg, want), nil
		}
	}

	type group struct {
		instances []int32
		text      string
	}
	groups := map[string]*group{}
	var order []string
	live := map[int32]bool{}
	for _, t := range tasks {
		a := t.AssignedTask
		if a == nil || a.Task == nil || live[a.InstanceId] {
			continue
		}
		live[a.InstanceId] = true
		got := normalizedConfig(a.Task)
		g, ok := groups[got]
		if !ok {
			g = &group{text: got}
			groups[got] = g
			order = append(order, got)
		}
		g.instances = append(g.instances, a.InstanceId)
	}

	var b strings.Builder
	changed := false
	var added, removed []int32
	for i := int32(0); i < int32(spec.Instances); i++ {
		if !live[i] {
			added = append(added, i)
		}
	}
	for i := range live {
		if i >= int32(spec.Instances) {
			removed = append(removed, i)
		}
	}
	slices.Sort(removed)
	if len(added) > 0 || len(removed) > 0 {
		changed = true
		fmt.Fprintf(&b, "instances: the job has %d, the scheduler runs %d\n", spec.Instances, len(live))
		if len(added) > 0 {
			fmt.Fprintf(&b, "  would add %s\n", instanceRanges(added))
		}
		if len(removed) > 0 {
			fmt.Fprintf(&b, "  would remove %s\n", instanceRanges(removed))
		}
	}
	slices.SortFunc(order, func(x, y string) int {
		return cmp.Compare(slices.Min(groups[x].instances), slices.Min(groups[y].instances))
	})
	for _, key := range order {
		g := groups[key]
		if g.text == want {
			continue
		}
		changed = true
		slices.Sort(g.instances)
		fmt.Fprintf(&b, "instances %s:\n--- running\n+++ job\n", instanceRanges(g.instances))
		b.WriteString(lineDiff(g.text, want))
	}
	if !changed {
		b.WriteString("no changes\n")
	}
	return &JobDiff{Changed: changed, Text: b.String()}, nil
}

// instanceRanges writes sorted instance ids as "0-2,5".
func instanceRanges(ids []int32) string {
	var parts []string
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.Itoa(int(ids[i])))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", ids[i], ids[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// normalizedConfig renders a TaskConfig as indented JSON without what the
// scheduler fills in, with a Thermos payload parsed (and canonically
// indented) instead of quoted.
func normalizedConfig(tc *aurora.TaskConfig) string {
	var data any = ""
	if ec := tc.ExecutorConfig; ec != nil {
		data = ec.Data
		if ec.Name == thermos.AuroraExecutorName {
			dec := json.NewDecoder(strings.NewReader(ec.Data))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err == nil {
				data = v
			}
		}
	}
	o := oracleTaskConfig(tc, data)
	delete(o, "tier")
	delete(o, "production")
	delete(o, "taskLinks")
	if c, ok := o["container"].(obj); ok && isDefaultContainer(c) {
		delete(o, "container")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(o); err != nil {
		return fmt.Sprintf("unrenderable TaskConfig: %v\n", err)
	}
	return buf.String()
}

func isDefaultContainer(c obj) bool {
	if len(c) != 1 {
		return false
	}
	m, ok := c["mesos"].(obj)
	if !ok {
		return false
	}
	if _, ok := m["image"]; ok {
		return false
	}
	if v, ok := m["volumes"].([]any); ok && len(v) > 0 {
		return false
	}
	return true
}

// diffTaskConfigs returns a line diff of two TaskConfigs as Diff compares
// them, "" when they are the same.
func diffTaskConfigs(want, got *aurora.TaskConfig) string {
	w, g := normalizedConfig(want), normalizedConfig(got)
	if w == g {
		return ""
	}
	return lineDiff(g, w)
}

// maxDiffCells bounds the LCS table of lineDiff; larger changes are shown
// as a whole block removed and added.
const maxDiffCells = 4 << 20

// lineDiff returns the lines of a and b that differ, prefixed "-" (only in
// a) and "+" (only in b), with two lines of context.
func lineDiff(a, b string) string {
	if a == b {
		return ""
	}
	x := strings.SplitAfter(a, "\n")
	y := strings.SplitAfter(b, "\n")
	pre := 0
	for pre < len(x) && pre < len(y) && x[pre] == y[pre] {
		pre++
	}
	suf := 0
	for suf < len(x)-pre && suf < len(y)-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	mx, my := x[pre:len(x)-suf], y[pre:len(y)-suf]
	type op struct {
		kind byte
		line string
	}
	var ops []op
	if len(mx)*len(my) > maxDiffCells {
		for _, l := range mx {
			ops = append(ops, op{'-', l})
		}
		for _, l := range my {
			ops = append(ops, op{'+', l})
		}
	} else {
		// lcs[i][j] = length of the LCS of mx[i:] and my[j:].
		n, m := len(mx), len(my)
		lcs := make([][]int32, n+1)
		for i := range lcs {
			lcs[i] = make([]int32, m+1)
		}
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if mx[i] == my[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		i, j := 0, 0
		for i < n || j < m {
			switch {
			case i < n && j < m && mx[i] == my[j]:
				ops = append(ops, op{' ', mx[i]})
				i++
				j++
			case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
				ops = append(ops, op{'-', mx[i]})
				i++
			default:
				ops = append(ops, op{'+', my[j]})
				j++
			}
		}
	}
	var out strings.Builder
	ctx := func(l string) {
		if l != "" {
			out.WriteString(" " + strings.TrimSuffix(l, "\n") + "\n")
		}
	}
	for i := max(0, pre-2); i < pre; i++ {
		ctx(x[i])
	}
	for _, o := range ops {
		out.WriteString(string(o.kind) + strings.TrimSuffix(o.line, "\n") + "\n")
	}
	for i := len(x) - suf; i < len(x)-suf+2 && i < len(x); i++ {
		ctx(x[i])
	}
	return out.String()
}

// sortTasks orders tasks by instance, then by time.
func sortTasks(ts []Task) {
	slices.SortStableFunc(ts, func(a, b Task) int {
		if c := cmp.Compare(a.Instance, b.Instance); c != 0 {
			return c
		}
		return a.Since.Compare(b.Since)
	})
}

// cronDiff compares a cron job with the scheduler's cron template.
func cronDiff(want, got *aurora.JobConfiguration, wantText string) *JobDiff {
	var b strings.Builder
	if *got.CronSchedule != *want.CronSchedule {
		fmt.Fprintf(&b, "cron schedule: -%q +%q\n", *got.CronSchedule, *want.CronSchedule)
	}
	if got.CronCollisionPolicy != want.CronCollisionPolicy {
		fmt.Fprintf(&b, "cron collision policy: -%s +%s\n", got.CronCollisionPolicy, want.CronCollisionPolicy)
	}
	if got.InstanceCount != want.InstanceCount {
		fmt.Fprintf(&b, "instances: -%d +%d\n", got.InstanceCount, want.InstanceCount)
	}
	if gotText := normalizedConfig(got.TaskConfig); gotText != wantText {
		b.WriteString("cron template:\n--- scheduled\n+++ job\n")
		b.WriteString(lineDiff(gotText, wantText))
	}
	if b.Len() == 0 {
		return &JobDiff{Text: "no changes\n"}
	}
	return &JobDiff{Changed: true, Text: b.String()}
}
