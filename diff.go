package nixrealis

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/pmezard/go-difflib/difflib"

	"github.com/nixrealis/nixrealis/internal/mapkeys"
	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/thermos"
)

// JobDiff is what Diff found: the job as built against what the scheduler
// runs, field by field and as readable text.
type JobDiff struct {
	// Changed is false when what runs is what the job describes.
	Changed bool
	// Changes are the job-level values that differ, named as in the
	// JobConfiguration: "instanceCount" (Old: how many instances run, or
	// the cron template's count; New: the job's), and for a cron job
	// "cronSchedule" and "cronCollisionPolicy".
	Changes []Change
	// Added are the instances the job has that do not run; Removed the
	// running instances beyond the job's instance count. Both sorted.
	Added, Removed []int32
	// Configs has one entry for each group of running instances whose
	// TaskConfig differs from the job's (for a cron job, one for its
	// template), in order of their lowest instance.
	Configs []ConfigDiff
	// Text is a readable report: instance count changes, then, for each
	// entry of Configs, its unified diff ("-" running, "+" job).
	Text string
}

// ConfigDiff is how the TaskConfig of a group of running instances (or of
// a cron job's template) differs from the job's.
type ConfigDiff struct {
	// Instances are the running instances with this TaskConfig, sorted;
	// nil for a cron job's template.
	Instances []int32
	// Changes lists each differing value, with paths into the TaskConfig
	// as Inspect and JobConfigJSON write it (the Thermos payload parsed:
	// "executorConfig.data.task.processes[0].cmdline"), sorted by path.
	Changes []Change
	// Unified is the unified diff of the two TaskConfigs written as
	// indented JSON, "--- running" against "+++ job".
	Unified string
}

// Change is one value that differs. Old is the scheduler's, New the job's,
// each as encoding/json decodes it with UseNumber (string, bool,
// json.Number, []any, map[string]any); nil when the value is absent there.
type Change struct {
	Path     string
	Old, New any
}

// String returns "path: old -> new" with the values as JSON.
func (c Change) String() string {
	return c.Path + ": " + changeValue(c.Old) + " -> " + changeValue(c.New)
}

func changeValue(v any) string {
	if v == nil {
		return "(absent)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Diff compares the job (prepared by evaluation alone, built and rendered)
// with what the scheduler runs: the instance count and, for each active
// instance, its TaskConfig, with the Thermos payload compared as parsed
// JSON. What the scheduler fills in is ignored: tier, production, taskLinks
// and the default (empty Mesos) container. A cron job, which runs nothing
// between runs, is compared with the scheduler's cron template.
func (c *Client) Diff(ctx context.Context, j job.Job) (*JobDiff, error) {
	spec, rj, _, err := c.build(ctx, "diff", j, false)
	if err != nil {
		return nil, err
	}
	k := spec.Key()
	tasks, err := c.tasks(ctx, "diff", k, aurora.ACTIVE_STATES, true)
	if err != nil {
		return nil, err
	}
	want := normalizeConfig(rj.TaskConfig())
	if len(tasks) == 0 {
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
		cfg       config
	}
	groups := map[string]*group{}
	var order []*group
	live := map[int32]bool{}
	for _, t := range tasks {
		a := t.AssignedTask
		if a == nil || a.Task == nil || live[a.InstanceId] {
			continue
		}
		live[a.InstanceId] = true
		got := normalizeConfig(a.Task)
		g, ok := groups[got.text]
		if !ok {
			g = &group{cfg: got}
			groups[got.text] = g
			order = append(order, g)
		}
		g.instances = append(g.instances, a.InstanceId)
	}

	d := &JobDiff{}
	for i := int32(0); i < int32(spec.Instances); i++ {
		if !live[i] {
			d.Added = append(d.Added, i)
		}
	}
	for i := range live {
		if i >= int32(spec.Instances) {
			d.Removed = append(d.Removed, i)
		}
	}
	slices.Sort(d.Removed)
	var b strings.Builder
	if len(d.Added) > 0 || len(d.Removed) > 0 {
		d.Changes = append(d.Changes, Change{Path: "instanceCount", Old: jint(len(live)), New: jint(spec.Instances)})
		fmt.Fprintf(&b, "instances: the job has %d, the scheduler runs %d\n", spec.Instances, len(live))
		if len(d.Added) > 0 {
			fmt.Fprintf(&b, "  would add %s\n", instanceRanges(d.Added))
		}
		if len(d.Removed) > 0 {
			fmt.Fprintf(&b, "  would remove %s\n", instanceRanges(d.Removed))
		}
	}
	slices.SortFunc(order, func(x, y *group) int {
		return cmp.Compare(slices.Min(x.instances), slices.Min(y.instances))
	})
	for _, g := range order {
		if g.cfg.text == want.text {
			continue
		}
		slices.Sort(g.instances)
		cd := diffConfigs(g.cfg, want)
		cd.Instances = g.instances
		d.Configs = append(d.Configs, cd)
		fmt.Fprintf(&b, "instances %s:\n%s", instanceRanges(g.instances), cd.Unified)
	}
	d.Changed = len(d.Changes) > 0 || len(d.Configs) > 0
	if !d.Changed {
		b.WriteString("no changes\n")
	}
	d.Text = b.String()
	return d, nil
}

// cronDiff compares a cron job with the scheduler's cron template.
func cronDiff(want, got *aurora.JobConfiguration, wantCfg config) *JobDiff {
	d := &JobDiff{}
	var b strings.Builder
	if *got.CronSchedule != *want.CronSchedule {
		d.Changes = append(d.Changes, Change{Path: "cronSchedule", Old: *got.CronSchedule, New: *want.CronSchedule})
		fmt.Fprintf(&b, "cron schedule: -%q +%q\n", *got.CronSchedule, *want.CronSchedule)
	}
	if got.CronCollisionPolicy != want.CronCollisionPolicy {
		d.Changes = append(d.Changes, Change{Path: "cronCollisionPolicy", Old: got.CronCollisionPolicy.String(), New: want.CronCollisionPolicy.String()})
		fmt.Fprintf(&b, "cron collision policy: -%s +%s\n", got.CronCollisionPolicy, want.CronCollisionPolicy)
	}
	if got.InstanceCount != want.InstanceCount {
		d.Changes = append(d.Changes, Change{Path: "instanceCount", Old: jint(got.InstanceCount), New: jint(want.InstanceCount)})
		fmt.Fprintf(&b, "instances: -%d +%d\n", got.InstanceCount, want.InstanceCount)
	}
	if gotCfg := normalizeConfig(got.TaskConfig); gotCfg.text != wantCfg.text {
		cd := diffConfigs(gotCfg, wantCfg)
		d.Configs = append(d.Configs, cd)
		b.WriteString("cron template:\n" + cd.Unified)
	}
	d.Changed = len(d.Changes) > 0 || len(d.Configs) > 0
	if !d.Changed {
		b.WriteString("no changes\n")
	}
	d.Text = b.String()
	return d
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

// config is a TaskConfig as Diff compares it: indented JSON text and the
// same JSON decoded.
type config struct {
	text  string
	value any
}

// normalizeConfig renders a TaskConfig as indented JSON without what the
// scheduler fills in, with a Thermos payload parsed (and canonically
// indented) instead of quoted.
func normalizeConfig(tc *aurora.TaskConfig) config {
	var data any = ""
	if ec := tc.ExecutorConfig; ec != nil {
		data = ec.Data
		if ec.Name == thermos.AuroraExecutorName {
			if v, err := decodeJSON([]byte(ec.Data)); err == nil {
				data = v
			}
		}
	}
	o := taskConfigJSON(tc, data)
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
		return config{text: fmt.Sprintf("unrenderable TaskConfig: %v\n", err)}
	}
	v, _ := decodeJSON(buf.Bytes()) // just encoded: valid JSON
	return config{text: buf.String(), value: v}
}

// decodeJSON decodes one JSON value keeping numbers as json.Number.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
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

// diffTaskConfigs returns the unified diff of two TaskConfigs as Diff
// compares them, "" when they are the same.
func diffTaskConfigs(want, got *aurora.TaskConfig) string {
	w, g := normalizeConfig(want), normalizeConfig(got)
	if w.text == g.text {
		return ""
	}
	return unifiedDiff(g.text, w.text)
}

// diffConfigs compares the running configuration got with the job's want.
func diffConfigs(got, want config) ConfigDiff {
	var cd ConfigDiff
	diffValues(&cd.Changes, "", got.value, want.value)
	slices.SortStableFunc(cd.Changes, func(a, b Change) int { return cmp.Compare(a.Path, b.Path) })
	cd.Unified = unifiedDiff(got.text, want.text)
	return cd
}

// unifiedDiff returns the unified diff of two texts, running against job,
// with two lines of context; "" when they are equal.
func unifiedDiff(running, job string) string {
	if running == job {
		return ""
	}
	s, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: lines(running), B: lines(job), FromFile: "running", ToFile: "job", Context: 2,
	})
	if err != nil { // only a failing writer; a strings.Builder never fails
		return fmt.Sprintf("--- running\n+++ job\n(diff failed: %v)\n", err)
	}
	return s
}

// lines splits s into lines that each end in "\n".
func lines(s string) []string {
	ls := strings.SplitAfter(s, "\n")
	if ls[len(ls)-1] == "" {
		ls = ls[:len(ls)-1]
	} else {
		ls[len(ls)-1] += "\n"
	}
	return ls
}

// diffValues appends a Change for every leaf value that differs between
// two decoded JSON values: objects key by key, arrays index by index.
func diffValues(out *[]Change, path string, old, new any) {
	switch o := old.(type) {
	case map[string]any:
		n, ok := new.(map[string]any)
		if !ok {
			break
		}
		keys := mapkeys.Sorted(o)
		for k := range n {
			if _, ok := o[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			diffValues(out, joinPath(path, k), o[k], n[k])
		}
		return
	case []any:
		n, ok := new.([]any)
		if !ok {
			break
		}
		for i := range max(len(o), len(n)) {
			var ov, nv any
			if i < len(o) {
				ov = o[i]
			}
			if i < len(n) {
				nv = n[i]
			}
			diffValues(out, fmt.Sprintf("%s[%d]", path, i), ov, nv)
		}
		return
	}
	if !jsonEqual(old, new) {
		*out = append(*out, Change{Path: path, Old: old, New: new})
	}
}

func jsonEqual(a, b any) bool {
	x, errx := json.Marshal(a)
	y, erry := json.Marshal(b)
	return errx == nil && erry == nil && bytes.Equal(x, y)
}

// plainKey is an object key written after a dot in a path.
var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func joinPath(path, key string) string {
	if !plainKey.MatchString(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}
