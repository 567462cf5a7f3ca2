package auroraconfig

import (
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/starlark"

	"github.com/nixrealis/nixrealis/job"
)

// Config is a loaded configuration: the jobs of its jobs list, ready to be
// picked by key.
type Config struct {
	file    string
	schema  *auroraSchema
	jobs    []*object
	hasJobs bool
}

func newConfig(r *run, file string, globals starlark.StringDict) (*Config, error) {
	c := &Config{file: file, schema: r.schema}
	v, ok := globals["jobs"]
	if !ok {
		return c, nil
	}
	c.hasJobs = true
	it, ok := v.(starlark.Iterable)
	if _, isStr := v.(starlark.String); !ok || isStr {
		return nil, &Error{Pos: Position{File: file}, Msg: fmt.Sprintf("jobs is %s: it must be a list of Job objects, e.g. jobs = [Job(...)]", describe(v))}
	}
	iter := it.Iterate()
	defer iter.Done()
	var x starlark.Value
	for n := 0; iter.Next(&x); n++ {
		o, ok := x.(*object)
		if !ok || o.sch != r.schema.job {
			return nil, &Error{Pos: Position{File: file}, Msg: fmt.Sprintf("jobs[%d] is %s: jobs must hold Job (or Service) objects", n, describe(x))}
		}
		c.jobs = append(c.jobs, o)
	}
	return c, nil
}

// Keys returns the key of every job in the jobs list, in order, with
// templates resolved where the job's own fields and bindings resolve them.
// A part the job does not set is empty.
func (c *Config) Keys() []job.Key {
	keys := make([]job.Key, len(c.jobs))
	for i, o := range c.jobs {
		keys[i] = jobKey(o, nil)
	}
	return keys
}

// Job picks the job with the given key, as `aurora job create KEY FILE`
// does, applies bindings ("name=value", like the CLI's --bind; they win
// over the file's own bindings) and returns it as a job.Job ready to be
// built. Empty parts of key match any value; an empty Name is allowed only
// when the file has a single job. The error names the keys the file has
// when none matches; it wraps ErrNoJob then.
func (c *Config) Job(key job.Key, bindings ...string) (job.Job, error) {
	j, _, err := c.job(key, bindings)
	return j, err
}

// Build is Job followed by job.Job.Build. Each problem Build finds is
// returned as an *Error placed at the object it concerns (the Process,
// Task, Resources, ... where the file makes it) and wrapping Build's
// *job.FieldError, so errors.Is and errors.As see both.
func (c *Config) Build(key job.Key, bindings ...string) (job.Spec, error) {
	j, cv, err := c.job(key, bindings)
	if err != nil {
		return job.Spec{}, err
	}
	spec, err := j.Build()
	if err != nil {
		return job.Spec{}, cv.place(err)
	}
	return spec, nil
}

// place puts Build's field errors at their objects' positions.
func (cv *converter) place(err error) error {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		var fe *job.FieldError
		if !errors.As(e, &fe) {
			out[i] = e
			continue
		}
		pos, _ := cv.locate(fe.Path)
		out[i] = &Error{Pos: fromSyntax(pos), Msg: auroraWording(fe), Err: e}
	}
	if len(out) == 1 {
		return out[0]
	}
	return errors.Join(out...)
}

// auroraWording is Build's message for fe, with Aurora's client's wording
// for unbound references: "Task is invalid: Unexpected unbound refs: ..."
// in the task (ThermosTaskValidator), "Config contains unbound variables:
// ..." elsewhere (apache.aurora.config.thrift), both under "The
// configuration was invalid", and a fix in this language's terms.
func auroraWording(fe *job.FieldError) string {
	msg := fe.Error()
	var ue *job.UnboundError
	if !errors.As(fe, &ue) || len(ue.Refs) == 0 {
		return msg
	}
	refs := make([]string, len(ue.Refs))
	binds := make([]string, len(ue.Refs))
	for i, r := range ue.Refs {
		refs[i] = "{{" + r + "}}"
		binds[i] = "--bind " + r + "=VALUE"
	}
	aurora := "Config contains unbound variables: " + strings.Join(refs, " ")
	if fe.Path == "task" || strings.HasPrefix(fe.Path, "task.") {
		aurora = "Task is invalid: Unexpected unbound refs: " + strings.Join(refs, " ") + ". Make sure you are not nesting template variables"
	}
	name := ue.Refs[0]
	if i := strings.IndexAny(name, ".["); i > 0 {
		name = name[:i]
	}
	fix := fmt.Sprintf("The configuration was invalid: %s. To fix it, bind a value on the command line (%s) or in the file (.bind(%s = ...)), or remove the reference (only {{mesos.instance}}, {{mesos.hostname}}, {{thermos.task_id}} and {{thermos.ports[NAME]}} may stay for run time)",
		aurora, strings.Join(binds, " "), name)
	return strings.Replace(msg, ue.Error(), fix, 1)
}

func (c *Config) job(key job.Key, bindings []string) (job.Job, *converter, error) {
	vars, err := parseBindings(bindings)
	if err != nil {
		return job.Job{}, nil, err
	}
	picked, err := c.pick(key, vars)
	if err != nil {
		return job.Job{}, nil, err
	}
	cv := &converter{a: c.schema}
	j := cv.job(picked)
	if cv.err != nil {
		return job.Job{}, nil, cv.err
	}
	if len(vars) > 0 {
		j = j.Bind(vars)
	}
	return j, cv, nil
}

// pick selects the job of key as Aurora's pick does.
func (c *Config) pick(key job.Key, vars job.Vars) (*object, error) {
	if len(c.jobs) == 0 {
		msg := "No job defined in this config!: add jobs = [Job(...)] at the end of the file"
		if c.hasJobs {
			msg = "No job defined in this config!: the jobs list is empty"
		}
		return nil, &Error{Pos: Position{File: c.file}, Msg: msg, Err: ErrNoJob}
	}
	var picked *object
	switch {
	case key.Name == "" && len(c.jobs) > 1:
		return nil, &Error{Pos: Position{File: c.file}, Msg: "Configuration has multiple jobs but no job name specified!: give the job's name", Err: ErrNoJob}
	case key.Name == "":
		// The single job, if the parts of key that are given match it.
		if !keyMatches(jobKey(c.jobs[0], vars), job.Key{Cluster: key.Cluster, Role: key.Role, Environment: key.Environment}) {
			return nil, c.notFound(key, vars)
		}
		picked = c.jobs[0]
	default:
		var matches []*object
		for _, o := range c.jobs {
			if keyMatches(jobKey(o, vars), key) {
				matches = append(matches, o)
			}
		}
		switch len(matches) {
		case 0:
			return nil, c.notFound(key, vars)
		case 1:
			picked = matches[0]
		default:
			return nil, &Error{Pos: Position{File: c.file}, Msg: fmt.Sprintf("Multiple jobs match %s: give each job its own key", key), Err: ErrNoJob}
		}
	}
	return picked, nil
}

// keyMatches reports whether k is want, whose empty parts match anything
// (an empty Name too).
func keyMatches(k, want job.Key) bool {
	return (want.Cluster == "" || k.Cluster == want.Cluster) &&
		(want.Role == "" || k.Role == want.Role) &&
		(want.Environment == "" || k.Environment == want.Environment) &&
		(want.Name == "" || k.Name == want.Name)
}

func (c *Config) notFound(key job.Key, vars job.Vars) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Could not find job %s", key)
	var cands []string
	for _, o := range c.jobs {
		k := jobKey(o, vars)
		parts := []*string{&k.Cluster, &k.Role, &k.Environment, &k.Name}
		for i, p := range parts {
			if *p == "" {
				*p = "{MISSING}"
				if what := []string{"a cluster", "a role", "an environment", "a name"}[i]; true {
					fmt.Fprintf(&b, "\nJob %s in configuration file doesn't specify %s", keyString(k), what)
				}
			}
		}
		cands = append(cands, keyString(k))
	}
	b.WriteString("\nCandidates are:")
	for _, k := range cands {
		b.WriteString("\n  " + k)
	}
	return &Error{Pos: Position{File: c.file}, Msg: b.String(), Err: ErrNoJob}
}

func keyString(k job.Key) string {
	return k.Cluster + "/" + k.Role + "/" + k.Environment + "/" + k.Name
}

// jobKey renders a job's key fields as Aurora's pick does: with the job's
// own fields, its bindings and the CLI bindings as variables.
func jobKey(o *object, cli job.Vars) job.Key {
	scope := job.Vars{}
	for _, d := range o.binds {
		for k, v := range d {
			if bv, ok := bindValue(v); ok {
				scope[k] = bv
			}
		}
	}
	for k, v := range cli {
		scope[k] = v
	}
	str := func(name string) string {
		v, ok := o.get(name)
		if !ok {
			return ""
		}
		return pyStr(v)
	}
	for _, f := range []string{"cluster", "role", "environment", "name"} {
		if s := str(f); s != "" {
			scope[f] = s
		}
	}
	if t, ok := o.vals["task"].(*object); ok {
		scope["task"] = job.Vars{"name": taskName(t)}
	}
	render := func(s string) string {
		if !strings.Contains(s, "{{") {
			return s
		}
		out, err := job.Render(s, scope)
		if err != nil {
			return s
		}
		return out
	}
	return job.Key{
		Cluster:     render(str("cluster")),
		Role:        render(str("role")),
		Environment: render(str("environment")),
		Name:        render(str("name")),
	}
}

// taskName is a task's name as Pystachio would give it when the job is
// picked: its own, or its first process's.
func taskName(t *object) string {
	if v, ok := t.vals["name"]; ok {
		return pyStr(v)
	}
	if t.merge != nil && len(t.merge.tasks) > 0 {
		return taskName(t.merge.tasks[len(t.merge.tasks)-1])
	}
	if l, ok := t.vals["processes"].(*starlark.List); ok && l.Len() > 0 {
		if p, ok := l.Index(0).(*object); ok {
			if n, ok := p.get("name"); ok {
				return pyStr(n)
			}
		}
	}
	return ""
}

// parseBindings turns CLI bindings into Vars; "a.b=c" binds b inside a.
func parseBindings(bindings []string) (job.Vars, error) {
	if len(bindings) == 0 {
		return nil, nil
	}
	vars := job.Vars{}
	for _, b := range bindings {
		name, value, ok := strings.Cut(b, "=")
		if !ok || name == "" {
			return nil, &Error{Msg: fmt.Sprintf("binding %q: write name=value", b)}
		}
		setDotted(vars, name, value)
	}
	return vars, nil
}

func setDotted(vars job.Vars, name string, value any) {
	parts := strings.Split(name, ".")
	m := vars
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(job.Vars)
		if !ok {
			next = job.Vars{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = value
}
