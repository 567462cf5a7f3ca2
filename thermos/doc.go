// Package thermos is the wire format of Apache Aurora's Thermos executor
// payload: the JSON document Aurora's client puts in
// TaskConfig.executorConfig.data.
//
// The Go types mirror Aurora's Pystachio schema (MesosJob, Task, Process,
// Resources, ...) with Aurora's JSON names and defaults. Optional fields are
// pointers (nil = absent from the JSON); defaulted scalars are plain values
// that are always written. The constructors NewJob, NewTask, NewProcess and
// the Default* functions return Aurora's defaults.
//
// The package imports only the standard library.
package thermos
