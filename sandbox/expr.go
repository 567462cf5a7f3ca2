package sandbox

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/nixrealis/nixrealis/nix"
)

// expression is the sandbox Nix expression (sandbox.nix, template v1): a
// fixed template that takes all variable data as one JSON string argument,
// evaluated with --argstr spec '<Spec.jsonArg>'.
//
//go:embed sandbox.nix
var expression []byte

// A PackageSet is where attribute paths are looked up: a Nix search path
// entry (<nixpkgs>), a Nix file, or Nix source text. A set that evaluates
// to a function (as nixpkgs does) is called with no arguments ({ }), so
// its defaults apply.
type PackageSet struct {
	nixPath string // <name> on the Nix search path
	file    string // absolute .nix file or directory
	expr    string // Nix source, written to a file by evaluate
}

// Nixpkgs is the default package set, <nixpkgs> on the Nix search path.
func Nixpkgs() PackageSet { return PackageSet{nixPath: "nixpkgs"} }

// NixPath is the package set <name> looked up on the Nix search path
// (NIX_PATH, or -I entries from [Spec.IncludePath]).
func NixPath(name string) PackageSet { return PackageSet{nixPath: name} }

// File is the package set in a Nix file (or a directory with
// default.nix). A relative path is made absolute when the set is used.
func File(path string) PackageSet { return PackageSet{file: path} }

// Source is the package set given as Nix source text, e.g.
// "import <nixpkgs> { overlays = [ ... ]; }". The text is written to a
// file in the work directory and imported from there, so relative paths in
// it would resolve against that directory: use absolute paths or <...>.
func Source(source string) PackageSet { return PackageSet{expr: source} }

// String describes the set for messages: <nixpkgs>, a file name, or
// "expression".
func (s PackageSet) String() string {
	switch {
	case s.nixPath != "":
		return "<" + s.nixPath + ">"
	case s.file != "":
		return s.file
	case s.expr != "":
		return "expression"
	}
	return "<nixpkgs>"
}

func (s PackageSet) isZero() bool { return s == PackageSet{} }

// A Package is one package a process uses: an attribute path into a
// package set, or a literal store path.
type Package struct {
	set       PackageSet
	attrPath  []string
	storePath string
	refs      bool // every store path the value refers to
}

// Attr is the package at the dotted attribute path (e.g. "hello",
// "python3Packages.requests") in <nixpkgs>. Use [PackageSet.Attr] for
// other sets or attribute names containing dots.
func Attr(path string) Package {
	return Package{set: Nixpkgs(), attrPath: strings.Split(path, ".")}
}

// Attr is the package at the attribute path given by its components in s.
func (s PackageSet) Attr(path ...string) Package {
	return Package{set: s, attrPath: append([]string(nil), path...)}
}

// References is every store path the value at the attribute path in s
// refers to: the outputs of the derivations interpolated into its strings
// (e.g. "${pkgs.python}/bin/python" in a nix-aurora cmdline) and the
// source files it copied. This is how a job written in Nix ships exactly
// what its command lines use. An empty path means the whole value.
func (s PackageSet) References(path ...string) Package {
	return Package{set: s, attrPath: append([]string(nil), path...), refs: true}
}

// Prebuilt is an already-built package by its store path. It must be
// valid in the client's store when the sandbox is evaluated (Nix checks
// it) and is shipped with the sandbox's closure.
func Prebuilt(path string) Package { return Package{storePath: path} }

// String describes the package: "<set>#a.b" or the store path.
func (p Package) String() string {
	if p.storePath != "" {
		return p.storePath
	}
	if p.refs {
		return "references of " + p.set.String() + "#" + strings.Join(p.attrPath, ".")
	}
	return p.set.String() + "#" + strings.Join(p.attrPath, ".")
}

func (p Package) validate(field string) error {
	if p.storePath != "" {
		return checkStorePath(field, p.storePath)
	}
	if len(p.attrPath) == 0 && !p.refs {
		return fmt.Errorf("%w: %s has no attribute path; use sandbox.Attr(\"hello\") or sandbox.Prebuilt(\"/nix/store/...\")", ErrInvalid, field)
	}
	for i, a := range p.attrPath {
		if a == "" {
			return fmt.Errorf("%w: %s: attribute path %q has an empty component %d", ErrInvalid, field, strings.Join(p.attrPath, "."), i)
		}
	}
	if p.set.file != "" && strings.ContainsRune(p.set.file, 0) {
		return fmt.Errorf("%w: %s: package set file name contains a NUL byte", ErrInvalid, field)
	}
	return nil
}

// A Spec describes one sandbox derivation.
type Spec struct {
	// Name is the store name; derive it with [StoreName].
	Name string
	// System is the Nix system the sandbox is built for; empty means the
	// client's (e.g. "x86_64-linux").
	System string
	// Shell and Path are the builder (a POSIX shell) and the PATH where
	// it finds mkdir and ln. Empty means "/bin/sh" and "/bin:/usr/bin" of
	// the building host, which needs Nix's sandbox off. Ignored when
	// BuildTools is set.
	Shell, Path string
	// BuildTools, when set, are packages providing bin/sh (the first
	// one), mkdir and ln, e.g. Attr("bash") and Attr("coreutils"): the
	// builder is the first tool's bin/sh and PATH the tools' bin
	// directories, so the sandbox builds with Nix's sandbox on. They are
	// build-time inputs only, not shipped.
	BuildTools []Package
	// IncludePath entries are passed to Nix as -I (e.g.
	// "nixpkgs=/src/nixpkgs") for <...> lookups; empty means NIX_PATH.
	IncludePath []string
	// Packages are the packages on the sandbox's bin/, in order of
	// precedence (a program name provided by two packages links to the
	// first). Duplicates are dropped.
	Packages []Package
}

// defaultSystem is the Nix system of the machine running this program.
func defaultSystem() string {
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "riscv64": "riscv64"}[runtime.GOARCH]
	if arch == "" {
		arch = runtime.GOARCH
	}
	return arch + "-" + runtime.GOOS
}

// Validate reports every problem with s, joined.
func (s Spec) Validate() error {
	var errs []error
	if err := checkStoreName(s.Name); err != nil {
		errs = append(errs, fmt.Errorf("Spec.Name: %w", err))
	}
	if s.Shell != "" && !strings.HasPrefix(s.Shell, "/") {
		errs = append(errs, fmt.Errorf("%w: Spec.Shell %q is not an absolute path", ErrInvalid, s.Shell))
	}
	for i, p := range s.Packages {
		if err := p.validate(fmt.Sprintf("Spec.Packages[%d]", i)); err != nil {
			errs = append(errs, err)
		}
	}
	for i, p := range s.BuildTools {
		if err := p.validate(fmt.Sprintf("Spec.BuildTools[%d]", i)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// jsonSet and jsonPackage are the JSON shapes sandbox.nix reads.
type jsonSet struct {
	NixPath string `json:"nixPath,omitempty"`
	File    string `json:"file,omitempty"`
}

type jsonPackage struct {
	Set       string   `json:"set,omitempty"`
	AttrPath  []string `json:"attrPath,omitempty"`
	StorePath string   `json:"storePath,omitempty"`
	Refs      bool     `json:"refs,omitempty"`
}

type jsonSpec struct {
	Name     string             `json:"name"`
	System   string             `json:"system"`
	Shell    string             `json:"shell"`
	Path     string             `json:"path"`
	Sets     map[string]jsonSet `json:"sets"`
	Packages []jsonPackage      `json:"packages"`
	Tools    []jsonPackage      `json:"tools,omitempty"`
}

// jsonArg returns the spec argument for the sandbox expression. Package sets
// given as source text ([Source]) are written to exprDir as
// set-<sha256>.nix (the directory must exist); files are made absolute.
// The result depends only on s (and exprDir), so it is deterministic.
func (s Spec) jsonArg(exprDir string) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	js := jsonSpec{
		Name: s.Name, System: s.System, Shell: s.Shell, Path: s.Path,
		Sets: map[string]jsonSet{}, Packages: []jsonPackage{},
	}
	if js.System == "" {
		js.System = defaultSystem()
	}
	if js.Shell == "" {
		js.Shell = "/bin/sh"
	}
	if js.Path == "" {
		js.Path = "/bin:/usr/bin"
	}
	setIDs := map[PackageSet]string{}
	setID := func(set PackageSet) (string, error) {
		if set.isZero() {
			set = Nixpkgs()
		}
		if id, ok := setIDs[set]; ok {
			return id, nil
		}
		id := fmt.Sprintf("s%d", len(setIDs))
		setIDs[set] = id
		var j jsonSet
		switch {
		case set.nixPath != "":
			j.NixPath = set.nixPath
		case set.file != "":
			abs, err := filepath.Abs(set.file)
			if err != nil {
				return "", fmt.Errorf("sandbox: package set %s: %w", set.file, err)
			}
			j.File = abs
		default:
			if exprDir == "" {
				return "", fmt.Errorf("%w: a package set given as an expression needs a directory to write it to", ErrInvalid)
			}
			sum := sha256.Sum256([]byte(set.expr))
			name := filepath.Join(exprDir, "set-"+hex.EncodeToString(sum[:8])+".nix")
			if err := os.WriteFile(name, []byte(set.expr), 0o644); err != nil {
				return "", fmt.Errorf("sandbox: writing package set expression: %w", err)
			}
			j.File = name
		}
		js.Sets[id] = j
		return id, nil
	}
	// convert turns packages into their JSON form, dropping duplicates.
	convert := func(pkgs []Package) ([]jsonPackage, error) {
		out := []jsonPackage{}
		seen := map[string]bool{}
		for _, p := range pkgs {
			if p.storePath != "" {
				if !seen[p.storePath] {
					seen[p.storePath] = true
					out = append(out, jsonPackage{StorePath: p.storePath})
				}
				continue
			}
			id, err := setID(p.set)
			if err != nil {
				return nil, err
			}
			key := fmt.Sprint(id, p.refs, "\x00", strings.Join(p.attrPath, "\x00"))
			if seen[key] {
				continue
			}
			seen[key] = true
			attrPath := p.attrPath
			if attrPath == nil {
				attrPath = []string{}
			}
			out = append(out, jsonPackage{Set: id, AttrPath: attrPath, Refs: p.refs})
		}
		return out, nil
	}
	var err error
	if js.Packages, err = convert(s.Packages); err != nil {
		return nil, err
	}
	if len(s.BuildTools) > 0 {
		if js.Tools, err = convert(s.BuildTools); err != nil {
			return nil, err
		}
	}
	return json.MarshalIndent(js, "", "  ")
}

// Paths are a sandbox's derivation and output store paths, both known
// after evaluation alone.
type Paths struct {
	Drv nix.StorePath // the .drv written by nix-instantiate
	Out nix.StorePath // the output; not built yet
}

// evaluate instantiates the sandbox derivation for s with n (nothing is
// built) and returns its paths. Expression package sets and the
// expression itself are written to workDir (a temporary directory when
// empty).
func evaluate(ctx context.Context, n *nix.Nix, s Spec, workDir string) (Paths, error) {
	if n == nil {
		n = &nix.Nix{}
	}
	if workDir == "" {
		d, err := os.MkdirTemp("", "nixrealis-sandbox-")
		if err != nil {
			return Paths{}, fmt.Errorf("sandbox: %w", err)
		}
		defer os.RemoveAll(d)
		workDir = d
	}
	spec, err := s.jsonArg(workDir)
	if err != nil {
		return Paths{}, err
	}
	file := filepath.Join(workDir, "sandbox.nix")
	if err := os.WriteFile(file, expression, 0o644); err != nil {
		return Paths{}, fmt.Errorf("sandbox: writing the sandbox expression: %w", err)
	}
	drvs, err := n.Instantiate(ctx, nix.Expr{File: file, ArgStr: map[string]string{"spec": string(spec)}, IncludePath: s.IncludePath})
	if err != nil {
		if me := missingAttr(err, slices.Concat(s.Packages, s.BuildTools)); me != nil {
			return Paths{}, me
		}
		return Paths{}, fmt.Errorf("sandbox: evaluating sandbox %s: %w", s.Name, err)
	}
	if len(drvs) != 1 {
		return Paths{}, fmt.Errorf("sandbox: evaluating sandbox %s gave %d derivations, want 1", s.Name, len(drvs))
	}
	outs, err := n.OutputPaths(ctx, drvs[0])
	if err != nil {
		return Paths{}, fmt.Errorf("sandbox: output path of %s: %w", drvs[0], err)
	}
	if len(outs) != 1 {
		return Paths{}, fmt.Errorf("sandbox: %s has %d outputs, want 1", drvs[0], len(outs))
	}
	return Paths{Drv: drvs[0], Out: outs[0]}, nil
}
