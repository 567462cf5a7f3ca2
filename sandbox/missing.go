package sandbox

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// A MissingAttrError reports a package whose attribute path its package
// set does not have, found by Nix's evaluation. It unwraps to Nix's error.
type MissingAttrError struct {
	// Package is the package as the job named it.
	Package Package
	// Attr is the attribute Nix found missing.
	Attr string
	// Process is the process that uses the package ("" for a build tool
	// or when the caller did not say).
	Process string
	// Err is Nix's error (its position is in the temporary sandbox
	// expression, not in the package set).
	Err error
}

// Error names the package set, the attribute and the process.
func (e *MissingAttrError) Error() string {
	who := "the sandbox uses"
	if e.Process != "" {
		who = fmt.Sprintf("process %q uses", e.Process)
	}
	path := strings.Join(e.Package.attrPath, ".")
	return fmt.Sprintf("sandbox: %s package %q of the package set %s, which has no attribute %q", who, path, e.Package.set, e.Attr)
}

// Unwrap returns Nix's error.
func (e *MissingAttrError) Unwrap() error { return e.Err }

// missingAttrRE is Nix's message for a missing attribute.
var missingAttrRE = regexp.MustCompile(`attribute '([^']+)' missing`)

// missingAttr turns Nix's "attribute 'x' missing" into a MissingAttrError
// naming the first of pkgs whose attribute path holds x, or returns nil.
func missingAttr(err error, pkgs []Package) *MissingAttrError {
	m := missingAttrRE.FindStringSubmatch(err.Error())
	if m == nil {
		return nil
	}
	for _, p := range pkgs {
		if p.storePath == "" && slices.Contains(p.attrPath, m[1]) {
			return &MissingAttrError{Package: p, Attr: m[1], Err: err}
		}
	}
	return nil
}
