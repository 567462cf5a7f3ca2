package auroraconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Loader loads .aurora files. The zero value is ready to use: it reads
// files with os.ReadFile and gives os.getenv the process environment.
type Loader struct {
	// LookupEnv is what os.getenv and os.environ see in a configuration;
	// nil means os.LookupEnv.
	LookupEnv func(key string) (string, bool)
	// ReadFile reads the loaded file and the files it include()s; nil
	// means os.ReadFile.
	ReadFile func(name string) ([]byte, error)
	// Print receives what the configuration prints with print(); nil
	// discards it.
	Print func(msg string)
	// MaxSteps bounds the Starlark computation steps of one load, so that a
	// configuration that loops forever fails instead of hanging; 0 means
	// 100 million.
	MaxSteps uint64
}

// maxIncludeDepth bounds nested include()s (a cycle is reported before).
const maxIncludeDepth = 32

// Load reads and executes filename with a zero Loader.
func Load(filename string) (*Config, error) {
	var l Loader
	return l.Load(filename)
}

// Load reads and executes the configuration in filename.
func (l *Loader) Load(filename string) (*Config, error) {
	src, err := l.readFile(filename)
	if err != nil {
		return nil, &Error{Pos: Position{File: filename}, Msg: fmt.Sprintf("cannot read configuration: %v", err), Err: err}
	}
	return l.LoadSource(filename, src)
}

// LoadSource executes src as the configuration file filename (which
// names it in errors and anchors relative include()s).
func (l *Loader) LoadSource(filename string, src []byte) (cfg *Config, err error) {
	defer func() {
		// The loader never panics on user input; should a bug let one
		// through, it becomes an error naming the file.
		if r := recover(); r != nil {
			cfg, err = nil, &Error{Pos: Position{File: filename}, Msg: fmt.Sprintf("internal error loading the configuration: %v (please report it)", r)}
		}
	}()
	r := newRun(l)
	thread := &starlark.Thread{Name: filename, Load: r.load, Print: func(_ *starlark.Thread, msg string) {
		if l.Print != nil {
			l.Print(msg)
		}
	}}
	steps := l.MaxSteps
	if steps == 0 {
		steps = 100_000_000
	}
	thread.SetMaxExecutionSteps(steps)
	globals, _, err := r.exec(thread, filename, src)
	if err != nil {
		return nil, fromEval(err)
	}
	return newConfig(r, filename, globals)
}

func (l *Loader) readFile(name string) ([]byte, error) {
	if l.ReadFile != nil {
		return l.ReadFile(name)
	}
	return os.ReadFile(name)
}

func (l *Loader) lookupEnv(key string) (string, bool) {
	if l.LookupEnv != nil {
		return l.LookupEnv(key)
	}
	return os.LookupEnv(key)
}

var fileOptions = &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true}

// run is the state of one load.
type run struct {
	l      *Loader
	schema *auroraSchema
	base   starlark.StringDict
	// stack holds the files being executed, innermost last, with the
	// names their include()s bring in.
	stack []*frame
	os    starlark.Value
}

type frame struct {
	path string
	pre  starlark.StringDict
}

func newRun(l *Loader) *run {
	r := &run{l: l, schema: newAuroraSchema()}
	base := r.schema.predeclared()
	for k, v := range r.schema.helpers() {
		base[k] = v
	}
	base["include"] = starlark.NewBuiltin("include", r.include)
	base["__class__"] = starlark.NewBuiltin("__class__", builtinClass)
	base["__mod__"] = starlark.NewBuiltin("__mod__", builtinMod)
	base["__div__"] = starlark.NewBuiltin("__div__", builtinDiv)
	base["__pow__"] = starlark.NewBuiltin("__pow__", builtinPow)
	r.base = base
	r.os = newOSModule(l.lookupEnv)
	return r
}

// parse translates, parses and rewrites one file.
func (r *run) parse(path string, src []byte) (*syntax.File, error) {
	t := translate(path, src)
	f, err := fileOptions.Parse(path, t.src, 0)
	if err != nil {
		if len(t.problems) > 0 {
			return nil, t.problems[0]
		}
		return nil, err
	}
	if len(t.problems) > 0 {
		return nil, t.problems[0]
	}
	rw := &rewriter{classes: t.classes, synth: t.synth}
	rw.stmts(f.Stmts)
	if rw.err != nil {
		return nil, rw.err
	}
	return f, nil
}

// exec runs one file and returns its globals and its predeclared names
// (the builtins and what its include()s brought in).
func (r *run) exec(thread *starlark.Thread, path string, src []byte) (globals, pre starlark.StringDict, err error) {
	f, err := r.parse(path, src)
	if err != nil {
		return nil, nil, err
	}
	included := make(map[string]bool)
	if err := r.includedNames(path, f, included, 0); err != nil {
		return nil, nil, err
	}
	pre = make(starlark.StringDict, len(r.base)+8)
	for k, v := range r.base {
		pre[k] = v
	}
	prog, err := starlark.FileProgram(f, func(name string) bool { return pre.Has(name) || included[name] })
	if err != nil {
		return nil, nil, err
	}
	r.stack = append(r.stack, &frame{path: path, pre: pre})
	defer func() { r.stack = r.stack[:len(r.stack)-1] }()
	globals, err = prog.Init(thread, pre)
	return globals, pre, err
}

// includedNames adds the top-level names of the files f include()s (with
// a literal file name), so that f may use them: Pystachio's include()
// executes the file in the including file's namespace.
func (r *run) includedNames(path string, f *syntax.File, names map[string]bool, depth int) error {
	for _, st := range f.Stmts {
		es, ok := st.(*syntax.ExprStmt)
		if !ok {
			continue
		}
		c, ok := es.X.(*syntax.CallExpr)
		if !ok || len(c.Args) != 1 {
			continue
		}
		if id, ok := c.Fn.(*syntax.Ident); !ok || id.Name != "include" {
			continue
		}
		lit, ok := c.Args[0].(*syntax.Literal)
		if !ok || lit.Token != syntax.STRING {
			continue
		}
		if depth >= maxIncludeDepth {
			return &Error{Pos: fromSyntax(c.Lparen), Msg: "include()s nest too deep: do the files include each other?"}
		}
		inc := r.resolvePath(path, lit.Value.(string))
		src, err := r.l.readFile(inc)
		if err != nil {
			return &Error{Pos: fromSyntax(lit.TokenPos), Msg: fmt.Sprintf("include(%s): %v: the path is relative to the including file", strconv.Quote(lit.Value.(string)), unwrapPathError(err)), Err: err}
		}
		g, err := r.parse(inc, src)
		if err != nil {
			return err
		}
		for _, st := range g.Stmts {
			boundNames(st, names)
		}
		if err := r.includedNames(inc, g, names, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// boundNames adds the names a top-level statement binds.
func boundNames(st syntax.Stmt, names map[string]bool) {
	var lhs func(e syntax.Expr)
	lhs = func(e syntax.Expr) {
		switch x := e.(type) {
		case *syntax.Ident:
			names[x.Name] = true
		case *syntax.TupleExpr:
			for _, y := range x.List {
				lhs(y)
			}
		case *syntax.ListExpr:
			for _, y := range x.List {
				lhs(y)
			}
		case *syntax.ParenExpr:
			lhs(x.X)
		}
	}
	switch x := st.(type) {
	case *syntax.AssignStmt:
		lhs(x.LHS)
	case *syntax.DefStmt:
		names[x.Name.Name] = true
	case *syntax.ForStmt:
		lhs(x.Vars)
		for _, s := range x.Body {
			boundNames(s, names)
		}
	case *syntax.IfStmt:
		for _, s := range x.True {
			boundNames(s, names)
		}
		for _, s := range x.False {
			boundNames(s, names)
		}
	case *syntax.LoadStmt:
		for _, id := range x.To {
			names[id.Name] = true
		}
	}
}

func (r *run) resolvePath(from, name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(filepath.Dir(from), name)
}

// include executes another file in the including file's namespace.
func (r *run) include(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	if err := starlark.UnpackPositionalArgs("include", args, kwargs, 1, &name); err != nil {
		return nil, err
	}
	if len(r.stack) >= maxIncludeDepth {
		return nil, errorf("include(%q): include()s nest too deep: do the files include each other?", name)
	}
	cur := r.stack[len(r.stack)-1]
	path := r.resolvePath(cur.path, name)
	for _, fr := range r.stack {
		if fr.path == path {
			return nil, errorf("include(%q): %s is already being loaded (the files include each other)", name, path)
		}
	}
	src, err := r.l.readFile(path)
	if err != nil {
		return nil, &userError{msg: fmt.Sprintf("include(%q): %v: the path is relative to the including file", name, unwrapPathError(err)), err: err}
	}
	globals, pre, err := r.exec(thread, path, src)
	if err != nil {
		return nil, &includeError{err: fromEval(err)}
	}
	for k, v := range pre {
		cur.pre[k] = v
	}
	for k, v := range globals {
		cur.pre[k] = v
	}
	return starlark.None, nil
}

// includeError carries an included file's error, already placed.
type includeError struct{ err error }

func (e *includeError) Error() string { return e.err.Error() }
func (e *includeError) Unwrap() error { return e.err }

// load implements the import statements translated to load().
func (r *run) load(thread *starlark.Thread, module string) (starlark.StringDict, error) {
	switch module {
	case "os":
		m := r.os.(*osModule)
		return starlark.StringDict{"os": m, "getenv": m.getenv, "environ": m.environ}, nil
	}
	return nil, fmt.Errorf("unsupported import of %s: only the os module (os.getenv, os.environ) is available in .aurora files", module)
}
