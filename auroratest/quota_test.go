package auroratest_test

import (
	"testing"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
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
	assert.Equal(t, []float64{0.5, 2.5, 2.5, 0}, []float64{cpuOf(q.ProdSharedConsumption), cpuOf(q.NonProdSharedConsumption),
		cpuOf(q.ProdDedicatedConsumption), cpuOf(q.NonProdDedicatedConsumption)})
}

// TestQuotaOfTheProductionFlag: Aurora 0.23 takes a task's production-ness
// from its tier alone. ConfigurationManager.validateAndPopulate fills an
// unset tier with the default tier and then overwrites
// TaskConfig.production with that tier's (TierManager.getTier), so the
// production flag a client sends is ignored: with Aurora's default tiers a
// job with production=true and no tier is a preemptible, non-production
// job, not checked against quota and counted as non-production
// consumption; with a production default tier every job without a tier is
// production, whatever its flag says, and is refused beyond the quota.
func TestQuotaOfTheProductionFlag(t *testing.T) {
	t.Parallel()
	const overQuota = "Insufficient resource quota: CPU quota exceeded by 0.25 core(s); RAM quota exceeded by 64.00 MB"
	for _, tt := range []struct {
		name        string
		defaultTier string // "": Aurora's, preemptible
		production  bool   // TaskConfig.production as sent
		tier        string // TaskConfig.tier as sent; "": unset
		instances   int32
		wantErr     string
		wantTier    string
		wantProd    bool
		// CPU consumed, prod shared and non-prod shared, once created.
		wantProdCPU, wantNonProdCPU float64
	}{
		{name: "production flag without tier is the default tier's", production: true, instances: 5,
			wantTier: "preemptible", wantNonProdCPU: 1.25},
		{name: "production flag on a preemptible tier", production: true, tier: "preemptible", instances: 5,
			wantTier: "preemptible", wantNonProdCPU: 1.25},
		{name: "production flag on the production tier", production: true, tier: "preferred", instances: 5,
			wantErr: overQuota},
		{name: "production default tier, production flag", defaultTier: "preferred", production: true, instances: 2,
			wantTier: "preferred", wantProd: true, wantProdCPU: 0.5},
		{name: "production default tier, no production flag", defaultTier: "preferred", instances: 2,
			wantTier: "preferred", wantProd: true, wantProdCPU: 0.5},
		{name: "production default tier, no production flag, over quota", defaultTier: "preferred", instances: 5,
			wantErr: overQuota},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := unstartedFastServer(nil)
			if tt.defaultTier != "" {
				srv.Tiers, srv.DefaultTier = auroratest.DefaultTiers(), tt.defaultTier
			}
			srv.Start()
			defer srv.Close()
			r := client(t, srv)
			_, err := r.SetQuota(role, ptr(1.0), ptr(int64(256)), ptr(int64(1000)))
			require.NoError(t, err)

			job := newJob("flagged", tt.instances)
			if tt.tier != "" {
				job.Tier(tt.tier)
			}
			job.TaskConfig().Production = ptr(tt.production)
			_, err = r.CreateJob(job)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			cfg, err := r.FetchTaskConfig(aurora.InstanceKey{JobKey: key("flagged"), InstanceId: 0})
			require.NoError(t, err)
			assert.Equal(t, tt.wantTier, cfg.GetTier(), "tier populated")
			assert.Equal(t, tt.wantProd, cfg.GetProduction(), "production populated from the tier")

			resp, err := r.GetQuota(role)
			require.NoError(t, err)
			q := resp.Result_.GetQuotaResult_
			assert.Equal(t, []float64{tt.wantProdCPU, tt.wantNonProdCPU},
				[]float64{cpuOf(q.ProdSharedConsumption), cpuOf(q.NonProdSharedConsumption)}, "prod and non-prod shared CPU")

			// addInstances is checked as the populated config says.
			_, err = r.AddInstances(aurora.InstanceKey{JobKey: key("flagged"), InstanceId: 0}, 3)
			if tt.wantProd {
				require.Error(t, err)
				assert.Contains(t, err.Error(), overQuota)
			} else {
				require.NoError(t, err)
			}
		})
	}
}

// cpuOf is the CPU of a resource aggregate, -1 when it has none.
func cpuOf(a *aurora.ResourceAggregate) float64 {
	for _, res := range a.Resources {
		if res.NumCpus != nil {
			return *res.NumCpus
		}
	}
	return -1
}
