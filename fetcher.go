package nixrealis

import (
	"errors"
	"strconv"

	"github.com/paypal/gorealis/gen-go/apache/aurora"

	"github.com/nixrealis/nixrealis/job"
)

// renderURIs is TaskConfig.mesosFetcherUris, in the job's order, each with
// extract and cache set as gorealis' AddURIs sets them. What the Thrift
// API cannot carry (executable, output file) is an error, as job.Build
// reports it for a job.
func renderURIs(tc *aurora.TaskConfig, uris []job.URI) error {
	var errs []error
	for i, u := range uris {
		p := "uris[" + strconv.Itoa(i) + "]"
		if u.Value == "" {
			errs = append(errs, renderErr(p+".value", "missing: give the URL or agent path of the resource"))
		}
		if u.Executable {
			errs = append(errs, renderErr(p+".executable", "Aurora's scheduler marks every URI a job submits non-executable"))
		}
		if u.OutputFile != "" {
			errs = append(errs, renderErr(p+".output_file", "%q: gorealis v1.25.0's MesosFetcherURI has no outputFile", u.OutputFile))
		}
		tc.MesosFetcherUris = append(tc.MesosFetcherUris, &aurora.MesosFetcherURI{
			Value:   u.Value,
			Extract: new(u.Extract),
			Cache:   new(u.Cache),
		})
	}
	return errors.Join(errs...)
}

// inspectExecutor adds what a custom executor's job has beyond Aurora's
// inspect: the executor, its data, the labels and the fetcher URIs (the
// latter for Thermos jobs too).
func inspectExecutor(line func(int, string, ...any), spec job.Spec) {
	p := spec.Payload
	if name := p.ExecutorConfig.Name; name != "" && name != aurora.AURORA_EXECUTOR_NAME {
		line(2, "executor:   '%s'", name)
		line(2, "data:       '%s'", p.ExecutorConfig.Data)
		if len(p.Metadata) > 0 {
			line(2, "labels:")
			for _, m := range p.Metadata {
				line(4, "'%s': '%s'", m.Key, m.Value)
			}
		}
	}
	if len(spec.URIs) > 0 {
		line(2, "fetcher uris:")
		for _, u := range spec.URIs {
			line(4, "'%s' (extract %t, cache %t)", u.Value, u.Extract, u.Cache)
		}
	}
}
