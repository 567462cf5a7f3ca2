package nixrealis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
	pkgerrors "github.com/pkg/errors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/sandbox"
)

func TestTranslate(t *testing.T) {
	resp := func(code aurora.ResponseCode, msg string) *aurora.Response {
		return &aurora.Response{ResponseCode: code, Details: []*aurora.ResponseDetail{{Message: msg}}}
	}
	tests := []struct {
		name string
		resp *aurora.Response
		err  error
		kind error
		msg  string
	}{
		{"ok", resp(aurora.ResponseCode_OK, ""), nil, nil, ""},
		{"invalid", resp(aurora.ResponseCode_INVALID_REQUEST, "Instance count must be positive."), errors.New("Instance count must be positive."), ErrRejected, "Instance count must be positive."},
		{"already exists", resp(aurora.ResponseCode_INVALID_REQUEST, "Job r/e/n already exists"), errors.New("Job r/e/n already exists"), ErrAlreadyExists, "Job r/e/n already exists"},
		{"already exists, response dropped", nil, pkgerrors.Wrap(errors.New("Job r/e/n already exists"), "error sending Create command to Aurora Scheduler"), ErrAlreadyExists, "Job r/e/n already exists"},
		{"active update", resp(aurora.ResponseCode_INVALID_REQUEST, "An active update already exists for this job, please terminate it before starting another."), errors.New("x"), ErrUpdateInProgress, "An active update already exists for this job, please terminate it before starting another."},
		{"updating", resp(aurora.ResponseCode_JOB_UPDATING_ERROR, "update in progress"), errors.New("x"), ErrUpdateInProgress, "update in progress"},
		{"auth", resp(aurora.ResponseCode_AUTH_FAILED, ""), errors.New(""), ErrAuth, ""},
		{"error", resp(aurora.ResponseCode_ERROR, "boom"), errors.New("boom"), ErrScheduler, "boom"},
		{"no update", resp(aurora.ResponseCode_INVALID_REQUEST, "No update found"), errors.New("x"), ErrNotFound, "No update found"},
		{"refused, response dropped", nil, pkgerrors.Wrap(errors.New("Update does not exist IJobUpdateKey{...}"), "error sending PauseJobUpdate command"), ErrNotFound, "Update does not exist IJobUpdateKey{...}"},
		{"not found, response dropped", nil, pkgerrors.Wrap(errors.New("Job not found"), "error"), ErrNotFound, "Job not found"},
		{"rejected, response dropped", nil, pkgerrors.Wrap(errors.New("Role must match"), "error"), ErrRejected, "Role must match"},
		{"http 401", nil, pkgerrors.Wrap(pkgerrors.Wrap(errors.New("HTTP Response code: 401"), "permanent connection error"), "error sending Kill command to Aurora Scheduler"), ErrAuth, "the scheduler answered HTTP 401 Unauthorized"},
		{"refused connection", nil, pkgerrors.Wrap(pkgerrors.Wrap(errors.New(`Post "http://127.0.0.1:1/api": dial tcp 127.0.0.1:1: connect: connection refused`), "permanent connection error"), "error getting task status"), ErrUnreachable, ""},
		{"http 503", nil, pkgerrors.Wrap(pkgerrors.Wrap(errors.New("HTTP Response code: 503"), "permanent connection error"), "error sending Kill command to Aurora Scheduler"), ErrUnreachable, ""},
		{"http 401 after retries", nil, pkgerrors.Wrap(errors.New("ran out of retries, including latest error: HTTP Response code: 401"), "error sending Kill command to Aurora Scheduler"), ErrAuth, "the scheduler answered HTTP 401 Unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := translate("create", "r/e/n", tt.resp, tt.err)
			if tt.kind == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.kind)
			var oe *OpError
			if assert.ErrorAs(t, err, &oe) {
				assert.Equal(t, tt.msg, oe.Message)
				assert.Equal(t, "create", oe.Op)
			}
			if tt.err != nil {
				assert.ErrorIs(t, err, tt.err, "the cause stays reachable")
			}
		})
	}
	d, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	<-d.Done()
	err := ctxErr("kill", "r/e/n", d)
	assert.ErrorIs(t, err, ErrTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, "nixrealis: kill r/e/n: timed out: the caller's deadline passed", err.Error())

	err = nixErr("create", "r/e/n", fmt.Errorf("nix build: %w", errors.New("builder failed")))
	assert.ErrorIs(t, err, ErrNixFailed)
	assert.Contains(t, err.Error(), "builder failed")
	err = nixErr("create", "r/e/n", fmt.Errorf("sandbox: naming the sandbox after the job key: %w", sandbox.ErrInvalid))
	assert.ErrorIs(t, err, ErrInvalidJob, "bad input found before Nix ran is not a Nix failure")
	assert.False(t, errors.Is(err, ErrNixFailed))
	err = nixErr("create", "r/e/n", fmt.Errorf("nix build: %w", context.Canceled))
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, errors.Is(err, ErrNixFailed))
}

// renderedTask builds a job and renders its TaskConfig.
func renderedTask(t *testing.T, j job.Job) *aurora.TaskConfig {
	t.Helper()
	spec, err := j.Build()
	require.NoError(t, err)
	rj, err := RenderJob(spec, "owner")
	require.NoError(t, err)
	return rj.TaskConfig()
}

func TestDiffConfigs(t *testing.T) {
	key := job.Key{Cluster: "c", Role: "r", Environment: "prod", Name: "hello"}
	base := func(cmdline string) job.Job {
		return job.New(key, job.NewTask("hello", job.NewProcess("main", cmdline)).
			WithResources(job.NewResources(0.5, 16*job.MiB, 32*job.MiB)))
	}
	tests := []struct {
		name    string
		running job.Job
		job     job.Job
		changes []Change
		unified []string // lines the unified diff must hold
	}{
		{"same", base("echo v1"), base("echo v1"), nil, nil},
		{
			"cmdline", base("echo v1"), base("echo v2"),
			[]Change{{Path: "executorConfig.data.task.processes[0].cmdline", Old: "echo v1", New: "echo v2"}},
			[]string{"--- running", "+++ job", `-            "cmdline": "echo v1",`, `+            "cmdline": "echo v2",`},
		},
		{
			"cpu", base("x"), base("x").WithTask(job.NewTask("hello", job.NewProcess("main", "x")).
				WithResources(job.NewResources(1, 16*job.MiB, 32*job.MiB))),
			[]Change{
				{Path: "executorConfig.data.task.resources.cpu", Old: json.Number("0.5"), New: json.Number("1.0")},
				{Path: "resources[1].numCpus", Old: json.Number("0.5"), New: json.Number("1.0")},
			},
			[]string{`-      "numCpus": 0.5`, `+      "numCpus": 1.0`},
		},
		{
			"process added", base("x"), base("x").WithTask(job.NewTask("hello", job.NewProcess("main", "x"), job.NewProcess("side", "y")).
				WithResources(job.NewResources(0.5, 16*job.MiB, 32*job.MiB))),
			nil, // checked below: the new process appears whole, Old absent
			[]string{`+            "name": "side"`},
		},
		{
			"constraint added", base("x"), base("x").WithConstraint("host", "limit:1"),
			[]Change{
				{Path: "constraints[0]", Old: nil, New: map[string]any{"name": "host", "constraint": map[string]any{"limit": map[string]any{"limit": json.Number("1")}}}},
				{Path: "executorConfig.data.constraints", Old: nil, New: map[string]any{"host": "limit:1"}},
			},
			nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := normalizeConfig(renderedTask(t, tt.running))
			want := normalizeConfig(renderedTask(t, tt.job))
			cd := diffConfigs(got, want)
			if tt.name == "same" {
				assert.Empty(t, cd.Changes)
				assert.Empty(t, cd.Unified)
				assert.Empty(t, diffTaskConfigs(renderedTask(t, tt.job), renderedTask(t, tt.running)))
				return
			}
			if tt.changes != nil {
				assert.Equal(t, tt.changes, cd.Changes)
			} else {
				require.NotEmpty(t, cd.Changes)
				for _, c := range cd.Changes {
					assert.Nil(t, c.Old, "%s: only added values", c)
					assert.True(t, strings.HasPrefix(c.Path, "executorConfig.data.task.processes[1]"), c.Path)
				}
			}
			ls := strings.Split(cd.Unified, "\n")
			for _, l := range tt.unified {
				assert.Contains(t, ls, l, cd.Unified)
			}
			assert.Equal(t, cd.Unified, diffTaskConfigs(renderedTask(t, tt.job), renderedTask(t, tt.running)))
			for _, l := range ls {
				if l != "" && !strings.HasPrefix(l, "@@ ") && !strings.HasPrefix(l, "--- ") && !strings.HasPrefix(l, "+++ ") {
					assert.Contains(t, " -+", l[:1], "a unified diff line: %q", l)
				}
			}
		})
	}
}

func TestUnifiedDiff(t *testing.T) {
	a := "{\n  a: 1,\n  b: 2,\n  c: 3,\n  d: 4,\n  e: 5\n}\n"
	b := "{\n  a: 1,\n  b: 2,\n  c: 30,\n  d: 4,\n  e: 5,\n  f: 6\n}\n"
	assert.Equal(t, "--- running\n+++ job\n@@ -2,6 +2,7 @@\n   a: 1,\n   b: 2,\n-  c: 3,\n+  c: 30,\n   d: 4,\n-  e: 5\n+  e: 5,\n+  f: 6\n }\n", unifiedDiff(a, b))
	assert.Equal(t, "", unifiedDiff(a, a))
	assert.Equal(t, "--- running\n+++ job\n@@ -1 +1 @@\n-x\n+y\n", unifiedDiff("x", "y"), "a last line without newline")
}

func TestChangeString(t *testing.T) {
	assert.Equal(t, `a.b[0]: "x" -> (absent)`, Change{Path: "a.b[0]", Old: "x"}.String())
	assert.Equal(t, `n: 1 -> 2.0`, Change{Path: "n", Old: json.Number("1"), New: json.Number("2.0")}.String())
	var out []Change
	diffValues(&out, "", map[string]any{"a.b": "x", "k": []any{"1"}}, map[string]any{"a.b": "y", "k": []any{"1", "2"}})
	assert.Equal(t, []Change{{Path: `["a.b"]`, Old: "x", New: "y"}, {Path: "k[1]", New: "2"}}, out)
}

func TestInstanceRanges(t *testing.T) {
	assert.Equal(t, "0-2,5,7-8", instanceRanges([]int32{0, 1, 2, 5, 7, 8}))
	assert.Equal(t, "3", instanceRanges([]int32{3}))
	assert.Equal(t, "", instanceRanges(nil))
}

func TestFloorDiv(t *testing.T) {
	assert.Equal(t, int64(953), floorDiv(1000000000, mib))
	assert.Equal(t, int64(0), floorDiv(512*1024, mib))
	assert.Equal(t, int64(-1), floorDiv(-1, mib))
}

func TestJobConfigJSONRefusesIncomplete(t *testing.T) {
	for _, jc := range []*aurora.JobConfiguration{nil, {}, {Key: &aurora.JobKey{}}} {
		_, err := JobConfigJSON(jc)
		assert.ErrorContains(t, err, "no key or no TaskConfig")
	}
}

// TestClassifyAuroraMessages: Aurora's own answers (SchedulerThriftInterface,
// JobUpdateControllerImpl, CronJobManagerImpl) get their kind whether the
// response reached the Client or gorealis kept only the message.
func TestClassifyAuroraMessages(t *testing.T) {
	const ir = aurora.ResponseCode_INVALID_REQUEST
	tests := []struct {
		code aurora.ResponseCode
		msg  string
		kind error
	}{
		{ir, "Job r/prod/hello already exists", ErrAlreadyExists},
		{ir, "Job already exists for r/prod/hello.", ErrAlreadyExists},
		{ir, "Job not found", ErrNotFound},
		{ir, "Update does not exist: IJobUpdateKey{job=IJobKey{role=r, environment=prod, name=hello}, id=u1}", ErrNotFound},
		{ir, "Update does not exist IJobUpdateKey{job=IJobKey{role=r, environment=prod, name=hello}, id=u1}", ErrNotFound},
		{ir, "Failed to start cron job - No cron job found for r/prod/hello.", ErrNotFound},
		{ir, "No active task found for a given instance ID.", ErrNotFound},
		{ir, "An active update already exists for this job, please terminate it before starting another. Active updates are those in states [ROLLING_FORWARD, ROLLING_BACK, ROLL_FORWARD_PAUSED, ROLL_BACK_PAUSED, ROLL_FORWARD_AWAITING_PULSE, ROLL_BACK_AWAITING_PULSE]", ErrUpdateInProgress},
		{aurora.ResponseCode_JOB_UPDATING_ERROR, "Job is currently updating", ErrUpdateInProgress},
		{ir, "Instance count must be between 1 and 4000 inclusive.", ErrRejected},
		{ir, "Cron jobs may only be created/updated by calling scheduleCronJob.", ErrRejected},
		{ir, "Cannot transition update from ROLLED_FORWARD to null", ErrRejected},
		{ir, "Insufficient resource quota: CPU quota exceeded by 1.00 core(s)", ErrRejected},
		{aurora.ResponseCode_ERROR, "Argument cannot be blank", ErrScheduler},
		{aurora.ResponseCode_ERROR, "", ErrScheduler},
		{aurora.ResponseCode_AUTH_FAILED, "", ErrAuth},
		{aurora.ResponseCode_WARNING, "x", ErrScheduler},
	}
	for _, tt := range tests {
		t.Run(tt.code.String()+" "+tt.msg, func(t *testing.T) {
			assert.Equal(t, tt.kind, classify(tt.code, tt.msg))
			resp := &aurora.Response{ResponseCode: tt.code, Details: []*aurora.ResponseDetail{{Message: tt.msg}}}
			err := translate("create", "r/prod/hello", resp, errors.New(tt.msg))
			assert.ErrorIs(t, err, tt.kind)
			if tt.code == ir || tt.code == aurora.ResponseCode_JOB_UPDATING_ERROR {
				// gorealis dropped the response: the message alone decides.
				dropped := translate("create", "r/prod/hello", nil, pkgerrors.Wrap(errors.New(tt.msg), "error sending command to Aurora Scheduler"))
				want := tt.kind
				if tt.code == aurora.ResponseCode_JOB_UPDATING_ERROR {
					want = ErrUpdateInProgress // by its message
				}
				assert.ErrorIs(t, dropped, want)
			}
		})
	}
	assert.Nil(t, classify(aurora.ResponseCode_OK, "Job is unchanged by proposed update."))
}
