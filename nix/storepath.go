package nix

import (
	"errors"
	"fmt"
	"strings"
)

// StoreDir is the store directory every path handled by this package lives
// in. Chroot stores ([Nix.Store] set to a directory) keep this logical
// directory: their paths are still /nix/store/... .
const StoreDir = "/nix/store"

// hashLen is the length of the base-32 hash part of a store path's name.
const hashLen = 32

// maxNameLen is the longest name Nix accepts after the hash and dash.
const maxNameLen = 211

// nixBase32 is Nix's base-32 alphabet (no e, o, u, t).
const nixBase32 = "0123456789abcdfghijklmnpqrsvwxyz"

// ErrInvalidStorePath is wrapped by every error of [ParseStorePath].
var ErrInvalidStorePath = errors.New("invalid store path")

// A StorePath is a validated store path: /nix/store/<32 base-32
// characters>-<name>, the name made of [A-Za-z0-9+-._?=] (not starting with
// a dot), at most 211 characters. Store paths never contain a single quote,
// but may contain ? and =, so quote them for a shell.
type StorePath string

// ParseStorePath validates s as a store path. Paths below a store path
// (/nix/store/...-x/bin/y) are refused: use the store path itself.
func ParseStorePath(s string) (StorePath, error) {
	bad := func(why string) (StorePath, error) {
		return "", fmt.Errorf("%w %q: %s", ErrInvalidStorePath, s, why)
	}
	rest, ok := strings.CutPrefix(s, StoreDir+"/")
	if !ok {
		return bad("must start with " + StoreDir + "/")
	}
	if len(rest) < hashLen+2 {
		return bad("too short: want /nix/store/<32-character hash>-<name>")
	}
	for i := 0; i < hashLen; i++ {
		if !strings.ContainsRune(nixBase32, rune(rest[i])) {
			return bad(fmt.Sprintf("hash character %q is not in Nix's base-32 alphabet %s", rest[i], nixBase32))
		}
	}
	if rest[hashLen] != '-' {
		return bad("want a dash after the 32-character hash")
	}
	name := rest[hashLen+1:]
	if err := checkName(name); err != nil {
		return bad(err.Error())
	}
	return StorePath(s), nil
}

// checkName applies Nix's store name rules (libstore/path.cc checkName).
func checkName(name string) error {
	if name == "" {
		return errors.New("empty name")
	}
	if len(name) > maxNameLen {
		return fmt.Errorf("name is %d characters long, at most %d allowed", len(name), maxNameLen)
	}
	if name[0] == '.' {
		return errors.New("name must not start with a dot")
	}
	for _, c := range []byte(name) {
		if !validNameChar(c) {
			return fmt.Errorf("name contains %q; allowed are A-Z a-z 0-9 + - . _ ? =", c)
		}
	}
	return nil
}

func validNameChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("+-._?=", c) >= 0
}

// String returns the path.
func (p StorePath) String() string { return string(p) }

// HashPart returns the 32-character hash part, which names the path's
// narinfo in a binary cache (<hash>.narinfo).
func (p StorePath) HashPart() string {
	rest := strings.TrimPrefix(string(p), StoreDir+"/")
	if len(rest) < hashLen {
		return ""
	}
	return rest[:hashLen]
}

// Name returns the part after the hash and dash.
func (p StorePath) Name() string {
	rest := strings.TrimPrefix(string(p), StoreDir+"/")
	if len(rest) < hashLen+1 {
		return ""
	}
	return rest[hashLen+1:]
}

// IsDerivation reports whether p names a .drv file.
func (p StorePath) IsDerivation() bool { return strings.HasSuffix(string(p), ".drv") }

// parseStorePaths parses one store path per non-empty line.
func parseStorePaths(out []byte) ([]StorePath, error) {
	var paths []StorePath
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		p, err := ParseStorePath(line)
		if err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}
