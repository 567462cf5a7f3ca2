package nix_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nixrealis/nixrealis/nix"
)

func TestCheckStoreURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"file:///srv/cache", true},
		{"https://cache.example.org", true},
		{"s3://bucket?region=eu-west-1&endpoint=minio.local", true},
		{"file:///srv/cache?compression=zstd&secret-key=/etc/nix/key.sec", true},
		{"/var/agent-store", true},
		{"file:///srv/cache?trusted=0", true},
		{"file:///srv/cache?trusted=false", true},
		{"file:///srv/cache?trusted=no", true},
		{"local?require-sigs=true", true},
		{"local?require-sigs=1", true},
		{"https://cache.example.org?priority=30", true},
		// What turns the checks off, in every spelling.
		{"file:///srv/cache?trusted=1", false},
		{"file:///srv/cache?trusted=true", false},
		{"file:///srv/cache?trusted=yes", false},
		{"https://cache.example.org?priority=30&trusted=1", false},
		{"https://cache.example.org?trusted=0&trusted=1", false},
		{"file:///srv/cache?%74rusted=1", false},
		{"file:///srv/cache?trusted=%31", false},
		{"file:///srv/cache?Trusted=1", false},
		{"file:///srv/cache?trusted", false},
		{"file:///srv/cache?trusted=", false},
		{"file:///srv/cache?trusted=maybe", false},
		{"local?require-sigs=false", false},
		{"local?require-sigs=0", false},
		{"/var/agent-store?require-sigs=no", false},
		{"local?require-sigs=", false},
	} {
		err := nix.CheckStoreURL(tc.url)
		if tc.ok {
			assert.NoError(t, err, tc.url)
			continue
		}
		if assert.Error(t, err, tc.url) {
			assert.True(t, errors.Is(err, nix.ErrUnsafeStoreURL), "%s: %v", tc.url, err)
			assert.NotContains(t, err.Error(), "\n")
			assert.Contains(t, err.Error(), "remove the parameter", tc.url)
		}
	}
}

// Realise and Copy refuse such a URL before running Nix.
func TestRealiseAndCopyRefuseUnsafeStoreURL(t *testing.T) {
	n := &nix.Nix{}
	p := nix.StorePath("/nix/store/00000000000000000000000000000000-x")
	_, err := n.Realise(t.Context(), nix.RealiseOptions{Substituters: []string{"file:///srv/cache?trusted=1"}}, p)
	assert.True(t, errors.Is(err, nix.ErrUnsafeStoreURL), "%v", err)
	err = n.Copy(t.Context(), nix.CopyOptions{From: "file:///srv/cache?trusted=1"}, p)
	assert.True(t, errors.Is(err, nix.ErrUnsafeStoreURL), "%v", err)
	err = n.Copy(t.Context(), nix.CopyOptions{To: "/srv/agent?require-sigs=false"}, p)
	assert.True(t, errors.Is(err, nix.ErrUnsafeStoreURL), "%v", err)
}
