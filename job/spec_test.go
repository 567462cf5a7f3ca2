package job_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/job"
)

func TestSpecKey(t *testing.T) {
	task := job.NewTask("web", job.NewProcess("main", "./serve")).
		WithResources(job.NewResources(0.5, 64*job.MiB, 64*job.MiB))
	tests := []struct {
		name string
		key  job.Key
		want job.Key
	}{
		{"named", job.Key{Cluster: "c", Role: "r", Environment: "prod", Name: "api"}, job.Key{Cluster: "c", Role: "r", Environment: "prod", Name: "api"}},
		{"name from the task", job.Key{Cluster: "c", Role: "r", Environment: "prod"}, job.Key{Cluster: "c", Role: "r", Environment: "prod", Name: "web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := job.New(tt.key, task).Build()
			require.NoError(t, err)
			assert.Equal(t, tt.want, spec.Key())
		})
	}
	assert.Equal(t, job.Key{}, job.Spec{}.Key(), "a Spec without a payload")
}
