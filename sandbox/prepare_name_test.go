package sandbox

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/nix"
)

// TestPrepareNamesSandboxAfterBuiltKey: the sandbox is named after the key
// the job builds to: a job without a name takes its task's (as Aurora's
// client does), and key parts given as templates are bound first. A job
// that does not build is a validation error, not a Nix failure.
func TestPrepareNamesSandboxAfterBuiltKey(t *testing.T) {
	t.Parallel()
	testenv.NeedNix(t)
	pkgs := Packages{"web": {File("testdata/pkgs.nix").Attr("hello")}}
	task := job.NewTask("", job.NewProcess("web", "hello")).WithResources(job.NewResources(1, job.GiB, job.GiB))
	tests := []struct {
		name string
		j    job.Job
		want string
	}{
		{"no name", job.Service(job.Key{Cluster: "devcluster", Role: "www-data", Environment: "prod"}, task),
			NamePrefix + "devcluster-www-data-prod-web"},
		{"bound name", job.Service(job.Key{Cluster: "devcluster", Role: "www-data", Environment: "prod", Name: "{{n}}"}, task).
			Bind(job.Vars{"n": "bound"}), NamePrefix + "devcluster-www-data-prod-bound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Prepare(context.Background(), tt.j, pkgs, Options{})
			require.NoError(t, err)
			assert.Equal(t, tt.want, p.Spec.Name)
			spec, err := p.Job.Build()
			require.NoError(t, err)
			assert.Equal(t, "web", spec.Payload.Task.Name)
		})
	}

	bad := job.Service(job.Key{Cluster: "devcluster", Role: "www-data", Environment: "prod"}, task).WithInstances(0)
	_, err := Prepare(context.Background(), bad, pkgs, Options{})
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrInvalid), "%v", err)
	assert.Contains(t, err.Error(), "the job does not build")
	assert.Contains(t, err.Error(), "instances")
}

// TestPrepareMissingAttribute: a package the package set does not have is
// reported naming the set, the attribute and the process that uses it,
// not the temporary sandbox expression Nix evaluated.
func TestPrepareMissingAttribute(t *testing.T) {
	t.Parallel()
	testenv.NeedNix(t)
	set := File("testdata/pkgs.nix")
	task := job.NewTask("", job.NewProcess("web", "hello"), job.NewProcess("side", "greet")).
		WithResources(job.NewResources(1, job.GiB, job.GiB))
	j := job.Service(job.Key{Cluster: "devcluster", Role: "www-data", Environment: "prod", Name: "missing"}, task)
	tests := []struct {
		name string
		pkgs Packages
		want string
	}{
		{"top level", Packages{"web": {set.Attr("hello")}, "side": {set.Attr("nosuch")}},
			`sandbox: process "side" uses package "nosuch" of the package set testdata/pkgs.nix, which has no attribute "nosuch"`},
		{"nested", Packages{"web": {set.Attr("lib", "nothere")}},
			`sandbox: process "web" uses package "lib.nothere" of the package set testdata/pkgs.nix, which has no attribute "nothere"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Prepare(context.Background(), j, tt.pkgs, Options{})
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
			assert.NotContains(t, err.Error(), "sandbox.nix")
			var ne *nix.Error
			assert.True(t, errors.As(err, &ne), "Nix's error stays reachable")
			var me *MissingAttrError
			require.ErrorAs(t, err, &me)
			assert.Error(t, me.Err, "Nix's own error stays reachable")
		})
	}
}
