package thermos_test

import (
	"fmt"

	"github.com/nixrealis/nixrealis/thermos"
)

func ExampleMarshal() {
	j := thermos.NewJob()
	j.Cluster, j.Role, j.Environment, j.Name = "devcluster", "www-data", "devel", "hello"
	j.Task.Name = "hello"
	j.Task.Processes = []thermos.Process{thermos.NewProcess("hello", "echo héllo && sleep 60")}
	j.Task.Resources = &thermos.Resources{CPU: 1, RAM: 128 * thermos.MB, Disk: 128 * thermos.MB}
	j.Lifecycle = thermos.LifecycleConfig{} // Aurora's DisableLifecycle

	data, err := thermos.Marshal(j)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(data))
	// Output:
	// {"cluster": "devcluster", "cron_collision_policy": "KILL_EXISTING", "enable_hooks": false, "environment": "devel", "executor_config": {"data": "", "name": "AuroraExecutor"}, "health_check_config": {"health_checker": {"http": {"endpoint": "/health", "expected_response": "ok", "expected_response_code": 0}}, "initial_interval_secs": 15.0, "interval_secs": 10.0, "max_consecutive_failures": 0, "min_consecutive_successes": 1, "timeout_secs": 1.0}, "lifecycle": {}, "max_task_failures": 1, "metadata": [], "name": "hello", "priority": 0, "production": false, "role": "www-data", "service": false, "task": {"constraints": [], "finalization_wait": 30, "max_concurrency": 0, "max_failures": 1, "name": "hello", "processes": [{"cmdline": "echo h\u00e9llo && sleep 60", "daemon": false, "ephemeral": false, "final": false, "max_failures": 1, "min_duration": 5, "name": "hello"}], "resources": {"cpu": 1.0, "disk": 134217728, "gpu": 0, "ram": 134217728}}}
}

func ExampleUnmarshal() {
	// A sparse payload: absent fields get Aurora's defaults, and a runtime
	// template in an Integer field is kept in Templates.
	j, err := thermos.Unmarshal([]byte(`{
		"cluster": "devcluster", "role": "www-data", "environment": "devel",
		"task": {
			"processes": [{"name": "worker", "cmdline": "./worker --shard={{mesos.instance}}",
			               "max_failures": "{{mesos.instance}}"}],
			"resources": {"cpu": 0.5, "ram": 67108864, "disk": 67108864}
		}
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	p := j.Task.Processes[0]
	fmt.Println(j.Name, j.Task.Name, j.MaxTaskFailures, j.CronCollisionPolicy)
	fmt.Println(p.MinDuration, p.Templates["max_failures"])
	fmt.Println(j.HealthCheckConfig.HealthChecker.HTTP.Endpoint, j.Lifecycle.HTTP.Port)

	_, err = thermos.Unmarshal([]byte(`{"task": {"processes": [{"name": "p", "cmd": "x"}]}}`))
	fmt.Println(err)
	// Output:
	// worker worker 1 KILL_EXISTING
	// 5 {{mesos.instance}}
	// /health health
	// thermos: task.processes[0].cmd: unknown field
}
