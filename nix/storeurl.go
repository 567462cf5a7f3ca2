package nix

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrUnsafeStoreURL is wrapped by the error of [CheckStoreURL]: the store
// URL carries a parameter that turns Nix's signature checks off.
var ErrUnsafeStoreURL = errors.New("store URL turns off signature checks")

// CheckStoreURL refuses a store URL (a substituter, a binary cache to copy
// to or from, a store) whose parameters turn off signature checking:
// trusted=1 (paths from that store need no signature) or
// require-sigs=false (a store that accepts unsigned paths). Either
// parameter is refused unless its value keeps the checks on (trusted=0,
// require-sigs=true), in any of the spellings of a Nix boolean. Parameters
// are read as Nix reads them (after the first "?", separated by "&");
// names and values are percent-decoded, and a parameter that appears
// several times is checked every time, so no spelling slips through.
// Everything else about the URL is left to its caller and to Nix.
func CheckStoreURL(s string) error {
	_, query, ok := strings.Cut(s, "?")
	if !ok {
		return nil
	}
	for _, param := range strings.Split(query, "&") {
		name, value, _ := strings.Cut(param, "=")
		if n, err := url.PathUnescape(name); err == nil {
			name = n
		}
		if v, err := url.PathUnescape(value); err == nil {
			value = v
		}
		switch strings.ToLower(name) {
		case "trusted":
			if !nixBool(value, false) {
				return fmt.Errorf("%w: %q has %s: paths from it would need no signature; remove the parameter and trust the cache's key instead", ErrUnsafeStoreURL, s, param)
			}
		case "require-sigs":
			if !nixBool(value, true) {
				return fmt.Errorf("%w: %q has %s: the store would accept unsigned paths; remove the parameter", ErrUnsafeStoreURL, s, param)
			}
		}
	}
	return nil
}

// nixBool reports whether s is one of Nix's spellings of the boolean want.
func nixBool(s string, want bool) bool {
	switch s {
	case "true", "yes", "1":
		return want
	case "false", "no", "0":
		return !want
	}
	return false
}
