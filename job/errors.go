package job

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error Build returns is a *FieldError whose Err
// wraps one of these, so callers can test the kind of problem with
// errors.Is and the place with errors.As.
var (
	// ErrRequired reports a value that must be set and is not.
	ErrRequired = errors.New("required")
	// ErrInvalid reports a value that is set but not acceptable.
	ErrInvalid = errors.New("invalid")
	// ErrDuplicate reports a value that must be unique and is not.
	ErrDuplicate = errors.New("duplicate")
	// ErrUnbound reports a template variable that no binding resolves.
	ErrUnbound = errors.New("unbound template variable")
	// ErrInvalidPlan reports order constraints Thermos cannot schedule
	// (cycles, dependencies on daemon or ephemeral processes, constraints
	// mixing known and unknown processes).
	ErrInvalidPlan = errors.New("invalid plan")
	// ErrTemplateInNumericField reports a template in a numeric or boolean
	// field that is still unresolved when the job is built; Aurora's CLI
	// rejects such a configuration when it type-checks it.
	ErrTemplateInNumericField = errors.New("template in non-string field")
)

// FieldError is one problem found by Build: Path names the field the way
// Aurora's schema does (for example "task.processes[2].name") and Err
// describes the problem; Err wraps one of the package's sentinel errors.
type FieldError struct {
	Path string
	Err  error
}

// Error returns "path: problem".
func (e *FieldError) Error() string {
	if e.Path == "" {
		return e.Err.Error()
	}
	return e.Path + ": " + e.Err.Error()
}

// Unwrap returns e.Err.
func (e *FieldError) Unwrap() error { return e.Err }

// UnboundError lists template variables left unbound in one field.
type UnboundError struct {
	// Refs are the unbound references without braces, e.g. "greeting".
	Refs []string
}

// Error names every unbound reference and says how to fix it.
func (e *UnboundError) Error() string {
	var b strings.Builder
	b.WriteString("unbound template variable")
	if len(e.Refs) > 1 {
		b.WriteString("s")
	}
	for i, r := range e.Refs {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(" {{")
		b.WriteString(r)
		b.WriteString("}}")
	}
	b.WriteString(": bind a value with Bind(job.Vars{...}) or remove the reference (only {{mesos.instance}}, {{mesos.hostname}}, {{thermos.task_id}} and {{thermos.ports[NAME]}} may stay for run time)")
	return b.String()
}

// Unwrap returns ErrUnbound.
func (e *UnboundError) Unwrap() error { return ErrUnbound }

// errorList collects FieldErrors during Build.
type errorList struct {
	errs []error
}

func (l *errorList) add(path string, kind error, msg string) {
	var err error = kind
	if msg != "" {
		err = fmt.Errorf("%w: %s", kind, msg) // errors.Is still sees kind
	}
	l.errs = append(l.errs, &FieldError{Path: path, Err: err})
}

func (l *errorList) addErr(path string, err error) {
	l.errs = append(l.errs, &FieldError{Path: path, Err: err})
}

func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	return errors.Join(l.errs...)
}
