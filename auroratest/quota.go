package auroratest

import (
	"context"
	"fmt"
	"strings"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// Quota follows Aurora's QuotaManagerImpl: only production tasks not on
// dedicated hosts count against a role's quota (prod shared
// consumption), and createJob, addInstances, startJobUpdate and
// scheduleCronJob of such tasks are refused when the role's prod shared
// consumption would exceed its quota.

// quotaTypes are the resources a quota covers, in Aurora's order.
var quotaTypes = []resourceType{resourceTypes[0], resourceTypes[1], resourceTypes[2], resourceTypes[4]}

// quotaChecked is the complement of Aurora's NO_QUOTA_CHECK: production
// and not dedicated.
func quotaChecked(tc *aurora.TaskConfig) bool {
	return tc.GetProduction() && !isDedicated(tc)
}

func scaled(r resources, n int) resources {
	f := float64(n)
	return resources{cpus: r.cpus * f, ram: r.ram * f, disk: r.disk * f, gpus: r.gpus * f}
}

func maxResources(a, b resources) resources {
	return resources{cpus: max(a.cpus, b.cpus), ram: max(a.ram, b.ram), disk: max(a.disk, b.disk), gpus: max(a.gpus, b.gpus)}
}

// prodShared is the role's prod shared consumption, leaving out job skip:
// its active tasks, and for cron jobs the larger of the template and the
// active tasks.
func (st *state) prodShared(role string, skip jobKey) resources {
	var total resources
	for job, tasks := range st.byJob {
		if job.role != role || job == skip {
			continue
		}
		var sum resources
		for _, t := range tasks {
			if activeStates[t.status] && quotaChecked(t.cfg.tc) {
				sum = sum.add(taskResources(t.cfg.tc))
			}
		}
		if c := st.cron[job]; c != nil && quotaChecked(c.TaskConfig) {
			sum = maxResources(sum, scaled(taskResources(c.TaskConfig), int(c.InstanceCount)))
		}
		total = total.add(sum)
	}
	for job, c := range st.cron {
		if job.role == role && job != skip && st.byJob[job] == nil && quotaChecked(c.TaskConfig) {
			total = total.add(scaled(taskResources(c.TaskConfig), int(c.InstanceCount)))
		}
	}
	return total
}

// checkQuota is QuotaCheckResult.greaterOrEqual(quota, requested): an
// invalid error with Aurora's message when requested exceeds the role's
// quota.
func (st *state) checkQuota(role string, requested resources) error {
	var quota resources
	if q := st.quotas[role]; q != nil {
		quota = sumResources(q.Resources) // ports are not among quotaTypes
	}
	var details []string
	for _, rt := range quotaTypes {
		if over := rt.get(requested) - rt.get(quota); over > 0 {
			details = append(details, fmt.Sprintf("%s quota exceeded by %.2f %s", rt.name, over, rt.unit))
		}
	}
	if len(details) > 0 {
		return invalid("Insufficient resource quota: " + strings.Join(details, "; "))
	}
	return nil
}

// checkInstanceAddition is QuotaManager.checkInstanceAddition.
func (st *state) checkInstanceAddition(tc *aurora.TaskConfig, n int) error {
	if !quotaChecked(tc) {
		return nil
	}
	role := tc.GetJob().GetRole()
	return st.checkQuota(role, st.prodShared(role, jobKey{}).add(scaled(taskResources(tc), n)))
}

// checkJobUpdate is QuotaManager.checkJobUpdate: the job counts, for each
// instance, the larger of its current and its desired config.
func (st *state) checkJobUpdate(job jobKey, want *aurora.TaskConfig, count int32) error {
	if !quotaChecked(want) {
		return nil
	}
	cur := map[int32]resources{}
	for _, t := range st.activeTasks(job) {
		if quotaChecked(t.cfg.tc) {
			cur[t.instance] = taskResources(t.cfg.tc)
		}
	}
	total := st.prodShared(job.role, job)
	w := taskResources(want)
	w.ports = 0
	for i := range count {
		total = total.add(maxResources(cur[i], w))
		delete(cur, i)
	}
	for _, r := range cur {
		total = total.add(r)
	}
	return st.checkQuota(job.role, total)
}

// checkCronUpdate is QuotaManager.checkCronUpdate.
func (st *state) checkCronUpdate(job *aurora.JobConfiguration) error {
	if !job.TaskConfig.GetProduction() {
		return nil
	}
	key := keyOf(job.Key)
	return st.checkQuota(key.role, st.prodShared(key.role, key).add(scaled(taskResources(job.TaskConfig), int(job.InstanceCount))))
}

// SetQuota implements setQuota: the quota is stored, reported by getQuota
// and enforced on production jobs (quota.go).
func (a *api) SetQuota(ctx context.Context, ownerRole string, quota *aurora.ResourceAggregate) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if !isGoodIdentifier(ownerRole) {
		return a.invalid("Invalid role: " + ownerRole), nil
	}
	if quota == nil {
		return a.respond(aurora.ResponseCode_ERROR, ""), nil
	}
	st.quotas[ownerRole] = clone(quota)
	return a.ok(nil), nil
}

// GetQuota implements getQuota: the role's quota (empty when never set)
// and the resources its active tasks consume, split as Aurora splits them
// into production and non-production, shared and dedicated.
func (a *api) GetQuota(ctx context.Context, ownerRole string) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	quota := st.quotas[ownerRole]
	if quota == nil {
		quota = aggregate(0, 0, 0)
	}
	var use [4]struct {
		cpu       float64
		ram, disk int64
	}
	for _, t := range st.tasks {
		if t.job.role != ownerRole || !activeStates[t.status] {
			continue
		}
		i := 0
		if !t.cfg.tc.GetProduction() {
			i = 1
		}
		for _, c := range t.cfg.tc.Constraints {
			if c != nil && c.Name == "dedicated" {
				i += 2
				break
			}
		}
		for _, res := range t.cfg.tc.Resources {
			switch {
			case res.NumCpus != nil:
				use[i].cpu += *res.NumCpus
			case res.RamMb != nil:
				use[i].ram += *res.RamMb
			case res.DiskMb != nil:
				use[i].disk += *res.DiskMb
			}
		}
	}
	agg := func(i int) *aurora.ResourceAggregate { return aggregate(use[i].cpu, use[i].ram, use[i].disk) }
	return a.ok(&aurora.Result_{GetQuotaResult_: &aurora.GetQuotaResult_{
		Quota:                       clone(quota),
		ProdSharedConsumption:       agg(0),
		NonProdSharedConsumption:    agg(1),
		ProdDedicatedConsumption:    agg(2),
		NonProdDedicatedConsumption: agg(3),
	}}), nil
}

func aggregate(cpu float64, ram, disk int64) *aurora.ResourceAggregate {
	return &aurora.ResourceAggregate{Resources: []*aurora.Resource{{NumCpus: &cpu}, {RamMb: &ram}, {DiskMb: &disk}}}
}
