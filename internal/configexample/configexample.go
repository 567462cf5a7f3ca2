// Package configexample is the example client's -config: a job read from
// an Aurora configuration (.aurora) file with package auroraconfig, picked
// by the job key flags and bound with -bind, as `aurora job create
// CLUSTER/ROLE/ENV/NAME FILE --bind name=value` does, and the executor
// payload -write-json prints.
package configexample

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/nixrealis/nixrealis/auroraconfig"
	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/sandbox"
)

// UsageError is a mistake in the command line (the client exits 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usage(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// Flags are -config, -bind and -write-json.
type Flags struct {
	// Path is the .aurora file (-config); empty means none.
	Path string
	// Binds are the -bind name=value bindings, in order.
	Binds bindFlags
	// WriteJSON is -write-json.
	WriteJSON bool
	// keySet holds the job key flags given on the command line; the
	// others match any value of the file's jobs.
	keySet map[string]bool
}

// bindFlags is the repeatable -bind name=value.
type bindFlags []string

func (b *bindFlags) String() string { return strings.Join(*b, " ") }

func (b *bindFlags) Set(v string) error {
	*b = append(*b, v)
	return nil
}

// Register adds -config, -bind and -write-json to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Path, "config", "", "an Aurora configuration (.aurora) file holding the job, picked by -cluster, -role, -env and -name (those not given match any value)")
	fs.Var(&f.Binds, "bind", "name=value: bind a template variable of the -config file, as aurora's --bind (repeatable)")
	fs.BoolVar(&f.WriteJSON, "write-json", false, "with -cmd=inspect: print only the executor payload (executorConfig.data, the JSON the client sends)")
}

// Check checks the flags once fs is parsed; cmd is -cmd. Its errors are
// *UsageError.
func (f *Flags) Check(fs *flag.FlagSet, cmd string) error {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	f.keySet = map[string]bool{}
	for _, k := range []string{"cluster", "role", "env", "name"} {
		f.keySet[k] = set[k]
	}
	for _, b := range f.Binds {
		name, _, ok := strings.Cut(b, "=")
		if !ok || !isRef(name) {
			return usage("-bind=%s: write name=value, the name a template variable such as version or profile.package (as aurora's --bind)", b)
		}
	}
	if f.WriteJSON && cmd != "inspect" {
		return usage("-write-json goes with -cmd=inspect, not -cmd=%s", cmd)
	}
	if f.Path == "" {
		if len(f.Binds) > 0 {
			return usage("-bind binds the template variables of a -config file: give -config=FILE.aurora too")
		}
		return nil
	}
	for _, other := range []string{"executor", "instances"} {
		if set[other] {
			return usage("-config and -%s go separately: the .aurora file describes the job (%s included)", other, other)
		}
	}
	return nil
}

// isRef reports whether s is a Pystachio reference such as a, a.b or
// a_1.b2, what aurora's --bind takes as a name.
func isRef(s string) bool {
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for i, r := range part {
			letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
			if !letter && (i == 0 || r < '0' || r > '9') {
				return false
			}
		}
	}
	return true
}

// File is the job loaded from a -config file.
type File struct {
	// Job is the picked job with the bindings applied.
	Job job.Job
	// Spec is Job built (validated): its payload names the job's key.
	Spec job.Spec
	// Packages are the Nix packages its processes name; nil when none
	// does, and then the job gets no init_sandbox.
	Packages map[string][]auroraconfig.Package
}

// Load loads the -config file and picks its job: key holds the job key
// flags' values, of which only those given on the command line count.
// What the file print()s goes to printed. An unknown key is a
// *UsageError holding the loader's message, which lists the file's keys.
func (f *Flags) Load(key job.Key, printed io.Writer) (*File, error) {
	l := auroraconfig.Loader{Print: func(msg string) { fmt.Fprintln(printed, msg) }}
	cfg, err := l.Load(f.Path)
	if err != nil {
		return nil, err
	}
	want := job.Key{}
	if f.keySet["cluster"] {
		want.Cluster = key.Cluster
	}
	if f.keySet["role"] {
		want.Role = key.Role
	}
	if f.keySet["env"] {
		want.Environment = key.Environment
	}
	if f.keySet["name"] {
		want.Name = key.Name
	}
	out := &File{}
	if out.Job, err = cfg.Job(want, f.Binds...); err != nil {
		if errors.Is(err, auroraconfig.ErrNoJob) {
			return nil, &UsageError{Msg: err.Error() + "\n(pick one with -cluster, -role, -env and -name)"}
		}
		return nil, err
	}
	if out.Spec, err = cfg.Build(want, f.Binds...); err != nil {
		return nil, oneLine(err)
	}
	if out.Packages, err = cfg.Packages(want, f.Binds...); err != nil {
		return nil, err
	}
	return out, nil
}

// oneLine puts the problems of a joined error on one line.
func oneLine(err error) error {
	if !strings.Contains(err.Error(), "\n") {
		return err
	}
	return oneLineError{err}
}

// oneLineError is err with its lines joined by "; ".
type oneLineError struct{ err error }

func (e oneLineError) Error() string { return strings.ReplaceAll(e.err.Error(), "\n", "; ") }
func (e oneLineError) Unwrap() error { return e.err }

// Key returns the picked job's key, templates resolved.
func (f *File) Key() job.Key {
	p := f.Spec.Payload
	return job.Key{Cluster: p.Cluster, Role: p.Role, Environment: p.Environment, Name: p.Name}
}

// UsesNix reports whether the job gets a Nix sandbox: only if it names Nix
// packages (and runs on the Thermos executor).
func (f *File) UsesNix() bool {
	return len(f.Packages) > 0 && !f.Job.IsCustomExecutor()
}

// FirstProcess names the task's first process.
func (f *File) FirstProcess() string {
	if p := f.Spec.Payload; p != nil && len(p.Task.Processes) > 0 {
		return p.Task.Processes[0].Name
	}
	return ""
}

// SandboxPackages returns the packages for sandbox.Prepare; packages
// named without a set (packages = ['hello']) come from def, called only
// then.
func (f *File) SandboxPackages(def func() (sandbox.PackageSet, error)) (sandbox.Packages, error) {
	var defSet *sandbox.PackageSet
	out := sandbox.Packages{}
	for proc, pkgs := range f.Packages {
		for _, p := range pkgs {
			var sp sandbox.Package
			switch {
			case p.StorePath != "":
				sp = sandbox.Prebuilt(p.StorePath)
			case p.Set.File != "":
				sp = sandbox.File(p.Set.File).Attr(p.Attr...)
			case p.Set.NixPath != "":
				sp = sandbox.NixPath(p.Set.NixPath).Attr(p.Attr...)
			case p.Set.Expr != "":
				sp = sandbox.Source(p.Set.Expr).Attr(p.Attr...)
			default:
				if defSet == nil {
					set, err := def()
					if err != nil {
						return nil, err
					}
					defSet = &set
				}
				sp = defSet.Attr(p.Attr...)
			}
			out[proc] = append(out[proc], sp)
		}
	}
	return out, nil
}

// WriteJSON writes the executor payload of spec (what the client sends as
// executorConfig.data) and a newline, nothing else.
func WriteJSON(w io.Writer, spec job.Spec) error {
	data, err := spec.ExecutorData()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}
