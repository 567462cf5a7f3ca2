// Package thermos is the wire format of Apache Aurora's Thermos executor
// payload: the JSON document Aurora's client puts in
// TaskConfig.executorConfig.data.
//
// # Types
//
// The Go types mirror Aurora's Pystachio schema (MesosJob as Job, Task,
// Process, Resources, HealthCheckConfig, ...) with Aurora's JSON names and
// defaults. Optional fields are pointers, or nil maps, and are absent from
// the JSON when nil; defaulted scalars are plain values that are always
// written. Go's zero value is not Aurora's default, so start from NewJob,
// NewTask, NewProcess and the Default* functions, which return Aurora's
// defaults. Resources are bytes (RAM, Disk) and seconds, as in the payload.
//
// Choice fields (Container, SLAPolicy, Image, UpdateStrategy) are structs
// with one pointer per alternative, exactly one of which is set; the JSON
// carries no type tag, so Unmarshal tells them apart by their keys.
//
// Aurora writes an unresolved runtime template such as "{{mesos.instance}}"
// verbatim, as a string, even into an Integer field. Such values live in the
// Templates map of the struct that has the field, keyed by JSON field name,
// and take the place of the Go field's value when marshalled.
//
// # Encoding
//
// Marshal writes what Aurora's Python 2 client writes, value for value:
// the same keys present and absent, Float fields as Python's repr (1.0,
// 0.25, 1e-05), Integer fields without a decimal point, and the same bytes
// for every scalar (", " and ": " separators, \uXXXX escapes for all
// non-ASCII, "<>&/" unescaped). Only the key order differs: Marshal sorts
// keys, Aurora's is CPython's dict order, which no consumer depends on.
//
// Unmarshal reads any such payload back (also hand-written ones such as
// gorealis' example, which leave defaulted fields out), applying Aurora's
// defaults, and rejects unknown keys, as the Thermos executor does inside
// processes. UnmarshalConfig reads a whole job object with "instances" and
// "update_config", the shape of Aurora's --read-json input and of
// nix-aurora's config.json; UnmarshalConfigs also reads the
// {"jobs": [...]} form, and MarshalConfig writes a whole job. Errors are *FieldError values naming the JSON
// path, wrapping sentinel errors such as ErrUnknownField.
//
// # Schema
//
// Every struct of the payload is described once (schema.go): its fields'
// JSON names, kinds, Aurora's defaults, which are required and which may
// hold a template. Marshal, Unmarshal, NewJob, NewTask, NewProcess and the
// Default* functions all work from these descriptions, so a new field of
// Aurora's schema is one line there plus its Go field.
//
// Outside the standard library, the package imports only nixrealis'
// internal helpers for sorted map keys and Python's float repr.
package thermos
