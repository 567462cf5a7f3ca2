package sandbox

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"
)

// maxNameLen is the longest sandbox store name: Nix allows 211 characters
// in a store path name, and the derivation's own path adds ".drv".
const maxNameLen = 211 - len(".drv")

// NamePrefix starts every sandbox store name.
const NamePrefix = "aurora-sandbox-"

// maxIdentLen is the longest Aurora identifier (api.thrift, UserProvidedStrings).
const maxIdentLen = 255

// hashLen is the length of the hash that ends a shortened store name.
const hashLen = 16

// nixBase32 is Nix's base-32 alphabet (no e, o, u, t), so a hash suffix
// reads like the rest of a store path.
var nixBase32 = base32.NewEncoding("0123456789abcdfghijklmnpqrsvwxyz").WithPadding(base32.NoPadding)

// StoreName returns the Nix store name of the sandbox for the Aurora job
// key cluster/role/environment/name: "aurora-sandbox-<cluster>-<role>-<env>-<name>"
// when that fits, otherwise a prefix of it, a dash and a 16-character hash
// of the whole key, always at most 207 characters (Nix allows 211 in a
// store path name, less ".drv"). The result is a function of the key
// alone, so it is stable across runs and machines.
//
// Each part must be a valid Aurora identifier (1 to 255 characters of
// [A-Za-z0-9_.-]); an invalid part gives an error naming it.
func StoreName(cluster, role, environment, name string) (string, error) {
	parts := []struct{ field, v string }{
		{"cluster", cluster}, {"role", role}, {"environment", environment}, {"name", name},
	}
	for _, p := range parts {
		if err := checkIdent(p.v); err != nil {
			return "", fmt.Errorf("sandbox: job key %s %q: %w", p.field, p.v, err)
		}
	}
	full := NamePrefix + cluster + "-" + role + "-" + environment + "-" + name
	if len(full) <= maxNameLen {
		return full, nil
	}
	// Hash the key with separators that cannot occur in identifiers, so
	// keys that join to the same text still get different hashes.
	sum := sha256.Sum256([]byte(cluster + "/" + role + "/" + environment + "/" + name))
	h := nixBase32.EncodeToString(sum[:])[:hashLen]
	keep := maxNameLen - 1 - hashLen
	return full[:keep] + "-" + h, nil
}

// checkIdent reports whether s is a valid Aurora identifier: ^[\w\-\.]+$
// (Java's \w is ASCII [A-Za-z0-9_]) of at most 255 characters.
func checkIdent(s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty; Aurora identifiers have 1 to %d characters of [A-Za-z0-9_.-]", ErrInvalid, maxIdentLen)
	}
	if len(s) > maxIdentLen {
		return fmt.Errorf("%w: %d characters; Aurora allows at most %d", ErrInvalid, len(s), maxIdentLen)
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return !isIdentRune(r) }); i >= 0 {
		return fmt.Errorf("%w: character %q at offset %d; Aurora identifiers use only [A-Za-z0-9_.-]", ErrInvalid, s[i:i+1], i)
	}
	return nil
}

func isIdentRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.'
}

// isStoreNameRune reports whether r may appear in a Nix store path name
// (src/libstore/path.cc: checkName).
func isStoreNameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+-._?=", r)
}

// checkStoreName reports whether s is a valid name for the sandbox
// derivation (its .drv must also be a valid store name).
func checkStoreName(s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty store name; use StoreName to derive one from the job key", ErrInvalid)
	}
	if len(s) > maxNameLen {
		return fmt.Errorf("%w: store name has %d characters, at most %d are allowed; use StoreName to shorten it", ErrInvalid, len(s), maxNameLen)
	}
	if s[0] == '.' {
		return fmt.Errorf("%w: store name %q starts with '.'", ErrInvalid, s)
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return !isStoreNameRune(r) }); i >= 0 {
		return fmt.Errorf("%w: store name %q has character %q at offset %d; Nix allows only [A-Za-z0-9+-._?=]", ErrInvalid, s, s[i:i+1], i)
	}
	return nil
}
