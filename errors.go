package nixrealis

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/paypal/gorealis/response"
	pkgerrors "github.com/pkg/errors"

	"github.com/nixrealis/nixrealis/sandbox"
)

// Sentinel errors of the Client. Every error a Client method returns is an
// *OpError whose Kind is one of them, so errors.Is tells its kind (a job
// that does not build is ErrInvalidJob, with the job package's errors
// joined in OpError.Err), except when the caller cancels the context:
// then Kind is nil and errors.Is(err, context.Canceled) holds.
var (
	// ErrInvalidJob: the job does not build (errors.As still finds each
	// *job.FieldError) or render (ErrRender), or its key or packages were
	// refused before Nix ran.
	ErrInvalidJob = errors.New("invalid job")
	// ErrUnreachable: the scheduler could not be reached (connection
	// refused, no leader in ZooKeeper, HTTP errors) after gorealis' retries.
	ErrUnreachable = errors.New("scheduler unreachable")
	// ErrRejected: the scheduler rejected the request as invalid
	// (INVALID_REQUEST); OpError.Message holds Aurora's message.
	ErrRejected = errors.New("rejected by the scheduler")
	// ErrUpdateInProgress: the job has an active update (JOB_UPDATING_ERROR,
	// or found before a kill); abort it first, or ask Kill to.
	ErrUpdateInProgress = errors.New("job update in progress")
	// ErrAuth: the scheduler refused the credentials: HTTP 401 or 403
	// (Aurora's answer to a write without valid basic auth), or
	// AUTH_FAILED (a user not permitted to act on the job). It is
	// reported at once, naming the refused user; it is never retried.
	ErrAuth = errors.New("not authorized by the scheduler")
	// ErrScheduler: the scheduler failed the call (ERROR) or answered
	// something the client cannot use.
	ErrScheduler = errors.New("scheduler error")
	// ErrNixFailed: evaluating, building or publishing the job's Nix
	// sandbox failed; the wrapped error carries Nix's message.
	ErrNixFailed = errors.New("nix failed")
	// ErrTimeout: the caller's deadline passed, or a wait ran out, before
	// the operation finished. A deadline from the context also satisfies
	// errors.Is(err, context.DeadlineExceeded).
	ErrTimeout = errors.New("timed out")
	// ErrAlreadyExists: Create found the job already on the scheduler
	// before sending it, or the scheduler answered that it exists.
	ErrAlreadyExists = errors.New("job already exists")
	// ErrNotFound: the job, instance or update does not exist (or has no
	// active tasks).
	ErrNotFound = errors.New("not found")
	// ErrUpdateFailed: an update ended in a state other than ROLLED_FORWARD
	// (rolled back, aborted, failed); UpdateResult.Status says which.
	ErrUpdateFailed = errors.New("update did not roll forward")
	// ErrTaskFailed: while Create or Restart waited, a task of the job
	// FAILED or was LOST (or an instance was killed and not replaced);
	// OpError.Message names the instance and carries the task's last
	// status message (the executor's, naming the failed process).
	ErrTaskFailed = errors.New("task failed")
)

// ErrRender is wrapped by every error from rendering a job.Spec into the
// Thrift structures gorealis sends: the spec holds a value the TaskConfig
// or the JobUpdateSettings cannot carry. job.Job.Build rejects most of these
// first; a hand-made Spec (or payload read with thermos.Unmarshal) may not.
var ErrRender = errors.New("cannot render job")

// RenderError is one problem found while rendering; Path names the
// offending value with the same path job.FieldError uses
// (e.g. "constraints[host]", "update_config.batch_size").
type RenderError struct {
	Path string
	Err  error
}

// Error returns "path: problem".
func (e *RenderError) Error() string { return e.Path + ": " + e.Err.Error() }

// Unwrap returns the problem, so errors.Is(err, ErrRender) holds for every
// RenderError.
func (e *RenderError) Unwrap() []error { return []error{e.Err, ErrRender} }

// OpError is the error of one Client operation.
type OpError struct {
	// Op is the operation: "create", "kill", "update", "restart", "status",
	// "inspect", "diff", "pause", "resume", "abort", "rollback", "pulse".
	Op string
	// Key is the job, "role/environment/name".
	Key string
	// Kind is one of the package's sentinel errors, or nil when the
	// caller cancelled the context (Err is then context.Canceled).
	Kind error
	// Code is Aurora's response code when the scheduler answered.
	Code *aurora.ResponseCode
	// Message is the scheduler's (or Nix's) own message, if any.
	Message string
	// Err is the underlying error (gorealis', Nix's or the context's).
	Err error
}

// Error returns "nixrealis: op key: kind: message".
func (e *OpError) Error() string {
	var b strings.Builder
	b.WriteString("nixrealis: ")
	b.WriteString(e.Op)
	if e.Key != "" {
		b.WriteString(" " + e.Key)
	}
	if e.Kind != nil {
		b.WriteString(": " + e.Kind.Error())
	}
	switch {
	case e.Message != "":
		b.WriteString(": " + e.Message)
	case e.Err != nil:
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the kind and the underlying error, so that errors.Is works
// with both the package's sentinels and, for example, context.Canceled.
func (e *OpError) Unwrap() []error {
	var out []error
	if e.Kind != nil {
		out = append(out, e.Kind)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

func opErr(op, key string, kind error, msg string, err error) *OpError {
	return &OpError{Op: op, Key: key, Kind: kind, Message: msg, Err: err}
}

// ctxErr turns a done context into the operation's error.
func ctxErr(op, key string, ctx context.Context) error {
	err := ctx.Err()
	if errors.Is(err, context.DeadlineExceeded) {
		return opErr(op, key, ErrTimeout, "the caller's deadline passed", err)
	}
	return opErr(op, key, nil, "", err)
}

// translate turns what a gorealis call returned into the package's error,
// once, here: response codes when the scheduler answered, otherwise the
// cause behind pkg/errors' wrapping (timeouts and exhausted retries mean
// the scheduler could not be reached).
func translate(op, key string, resp *aurora.Response, err error) error {
	if err == nil && resp != nil && resp.GetResponseCode() == aurora.ResponseCode_OK {
		return nil
	}
	if resp != nil {
		code := resp.GetResponseCode()
		msg := response.CombineMessage(resp)
		if msg == "" && err != nil {
			msg = err.Error()
		}
		kind := classify(code, msg)
		if kind == nil {
			if err == nil {
				return nil
			}
			kind = ErrScheduler // OK, but gorealis found the answer unusable
		}
		e := opErr(op, key, kind, msg, err)
		e.Code = &code
		return e
	}
	if err == nil {
		return opErr(op, key, ErrScheduler, "no response from the scheduler", nil)
	}
	cause := pkgerrors.Cause(err)
	// Checked before the retry errors: gorealis retries an HTTP 401 as
	// it does any transport error unless told to fail on permanent ones.
	if status := httpStatus(err.Error()); status == http.StatusUnauthorized || status == http.StatusForbidden {
		return opErr(op, key, ErrAuth, fmt.Sprintf("the scheduler answered HTTP %d %s", status, http.StatusText(status)), err)
	}
	// A transport error gorealis returned at once (Dial's
	// FailOnPermanentErrors) and the Client's own retries did not cure: a
	// refused connection, an HTTP error status, a garbled answer.
	permanent := strings.Contains(err.Error(), "permanent connection error")
	if permanent || realis.IsTimeout(cause) || realis.IsTimeout(err) || realis.IsTemporary(cause) || realis.IsTemporary(err) {
		return opErr(op, key, ErrUnreachable, "", err)
	}
	// gorealis drops the response of most calls when the scheduler refused
	// them, keeping only Aurora's message as the cause.
	msg := cause.Error()
	return opErr(op, key, classify(noResponse, msg), msg, err)
}

// noResponse stands for the response code in classify when gorealis kept
// only the scheduler's message.
const noResponse aurora.ResponseCode = -1

// classification maps what the scheduler answered, a response code and
// its message, to the error's kind: the first row whose code is one of
// codes (any code when nil) and whose message contains one of msgs (any
// message when nil) applies. The messages are Aurora's own
// (SchedulerThriftInterface, JobUpdateControllerImpl, CronJobManagerImpl)
// and gorealis' for an answer it cannot use.
var classification = []struct {
	codes []aurora.ResponseCode
	msgs  []string
	kind  error
}{
	{[]aurora.ResponseCode{aurora.ResponseCode_OK}, nil, nil},
	{[]aurora.ResponseCode{noResponse}, []string{"unexpected response", "response from aurora is nil", "unhandled response code"}, ErrScheduler},
	{[]aurora.ResponseCode{aurora.ResponseCode_INVALID_REQUEST, noResponse}, []string{"active update already exists", "currently updating"}, ErrUpdateInProgress},
	{[]aurora.ResponseCode{aurora.ResponseCode_INVALID_REQUEST, noResponse}, []string{
		"No update ", "No active update", "does not exist", "No jobs found", "Job not found",
		"No cron job found", "No cron template found", "No active task found",
	}, ErrNotFound},
	// createJob's "Job r/e/n already exists", the cron store's "Job
	// already exists for r/e/n."
	{[]aurora.ResponseCode{aurora.ResponseCode_INVALID_REQUEST, noResponse}, []string{"already exists"}, ErrAlreadyExists},
	{[]aurora.ResponseCode{aurora.ResponseCode_INVALID_REQUEST, noResponse}, nil, ErrRejected},
	{[]aurora.ResponseCode{aurora.ResponseCode_JOB_UPDATING_ERROR}, nil, ErrUpdateInProgress},
	{[]aurora.ResponseCode{aurora.ResponseCode_AUTH_FAILED}, nil, ErrAuth},
	{nil, nil, ErrScheduler},
}

// classify returns the kind classification gives code and msg; nil for OK.
func classify(code aurora.ResponseCode, msg string) error {
	for _, row := range classification {
		if row.codes != nil && !slices.Contains(row.codes, code) {
			continue
		}
		if row.msgs != nil && !slices.ContainsFunc(row.msgs, func(m string) bool { return strings.Contains(msg, m) }) {
			continue
		}
		return row.kind
	}
	return ErrScheduler
}

// httpStatus returns the HTTP status code of Thrift's error for an
// answer other than 200 ("HTTP Response code: 401"), 0 if msg has none.
func httpStatus(msg string) int {
	const marker = "HTTP Response code: "
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return 0
	}
	rest := msg[i+len(marker):]
	n := 0
	for n < len(rest) && n < 3 && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	code, err := strconv.Atoi(rest[:n])
	if err != nil {
		return 0
	}
	return code
}

// translate is the package's translate, naming the Client's user in an
// authentication error.
func (c *Client) translate(op, key string, resp *aurora.Response, err error) error {
	out := translate(op, key, resp, err)
	var oe *OpError
	if errors.As(out, &oe) && oe.Kind == ErrAuth && oe.Code == nil {
		if c.user != "" {
			oe.Message = fmt.Sprintf("user %q refused: %s: check the user name and password", c.user, oe.Message)
		} else {
			oe.Message += ": the scheduler requires basic authentication: give a user name and password"
		}
	}
	return out
}

// nixErr wraps an error of the Nix step.
func nixErr(op, key string, err error) error {
	if errors.Is(err, context.Canceled) {
		return opErr(op, key, nil, "", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return opErr(op, key, ErrTimeout, "the caller's deadline passed during the Nix step", err)
	}
	if errors.Is(err, sandbox.ErrInvalid) {
		// Bad input found before Nix ran: the job (its key, packages) or
		// the sandbox options, not Nix.
		return opErr(op, key, ErrInvalidJob, "", err)
	}
	return opErr(op, key, ErrNixFailed, "", err)
}
