package auroratest

import (
	"context"
	"errors"
	"fmt"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// api implements Aurora's AuroraAdmin Thrift service over the server's
// state. Every method answers a Response carrying ServerInfo, never a Go
// error: gorealis retries transport errors and Thrift exceptions.
type api struct{ s *Server }

var _ aurora.AuroraAdmin = (*api)(nil)

func (a *api) info() *aurora.ServerInfo {
	return &aurora.ServerInfo{ClusterName: a.s.Cluster, StatsUrlPrefix: ""}
}

func (a *api) respond(code aurora.ResponseCode, msgs ...string) *aurora.Response {
	r := &aurora.Response{ResponseCode: code, ServerInfo: a.info(), Details: []*aurora.ResponseDetail{}}
	for _, m := range msgs {
		r.Details = append(r.Details, &aurora.ResponseDetail{Message: m})
	}
	return r
}

func (a *api) ok(res *aurora.Result_, msgs ...string) *aurora.Response {
	r := a.respond(aurora.ResponseCode_OK, msgs...)
	r.Result_ = res
	return r
}

func (a *api) invalid(msg string) *aurora.Response {
	return a.respond(aurora.ResponseCode_INVALID_REQUEST, msg)
}

// fromErr turns a validation error into INVALID_REQUEST and anything else
// into ERROR, as Aurora's interceptors do.
func (a *api) fromErr(err error) *aurora.Response {
	var inv invalid
	if errors.As(err, &inv) {
		return a.invalid(string(inv))
	}
	return a.respond(aurora.ResponseCode_ERROR, err.Error())
}

// guard turns a panic in a call (a bug in auroratest) into an ERROR
// response naming it, so that gorealis does not retry a dropped
// connection.
func (a *api) guard(r **aurora.Response, err *error) {
	if p := recover(); p != nil {
		a.s.logf("panic: %v", p)
		*r = a.respond(aurora.ResponseCode_ERROR, fmt.Sprintf("auroratest: internal error: %v", p))
		*err = nil
	}
}

func (a *api) updating() *aurora.Response {
	return a.respond(aurora.ResponseCode_JOB_UPDATING_ERROR, "Job is currently updating")
}

// badKey answers a call whose job key is missing or invalid: with
// authentication on Aurora's authorizing interceptor rejects it first;
// with it off JobKeys.assertValid throws an exception without message.
func (a *api) badKey() *aurora.Response {
	if a.s.Username != "" {
		return a.invalid("Missing or invalid job key from request.")
	}
	return a.respond(aurora.ResponseCode_ERROR, "")
}

// key returns the key of a call's job, or, when it is missing or invalid,
// the answer to the call (badKey).
func (a *api) key(job *aurora.JobKey) (jobKey, *aurora.Response) {
	if !validKey(job) {
		return jobKey{}, a.badKey()
	}
	return keyOf(job), nil
}

// keyToChange is key for a call that changes the job: while the job has
// an active update the call is answered JOB_UPDATING_ERROR, as Aurora's
// jobUpdateController.assertNotUpdating does.
func (a *api) keyToChange(st *state, job *aurora.JobKey) (jobKey, *aurora.Response) {
	key, bad := a.key(job)
	if bad == nil && st.activeUpdate(key) != nil {
		bad = a.updating()
	}
	return key, bad
}

func userOf(ctx context.Context) string {
	if u, ok := ctx.Value(userKey).(string); ok {
		return u
	}
	return "UNSECURE"
}

func (a *api) lock() *state {
	a.s.mu.Lock()
	return a.s.st
}

// unlock writes the call's changes to storage and releases the lock.
func (a *api) unlock() {
	a.s.commit()
	a.s.mu.Unlock()
}

// activeUpdate returns the job's active update, or nil.
func (st *state) activeUpdate(job jobKey) *update {
	for _, u := range st.updates {
		if u.job == job && u.active() {
			return u
		}
	}
	return nil
}
