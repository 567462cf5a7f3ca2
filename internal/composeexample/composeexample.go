// Package composeexample is the docker-compose walk-through of Aurora's
// custom-executors guide (gorealis docs/getting-started.md, "Running
// custom executors on Aurora"), made runnable on a machine without Docker,
// for the example client and the devcluster: the guide's executor
// configuration, its job, a sample-app.tar.gz built here, and Executor, a
// stand-in for the docker-compose executor that runs each service's
// declared command with the allocated port.
package composeexample

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	realis "github.com/paypal/gorealis"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/job"
)

// ExecutorName is the name of the guide's executor.
const ExecutorName = "docker-compose-executor"

// TaskPrefix is the guide's task_prefix for it.
const TaskPrefix = "compose-"

// FileName is the value of the job's fileName label: the compose file in
// the extracted archive.
const FileName = "sample-app/docker-compose.yml"

// ArchiveName is the sample app's archive, as in the guide's URI.
const ArchiveName = "sample-app.tar.gz"

// ExecutorConfig is the guide's -custom_executor_config file, verbatim.
const ExecutorConfig = `[
  {
    "executor":{
      "command":{
        "value":"java -jar docker-compose-executor_0.1.0.jar",
        "shell":"true",
        "uris":[
          {
            "cache":false,
            "executable":true,
            "extract":false,
            "value":"https://github.com/mesos/docker-compose-executor/releases/download/0.1.0/docker-compose-executor_0.1.0.jar"
          }
        ]
      },
      "name":"docker-compose-executor",
      "resources":[]
    },
    "task_prefix":"compose-"
  }
]
`

// Config returns ExecutorConfig parsed.
func Config() []auroratest.ExecutorConfig {
	cfgs, err := auroratest.ParseExecutorConfig([]byte(ExecutorConfig))
	if err != nil {
		panic("composeexample: the guide's configuration does not parse: " + err.Error())
	}
	return cfgs
}

// Job returns the guide's compose job under key, fetching the sample app
// from uri: executor docker-compose-executor with data {}, cpu 1, ram
// 64 MiB, disk 100 MiB, not a service, one instance, one port (named as
// gorealis' AddPorts(1) names it), the label fileName, and the archive
// extracted and cached by the Mesos fetcher.
func Job(key job.Key, uri string) job.Job {
	task := job.NewTask(key.Name).WithResources(job.NewResources(1, 64*job.MiB, 100*job.MiB))
	return job.New(key, task).
		WithExecutor(ExecutorName, "{}").
		WithService(false).
		WithInstances(1).
		AddPort(job.GorealisPort(0)).
		AddMetadata("fileName", FileName).
		AddURIs(true, true, uri)
}

// GorealisJob returns the same job written with gorealis' own builder,
// verbatim from the guide (role vagrant, environment prod, name
// docker-compose), fetching the sample app from uri: what a gorealis
// client submits.
func GorealisJob(uri string) realis.Job {
	return realis.NewJob().
		Environment("prod").
		Role("vagrant").
		Name("docker-compose").
		ExecutorName(ExecutorName).
		ExecutorData("{}").
		CPU(1).
		RAM(64).
		Disk(100).
		IsService(false).
		InstanceCount(1).
		AddPorts(1).
		AddLabel("fileName", FileName).
		AddURIs(true, true, uri)
}

// composeFile is the sample app's docker-compose.yml: one service whose
// command (no image: the stand-in runs commands, not containers) serves a
// greeting over HTTP on the allocated port with Perl, which every Debian
// system has (perl-base is essential).
const composeFile = `# The sample app of the custom-executors walk-through, for nixrealis'
# stand-in compose executor: each service's command runs in the sandbox
# with PORT (and PORT0, PORT1, ...) set to the ports Aurora allocated.
version: "2"
services:
  web:
    command: |
      exec perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ENV{PORT},
                                      Listen => 5, ReuseAddr => 1) or die "listen on $ENV{PORT}: $!\n";
        print "sample-app web listening on 127.0.0.1:$ENV{PORT}\n";
        $| = 1;
        while (my $c = $s->accept) {
          while (my $l = <$c>) { last if $l =~ /^\r?\n$/ }
          print $c "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n",
                   "Hello from the docker-compose executor (nixrealis stand-in), port $ENV{PORT}!\n";
          close $c;
        }'
    ports:
      - "${PORT0}:8080"
`

// BuildSampleApp writes sample-app.tar.gz (sample-app/docker-compose.yml)
// into dir and returns its path.
func BuildSampleApp(dir string) (string, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	now := time.Now()
	for _, e := range []struct {
		name string
		mode int64
		body string
		dir  bool
	}{
		{name: "sample-app/", mode: 0o755, dir: true},
		{name: FileName, mode: 0o644, body: composeFile},
	} {
		h := &tar.Header{Name: e.name, Mode: e.mode, Size: int64(len(e.body)), ModTime: now, Typeflag: tar.TypeReg}
		if e.dir {
			h.Typeflag = tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			return "", err
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			return "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	p := filepath.Join(dir, ArchiveName)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("writing the sample app: %w", err)
	}
	return p, nil
}

// Serve serves dir over HTTP on a free loopback port and returns the base
// URL (http://127.0.0.1:PORT) and a function that stops serving.
func Serve(dir string) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("serving the sample app: %w", err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	return "http://" + l.Addr().String(), func() { srv.Close() }, nil
}
