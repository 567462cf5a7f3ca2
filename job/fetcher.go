package job

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nixrealis/nixrealis/thermos"
)

// URI is one resource the Mesos fetcher downloads into each task's sandbox
// before the executor starts: Aurora's MesosFetcherURI, sent in
// TaskConfig.mesosFetcherUris. The scheduler accepts URIs only when it runs
// with -enable_mesos_fetcher; they work with any executor, Thermos
// included. Aurora's Python client cannot send them; nixrealis (like
// gorealis' AddURIs) can.
type URI struct {
	// Value is where the resource is: an http(s):// or file:// URL, an
	// absolute path on the agent, or any other URI the agents' fetcher
	// supports (ftp://, hdfs://, s3://, ...).
	Value string
	// Extract unpacks an archive (.tar, .tgz, .tar.gz, .tar.bz2, .zip, and
	// a lone .gz file) into the sandbox after downloading it.
	Extract bool
	// Cache lets the agent serve the resource from its fetcher cache
	// instead of downloading it again.
	Cache bool
	// Executable would mark the downloaded file executable. Aurora's
	// scheduler marks every URI a job submits non-executable (a security
	// measure of its Mesos fetcher support), so Build rejects true: make
	// the file executable in the task, or list it in the executor's own
	// command URIs in -custom_executor_config, which may be executable.
	Executable bool
	// OutputFile would name the downloaded file. Aurora 0.22 added
	// MesosFetcherURI.outputFile, but gorealis v1.25.0's Thrift API, which
	// nixrealis speaks, cannot carry it, so Build rejects a non-empty
	// value: the file is named after the last element of Value's path.
	OutputFile string
}

// AddURI returns j with one more resource for the Mesos fetcher to put in
// each task's sandbox.
func (j Job) AddURI(u URI) Job {
	j.uris = append(slices.Clip(j.uris), u)
	return j
}

// AddURIs returns j fetching each of values, all with the same extract and
// cache settings, like gorealis' AddURIs.
func (j Job) AddURIs(extract, cache bool, values ...string) Job {
	for _, v := range values {
		j = j.AddURI(URI{Value: v, Extract: extract, Cache: cache})
	}
	return j
}

// URIs returns a copy of the job's fetcher URIs.
func (j Job) URIs() []URI { return slices.Clone(j.uris) }

// AddPort returns j requesting a named port for each instance, besides the
// ports its templates reference ({{thermos.ports[NAME]}}) and its announcer
// uses. A custom executor's job names its ports this way: gorealis'
// AddPorts(n) names them "org.apache.aurora.port.0" to
// "org.apache.aurora.port.<n-1>" (see GorealisPort). The scheduler
// allocates each one and hands the executor the port map.
func (j Job) AddPort(name string) Job {
	j.ports = append(slices.Clip(j.ports), name)
	return j
}

// ExtraPorts returns a copy of the port names added with AddPort.
func (j Job) ExtraPorts() []string { return slices.Clone(j.ports) }

// GorealisPort returns the name gorealis' AddPorts gives a job's i-th
// unnamed port: "org.apache.aurora.port.<i>".
func GorealisPort(i int) string { return "org.apache.aurora.port." + strconv.Itoa(i) }

// IsCustomExecutor reports whether j is run by an executor other than
// Thermos (see WithExecutor): its tasks then need no processes, and its
// executor data goes to the scheduler verbatim.
func (j Job) IsCustomExecutor() bool {
	return j.executor.Name != "" && j.executor.Name != thermos.AuroraExecutorName
}

// buildFetcher validates the job's URIs and extra ports and adds them to
// spec.
func (b *builder) buildFetcher(spec *Spec) {
	j := b.j
	for i, u := range j.uris {
		p := "uris[" + strconv.Itoa(i) + "]"
		switch {
		case strings.TrimSpace(u.Value) == "":
			b.errs.add(p+".value", ErrRequired, "a fetcher URI needs a value: the URL or agent path of the resource")
		case strings.ContainsFunc(u.Value, func(r rune) bool { return r < ' ' || r == 0x7f }):
			b.errs.add(p+".value", ErrInvalid, fmt.Sprintf("%q contains a control character: give a plain URL or path", u.Value))
		case strings.HasSuffix(u.Value, "/"):
			b.errs.add(p+".value", ErrInvalid, fmt.Sprintf("%q ends with '/': the fetcher needs a file to name the download after", u.Value))
		}
		if u.Executable {
			b.errs.add(p+".executable", ErrInvalid, "Aurora's scheduler marks every URI a job submits non-executable: make the file executable in the task, or put it in the executor's command URIs in -custom_executor_config")
		}
		if u.OutputFile != "" {
			b.errs.add(p+".output_file", ErrInvalid, fmt.Sprintf("%q: gorealis v1.25.0's Thrift API has no outputFile, so the scheduler would never see it; the file is named after the URI's last path element", u.OutputFile))
		}
	}
	if len(j.uris) > 0 {
		spec.URIs = slices.Clone(j.uris)
	}
	seen := make(map[string]int, len(j.ports))
	for i, name := range j.ports {
		p := "ports[" + strconv.Itoa(i) + "]"
		if name == "" {
			b.errs.add(p, ErrRequired, "a port needs a name")
			continue
		}
		if k, dup := seen[name]; dup {
			b.errs.add(p, ErrDuplicate, fmt.Sprintf("port %q is also added as ports[%d]: add each name once", name, k))
			continue
		}
		seen[name] = i
		if _, ok := slices.BinarySearch(spec.Ports, name); !ok {
			spec.Ports = append(spec.Ports, name)
			slices.Sort(spec.Ports)
		}
	}
}
