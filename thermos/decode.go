package thermos

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

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
	d.ws()
	d.job(j, nil)
	if d.err == nil {
		d.ws()
		if d.pos < len(d.data) {
			d.syntax("trailing data after the JSON document")
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	return j, nil
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
	d := decoder{data: data}
	c := &Config{Job: NewJob(), Instances: 1, UpdateConfig: DefaultUpdateConfig()}
	d.ws()
	d.job(c.Job, c)
	if d.err == nil {
		d.ws()
		if d.pos < len(d.data) {
			d.syntax("trailing data after the JSON document")
		}
	}
	if d.err != nil {
		return nil, d.err
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
	if _, ok := hasKey(keys, "jobs"); !ok {
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
			c := &Config{Job: NewJob(), Instances: 1, UpdateConfig: DefaultUpdateConfig()}
			d.job(c.Job, c)
			out = append(out, c)
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

type decoder struct {
	data []byte
	pos  int
	path pathStack
	err  error
	// scratch buffer for unescaping strings
	buf   []byte
	depth int
}

func (d *decoder) failAt(key string, err error) {
	if d.err != nil {
		return
	}
	if key != "" {
		d.path.push(key)
	}
	d.err = &FieldError{Path: d.path.String(), Err: err}
	if key != "" {
		d.path.pop()
	}
}

func (d *decoder) syntax(msg string) {
	if d.err != nil {
		return
	}
	d.err = &FieldError{Path: d.path.String(), Err: fmt.Errorf("%s at byte %d: %w", msg, d.pos, ErrSyntax)}
}

func (d *decoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (d *decoder) peek() byte {
	d.ws()
	if d.pos >= len(d.data) {
		return 0
	}
	return d.data[d.pos]
}

// kindName names the JSON type starting with c, for error messages.
func kindName(c byte) string {
	switch {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || c >= '0' && c <= '9':
		return "a number"
	}
	return "invalid JSON"
}

func (d *decoder) typeErr(want string) {
	c := d.peek()
	if c == 0 {
		d.syntax("unexpected end of input")
		return
	}
	if kindName(c) == "invalid JSON" {
		d.syntax("unexpected character")
		return
	}
	d.failAt("", fmt.Errorf("want %s, got %s: %w", want, kindName(c), ErrType))
}

// null consumes a null literal if one is next and reports whether it did.
func (d *decoder) null() bool {
	if d.peek() == 'n' {
		if d.pos+4 <= len(d.data) && string(d.data[d.pos:d.pos+4]) == "null" {
			d.pos += 4
			return true
		}
		d.syntax("invalid literal")
		return true
	}
	return false
}

// object parses an object, calling field for every key with the decoder
// positioned at the value; field must consume the value (or set d.err).
// The key is pushed on the path while field runs. Duplicate keys are errors.
func (d *decoder) object(field func(key string)) {
	if d.err != nil {
		return
	}
	if d.peek() != '{' {
		d.typeErr("an object")
		return
	}
	if !d.enter() {
		return
	}
	defer d.leave()
	d.pos++
	var seenBuf [24]string
	seen := seenBuf[:0]
	var seenMap map[string]struct{} // for large objects
	if d.peek() == '}' {
		d.pos++
		return
	}
	for {
		if d.peek() != '"' {
			d.syntax("want an object key")
			return
		}
		key := d.key()
		if d.err != nil {
			return
		}
		dup := false
		if seenMap != nil {
			_, dup = seenMap[key]
			seenMap[key] = struct{}{}
		} else {
			dup = slices.Contains(seen, key)
			seen = append(seen, key)
			if len(seen) > len(seenBuf) {
				seenMap = make(map[string]struct{}, 2*len(seen))
				for _, s := range seen {
					seenMap[s] = struct{}{}
				}
			}
		}
		if dup {
			d.failAt(key, ErrDuplicateField)
			return
		}
		if d.peek() != ':' {
			d.syntax("want ':' after object key")
			return
		}
		d.pos++
		d.ws()
		d.path.push(key)
		field(key)
		d.path.pop()
		if d.err != nil {
			return
		}
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return
		default:
			d.syntax("want ',' or '}' in object")
			return
		}
	}
}

// maxDepth bounds the nesting of objects and arrays, so that skipping a
// deeply nested value cannot exhaust the stack.
const maxDepth = 1000

func (d *decoder) enter() bool {
	d.depth++
	if d.depth > maxDepth {
		d.syntax(fmt.Sprintf("nesting deeper than %d levels", maxDepth))
		return false
	}
	return true
}

func (d *decoder) leave() { d.depth-- }

// array parses an array, calling elem for every element with its index
// pushed on the path.
func (d *decoder) array(elem func(i int)) {
	if d.err != nil {
		return
	}
	if d.peek() != '[' {
		d.typeErr("an array")
		return
	}
	if !d.enter() {
		return
	}
	defer d.leave()
	d.pos++
	if d.peek() == ']' {
		d.pos++
		return
	}
	for i := 0; ; i++ {
		d.ws()
		d.path.pushIdx(i)
		elem(i)
		d.path.pop()
		if d.err != nil {
			return
		}
		switch d.peek() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return
		default:
			d.syntax("want ',' or ']' in array")
			return
		}
	}
}

// key parses an object key, returning the schema's own string for known
// keys so that decoding does not allocate one per key.
func (d *decoder) key() string {
	end := d.pos + 1
	for end < len(d.data) && d.data[end] != '"' && d.data[end] != '\\' {
		end++
	}
	if end < len(d.data) && d.data[end] == '"' {
		if k, ok := schemaKeys[string(d.data[d.pos+1:end])]; ok {
			d.pos = end + 1
			return k
		}
	}
	return d.rawString()
}

// schemaKeys holds every key of the schema; it is never modified.
var schemaKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range strings.Fields(`name role cluster environment contact task announce tier
		cron_schedule cron_collision_policy constraints metadata service max_task_failures production
		priority health_check_config lifecycle task_links executor_config enable_hooks partition_policy
		sla_policy container instances update_config processes resources max_failures max_concurrency
		finalization_wait user cmdline daemon ephemeral min_duration final logger cpu ram disk gpu order
		destination mode rotate log_size backups health_checker initial_interval_secs interval_secs
		max_consecutive_failures min_consecutive_successes timeout_secs http shell endpoint
		expected_response expected_response_code shell_command port graceful_shutdown_endpoint
		shutdown_endpoint graceful_shutdown_wait_secs shutdown_wait_secs primary_port portmap zk_path
		key value data reschedule delay_secs percentage duration_secs count coordinator_url status_key
		docker image parameters volumes tag image_id container_path host_path batch_size watch_secs
		max_per_shard_failures max_total_failures rollback_on_failure wait_for_batch_completion
		pulse_interval_secs sla_aware update_strategy batch_sizes autopause_after_batch aurora`) {
		m[k] = k
	}
	return m
}()

// rawString parses a string token (the decoder is at its opening quote).
func (d *decoder) rawString() string {
	d.pos++ // opening quote
	start := d.pos
	// Fast path: no escapes, valid ASCII.
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c == '"' {
			s := string(d.data[start:d.pos])
			d.pos++
			return s
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		d.pos++
	}
	b := append(d.buf[:0], d.data[start:d.pos]...)
	for {
		if d.pos >= len(d.data) {
			d.syntax("unterminated string")
			return ""
		}
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			d.buf = b
			return string(b)
		case c < 0x20:
			d.syntax("control character in string")
			return ""
		case c == '\\':
			if d.pos+1 >= len(d.data) {
				d.syntax("unterminated string")
				return ""
			}
			e := d.data[d.pos+1]
			d.pos += 2
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return ""
				}
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if d.pos+1 < len(d.data) && d.data[d.pos] == '\\' && d.data[d.pos+1] == 'u' {
						save := d.pos
						d.pos += 2
						var ok2 bool
						r2, ok2 = d.hex4()
						if !ok2 {
							return ""
						}
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							b = utf8.AppendRune(b, dec)
							continue
						}
						d.pos = save
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
			default:
				d.syntax("invalid escape in string")
				return ""
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			d.pos++
		default:
			r, size := utf8.DecodeRune(d.data[d.pos:])
			if r == utf8.RuneError && size == 1 {
				d.syntax("invalid UTF-8 in string")
				return ""
			}
			b = append(b, d.data[d.pos:d.pos+size]...)
			d.pos += size
		}
	}
}

func (d *decoder) hex4() (rune, bool) {
	if d.pos+4 > len(d.data) {
		d.syntax("short \\u escape")
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.pos : d.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			d.syntax("invalid \\u escape")
			return 0, false
		}
	}
	d.pos += 4
	return r, true
}

// number scans a number token and returns its literal and whether it is a
// float literal (has '.', 'e' or 'E').
func (d *decoder) number() (string, bool) {
	start := d.pos
	isFloat := false
	if d.pos < len(d.data) && d.data[d.pos] == '-' {
		d.pos++
	}
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	intStart := d.pos
	n := digits()
	if n == 0 || (n > 1 && d.data[intStart] == '0') {
		d.syntax("invalid number")
		return "", false
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		isFloat = true
		d.pos++
		if digits() == 0 {
			d.syntax("invalid number")
			return "", false
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		isFloat = true
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			d.syntax("invalid number")
			return "", false
		}
	}
	return string(d.data[start:d.pos]), isFloat
}

// skip consumes any JSON value.
func (d *decoder) skip() {
	switch c := d.peek(); {
	case c == '{':
		d.object(func(string) { d.skip() })
	case c == '[':
		d.array(func(int) { d.skip() })
	case c == '"':
		d.rawString()
	case c == 't':
		d.literal("true")
	case c == 'f':
		d.literal("false")
	case c == 'n':
		d.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		d.number()
	default:
		d.syntax("unexpected character")
	}
}

func (d *decoder) literal(lit string) {
	if d.pos+len(lit) <= len(d.data) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return
	}
	d.syntax("invalid literal")
}

// str parses a String field. Numbers are not accepted (Aurora's client
// always writes strings).
func (d *decoder) str() string {
	if d.peek() != '"' {
		d.typeErr("a string")
		return ""
	}
	return d.rawString()
}

// template handles a string in a non-string field: it must hold "{{".
func (d *decoder) template(t *Templates, name, want string) bool {
	if d.peek() != '"' {
		return false
	}
	s := d.rawString()
	if d.err != nil {
		return true
	}
	if !strings.Contains(s, "{{") {
		d.failAt("", fmt.Errorf("want %s or a {{template}}, got the string %q: %w", want, s, ErrType))
		return true
	}
	if *t == nil {
		*t = Templates{}
	}
	(*t)[name] = s
	return true
}

// integer parses an Integer field into an int64 within [lo, hi].
func (d *decoder) integer(t *Templates, name string, lo, hi int64) (int64, bool) {
	if t != nil && d.template(t, name, "an integer") {
		return 0, false
	}
	c := d.peek()
	if !(c == '-' || c >= '0' && c <= '9') {
		d.typeErr("an integer")
		return 0, false
	}
	lit, isFloat := d.number()
	if d.err != nil {
		return 0, false
	}
	if isFloat {
		f, err := strconv.ParseFloat(lit, 64)
		if err != nil || f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
			d.failAt("", fmt.Errorf("want an integer, got %s: %w", lit, ErrInvalid))
			return 0, false
		}
		return int64(f), true
	}
	v, err := strconv.ParseInt(lit, 10, 64)
	if err != nil || v < lo || v > hi {
		d.failAt("", fmt.Errorf("integer %s out of range [%d, %d]: %w", lit, lo, hi, ErrInvalid))
		return 0, false
	}
	return v, true
}

func (d *decoder) intField(dst *int, t *Templates, name string) {
	if v, ok := d.integer(t, name, math.MinInt, math.MaxInt); ok {
		*dst = int(v)
	}
}

func (d *decoder) int64Field(dst *int64, t *Templates, name string) {
	if v, ok := d.integer(t, name, math.MinInt64, math.MaxInt64); ok {
		*dst = v
	}
}

func (d *decoder) floatField(dst *float64, t *Templates, name string) {
	if t != nil && d.template(t, name, "a number") {
		return
	}
	c := d.peek()
	if !(c == '-' || c >= '0' && c <= '9') {
		d.typeErr("a number")
		return
	}
	lit, _ := d.number()
	if d.err != nil {
		return
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		d.failAt("", fmt.Errorf("number %s out of range: %w", lit, ErrInvalid))
		return
	}
	*dst = f
}

func (d *decoder) boolField(dst *bool, t *Templates, name string) {
	if t != nil && d.template(t, name, "a boolean") {
		return
	}
	switch d.peek() {
	case 't':
		d.literal("true")
		*dst = true
	case 'f':
		d.literal("false")
		*dst = false
	default:
		d.typeErr("a boolean")
	}
}

func (d *decoder) stringMap() map[string]string {
	m := map[string]string{}
	d.object(func(k string) {
		m[k] = d.str()
	})
	return m
}

// unknown reports the key being decoded (already on the path) as unknown.
func (d *decoder) unknown(string) {
	d.failAt("", ErrUnknownField)
}

// presence tracks which required fields were seen, as a bit set.
type presence uint32

func (p *presence) set(bit int)     { *p |= 1 << bit }
func (p presence) has(bit int) bool { return p&(1<<bit) != 0 }
func (d *decoder) need(p presence, names ...string) {
	if d.err != nil {
		return
	}
	for i, n := range names {
		if !p.has(i) {
			d.failAt(n, ErrRequired)
			return
		}
	}
}

var errNotPayload = errors.New("not part of a Thermos payload (Aurora's client removes it); read a whole job with UnmarshalConfig")

func (d *decoder) job(j *Job, c *Config) {
	var seen presence // 0 role, 1 cluster, 2 task
	nameSet := false
	d.object(func(k string) {
		if d.null() {
			return
		}
		switch k {
		case "name":
			j.Name = d.str()
			nameSet = true
		case "role":
			j.Role = d.str()
			seen.set(0)
		case "cluster":
			j.Cluster = d.str()
			seen.set(1)
		case "environment":
			j.Environment = d.str()
		case "contact":
			s := d.str()
			j.Contact = &s
		case "task":
			d.task(&j.Task)
			seen.set(2)
		case "announce":
			j.Announce = d.announcer()
		case "tier":
			s := d.str()
			j.Tier = &s
		case "cron_schedule":
			s := d.str()
			j.CronSchedule = &s
		case "cron_collision_policy":
			j.CronCollisionPolicy = d.str()
		case "constraints":
			j.Constraints = d.stringMap()
		case "metadata":
			j.Metadata = []Metadata{}
			d.array(func(int) {
				var m Metadata
				var p presence
				d.object(func(k string) {
					if d.null() {
						return
					}
					switch k {
					case "key":
						m.Key = d.str()
						p.set(0)
					case "value":
						m.Value = d.str()
						p.set(1)
					default:
						d.unknown(k)
					}
				})
				d.need(p, "key", "value")
				j.Metadata = append(j.Metadata, m)
			})
		case "service":
			d.boolField(&j.Service, &j.Templates, k)
		case "max_task_failures":
			d.intField(&j.MaxTaskFailures, &j.Templates, k)
		case "production":
			d.boolField(&j.Production, &j.Templates, k)
		case "priority":
			d.intField(&j.Priority, &j.Templates, k)
		case "health_check_config":
			d.healthCheck(&j.HealthCheckConfig)
		case "lifecycle":
			j.Lifecycle = LifecycleConfig{}
			d.object(func(k string) {
				if d.null() {
					return
				}
				if k != "http" {
					d.unknown(k)
					return
				}
				j.Lifecycle.HTTP = d.httpLifecycle()
			})
		case "task_links":
			j.TaskLinks = d.stringMap()
		case "executor_config":
			d.object(func(k string) {
				if d.null() {
					return
				}
				switch k {
				case "name":
					j.ExecutorConfig.Name = d.str()
				case "data":
					j.ExecutorConfig.Data = d.str()
				default:
					d.unknown(k)
				}
			})
		case "enable_hooks":
			d.boolField(&j.EnableHooks, &j.Templates, k)
		case "partition_policy":
			p := DefaultPartitionPolicy()
			d.object(func(k string) {
				if d.null() {
					return
				}
				switch k {
				case "reschedule":
					d.boolField(&p.Reschedule, &p.Templates, k)
				case "delay_secs":
					d.intField(&p.DelaySecs, &p.Templates, k)
				default:
					d.unknown(k)
				}
			})
			j.PartitionPolicy = p
		case "sla_policy":
			j.SLAPolicy = d.slaPolicy()
		case "container":
			j.Container = d.container()
		case "instances":
			if c == nil {
				d.failAt("", errNotPayload)
				return
			}
			d.intField(&c.Instances, nil, k)
		case "update_config":
			if c == nil {
				d.failAt("", errNotPayload)
				return
			}
			d.updateConfig(&c.UpdateConfig)
		default:
			d.unknown(k)
		}
	})
	d.need(seen, "role", "cluster", "task")
	if !nameSet {
		j.Name = j.Task.Name
	}
}

func (d *decoder) task(t *Task) {
	var seen presence // 0 processes
	nameSet := false
	d.object(func(k string) {
		if d.null() {
			return
		}
		switch k {
		case "name":
			t.Name = d.str()
			nameSet = true
		case "processes":
			t.Processes = []Process{}
			seen.set(0)
			d.array(func(int) {
				t.Processes = append(t.Processes, NewProcess("", ""))
				d.process(&t.Processes[len(t.Processes)-1])
			})
		case "constraints":
			t.Constraints = []Constraint{}
			d.array(func(int) {
				var c Constraint
				d.object(func(k string) {
					if d.null() {
						return
					}
					if k != "order" {
						d.unknown(k)
						return
					}
					c.Order = []string{}
					d.array(func(int) {
						c.Order = append(c.Order, d.str())
					})
				})
				t.Constraints = append(t.Constraints, c)
			})
		case "resources":
			t.Resources = d.resources()
		case "max_failures":
			d.intField(&t.MaxFailures, &t.Templates, k)
		case "max_concurrency":
			d.intField(&t.MaxConcurrency, &t.Templates, k)
		case "finalization_wait":
			d.intField(&t.FinalizationWait, &t.Templates, k)
		case "user":
			s := d.str()
			t.User = &s
		default:
			d.unknown(k)
		}
	})
	d.need(seen, "processes")
	if !nameSet && len(t.Processes) > 0 {
		t.Name = t.Processes[0].Name
	}
}

func (d *decoder) process(p *Process) {
	var seen presence // 0 name, 1 cmdline
	d.object(func(k string) {
		if d.null() {
			return
		}
		switch k {
		case "name":
			p.Name = d.str()
			seen.set(0)
		case "cmdline":
			p.Cmdline = d.str()
			seen.set(1)
		case "resources":
			p.Resources = d.resources()
		case "max_failures":
			d.intField(&p.MaxFailures, &p.Templates, k)
		case "daemon":
			d.boolField(&p.Daemon, &p.Templates, k)
		case "ephemeral":
			d.boolField(&p.Ephemeral, &p.Templates, k)
		case "min_duration":
			d.intField(&p.MinDuration, &p.Templates, k)
		case "final":
			d.boolField(&p.Final, &p.Templates, k)
		case "logger":
			l := DefaultLogger()
			d.object(func(k string) {
				if d.null() {
					return
				}
				switch k {
				case "destination":
					l.Destination = d.str()
				case "mode":
					l.Mode = d.str()
				case "rotate":
					r := DefaultRotatePolicy()
					d.object(func(k string) {
						if d.null() {
							return
						}
						switch k {
						case "log_size":
							d.int64Field(&r.LogSize, &r.Templates, k)
						case "backups":
							d.intField(&r.Backups, &r.Templates, k)
						default:
							d.unknown(k)
						}
					})
					l.Rotate = r
				default:
					d.unknown(k)
				}
			})
			p.Logger = l
		default:
			d.unknown(k)
		}
	})
	d.need(seen, "name", "cmdline")
}

func (d *decoder) resources() *Resources {
	r := &Resources{}
	var seen presence // 0 cpu, 1 ram, 2 disk
	d.object(func(k string) {
		if d.null() {
			return
		}
		switch k {
		case "cpu":
			d.floatField(&r.CPU, &r.Templates, k)
			seen.set(0)
		case "ram":
			d.int64Field(&r.RAM, &r.Templates, k)
			seen.set(1)
		case "disk":
			d.int64Field(&r.Disk, &r.Templates, k)
			seen.set(2)
		case "gpu":
			d.int64Field(&r.GPU, &r.Templates, k)
		default:
			d.unknown(k)
		}
	})
	d.need(seen, "cpu", "ram", "disk")
	return r
}

func (d *decoder) announcer() *Announcer {
	a := &Announcer{PrimaryPort: "http"}
	d.object(func(k string) {
		if d.null() {
			return
		}
		switch k {
		case "primary_port":
			a.PrimaryPort = d.str()
		case "portmap":
			a.Portmap = d.stringMap()
		case "zk_path":
			s := d.str()
			a.ZKPath = &s
		case "port_map":
			// nix-aurora's Announcer writes this name, which Aurora
			// rejects.
			d.failAt("", fmt.Errorf("%w: Aurora's name for it is portmap", ErrUnknownField))
		default:
			d.unknown(k)
		}
	})
	if a.Portmap == nil {
		a.Portmap = map[string]string{"aurora": a.PrimaryPort}
	}
	return a
}

func (d *decoder) healthCheck(h *HealthCheckConfig) {
	*h = DefaultHealthCheckConfig()
	// Aurora before 0.11 (and nix-aurora's HealthCheckConfig) kept the HTTP
	// checker's fields flat in health_check_config; they map to
	// health_checker.http.
	legacy := DefaultHTTPHealthChecker()
	hasLegacy, hasChecker := false, false
	d.object(func(k string) {
		if d.null() {
			return
		}
		switch k {
		case "endpoint":
			legacy.Endpoint = d.str()
			hasLegacy = true
		case "expected_response":
			legacy.ExpectedResponse = d.str()
			hasLegacy = true
		case "expected_response_code":
			d.intField(&legacy.ExpectedResponseCode, &legacy.Templates, k)
			hasLegacy = true
		case "health_checker":
			hasChecker = true
			h.HealthChecker = HealthCheckerConfig{}
			d.object(func(k string) {
				if d.null() {
					return
				}
				switch k {
				case "http":
					x := DefaultHTTPHealthChecker()
					d.object(func(k string) {
						if d.null() {
							return
						}
						switch k {
						case "endpoint":
							x.Endpoint = d.str()
						case "expected_response":
							x.ExpectedResponse = d.str()
						case "expected_response_code":
							d.intField(&x.ExpectedResponseCode, &x.Templates, k)
						default:
							d.unknown(k)
						}
					})
					h.HealthChecker.HTTP = x
				case "shell":
					s := &ShellHealthChecker{}
					var seen presence
					d.object(func(k string) {
						if d.null() {
							return
						}
						if k != "shell_command" {
							d.unknown(k)
							return
						}
						s.ShellCommand = d.str()
						seen.set(0)
					})
					d.need(seen, "shell_command")
					h.HealthChecker.Shell = s
				default:
					d.unknown(k)
				}
			})
		case "initial_interval_secs":
			d.floatField(&h.InitialIntervalSecs, &h.Templates, k)
		case "interval_secs":
			d.floatField(&h.IntervalSecs, &h.Templates, k)
		case "max_consecutive_failures":
			d.intField(&h.MaxConsecutiveFailures, &h.Templates, k)
		case "min_consecutive_successes":
			d.intField(&h.MinConsecutiveSuccesses, &h.Templates, k)
		case "timeout_secs":
			d.floatField(&h.TimeoutSecs, &h.Templates, k)
		default:
			d.unknown(k)
		}
	})
	if hasLegacy && d.err == nil {
		if hasChecker {
			d.failAt("health_checker", fmt.Errorf("given together with the legacy flat keys endpoint/expected_response/expected_response_code; move them into health_checker.http: %w", ErrInvalid))
			return
		}
		h.HealthChecker = HealthCheckerConfig{HTTP: legacy}
	}
}

func (d *decoder) httpLifecycle() *HTTPLifecycleConfig {
	h := DefaultHTTPLifecycle()
	d.object(func(k string) {
		if d.null() {
			return
		}
		switch k {
		case "port":
			h.Port = d.str()
		case "graceful_shutdown_endpoint":
			h.GracefulShutdownEndpoint = d.str()
		case "shutdown_endpoint":
			h.ShutdownEndpoint = d.str()
		case "graceful_shutdown_wait_secs":
			d.intField(&h.GracefulShutdownWaitSecs, &h.Templates, k)
		case "shutdown_wait_secs":
			d.intField(&h.ShutdownWaitSecs, &h.Templates, k)
		default:
			d.unknown(k)
		}
	})
	return h
}

// keyInfo is a key of an object seen ahead of decoding, with the first
// byte of its value.
type keyInfo struct {
	key   string
	first byte
}

// peekKeys returns the keys of the object at the current position without
// consuming it.
func (d *decoder) peekKeys() []keyInfo {
	save := d.pos
	var keys []keyInfo
	d.object(func(k string) {
		keys = append(keys, keyInfo{k, d.peek()})
		d.skip()
	})
	d.pos = save
	return keys
}

func hasKey(keys []keyInfo, k string) (byte, bool) {
	for _, ki := range keys {
		if ki.key == k {
			return ki.first, true
		}
	}
	return 0, false
}

func (d *decoder) slaPolicy() *SLAPolicy {
	if d.peek() != '{' {
		d.typeErr("an object")
		return nil
	}
	keys := d.peekKeys()
	if d.err != nil {
		return nil
	}
	s := &SLAPolicy{}
	_, isPct := hasKey(keys, "percentage")
	_, isCount := hasKey(keys, "count")
	_, isURL := hasKey(keys, "coordinator_url")
	_, isKey := hasKey(keys, "status_key")
	switch {
	case isPct:
		p := &PercentageSLAPolicy{}
		var seen presence
		d.object(func(k string) {
			if d.null() {
				return
			}
			switch k {
			case "percentage":
				d.floatField(&p.Percentage, &p.Templates, k)
				seen.set(0)
			case "duration_secs":
				d.intField(&p.DurationSecs, &p.Templates, k)
				seen.set(1)
			default:
				d.unknown(k)
			}
		})
		d.need(seen, "percentage", "duration_secs")
		s.Percentage = p
	case isCount:
		c := &CountSLAPolicy{}
		var seen presence
		d.object(func(k string) {
			if d.null() {
				return
			}
			switch k {
			case "count":
				d.intField(&c.Count, &c.Templates, k)
				seen.set(0)
			case "duration_secs":
				d.intField(&c.DurationSecs, &c.Templates, k)
				seen.set(1)
			default:
				d.unknown(k)
			}
		})
		d.need(seen, "count", "duration_secs")
		s.Count = c
	case isURL || isKey:
		c := &CoordinatorSLAPolicy{StatusKey: "drain"}
		var seen presence
		d.object(func(k string) {
			if d.null() {
				return
			}
			switch k {
			case "coordinator_url":
				c.CoordinatorURL = d.str()
				seen.set(0)
			case "status_key":
				c.StatusKey = d.str()
			default:
				d.unknown(k)
			}
		})
		d.need(seen, "coordinator_url")
		s.Coordinator = c
	default:
		d.failAt("", fmt.Errorf("cannot tell the SLA policy kind: want a \"percentage\", \"count\" or \"coordinator_url\" key: %w", ErrInvalid))
		return nil
	}
	return s
}

func (d *decoder) container() *Container {
	if d.peek() != '{' {
		d.typeErr("an object")
		return nil
	}
	keys := d.peekKeys()
	if d.err != nil {
		return nil
	}
	c := &Container{}
	imgFirst, hasImage := hasKey(keys, "image")
	_, hasParams := hasKey(keys, "parameters")
	_, hasLegacy := hasKey(keys, "docker")
	switch {
	case hasLegacy:
		d.object(func(k string) {
			if d.null() {
				return
			}
			if k != "docker" {
				d.unknown(k)
				return
			}
			c.LegacyDocker = d.docker()
		})
		if c.LegacyDocker == nil && d.err == nil {
			d.failAt("docker", ErrRequired)
		}
	case hasParams || hasImage && imgFirst == '"':
		c.Docker = d.docker()
	default:
		c.Mesos = d.mesos()
	}
	return c
}

func (d *decoder) docker() *Docker {
	x := &Docker{Parameters: []Parameter{}}
	var seen presence
	d.object(func(k string) {
		if d.null() {
			return
		}
		switch k {
		case "image":
			x.Image = d.str()
			seen.set(0)
		case "parameters":
			d.array(func(int) {
				var p Parameter
				var ps presence
				d.object(func(k string) {
					if d.null() {
						return
					}
					switch k {
					case "name":
						p.Name = d.str()
						ps.set(0)
					case "value":
						p.Value = d.str()
						ps.set(1)
					default:
						d.unknown(k)
					}
				})
				d.need(ps, "name", "value")
				x.Parameters = append(x.Parameters, p)
			})
		default:
			d.unknown(k)
		}
	})
	d.need(seen, "image")
	return x
}

func (d *decoder) mesos() *Mesos {
	m := &Mesos{Volumes: []Volume{}}
	d.object(func(k string) {
		if d.null() {
			return
		}
		switch k {
		case "image":
			m.Image = d.image()
		case "volumes":
			d.array(func(int) {
				var v Volume
				var seen presence
				d.object(func(k string) {
					if d.null() {
						return
					}
					switch k {
					case "container_path":
						v.ContainerPath = d.str()
						seen.set(0)
					case "host_path":
						v.HostPath = d.str()
						seen.set(1)
					case "mode":
						v.Mode = d.str()
						seen.set(2)
					default:
						d.unknown(k)
					}
				})
				d.need(seen, "container_path", "host_path", "mode")
				m.Volumes = append(m.Volumes, v)
			})
		default:
			d.unknown(k)
		}
	})
	return m
}

func (d *decoder) image() *Image {
	if d.peek() != '{' {
		d.typeErr("an object")
		return nil
	}
	keys := d.peekKeys()
	if d.err != nil {
		return nil
	}
	_, isDocker := hasKey(keys, "tag")
	_, isAppc := hasKey(keys, "image_id")
	var name, second string
	var seen presence
	secondKey := "tag"
	switch {
	case isDocker:
	case isAppc:
		secondKey = "image_id"
	default:
		d.failAt("", fmt.Errorf("cannot tell the image kind: want a \"tag\" (DockerImage) or \"image_id\" (AppcImage) key: %w", ErrInvalid))
		return nil
	}
	d.object(func(k string) {
		if d.null() {
			return
		}
		switch k {
		case "name":
			name = d.str()
			seen.set(0)
		case secondKey:
			second = d.str()
			seen.set(1)
		default:
			d.unknown(k)
		}
	})
	d.need(seen, "name", secondKey)
	if isDocker {
		return &Image{Docker: &DockerImage{Name: name, Tag: second}}
	}
	return &Image{Appc: &AppcImage{Name: name, ImageID: second}}
}

func (d *decoder) updateConfig(u *UpdateConfig) {
	d.object(func(k string) {
		if d.null() {
			return
		}
		switch k {
		case "batch_size":
			d.intField(&u.BatchSize, nil, k)
		case "watch_secs":
			d.intField(&u.WatchSecs, nil, k)
		case "max_per_shard_failures":
			d.intField(&u.MaxPerShardFailures, nil, k)
		case "max_total_failures":
			d.intField(&u.MaxTotalFailures, nil, k)
		case "rollback_on_failure":
			d.boolField(&u.RollbackOnFailure, nil, k)
		case "wait_for_batch_completion":
			d.boolField(&u.WaitForBatchCompletion, nil, k)
		case "pulse_interval_secs":
			var v int
			d.intField(&v, nil, k)
			u.PulseIntervalSecs = &v
		case "sla_aware":
			d.boolField(&u.SLAAware, nil, k)
		case "restart_threshold":
			// Removed from Aurora long ago but still written by
			// nix-aurora's UpdateConfig; it has no effect, so it is
			// read and dropped.
			var v int
			d.intField(&v, nil, k)
		case "update_strategy":
			u.UpdateStrategy = d.updateStrategy()
		default:
			d.unknown(k)
		}
	})
}

func (d *decoder) updateStrategy() *UpdateStrategy {
	if d.peek() != '{' {
		d.typeErr("an object")
		return nil
	}
	keys := d.peekKeys()
	if d.err != nil {
		return nil
	}
	_, isVar := hasKey(keys, "batch_sizes")
	_, isBatch := hasKey(keys, "autopause_after_batch")
	s := &UpdateStrategy{}
	switch {
	case isVar:
		v := &VariableBatchUpdateStrategy{}
		var seen presence
		d.object(func(k string) {
			if d.null() {
				return
			}
			switch k {
			case "batch_sizes":
				v.BatchSizes = []int{}
				seen.set(0)
				d.array(func(int) {
					var n int
					d.intField(&n, nil, "")
					v.BatchSizes = append(v.BatchSizes, n)
				})
			case "autopause_after_batch":
				d.boolField(&v.AutopauseAfterBatch, nil, k)
			default:
				d.unknown(k)
			}
		})
		d.need(seen, "batch_sizes")
		s.VariableBatch = v
	case isBatch:
		b := &BatchUpdateStrategy{BatchSize: 1}
		d.object(func(k string) {
			if d.null() {
				return
			}
			switch k {
			case "batch_size":
				d.intField(&b.BatchSize, nil, k)
			case "autopause_after_batch":
				d.boolField(&b.AutopauseAfterBatch, nil, k)
			default:
				d.unknown(k)
			}
		})
		s.Batch = b
	default:
		q := &QueueUpdateStrategy{BatchSize: 1}
		d.object(func(k string) {
			if d.null() {
				return
			}
			if k != "batch_size" {
				d.unknown(k)
				return
			}
			d.intField(&q.BatchSize, nil, k)
		})
		s.Queue = q
	}
	return s
}
