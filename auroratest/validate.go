package auroratest

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// invalid is a TaskDescriptionException: its text is the INVALID_REQUEST
// message.
type invalid string

func (e invalid) Error() string { return string(e) }

func invalidf(format string, args ...any) error { return invalid(fmt.Sprintf(format, args...)) }

var goodIdentifier = regexp.MustCompile(aurora.GOOD_IDENTIFIER_PATTERN)

const maxIdentifierLength = 255

func isGoodIdentifier(s string) bool {
	return goodIdentifier.MatchString(s) && len(s) <= maxIdentifierLength
}

func validKey(k *aurora.JobKey) bool {
	return k != nil && isGoodIdentifier(k.Role) && isGoodIdentifier(k.Environment) && isGoodIdentifier(k.Name)
}

// javaKey is how Aurora prints a (possibly null) IJobKey.
func javaKey(k *aurora.JobKey) string {
	if k == nil {
		return "null"
	}
	return keyOf(k).javaString()
}

// validateJob is ConfigurationManager.validateAndPopulate(IJobConfiguration):
// it returns a populated deep copy of job, or an invalid error carrying
// Aurora's message.
func (s *Server) validateJob(job *aurora.JobConfiguration) (*aurora.JobConfiguration, error) {
	if job == nil || job.TaskConfig == nil {
		return nil, invalid("Job configuration must have taskConfig set.")
	}
	if job.InstanceCount <= 0 {
		return nil, invalid("Instance count must be positive.")
	}
	if !validKey(job.Key) {
		return nil, invalidf("Job key %s is invalid.", javaKey(job.Key))
	}
	if !s.AllowedEnvironments.MatchString(job.Key.Environment) {
		return nil, invalidf("Job environment %s doesn't match: %s", job.Key.Environment, s.AllowedEnvironments.String())
	}
	if job.Owner != nil && !isGoodIdentifier(job.Owner.User) {
		return nil, invalidf("Job user contains illegal characters: %s", job.Owner.User)
	}
	tc, err := s.validateTask(job.TaskConfig, job.InstanceCount)
	if err != nil {
		return nil, err
	}
	out := clone(job)
	out.TaskConfig = tc
	if job.CronSchedule != nil && *job.CronSchedule != "" && tc.IsService {
		return nil, invalidf("A service task may not be run on a cron schedule: %s", jobString(out))
	}
	return out, nil
}

// jobString approximates the Java toString of a JobConfiguration.
func jobString(j *aurora.JobConfiguration) string {
	return fmt.Sprintf("JobConfiguration(key:%s, instanceCount:%d, cronSchedule:%s)", javaKey(j.Key), j.InstanceCount, j.GetCronSchedule())
}

// resourceName is Aurora's ResourceType.getAuroraName for a Resource, and
// whether the type allows several values.
func resourceName(r *aurora.Resource) (string, bool) {
	switch {
	case r.NumCpus != nil:
		return "CPU", false
	case r.RamMb != nil:
		return "RAM", false
	case r.DiskMb != nil:
		return "DISK", false
	case r.NumGpus != nil:
		return "GPU", false
	case r.NamedPort != nil:
		return "PORTS", true
	}
	return "", true
}

// validateTask is ConfigurationManager.validateAndPopulate(ITaskConfig):
// checks in Aurora's order with Aurora's messages, then the populated
// fields Aurora adds: tier, production, the default container and
// taskLinks.
func (s *Server) validateTask(in *aurora.TaskConfig, instanceCount int32) (*aurora.TaskConfig, error) {
	tc := clone(in)
	if tc.Tier != nil && !isGoodIdentifier(*tc.Tier) {
		return nil, invalidf("Tier contains illegal characters: %s", *tc.Tier)
	}
	if tc.Tier == nil {
		def := s.DefaultTier
		tc.Tier = &def
	}
	tier, ok := s.Tiers[*tc.Tier]
	if !ok {
		return nil, invalidf("Invalid tier '%s' in TaskConfig.", *tc.Tier)
	}
	production := !tier.Preemptible && !tier.Revocable
	tc.Production = &production

	if !validKey(tc.Job) {
		return nil, invalidf("Job key %s is invalid.", javaKey(tc.Job))
	}
	if tc.ExecutorConfig == nil && (tc.Container == nil || tc.Container.Docker == nil) {
		return nil, invalid("Configuration may not be null.")
	}
	if tc.ExecutorConfig != nil && !s.knowsExecutor(tc.ExecutorConfig.Name) {
		return nil, invalidf("Configuration for executor '%s' doesn't exist.", tc.ExecutorConfig.Name)
	}
	for _, c := range tc.Constraints {
		if c == nil || c.Name != "dedicated" {
			continue
		}
		if c.Constraint == nil || c.Constraint.Value == nil {
			return nil, invalid("A dedicated constraint must be of value type.")
		}
		if len(c.Constraint.Value.Values) != 1 {
			return nil, invalid("A dedicated constraint must have exactly one value")
		}
		role, _, _ := strings.Cut(c.Constraint.Value.Values[0], "/")
		if role != "*" && role != tc.Job.Role {
			return nil, invalidf("Only %s may use hosts dedicated for that role.", role)
		}
		break
	}
	containerType := "MESOS"
	if tc.Container == nil || (tc.Container.Mesos == nil && tc.Container.Docker == nil) {
		tc.Container = &aurora.Container{Mesos: &aurora.MesosContainer{}}
	}
	if d := tc.Container.Docker; d != nil {
		containerType = "DOCKER"
		if d.Image == "" {
			return nil, invalid("A container must specify an image.")
		}
		if len(d.Parameters) > 0 && !s.AllowDockerParameters {
			return nil, invalid("This scheduler is configured to disallow Docker parameters.")
		}
		if d.Parameters == nil {
			d.Parameters = []*aurora.DockerParameter{}
		}
		if !s.DockerWithoutExecutor && tc.ExecutorConfig == nil {
			return nil, invalid("This scheduler is configured to require an executor for Docker-based tasks.")
		}
	}
	if containerType == "DOCKER" && !s.AllowDocker {
		return nil, invalidf("This scheduler is not configured to allow the container type %s", containerType)
	}

	counts := map[string]int{}
	var cpu float64
	var ram, disk int64
	gpu := false
	for _, r := range tc.Resources {
		if r == nil {
			continue
		}
		name, multi := resourceName(r)
		if name != "" && !multi {
			counts[name]++
		}
		switch {
		case r.NumCpus != nil:
			cpu += *r.NumCpus
		case r.RamMb != nil:
			ram += *r.RamMb
		case r.DiskMb != nil:
			disk += *r.DiskMb
		case r.NumGpus != nil:
			gpu = true
		}
	}
	var multiple []string
	for name, n := range counts {
		if n > 1 {
			multiple = append(multiple, name)
		}
	}
	if len(multiple) > 0 {
		sort.Strings(multiple)
		return nil, invalidf("Multiple resource values are not supported for %s", strings.Join(multiple, ", "))
	}
	if !(cpu > 0) {
		return nil, invalid("num_cpus must be greater than 0.0")
	}
	if !(ram > 0) {
		return nil, invalid("ram_mb must be greater than 0.0")
	}
	if !(disk > 0) {
		return nil, invalid("disk_mb must be greater than 0.0")
	}
	if gpu && !s.AllowGPUResource {
		return nil, invalid("GPU resource support is disabled in this cluster.")
	}
	if len(tc.MesosFetcherUris) > 0 && !s.EnableMesosFetcher {
		return nil, invalid("Mesos Fetcher for individual jobs is disabled in this cluster.")
	}
	if m := tc.Container.Mesos; m != nil && len(m.Volumes) > 0 && !s.AllowContainerVolumes {
		return nil, invalid("This scheduler is configured to disallow container volumes.")
	}
	if err := s.validateSLA(tc, production, instanceCount); err != nil {
		return nil, err
	}
	if len(tc.TaskLinks) == 0 {
		links := map[string]string{}
		for _, r := range tc.Resources {
			if r == nil || r.NamedPort == nil {
				continue
			}
			switch *r.NamedPort {
			case "health":
				links["health"] = "http://%host%:%port:health%"
			case "http":
				links["http"] = "http://%host%:%port:http%"
			}
		}
		tc.TaskLinks = links
	}
	return tc, nil
}

const maxSLADurationSecs = 2 * 60 * 60

func (s *Server) validateSLA(tc *aurora.TaskConfig, production bool, instanceCount int32) error {
	p := tc.SlaPolicy
	if p == nil {
		return nil
	}
	if !s.SLAAwareKillNonProd && !production {
		return invalidf("Tier '%s' does not support SlaPolicy.", tc.GetTier())
	}
	if p.CoordinatorSlaPolicy == nil && int(instanceCount) < s.MinRequiredInstancesForSLA {
		return invalidf("Job with fewer than %d instances cannot have Percentage/Count SlaPolicy.", s.MinRequiredInstancesForSLA)
	}
	if c := p.CountSlaPolicy; c != nil {
		if int64(instanceCount)-c.Count < 1 {
			return invalidf("Current CountSlaPolicy: count=%d will not allow any instances to be killed. Must be less than instanceCount=%d.", c.Count, instanceCount)
		}
		if c.DurationSecs > maxSLADurationSecs {
			return invalidf("CountSlaPolicy: durationSecs=%d must be less than cluster-wide maximum of %d secs.", c.DurationSecs, maxSLADurationSecs)
		}
	}
	if c := p.PercentageSlaPolicy; c != nil {
		n := float64(instanceCount)
		if n-n*c.Percentage/100 < 1 {
			return invalidf("Current PercentageSlaPolicy: percentage=%f will not allow any instances to be killed. Must be less than %f.", c.Percentage, (n-1)/n*100)
		}
		if c.DurationSecs > maxSLADurationSecs {
			return invalidf("PercentageSlaPolicy: durationSecs=%d must be less than cluster-wide maximum of %d secs.", c.DurationSecs, maxSLADurationSecs)
		}
	}
	return nil
}

// maxTaskIDLength is Aurora's MAX_TASK_ID_LENGTH (255 - 90): longer task
// ids broke Mesos (MESOS-691).
const maxTaskIDLength = 255 - 90

// validateTaskLimits is Aurora's validateTaskLimits without the quota
// check: the instance count and the length of the task ids it makes.
func (s *Server) validateTaskLimits(job jobKey, count int) error {
	if count <= 0 || count > s.MaxTasksPerJob {
		return invalidf("Instance count must be between 1 and %d inclusive.", s.MaxTasksPerJob)
	}
	// role-env-name-instance-uuid, as insertTask makes them.
	if n := len(fmt.Sprintf("%s-%s-%s-%d-", job.role, job.env, job.name, count)) + 36; n > maxTaskIDLength {
		return invalid("Task ID is too long, please shorten your role or job name.")
	}
	return nil
}
