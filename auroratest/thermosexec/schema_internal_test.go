//go:build linux

package thermosexec

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/thermos"
)

// TestResolveJobCoversSchema puts a run-time template in every string and
// every templated field of the task, health check and lifecycle of a
// payload with every optional part set, found by thermos.Walk (so a field
// added to thermos' schema is covered), and checks that resolveJob binds
// them all.
func TestResolveJobCoversSchema(t *testing.T) {
	j := thermos.NewJob()
	user := "svc"
	p := thermos.NewProcess("p", "run")
	p.Resources = &thermos.Resources{CPU: 1, RAM: thermos.MB, Disk: thermos.MB}
	p.Logger = &thermos.Logger{Destination: "file", Mode: "rotate", Rotate: thermos.DefaultRotatePolicy()}
	j.Task = thermos.NewTask()
	j.Task.Name, j.Task.User = "t", &user
	j.Task.Resources = &thermos.Resources{CPU: 1, RAM: thermos.MB, Disk: thermos.MB}
	j.Task.Processes = []thermos.Process{p}
	j.Task.Constraints = []thermos.Constraint{{Order: []string{"p"}}}

	parts := []struct {
		v    any
		path string
	}{{&j.Task, "task"}, {&j.HealthCheckConfig, "health_check_config"}, {&j.Lifecycle, "lifecycle"}}
	const ref = "{{mesos.instance}}"
	templated := map[string]any{} // path -> owner
	for _, part := range parts {
		err := thermos.Walk(part.v, part.path, thermos.Visitor{
			String: func(_ string, s *string) error { *s += ref; return nil },
			Templates: func(path string, _ thermos.Templates, owner any) error {
				tm := thermos.Templates{}
				for _, f := range thermos.TemplatedFields(owner) {
					tm[f] = ref
					templated[path+"."+f] = owner
				}
				setTemplates(owner, tm)
				return nil
			},
		})
		require.NoError(t, err)
	}
	assert.Contains(t, templated, "task.processes[0].logger.rotate.backups")
	assert.Contains(t, templated, "health_check_config.health_checker.http.expected_response_code")
	assert.Contains(t, templated, "lifecycle.http.shutdown_wait_secs")

	require.NoError(t, resolveJob(j, &bindings{instance: 1}))

	var strs int
	for _, part := range parts {
		err := thermos.Walk(part.v, part.path, thermos.Visitor{String: func(path string, s *string) error {
			strs++
			assert.True(t, strings.HasSuffix(*s, "1") && !strings.Contains(*s, "{{"), "%s = %q, not resolved", path, *s)
			return nil
		}})
		require.NoError(t, err)
	}
	assert.Greater(t, strs, 10)
	for path, owner := range templated {
		name := path[strings.LastIndexByte(path, '.')+1:]
		v, ok := thermos.Field(owner, name)
		require.True(t, ok, path)
		assert.Contains(t, []any{1, int64(1), 1.0, true}, v, "%s = %v, not resolved to 1", path, v)
	}
}

// setTemplates sets the Templates map of owner, a payload struct.
func setTemplates(owner any, tm thermos.Templates) {
	reflect.ValueOf(owner).Elem().FieldByName("Templates").Set(reflect.ValueOf(tm))
}
