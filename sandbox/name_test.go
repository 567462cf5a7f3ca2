package sandbox

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStoreName(t *testing.T) {
	long := strings.Repeat("x", 255)
	tests := []struct {
		name                 string
		cluster, role, env   string
		job                  string
		want                 string // exact result, when short
		wantPrefix           string // else: the kept prefix
		wantErr, wantErrText string
	}{
		{name: "short", cluster: "devcluster", role: "www-data", env: "prod", job: "hello",
			want: "aurora-sandbox-devcluster-www-data-prod-hello"},
		{name: "dots and underscores", cluster: "c.1", role: "r_2", env: "e-3", job: "j.k_l-m",
			want: "aurora-sandbox-c.1-r_2-e-3-j.k_l-m"},
		{name: "exactly the limit", cluster: "c", role: "r", env: "e", job: strings.Repeat("j", maxNameLen-len("aurora-sandbox-c-r-e-")),
			want: "aurora-sandbox-c-r-e-" + strings.Repeat("j", maxNameLen-len("aurora-sandbox-c-r-e-"))},
		{name: "one over the limit", cluster: "c", role: "r", env: "e", job: strings.Repeat("j", maxNameLen-len("aurora-sandbox-c-r-e-")+1),
			wantPrefix: "aurora-sandbox-c-r-e-jjjj"},
		{name: "all parts 255 long", cluster: long, role: long, env: long, job: long,
			wantPrefix: "aurora-sandbox-xxxx"},
		{name: "empty role", cluster: "c", role: "", env: "e", job: "j", wantErrText: "role"},
		{name: "slash in name", cluster: "c", role: "r", env: "e", job: "a/b", wantErrText: "name"},
		{name: "space in env", cluster: "c", role: "r", env: "pro d", job: "j", wantErrText: "environment"},
		{name: "unicode word char", cluster: "clüster", role: "r", env: "e", job: "j", wantErrText: "cluster"},
		{name: "too long", cluster: long + "x", role: "r", env: "e", job: "j", wantErrText: "256 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := StoreName(tt.cluster, tt.role, tt.env, tt.job)
			if tt.wantErrText != "" {
				require.Error(t, err)
				assert.True(t, errors.Is(err, ErrInvalid), "errors.Is(err, ErrInvalid): %v", err)
				assert.Contains(t, err.Error(), tt.wantErrText)
				return
			}
			require.NoError(t, err)
			require.NoError(t, checkStoreName(got), "result must be a valid store name")
			assert.LessOrEqual(t, len(got), maxNameLen)
			if tt.want != "" {
				assert.Equal(t, tt.want, got)
			} else {
				assert.True(t, strings.HasPrefix(got, tt.wantPrefix), "%q lacks prefix %q", got, tt.wantPrefix)
				assert.Len(t, got, maxNameLen)
				assert.Regexp(t, `-[0123456789abcdfghijklmnpqrsvwxyz]{16}$`, got)
			}
			again, err := StoreName(tt.cluster, tt.role, tt.env, tt.job)
			require.NoError(t, err)
			assert.Equal(t, got, again, "stable")
		})
	}
}

func TestStoreNameDistinguishesLongKeys(t *testing.T) {
	long := strings.Repeat("a", 250)
	// The same joined text, split differently between the parts.
	a, err := StoreName("c", "r", long+"-x", "y")
	require.NoError(t, err)
	b, err := StoreName("c", "r", long, "x-y")
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
	assert.Equal(t, a[:maxNameLen-hashLen], b[:maxNameLen-hashLen])
}

func FuzzStoreName(f *testing.F) {
	f.Add("devcluster", "www-data", "prod", "hello")
	f.Add(strings.Repeat("c", 255), "r", "e", strings.Repeat("n", 255))
	f.Fuzz(func(t *testing.T, c, r, e, n string) {
		got, err := StoreName(c, r, e, n)
		if err != nil {
			return
		}
		if err := checkStoreName(got); err != nil {
			t.Fatalf("StoreName(%q, %q, %q, %q) = %q: %v", c, r, e, n, got, err)
		}
	})
}
