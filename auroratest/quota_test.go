package auroratest_test

import (
	"testing"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuotaRefusesProductionJobsBeyondIt(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	r := client(t, srv)
	_, err := r.SetQuota(role, ptr(1.0), ptr(int64(256)), ptr(int64(1000)))
	require.NoError(t, err)

	// 2 × (0.25 cpu, 64 MB, 100 MB) fits.
	_, err = r.CreateJob(newJob("web", 2).Tier("preferred"))
	require.NoError(t, err)

	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"createJob", func() error {
			_, err := r.CreateJob(newJob("big", 4).Tier("preferred"))
			return err
		}, "Insufficient resource quota: CPU quota exceeded by 0.50 core(s); RAM quota exceeded by 128.00 MB"},
		{"addInstances", func() error {
			_, err := r.AddInstances(aurora.InstanceKey{JobKey: key("web"), InstanceId: 0}, 3)
			return err
		}, "Insufficient resource quota: CPU quota exceeded by 0.25 core(s); RAM quota exceeded by 64.00 MB"},
		{"startJobUpdate", func() error {
			u := realis.NewUpdateJob(newJob("web", 2).Tier("preferred").CPU(1).TaskConfig(), &aurora.JobUpdateSettings{UpdateGroupSize: 1, MaxPerInstanceFailures: 0})
			u.InstanceCount(2)
			_, err := r.StartJobUpdate(u, "")
			return err
		}, "Insufficient resource quota: CPU quota exceeded by 1.00 core(s)"},
	}
	for _, tt := range tests {
		err := tt.call()
		if assert.Error(t, err, tt.name) {
			assert.Contains(t, err.Error(), tt.want, tt.name)
		}
	}

	// Non-production and dedicated production jobs are not checked.
	_, err = r.CreateJob(newJob("batch", 10))
	require.NoError(t, err)
	_, err = r.CreateJob(newJob("dedicated", 10).Tier("preferred").AddDedicatedConstraint(role, "db"))
	require.NoError(t, err)

	resp, err := r.GetQuota(role)
	require.NoError(t, err)
	q := resp.Result_.GetQuotaResult_
	cpu := func(a *aurora.ResourceAggregate) float64 {
		for _, res := range a.Resources {
			if res.NumCpus != nil {
				return *res.NumCpus
			}
		}
		return -1
	}
	assert.Equal(t, []float64{0.5, 2.5, 2.5, 0}, []float64{cpu(q.ProdSharedConsumption), cpu(q.NonProdSharedConsumption),
		cpu(q.ProdDedicatedConsumption), cpu(q.NonProdDedicatedConsumption)})
}
