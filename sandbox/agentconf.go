package sandbox

import (
	"errors"
	"fmt"
	"strings"
)

// AgentNixConf returns the nix.conf settings with which an agent's
// operator makes the agent trust the cluster's binary caches and signing
// keys, one per line:
//
//	substituters = <caches>
//	trusted-public-keys = <trustedKeys>
//	require-sigs = true
//	narinfo-cache-negative-ttl = 0
//
// The last line makes a path that an agent looked up before it was pushed
// visible as soon as it is pushed (Nix otherwise remembers the miss for an
// hour). These settings are the operator's, never the job's: init_sandbox
// passes Nix no keys, and only a cache the agent already trusts (see
// [Agent]). It refuses a cache URL that turns signature checks off and a
// key that is not name:base64.
func AgentNixConf(caches, trustedKeys []string) (string, error) {
	var errs []error
	for i, c := range caches {
		if err := checkCacheURL(fmt.Sprintf("caches[%d]", i), c); err != nil {
			errs = append(errs, err)
		}
	}
	for i, k := range trustedKeys {
		if !keyRE.MatchString(k) {
			errs = append(errs, fmt.Errorf("%w: trustedKeys[%d] %q is not a Nix public key; want name:base64 as printed by nix key convert-secret-to-public", ErrInvalid, i, k))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	return "substituters = " + strings.Join(caches, " ") + "\n" +
		"trusted-public-keys = " + strings.Join(trustedKeys, " ") + "\n" +
		"require-sigs = true\n" +
		"narinfo-cache-negative-ttl = 0\n", nil
}
