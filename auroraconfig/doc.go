// Package auroraconfig loads Apache Aurora's .aurora configuration files
// into the values of package job, so that existing Aurora jobs run through
// nixrealis unchanged, without Aurora's Python 2 client.
//
// A configuration is executed with go.starlark.net, the Go interpreter of
// Starlark (a dialect of Python), in a namespace holding Aurora's
// configuration objects (Process, Task, Resources, Job, Service,
// HealthCheckConfig, UpdateConfig, Docker, Mesos, ...), its helpers
// (order, SequentialTask, SimpleTask, Tasks.concat, Tasks.combine) and
// Pystachio's types (String, Integer, Float, Boolean, List, Map, Choice,
// Enum, Default, Required, Struct, Empty). The Python that real .aurora
// files use and Starlark lacks is supported too: class Name(Struct):
// bodies, import os (os.getenv, os.environ), include('other.aurora')
// relative to the including file, u'...' strings, Python's % formatting
// and Python 2 integer division.
//
// Objects follow Pystachio's value semantics: calling an object derives a
// copy with more fields set (job_template(cluster = 'c')), .bind() adds
// template bindings, and {{...}} templates stay in the values for
// job.Build to resolve, with Pystachio's scoping (a struct's fields are
// variables for itself and its children, a bound Struct's defaults see
// their siblings).
//
// Config.Job picks one job of the file's jobs list by key and applies
// CLI-style bindings, as `aurora job create CLUSTER/ROLE/ENV/NAME FILE
// --bind name=value` does; the result is built, validated and turned into
// the Thermos payload by job.Job.Build, so payload, validation and errors
// are the ones the Go builder gives.
//
// Config.Build does both and places each of Build's problems at the object
// it concerns (file:line:column of the Process, Task, Resources, ...).
//
// # Nix packages
//
// One addition to Aurora's language lets a process name the Nix packages
// it uses, next to its command line:
//
//	pkgs = NixPackages(file = 'default.nix')
//	hello = Process(name = 'hello', cmdline = 'hello', packages = [pkgs.hello])
//
// Config.Packages returns them, by process name, for sandbox.Prepare; they
// never reach the payload, and a file that names none loads exactly as
// Aurora's client loads it.
//
// # Errors
//
// Every error is an *Error naming the file, line and column of the
// problem, with Aurora's wording where Aurora has one. The loader never
// panics on any input.
package auroraconfig
