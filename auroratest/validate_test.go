package auroratest_test

import (
	"strings"
	"testing"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
)

func ptr[T any](v T) *T { return &v }

// TestValidationMessages checks each of Aurora's validations (GOREALIS.md
// §2.3 and startJobUpdate's checks) through gorealis, with Aurora's text.
func TestValidationMessages(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	docker := auroratest.NewUnstartedServer(nil)
	docker.AllowDocker = true
	docker.Start()
	defer docker.Close()
	r := client(t, srv)
	rd := client(t, docker)

	create := func(j realis.Job) func(realis.Realis) error {
		return func(r realis.Realis) error { _, err := r.CreateJob(j); return err }
	}
	update := func(u *realis.UpdateJob) func(realis.Realis) error {
		return func(r realis.Realis) error { _, err := r.StartJobUpdate(u, ""); return err }
	}
	with := func(j realis.Job, f func(tc *aurora.TaskConfig, jc *aurora.JobConfiguration)) realis.Job {
		f(j.TaskConfig(), j.JobConfig())
		return j
	}
	defaultUpdate := func(j realis.Job) *realis.UpdateJob {
		return realis.NewDefaultUpdateJob(j.TaskConfig()).InstanceCount(3)
	}

	tests := []struct {
		name   string
		docker bool
		call   func(realis.Realis) error
		want   string
	}{
		{"instance count", false, create(newJob("v", 0)), "Instance count must be positive."},
		{"job key", false, create(newJob("bad name", 1)),
			"Job key IJobKey{role=vagrant, environment=prod, name=bad name} is invalid."},
		{"environment", false, create(newJob("v", 1).Environment("qa")),
			`Job environment qa doesn't match: ^(prod|devel|test|staging\d*)$`},
		{"owner", false, create(with(newJob("v", 1), func(_ *aurora.TaskConfig, jc *aurora.JobConfiguration) { jc.Owner.User = "a b" })),
			"Job user contains illegal characters: a b"},
		{"service on cron", false, func(r realis.Realis) error {
			_, err := r.ScheduleCronJob(newJob("v", 1).CronSchedule("*/5 * * * *"))
			return err
		}, "A service task may not be run on a cron schedule: "},
		{"cron through createJob", false, create(newJob("v", 1).IsService(false).CronSchedule("* * * * *")),
			"Cron jobs may only be created/updated by calling scheduleCronJob."},
		{"tier characters", false, create(newJob("v", 1).Tier("a tier")), "Tier contains illegal characters: a tier"},
		{"unknown tier", false, create(newJob("v", 1).Tier("gold")), "Invalid tier 'gold' in TaskConfig."},
		{"task job key", false, create(with(newJob("v", 1), func(tc *aurora.TaskConfig, _ *aurora.JobConfiguration) {
			tc.Job = &aurora.JobKey{Role: "vagrant", Environment: "prod", Name: "a/b"}
		})), "Job key IJobKey{role=vagrant, environment=prod, name=a/b} is invalid."},
		{"no executor", false, create(with(newJob("v", 1), func(tc *aurora.TaskConfig, _ *aurora.JobConfiguration) { tc.ExecutorConfig = nil })),
			"Configuration may not be null."},
		{"unknown executor", false, create(newJob("v", 1).ExecutorName("idontexist")),
			"Configuration for executor 'idontexist' doesn't exist."},
		{"dedicated not value", false, create(newJob("v", 1).AddLimitConstraint("dedicated", 1)),
			"A dedicated constraint must be of value type."},
		{"dedicated values", false, create(newJob("v", 1).AddValueConstraint("dedicated", false, "vagrant/a", "vagrant/b")),
			"A dedicated constraint must have exactly one value"},
		{"dedicated role", false, create(newJob("v", 1).AddDedicatedConstraint("www-data", "web")),
			"Only www-data may use hosts dedicated for that role."},
		{"docker not allowed", false, create(newJob("v", 1).Container(realis.NewDockerContainer().Image("nginx"))),
			"This scheduler is not configured to allow the container type DOCKER"},
		{"docker image", true, create(newJob("v", 1).Container(realis.NewDockerContainer())),
			"A container must specify an image."},
		{"docker parameters", true, create(newJob("v", 1).Container(realis.NewDockerContainer().Image("nginx").AddParameter("net", "host"))),
			"This scheduler is configured to disallow Docker parameters."},
		{"docker executor", true, create(with(newJob("v", 1).Container(realis.NewDockerContainer().Image("nginx")),
			func(tc *aurora.TaskConfig, _ *aurora.JobConfiguration) { tc.ExecutorConfig = nil })),
			"This scheduler is configured to require an executor for Docker-based tasks."},
		{"multiple resources", false, create(with(newJob("v", 1), func(tc *aurora.TaskConfig, _ *aurora.JobConfiguration) {
			tc.Resources = append(tc.Resources, &aurora.Resource{RamMb: ptr(int64(1))}, &aurora.Resource{NumCpus: ptr(2.0)})
		})), "Multiple resource values are not supported for CPU, RAM"},
		{"cpu", false, create(newJob("v", 1).CPU(0)), "num_cpus must be greater than 0.0"},
		{"ram", false, create(newJob("v", 1).RAM(0)), "ram_mb must be greater than 0.0"},
		{"disk", false, create(newJob("v", 1).Disk(0)), "disk_mb must be greater than 0.0"},
		{"gpu", false, create(newJob("v", 1).GPU(1)), "GPU resource support is disabled in this cluster."},
		{"fetcher", false, create(newJob("v", 1).AddURIs(false, false, "http://example.com/x.tgz")),
			"Mesos Fetcher for individual jobs is disabled in this cluster."},
		{"volumes", false, create(with(newJob("v", 1), func(tc *aurora.TaskConfig, _ *aurora.JobConfiguration) {
			tc.Container.Mesos.Volumes = []*aurora.Volume{{ContainerPath: "/data", HostPath: "/srv", Mode: aurora.Mode_RO}}
		})), "This scheduler is configured to disallow container volumes."},
		{"sla tier", false, create(newJob("v", 1).SlaPolicy(&aurora.SlaPolicy{CountSlaPolicy: &aurora.CountSlaPolicy{Count: 1}})),
			"Tier 'preemptible' does not support SlaPolicy."},
		{"sla instances", false, create(newJob("v", 2).Tier("preferred").SlaPolicy(&aurora.SlaPolicy{CountSlaPolicy: &aurora.CountSlaPolicy{Count: 1}})),
			"Job with fewer than 20 instances cannot have Percentage/Count SlaPolicy."},
		{"sla count", false, create(newJob("v", 20).Tier("preferred").SlaPolicy(&aurora.SlaPolicy{CountSlaPolicy: &aurora.CountSlaPolicy{Count: 20}})),
			"Current CountSlaPolicy: count=20 will not allow any instances to be killed. Must be less than instanceCount=20."},
		{"too many instances", false, create(newJob("v", 4001)), "Instance count must be between 1 and 4000 inclusive."},
		{"task id length", false, create(newJob(strings.Repeat("n", 130), 1)), "Task ID is too long, please shorten your role or job name."},

		{"group sizes", false, update(defaultUpdate(newJob("u", 3)).VariableBatchStrategy(aurora.VariableBatchJobUpdateStrategy{GroupSizes: []int32{1, 0}})),
			"All update group sizes must be positive."},
		{"no instance modified", false, update(defaultUpdate(newJob("u", 3)).BatchSize(0)),
			"Update results in no instance being modified."},
		{"per-instance failures", false, update(defaultUpdate(newJob("u", 3)).MaxPerInstanceFailures(-1)),
			"maxPerInstanceFailures must be non-negative."},
		{"failed instances", false, update(defaultUpdate(newJob("u", 3)).MaxFailedInstances(-1)),
			"maxFailedInstances must be non-negative."},
		{"too many failures", false, update(defaultUpdate(newJob("u", 3)).MaxPerInstanceFailures(10000)),
			"Your update allows too many failures to occur, consider decreasing the per-instance failures or maxFailedInstances."},
		{"min wait", false, update(defaultUpdate(newJob("u", 3)).WatchTime(-1)),
			"minWaitInInstanceRunningMs must be non-negative."},
		{"pulses", false, func(r realis.Realis) error {
			s := realis.NewUpdateSettings()
			s.BlockIfNoPulsesAfterMs = ptr(int32(-1))
			_, err := r.StartJobUpdate(realis.NewUpdateJob(newJob("u", 3).TaskConfig(), s).InstanceCount(3), "")
			return err
		}, "blockIfNoPulsesAfterMs must be positive."},
		{"sla aware", false, func(r realis.Realis) error {
			s := realis.NewUpdateSettings()
			s.SlaAware = ptr(true)
			_, err := r.StartJobUpdate(realis.NewUpdateJob(newJob("u", 3).TaskConfig(), s).InstanceCount(3), "")
			return err
		}, "slaAware is true, but no task slaPolicy is specified."},
		{"update validates config", false, update(defaultUpdate(newJob("u", 3).CPU(0))), "num_cpus must be greater than 0.0"},
		{"out of scope", false, func(r realis.Realis) error {
			s := realis.NewUpdateSettings()
			s.UpdateOnlyTheseInstances = []*aurora.Range{{First: 5, Last: 6}}
			_, err := r.StartJobUpdate(realis.NewUpdateJob(newJob("u", 3).TaskConfig(), s).InstanceCount(3), "")
			return err
		}, "The update request attempted to update specific instances, but some are irrelevant to the update and current job state: [5, 6]"},
		{"add instances count", false, func(r realis.Realis) error {
			_, err := r.AddInstances(aurora.InstanceKey{JobKey: key("v"), InstanceId: 0}, 0)
			return err
		}, "Instance count must be positive."},
		{"add instances missing", false, func(r realis.Realis) error {
			_, err := r.AddInstances(aurora.InstanceKey{JobKey: key("v"), InstanceId: 0}, 1)
			return err
		}, "No active task found for a given instance ID."},
		{"restart inactive", false, func(r realis.Realis) error {
			_, err := r.RestartInstances(key("v"), 0)
			return err
		}, "Not all requested shards are active."},
		{"restart blank", false, func(r realis.Realis) error {
			_, err := r.RestartInstances(key("v"))
			return err
		}, "Argument cannot be blank"},
		{"no cron schedule", false, func(r realis.Realis) error {
			_, err := r.ScheduleCronJob(newJob("v", 1).IsService(false))
			return err
		}, "Job vagrant/prod/v has no cron schedule"},
		{"run overlap", false, func(r realis.Realis) error {
			_, err := r.ScheduleCronJob(newJob("v", 1).IsService(false).CronSchedule("* * * * *").
				CronCollisionPolicy(aurora.CronCollisionPolicy_RUN_OVERLAP))
			return err
		}, "The RUN_OVERLAP collision policy has been removed (AURORA-38)."},
		{"pause missing update", false, func(r realis.Realis) error {
			_, err := r.PauseJobUpdate(&aurora.JobUpdateKey{Job: key("v"), ID: "x"}, "")
			return err
		}, "Update does not exist IJobUpdateKey{job=IJobKey{role=vagrant, environment=prod, name=v}, id=x}"},
		{"start missing cron", false, func(r realis.Realis) error {
			_, err := r.StartCronJob(key("v"))
			return err
		}, "Failed to start cron job - No cron job found for vagrant/prod/v."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := r
			if tt.docker {
				c = rd
			}
			err := tt.call(c)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	assert.Empty(t, srv.Jobs(), "nothing was created")
}

func TestQuotaIsReported(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	r := client(t, srv)
	_, err := r.SetQuota(role, ptr(4.0), ptr(int64(1024)), ptr(int64(4096)))
	require.NoError(t, err)
	_, err = r.CreateJob(newJob("web", 2).Tier("preferred"))
	require.NoError(t, err)
	resp, err := r.GetQuota(role)
	require.NoError(t, err)
	q := resp.Result_.GetQuotaResult_
	amount := func(a *aurora.ResourceAggregate) (cpu float64, ram, disk int64) {
		for _, res := range a.Resources {
			switch {
			case res.NumCpus != nil:
				cpu = *res.NumCpus
			case res.RamMb != nil:
				ram = *res.RamMb
			case res.DiskMb != nil:
				disk = *res.DiskMb
			}
		}
		return
	}
	cpu, ram, disk := amount(q.Quota)
	assert.Equal(t, []any{4.0, int64(1024), int64(4096)}, []any{cpu, ram, disk})
	cpu, ram, disk = amount(q.ProdSharedConsumption)
	assert.Equal(t, []any{0.5, int64(128), int64(200)}, []any{cpu, ram, disk}, "two production instances")
	cpu, _, _ = amount(q.NonProdSharedConsumption)
	assert.Zero(t, cpu)
}

func TestPopulateAndTiers(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	r := client(t, srv)
	_, err := r.SetQuota(role, ptr(4.0), ptr(int64(1024)), ptr(int64(4096)))
	require.NoError(t, err)
	_, err = r.CreateJob(newJob("prod", 1).Tier("preferred").AddNamedPorts("health"))
	require.NoError(t, err)
	cfg, err := r.FetchTaskConfig(aurora.InstanceKey{JobKey: key("prod"), InstanceId: 0})
	require.NoError(t, err)
	assert.True(t, cfg.GetProduction(), "production follows the preferred tier")
	assert.Equal(t, map[string]string{"health": "http://%host%:%port:health%"}, cfg.TaskLinks)

	_, jobs, err := r.GetJobs(role)
	require.NoError(t, err)
	require.Len(t, jobs.Configs, 1)
	assert.Equal(t, int32(1), jobs.Configs[0].InstanceCount)
	assert.Equal(t, "prod", jobs.Configs[0].Key.Name)
}
