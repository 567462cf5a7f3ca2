package auroraconfig_test

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroraconfig"
	"github.com/nixrealis/nixrealis/job"
)

// goldenErrors says, for every error case of the oracle, what the loader
// must reject the file for: the same problem as Aurora's client, in its
// words where the loader has them (aurora: the message must contain the
// oracle's loader message), at the place Aurora names (a syntax error's
// line).
var goldenErrors = map[string]struct {
	want   string // in the error message
	aurora bool   // the oracle's message itself is in the error
	is     error  // errors.Is target
	line   int    // the Python client's line (syntax errors)
	col    bool   // the error names a line and column
}{
	"err_bad_port_reference":        {want: "write {{thermos.ports[http]}}", is: job.ErrInvalid, col: true},
	"err_depends_on_daemon":         {want: "process b may not depend upon daemon process a", is: job.ErrInvalidPlan, col: true},
	"err_invalid_process_name":      {want: `invalid process name "bin/run"`, is: job.ErrInvalid, col: true},
	"err_invalid_role":              {want: `invalid role "www data"`, is: job.ErrInvalid, col: true},
	"err_missing_cluster":           {want: "Could not find job devcluster/www-data/devel/nocluster", is: auroraconfig.ErrNoJob},
	"err_mustache_escape":           {aurora: true, is: job.ErrUnbound, col: true},
	"err_no_resources":              {want: "must specify resources", is: job.ErrRequired, col: true},
	"err_order_cycle":               {want: "cycles detected in the task schedule", is: job.ErrInvalidPlan, col: true},
	"err_ram_below_1mb":             {want: "is 0 MiB", is: job.ErrInvalid, col: true},
	"err_static_port_not_dedicated": {want: "must be dedicated in order to specify static ports", is: job.ErrInvalid, col: true},
	"err_unbound_job_variable":      {aurora: true, is: job.ErrUnbound, col: true},
	"err_unbound_task_variable":     {aurora: true, is: job.ErrUnbound, col: true},
	"err_update_max_failures":       {want: "must be less than the 2 instance(s)", is: job.ErrInvalid, col: true},

	"tutorial_example_literal":                         {want: "EOL while scanning string literal", line: 25, col: true},
	"tutorial_example_string_fixed":                    {want: "unexpected indent", line: 32, col: true},
	"tutorial_hello_world_literal":                     {aurora: true, is: auroraconfig.ErrNoJob},
	"tutorial_hello_world_productionized_comma":        {aurora: true, col: true},
	"tutorial_hello_world_productionized_literal":      {want: "invalid syntax", line: 7, col: true},
	"tutorial_hello_world_productionized_naive_rename": {aurora: true, col: true},
	"tutorial_simple_job_literal":                      {aurora: true, is: auroraconfig.ErrNoJob},
	"tutorial_simple_job_no_environment":               {aurora: true, is: auroraconfig.ErrNoJob},
	"tutorial_thermos_profile_literal":                 {want: "invalid syntax", line: 12, col: true},
}

// pythonLine is the "(file, line N)" of a Python SyntaxError.
var pythonLine = regexp.MustCompile(`\(([^,]+), line (\d+)\)$`)

// TestGoldenErrors loads every error case of the oracle and expects it to
// be rejected for the same problem (loading, picking the job, or building
// it), with the error placed in the file.
func TestGoldenErrors(t *testing.T) {
	n := 0
	for _, c := range goldenCases(t) {
		if c.success {
			continue
		}
		n++
		t.Run(c.name, func(t *testing.T) {
			exp, ok := goldenErrors[c.name]
			require.True(t, ok, "no expectation for this error case of the oracle")
			aurora := c.meta.Errors.Loader.Message
			l := auroraconfig.Loader{LookupEnv: oracleEnv}
			var err error
			cfg, err := l.Load(c.file)
			if err == nil {
				_, err = cfg.Build(c.key(t), c.meta.Bindings...)
			}
			require.Error(t, err, "Aurora's client: %s", aurora)
			msg := err.Error()
			if exp.aurora {
				assert.Contains(t, msg, aurora)
			} else {
				assert.Contains(t, msg, exp.want, "Aurora's client: %s", aurora)
			}
			if exp.is != nil {
				assert.ErrorIs(t, err, exp.is)
			}
			var e *auroraconfig.Error
			require.ErrorAs(t, err, &e)
			assert.True(t, strings.HasSuffix(e.Pos.File, ".aurora"), "error names the file: %v", err)
			if exp.col {
				assert.Positive(t, e.Pos.Line, "error names the line: %v", err)
				assert.Positive(t, e.Pos.Col, "error names the column: %v", err)
			}
			if exp.line != 0 {
				m := pythonLine.FindStringSubmatch(aurora)
				require.NotNil(t, m, "the oracle names a line: %s", aurora)
				assert.Equal(t, m[2], strconv.Itoa(exp.line))
				assert.Equal(t, exp.line, e.Pos.Line, "line of %v", err)
				assert.Equal(t, m[1], filepathBase(e.Pos.File))
			}
			// One line for the user unless Aurora's own message has more.
			if !strings.Contains(aurora, "\n") {
				assert.NotContains(t, msg, "\n", "a one-line error")
			}
			assert.False(t, errors.Is(err, auroraconfig.ErrNoJob) && exp.is != auroraconfig.ErrNoJob, "ErrNoJob only where no job matches")
		})
	}
	assert.Equal(t, len(goldenErrors), n, "error cases of the oracle")
}

func filepathBase(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// TestUnboundWording: an unbound reference is reported in Aurora's
// client's words (in the task: ThermosTaskValidator's, elsewhere
// apache.aurora.config's), at the file:line:column of the field, with the
// fix.
func TestUnboundWording(t *testing.T) {
	_, err := loadBuild(t, withCmdline("", "'echo {{who}} {{p.q}}'"), nil)
	require.ErrorIs(t, err, job.ErrUnbound)
	assert.Contains(t, err.Error(), "t.aurora:4:")
	assert.Contains(t, err.Error(), "task.processes[0].cmdline: The configuration was invalid: Task is invalid: Unexpected unbound refs: {{who}} {{p.q}}. Make sure you are not nesting template variables. "+
		"To fix it, bind a value on the command line (--bind who=VALUE --bind p.q=VALUE) or in the file (.bind(who = ...)), or remove the reference")

	src := strings.Replace(withCmdline("", "'x'"), "name = 'x',", "name = 'x', contact = '{{owner}}@example.com',", 1)
	require.Contains(t, src, "contact =")
	_, err = loadBuild(t, src, nil)
	require.ErrorIs(t, err, job.ErrUnbound)
	assert.Contains(t, err.Error(), "contact: The configuration was invalid: Config contains unbound variables: {{owner}}. To fix it, bind a value on the command line (--bind owner=VALUE)")
	var e *auroraconfig.Error
	require.ErrorAs(t, err, &e)
	assert.Positive(t, e.Pos.Line)
	assert.Positive(t, e.Pos.Col)

	_, err = loadBuild(t, src, nil, "owner=ops")
	require.NoError(t, err, "bound, it builds")
}
