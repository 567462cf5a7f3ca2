package nixrealis

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// This file writes gorealis' Thrift structures as JSON in the convention of
// Aurora's client tooling (and of the oracle's taskconfig.json files):
// api.thrift field names, unset optional fields omitted, sets as lists
// sorted by their canonical JSON, enums as ints plus "<field>__name", Double
// fields with a decimal point. JobConfigJSON writes it, Diff compares
// configurations in it.

// JobConfigJSON returns jc (RenderJob's JobConfig(), or a configuration the
// scheduler holds) as indented JSON in the convention of Aurora's client
// tooling: api.thrift field names, unset optional fields omitted, sets as
// lists sorted by their canonical JSON, enums as numbers plus
// "<field>__name", doubles with a decimal point. executorConfig.data is the
// string the executor receives (for Thermos, the payload thermos.Unmarshal
// reads). It fails only for a configuration without a key or TaskConfig.
func JobConfigJSON(jc *aurora.JobConfiguration) ([]byte, error) {
	if jc == nil || jc.Key == nil || jc.TaskConfig == nil {
		return nil, errors.New("nixrealis: JobConfigJSON: the JobConfiguration has no key or no TaskConfig: render it with RenderJob")
	}
	var data any = ""
	if ec := jc.TaskConfig.ExecutorConfig; ec != nil {
		data = ec.Data
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(jobConfigJSON(jc, data)); err != nil {
		return nil, fmt.Errorf("nixrealis: JobConfigJSON: %w", err)
	}
	return buf.Bytes(), nil
}

// obj is one JSON object under construction.
type obj map[string]any

func jfloat(v float64) json.Number {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return json.Number("0.0") // never in a valid config; keeps Marshal working
	}
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return json.Number(s)
}

func jint[T ~int32 | ~int64 | ~int](v T) json.Number {
	return json.Number(strconv.FormatInt(int64(v), 10))
}

// sortedSet sorts a thrift set's JSON values by their canonical JSON.
func sortedSet(vs []any) []any {
	type kv struct {
		k string
		v any
	}
	keyed := make([]kv, len(vs))
	for i, v := range vs {
		b, _ := json.Marshal(v) // maps marshal with sorted keys
		keyed[i] = kv{string(b), v}
	}
	slices.SortFunc(keyed, func(a, b kv) int { return cmp.Compare(a.k, b.k) })
	out := make([]any, len(keyed))
	for i, e := range keyed {
		out[i] = e.v
	}
	return out
}

func jobKeyJSON(k *aurora.JobKey) any {
	if k == nil {
		return nil
	}
	return obj{"role": k.Role, "environment": k.Environment, "name": k.Name}
}

func identityJSON(id *aurora.Identity) any {
	if id == nil {
		return nil
	}
	return obj{"user": id.User}
}

// jobConfigJSON converts jc; data replaces executorConfig.data.
func jobConfigJSON(jc *aurora.JobConfiguration, data any) obj {
	o := obj{
		"key":                       jobKeyJSON(jc.Key),
		"owner":                     identityJSON(jc.Owner),
		"cronCollisionPolicy":       jint(int64(jc.CronCollisionPolicy)),
		"cronCollisionPolicy__name": jc.CronCollisionPolicy.String(),
		"instanceCount":             jint(jc.InstanceCount),
		"taskConfig":                taskConfigJSON(jc.TaskConfig, data),
	}
	if jc.CronSchedule != nil {
		o["cronSchedule"] = *jc.CronSchedule
	}
	return o
}

func taskConfigJSON(tc *aurora.TaskConfig, data any) obj {
	o := obj{
		"job":             jobKeyJSON(tc.Job),
		"owner":           identityJSON(tc.Owner),
		"isService":       tc.IsService,
		"priority":        jint(tc.Priority),
		"maxTaskFailures": jint(tc.MaxTaskFailures),
	}
	if tc.Production != nil {
		o["production"] = *tc.Production
	}
	if tc.Tier != nil {
		o["tier"] = *tc.Tier
	}
	if tc.ContactEmail != nil {
		o["contactEmail"] = *tc.ContactEmail
	}
	if tc.TaskLinks != nil {
		links := obj{}
		for k, v := range tc.TaskLinks {
			links[k] = v
		}
		o["taskLinks"] = links
	}
	var res []any
	for _, r := range tc.Resources {
		e := obj{}
		switch {
		case r.NumCpus != nil:
			e["numCpus"] = jfloat(*r.NumCpus)
		case r.RamMb != nil:
			e["ramMb"] = jint(*r.RamMb)
		case r.DiskMb != nil:
			e["diskMb"] = jint(*r.DiskMb)
		case r.NamedPort != nil:
			e["namedPort"] = *r.NamedPort
		case r.NumGpus != nil:
			e["numGpus"] = jint(*r.NumGpus)
		}
		res = append(res, e)
	}
	o["resources"] = sortedSet(res)
	cons := []any{}
	for _, c := range tc.Constraints {
		tcn := obj{}
		if v := c.Constraint.Value; v != nil {
			vals := make([]any, len(v.Values))
			for i, s := range v.Values {
				vals[i] = s
			}
			tcn["value"] = obj{"negated": v.Negated, "values": sortedSet(vals)}
		}
		if l := c.Constraint.Limit; l != nil {
			tcn["limit"] = obj{"limit": jint(l.Limit)}
		}
		cons = append(cons, obj{"name": c.Name, "constraint": tcn})
	}
	o["constraints"] = sortedSet(cons)
	if tc.Metadata != nil {
		md := []any{}
		for _, m := range tc.Metadata {
			md = append(md, obj{"key": m.Key, "value": m.Value})
		}
		o["metadata"] = sortedSet(md)
	}
	if ec := tc.ExecutorConfig; ec != nil {
		o["executorConfig"] = obj{"name": ec.Name, "data": data}
	}
	if c := tc.Container; c != nil {
		co := obj{}
		if m := c.Mesos; m != nil {
			mo := obj{}
			if img := m.Image; img != nil {
				io := obj{}
				if d := img.Docker; d != nil {
					io["docker"] = obj{"name": d.Name, "tag": d.Tag}
				}
				if a := img.Appc; a != nil {
					io["appc"] = obj{"name": a.Name, "imageId": a.ImageId}
				}
				mo["image"] = io
			}
			if m.Volumes != nil {
				vols := []any{}
				for _, v := range m.Volumes {
					vols = append(vols, obj{"containerPath": v.ContainerPath, "hostPath": v.HostPath, "mode": jint(int64(v.Mode)), "mode__name": v.Mode.String()})
				}
				mo["volumes"] = vols
			}
			co["mesos"] = mo
		}
		if d := c.Docker; d != nil {
			do := obj{"image": d.Image}
			if d.Parameters != nil {
				ps := []any{}
				for _, p := range d.Parameters {
					ps = append(ps, obj{"name": p.Name, "value": p.Value})
				}
				do["parameters"] = ps
			}
			co["docker"] = do
		}
		o["container"] = co
	}
	if p := tc.PartitionPolicy; p != nil {
		po := obj{"reschedule": p.Reschedule}
		if p.DelaySecs != nil {
			po["delaySecs"] = jint(*p.DelaySecs)
		}
		o["partitionPolicy"] = po
	}
	if s := tc.SlaPolicy; s != nil {
		so := obj{}
		if p := s.PercentageSlaPolicy; p != nil {
			so["percentageSlaPolicy"] = obj{"percentage": jfloat(p.Percentage), "durationSecs": jint(p.DurationSecs)}
		}
		if p := s.CountSlaPolicy; p != nil {
			so["countSlaPolicy"] = obj{"count": jint(p.Count), "durationSecs": jint(p.DurationSecs)}
		}
		if p := s.CoordinatorSlaPolicy; p != nil {
			so["coordinatorSlaPolicy"] = obj{"coordinatorUrl": p.CoordinatorUrl, "statusKey": p.StatusKey}
		}
		o["slaPolicy"] = so
	}
	if tc.MesosFetcherUris != nil {
		uris := []any{}
		for _, u := range tc.MesosFetcherUris {
			e := obj{"value": u.Value}
			if u.Extract != nil {
				e["extract"] = *u.Extract
			}
			if u.Cache != nil {
				e["cache"] = *u.Cache
			}
			uris = append(uris, e)
		}
		o["mesosFetcherUris"] = sortedSet(uris)
	}
	return o
}
