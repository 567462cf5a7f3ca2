package thermos

import "fmt"

// Unmarshal reads a Thermos payload: any document Aurora's client writes in
// executorConfig.data (the library and the CLI path) and hand-written ones
// such as gorealis' examples/thermos_payload.json. (A whole job object with
// instances and update_config, such as nix-aurora's config.json, goes
// through UnmarshalConfig.) Absent defaulted fields get Aurora's defaults (as in NewJob,
// NewTask, NewProcess and the Default* functions), so Unmarshal of a sparse
// document equals Unmarshal of what Aurora would have written for it; an
// absent task name defaults to the first process's name and an absent job
// name to the task name.
//
// Choice fields (container, sla_policy, a Mesos image) are told apart by
// their keys, as Pystachio does. Integer fields accept integral numbers
// (5 or 5.0), Float fields any number, and every non-string field a string
// holding a template ("{{mesos.instance}}"), which goes to the struct's
// Templates map. A null value counts as absent.
//
// Unmarshal rejects malformed JSON, unknown or duplicate keys, values of the
// wrong type, missing required fields (role, cluster, task, task.processes,
// process name and cmdline, resource cpu/ram/disk, ...), and the
// top-level "instances" and "update_config" keys, which a payload never
// has (use UnmarshalConfig for a whole job). Every error is a *FieldError
// naming the JSON path.
//
// Two legacy shapes that nix-aurora writes are read too: the HTTP checker's
// endpoint, expected_response and expected_response_code directly in
// health_check_config (older Aurora releases' shape), which become
// health_checker.http, and, in UnmarshalConfig, update_config's
// restart_threshold, which Aurora dropped and which is ignored.
func Unmarshal(data []byte) (*Job, error) {
	d := decoder{data: data}
	j := NewJob()
	if err := d.document(j); err != nil {
		return nil, err
	}
	return j, nil
}

// document decodes the whole of d.data, one JSON object, into j.
func (d *decoder) document(j *Job) error {
	d.ws()
	jobSchema.decode(d, j)
	if d.err == nil {
		d.ws()
		if d.pos < len(d.data) {
			d.syntax("trailing data after the JSON document")
		}
	}
	return d.err
}

// Config is a whole Aurora job as a JSON object, the shape of Aurora's
// `--read-json` input and of nix-aurora's config.json: the payload's fields
// plus "instances" and "update_config".
type Config struct {
	// Job is the payload part.
	Job *Job
	// Instances is "instances" (default 1).
	Instances int
	// UpdateConfig is "update_config" (default DefaultUpdateConfig()).
	UpdateConfig UpdateConfig
}

// UnmarshalConfig reads a whole job object (see Config), applying Aurora's
// defaults like Unmarshal, including instances 1 and DefaultUpdateConfig().
func UnmarshalConfig(data []byte) (*Config, error) {
	c := newConfig()
	d := decoder{data: data, config: c}
	if err := d.document(c.Job); err != nil {
		return nil, err
	}
	return c, nil
}

// UnmarshalConfigs reads what Aurora's --read-json accepts: either one job
// object (as UnmarshalConfig) or {"jobs": [job, ...]}. Errors name the path,
// e.g. "jobs[1].task.processes".
func UnmarshalConfigs(data []byte) ([]*Config, error) {
	d := decoder{data: data}
	if d.peek() != '{' {
		d.typeErr("an object")
		return nil, d.err
	}
	keys := d.peekKeys()
	if d.err != nil {
		return nil, d.err
	}
	if !hasKey(keys, "jobs") {
		c, err := UnmarshalConfig(data)
		if err != nil {
			return nil, err
		}
		return []*Config{c}, nil
	}
	var out []*Config
	d.object(func(k string) {
		if k != "jobs" {
			d.failAt("", fmt.Errorf("%w: a document with \"jobs\" has no other keys", ErrUnknownField))
			return
		}
		out = []*Config{}
		d.array(func(int) {
			d.config = newConfig()
			jobSchema.decode(&d, d.config.Job)
			out = append(out, d.config)
		})
	})
	if d.err == nil {
		d.ws()
		if d.pos < len(d.data) {
			d.syntax("trailing data after the JSON document")
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	return out, nil
}

// newConfig returns a Config with Aurora's defaults.
func newConfig() *Config {
	return &Config{Job: NewJob(), Instances: 1, UpdateConfig: DefaultUpdateConfig()}
}
