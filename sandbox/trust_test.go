package sandbox

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/nix"
)

// A cache URL that turns signature checks off is refused wherever one is
// accepted: in the payload's Agent (and so by InitCommand and Prepare) and
// as the cache Push copies to.
func TestCacheURLThatDisablesSignaturesIsRefused(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"file:///srv/cache?trusted=1", "https://cache.example?trusted=true", "file:///srv/cache?require-sigs=false"} {
		err := Agent{Caches: []string{u}}.Validate()
		require.Error(t, err, u)
		assert.True(t, errors.Is(err, ErrInvalid), u)
		assert.True(t, errors.Is(err, nix.ErrUnsafeStoreURL), u)
		assert.Contains(t, err.Error(), "Agent.Caches[0]")
		assert.NotContains(t, err.Error(), "\n")

		_, err = InitCommand("/nix/store/00000000000000000000000000000000-x", Agent{Caches: []string{u}})
		assert.True(t, errors.Is(err, nix.ErrUnsafeStoreURL), u)

		err = Push(context.Background(), Paths{Drv: "/nix/store/00000000000000000000000000000000-x.drv"}, Cache{URL: u, SecretKeyFile: "/k.sec"}, PushOptions{})
		require.Error(t, err, u)
		assert.True(t, errors.Is(err, nix.ErrUnsafeStoreURL), u)
		assert.Contains(t, err.Error(), "Cache.URL")
	}
	assert.NoError(t, Agent{Caches: []string{"file:///srv/cache?trusted=0", "https://cache.example?priority=10"}}.Validate())
}

// AgentNixConf writes the operator's trust as nix.conf settings and refuses
// what would weaken it.
func TestAgentNixConf(t *testing.T) {
	t.Parallel()
	const key = "cluster-1:owhzNC7uktpmQsjnAd+IOmeptbDLsfr+rJE3CbSBfWU="
	conf, err := AgentNixConf([]string{"file:///srv/cache", "https://cache.example"}, []string{key})
	require.NoError(t, err)
	assert.Equal(t, "substituters = file:///srv/cache https://cache.example\ntrusted-public-keys = "+key+"\nrequire-sigs = true\nnarinfo-cache-negative-ttl = 0\n", conf)

	_, err = AgentNixConf([]string{"file:///srv/cache?trusted=1", "not a url"}, []string{"nokey"})
	require.Error(t, err)
	assert.True(t, errors.Is(err, nix.ErrUnsafeStoreURL))
	for _, want := range []string{"caches[0]", `caches[1] "not a url"`, `trustedKeys[0] "nokey" is not a Nix public key`} {
		assert.Contains(t, err.Error(), want)
	}
}
