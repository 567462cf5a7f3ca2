package auroraconfig

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"go.starlark.net/starlark"

	"github.com/nixrealis/nixrealis/job"
)

// The nixrealis addition to Aurora's language: a process names the Nix
// packages it uses, next to its command line.
//
//	pkgs = NixPackages(file = 'default.nix')   # or nix_path = 'nixpkgs', expr = '...', or none
//	hello = Process(name = 'hello', cmdline = 'hello', packages = [pkgs.hello])
//
// An attribute of a package set is a package (pkgs.python3Packages.requests
// walks the attribute path; pkgs['name.with.dots'] takes one component). A
// string in packages is a store path if it starts with /nix/store/, else an
// attribute path in the default set. The packages never reach the payload:
// Config.Packages returns them for sandbox.Prepare, and a file that names
// none loads exactly as Aurora's client loads it.

// PackageSet is where a Package's attribute path is looked up: a Nix file
// (absolute, resolved against the .aurora file that names it), an entry of
// the Nix search path (<NixPath>) or Nix source text. The zero PackageSet
// is the caller's default set.
type PackageSet struct {
	File, NixPath, Expr string
}

// Package is a Nix package a process uses: the attribute path Attr in
// Set, or an already-built StorePath.
type Package struct {
	Set       PackageSet
	Attr      []string
	StorePath string
}

// String returns "<set>#attr.path", "default#attr.path" or the store path.
func (p Package) String() string {
	if p.StorePath != "" {
		return p.StorePath
	}
	set := "default"
	switch {
	case p.Set.File != "":
		set = p.Set.File
	case p.Set.NixPath != "":
		set = "<" + p.Set.NixPath + ">"
	case p.Set.Expr != "":
		set = "expression"
	}
	return set + "#" + strings.Join(p.Attr, ".")
}

var tNixPackage = &ptype{kind: kNixPackage, name: "NixPackage"}

// nixValue is a package set (attr empty) or a package in it.
type nixValue struct {
	set  PackageSet
	attr []string
	path string
}

var (
	_ starlark.HasAttrs = (*nixValue)(nil)
	_ starlark.Mapping  = (*nixValue)(nil)
)

func (v *nixValue) pkg() Package {
	return Package{Set: v.set, Attr: slices.Clone(v.attr), StorePath: v.path}
}
func (v *nixValue) String() string        { return v.pkg().String() }
func (v *nixValue) Type() string          { return "NixPackage" }
func (v *nixValue) Freeze()               {}
func (v *nixValue) Truth() starlark.Bool  { return true }
func (v *nixValue) Hash() (uint32, error) { return starlark.String(v.String()).Hash() }
func (v *nixValue) AttrNames() []string   { return nil }

func (v *nixValue) child(name string) *nixValue {
	return &nixValue{set: v.set, attr: append(slices.Clip(v.attr), name)}
}

// Attr walks the attribute path: pkgs.python3Packages.requests.
func (v *nixValue) Attr(name string) (starlark.Value, error) {
	if v.path != "" {
		return nil, errorf("%s is a store path: it has no attribute %s", v.path, name)
	}
	return v.child(name), nil
}

// Get is pkgs['name']: one attribute, dots and all.
func (v *nixValue) Get(k starlark.Value) (starlark.Value, bool, error) {
	s, ok := k.(starlark.String)
	if !ok || s == "" || v.path != "" {
		return nil, false, errorf("a package set is indexed by an attribute name, got %s", describe(k))
	}
	return v.child(string(s)), true, nil
}

// builtinNixPackages is NixPackages(file=, nix_path=, expr=).
func builtinNixPackages(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var file, nixPath, expr string
	if err := starlark.UnpackArgs("NixPackages", args, kwargs, "file?", &file, "nix_path?", &nixPath, "expr?", &expr); err != nil {
		return nil, err
	}
	n := 0
	for _, s := range []string{file, nixPath, expr} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		return nil, errorf("NixPackages: give one of file, nix_path or expr")
	}
	if file != "" && !filepath.IsAbs(file) {
		base := "."
		if p := callPos(thread); p.IsValid() {
			base = filepath.Dir(p.Filename())
		}
		abs, err := filepath.Abs(filepath.Join(base, file))
		if err != nil {
			return nil, errorf("NixPackages(file = %q): %v", file, err)
		}
		file = abs
	}
	return &nixValue{set: PackageSet{File: file, NixPath: nixPath, Expr: expr}}, nil
}

// coerceNixPackage accepts a package or a string (store path or attribute
// path in the default set).
func coerceNixPackage(v starlark.Value, what string) (starlark.Value, error) {
	switch x := v.(type) {
	case *nixValue:
		if len(x.attr) == 0 && x.path == "" {
			return nil, errorf("%s: %s is a package set: name a package in it, e.g. pkgs.hello", what, x)
		}
		return x, nil
	case starlark.String:
		s := string(x)
		switch {
		case strings.HasPrefix(s, "/nix/store/"):
			return &nixValue{path: s}, nil
		case s == "" || strings.Contains(s, ".."):
			return nil, errorf("%s: %q is not an attribute path: write e.g. 'hello' or 'python3Packages.requests'", what, s)
		}
		return &nixValue{attr: strings.Split(s, ".")}, nil
	}
	return nil, errorf("%s: got %s, want a Nix package (pkgs.NAME, an attribute path or a /nix/store path)", what, describe(v))
}

// Packages returns the Nix packages the processes of the job Job(key,
// bindings...) picks name, by process name as written; nil if none
// does. Pass them to sandbox.Prepare (via the conversion the caller
// chooses for the default set).
func (c *Config) Packages(key job.Key, bindings ...string) (map[string][]Package, error) {
	vars, err := parseBindings(bindings)
	if err != nil {
		return nil, err
	}
	o, err := c.pick(key, vars)
	if err != nil {
		return nil, err
	}
	t, ok := o.vals["task"].(*object)
	if !ok {
		return nil, nil
	}
	var out map[string][]Package
	var walk func(t *object)
	walk = func(t *object) {
		if t.merge != nil {
			for _, p := range t.merge.tasks {
				walk(p)
			}
		}
		l, ok := t.vals["processes"].(*starlark.List)
		if !ok {
			return
		}
		for i := 0; i < l.Len(); i++ {
			p, ok := l.Index(i).(*object)
			if !ok {
				continue
			}
			pl, ok := p.vals["packages"].(*starlark.List)
			if !ok {
				continue
			}
			name, _ := p.get("name")
			if name == nil {
				return
			}
			if out == nil {
				out = make(map[string][]Package)
			}
			n := pyStr(name)
			for k := 0; k < pl.Len(); k++ {
				pkg := pl.Index(k).(*nixValue).pkg()
				if !slices.ContainsFunc(out[n], func(q Package) bool { return fmt.Sprint(q) == fmt.Sprint(pkg) }) {
					out[n] = append(out[n], pkg)
				}
			}
		}
	}
	walk(t)
	return out, nil
}
