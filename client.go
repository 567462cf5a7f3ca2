package nixrealis

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"

	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/nix"
)

// A Preparer is the Nix step of Create, Update, Inspect and Diff. Prepare
// computes the job's sandbox by evaluation alone and returns the job to
// submit: typically the given job with a first process, init_sandbox, that
// brings the sandbox into the task on the agent. With publish set (Create
// and Update) it also builds the sandbox, signs it and copies its closure
// to the binary cache the cluster's agents use, and returns only once the
// cache serves it; without (Inspect, Diff) it must not build anything.
// progress, never nil, receives Nix's events; it must not block.
//
// The sandbox package provides the real implementation; a nil Preparer
// submits jobs as they are.
type Preparer interface {
	Prepare(ctx context.Context, j job.Job, publish bool, progress func(nix.Event)) (job.Job, error)
}

// PreparerFunc adapts a function to the Preparer interface.
type PreparerFunc func(ctx context.Context, j job.Job, publish bool, progress func(nix.Event)) (job.Job, error)

// Prepare calls f.
func (f PreparerFunc) Prepare(ctx context.Context, j job.Job, publish bool, progress func(nix.Event)) (job.Job, error) {
	return f(ctx, j, publish, progress)
}

// Stage names a step of a Client operation in a Progress report.
type Stage string

// The stages Progress reports, in the order an operation goes through them
// (each operation skips those it has no use for; a service's Create follows
// its creating update, then waits for its instances). StageDone is the last
// report of an operation that succeeded.
const (
	StagePrepare Stage = "prepare" // the Nix step: evaluate, build, sign, publish
	StageSubmit  Stage = "submit"  // the request to the scheduler
	StageUpdate  Stage = "update"  // following a job update
	StageWait    Stage = "wait"    // waiting for instances (RUNNING, KILLED)
	StageDone    Stage = "done"    // the operation finished
)

// Progress is one report of a Client operation's progress.
type Progress struct {
	// Op is the operation ("create", "update", ...) and Key its job.
	Op, Key string
	// Stage is the step the operation is in.
	Stage Stage
	// Message says what happened, for a log line.
	Message string
	// Done and Total count instances (StageWait, StageUpdate) when known.
	Done, Total int
	// Nix is set for events of the Nix step (build and copy progress).
	Nix *nix.Event
}

// Client creates, kills, updates and inspects Nix-defined jobs on an Aurora
// scheduler through gorealis. It is safe for concurrent use; gorealis
// serialises the calls on one connection. Its zero value is not usable: use
// New or Dial.
//
// gorealis calls cannot be cancelled: when a context is done first, the
// method returns at once (with an error wrapping the context's) and the
// abandoned call finishes in the background, delaying later calls on the
// same connection until gorealis' own retries end.
type Client struct {
	r        realis.Realis
	owns     bool
	owner    string
	logger   *slog.Logger
	progress func(Progress)
	prep     Preparer
	poll     time.Duration
	tiers    *job.Tiers
	// user is the basic-auth user of r, named when the scheduler refuses it.
	user string
	// retry is the back-off of the Client's own retries of permanent
	// transport errors (Dial makes gorealis return those at once, so that
	// an HTTP 401 is not retried); nil when gorealis retries everything.
	retry []time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithLogger sets a logger for the Client's own messages (one line per
// scheduler call and milestone, at debug and info levels). The default
// discards them; nothing is ever written to stdout.
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.logger = l } }

// WithProgress sets a callback for progress reports (Nix build and copy
// progress, scheduler milestones). It is called synchronously from the
// operation's goroutine (and from Nix's reader for Nix events) and must not
// block.
func WithProgress(f func(Progress)) Option { return func(c *Client) { c.progress = f } }

// WithOwner sets the user sent as TaskConfig.owner (default DefaultOwner(),
// the local user, as Aurora's client does).
func WithOwner(user string) Option { return func(c *Client) { c.owner = user } }

// WithPreparer sets the Nix step (see Preparer). Without one, jobs are
// submitted as they are built.
func WithPreparer(p Preparer) Option { return func(c *Client) { c.prep = p } }

// WithTiers makes the Client fill in the job's tier (or derive production
// from an explicit tier) from the scheduler's tier configuration t, as
// `aurora job create` does after asking the scheduler's getTierConfigs
// (job.Spec.WithTiers): a job without a tier gets the first tier whose
// preemptibility matches its production setting. gorealis v1.25.0 cannot
// make that call, so pass what the cluster's getTierConfigs returns, or
// job.DefaultTiers() for Aurora's default tiers.json. Without WithTiers the
// Client sends what Aurora's client library sends (no tier unless the job
// sets one), and the scheduler assigns its default tier.
func WithTiers(t job.Tiers) Option { return func(c *Client) { c.tiers = &t } }

// WithPollInterval sets how often the Client polls the scheduler while it
// waits for instances or follows an update (default one second).
func WithPollInterval(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.poll = d
		}
	}
}

// New returns a Client over r, which the caller keeps and closes. Give r a
// quiet logger (realis.SetLogger(realis.NoopLogger{})): gorealis prints to
// stdout otherwise.
func New(r realis.Realis, opts ...Option) (*Client, error) {
	if r == nil {
		return nil, errors.New("nixrealis: New: nil realis.Realis: pass a client from realis.NewRealisClient, or use Dial")
	}
	c := &Client{r: r, poll: time.Second}
	for _, o := range opts {
		o(c)
	}
	if c.owner == "" {
		c.owner = DefaultOwner()
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	c.user = realisUser(r)
	return c, nil
}

// realisUser returns the basic-auth user a gorealis client sends, "" if
// none. gorealis keeps it in an unexported field of the configuration its
// RealisConfig method returns; it is read (never written) by reflection.
func realisUser(r realis.Realis) string {
	cfg := reflect.ValueOf(r.RealisConfig())
	if cfg.Kind() != reflect.Pointer || cfg.IsNil() || cfg.Elem().Kind() != reflect.Struct {
		return ""
	}
	f := cfg.Elem().FieldByName("username")
	if !f.IsValid() || f.Kind() != reflect.String {
		return ""
	}
	return f.String()
}

// permanentRetry is the back-off of the Client's own retries when Dial
// made the gorealis client (see Dial).
var permanentRetry = []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second}

// Dial makes the gorealis client from gorealis' own options
// (realis.SchedulerUrl, realis.ZKUrl, realis.BasicAuth, ...) and returns a
// Client that owns it: Close closes it. gorealis' stdout logging is turned
// off unless the options set a logger of their own. Dial does no I/O with
// the scheduler (a ZooKeeper lookup excepted), so an unreachable scheduler
// shows up at the first call.
//
// Dial makes gorealis return permanent transport errors at once
// (realis.FailOnPermanentErrors) so that refused credentials (HTTP 401 or
// 403) are ErrAuth at once instead of being retried; the Client itself
// retries the other permanent errors (a refused connection, HTTP 5xx) a
// few times over about four seconds, reconnecting (and so asking
// ZooKeeper for the leader again) before each retry. Temporary errors
// and timeouts are retried by gorealis, with the back-off in realisOpts.
func Dial(realisOpts []realis.ClientOption, opts ...Option) (*Client, error) {
	all := append([]realis.ClientOption{realis.SetLogger(realis.NoopLogger{}), realis.FailOnPermanentErrors()}, realisOpts...)
	r, err := realis.NewRealisClient(all...)
	if err != nil {
		return nil, opErr("dial", "", ErrUnreachable, "", err)
	}
	c, err := New(r, opts...)
	if err != nil {
		r.Close()
		return nil, err
	}
	c.owns = true
	c.retry = permanentRetry
	return c, nil
}

// Realis returns the gorealis client the Client uses, for calls the Client
// does not offer.
func (c *Client) Realis() realis.Realis { return c.r }

// Close closes the gorealis client if Dial made it.
func (c *Client) Close() {
	if c.owns {
		c.r.Close()
	}
}

func (c *Client) report(p Progress) {
	c.logger.Debug("nixrealis progress", "op", p.Op, "job", p.Key, "stage", string(p.Stage), "msg", p.Message)
	if c.progress != nil {
		c.progress(p)
	}
}

// call runs one gorealis call, giving up when ctx is done (the call itself
// goes on in the background: gorealis takes no context). A permanent
// transport error other than refused credentials is retried on c's
// back-off, after reconnecting.
func call[T any](ctx context.Context, c *Client, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	if err := ctx.Err(); err != nil {
		var zero T
		return zero, err
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		for _, d := range c.retry {
			if !retryPermanent(err) || sleep(ctx, d) != nil {
				break
			}
			c.logger.Debug("nixrealis: retrying after a permanent transport error", "err", err)
			if rerr := c.r.ReestablishConn(); rerr != nil {
				c.logger.Debug("nixrealis: reconnecting failed", "err", rerr)
			}
			v, err = f()
		}
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// respCall is call for the common (*aurora.Response, error) shape, with the
// error translated.
func (c *Client) respCall(ctx context.Context, op, key, what string, f func() (*aurora.Response, error)) (*aurora.Response, error) {
	c.logger.Debug("nixrealis: scheduler call", "op", op, "job", key, "call", what)
	resp, err := call(ctx, c, f)
	if ctx.Err() != nil && resp == nil && err != nil {
		return nil, ctxErr(op, key, ctx)
	}
	if err := c.translate(op, key, resp, err); err != nil {
		return resp, err
	}
	return resp, nil
}

// retryPermanent reports whether err is a permanent transport error that
// gorealis returned at once (FailOnPermanentErrors) and that is worth
// retrying: anything but refused credentials.
func retryPermanent(err error) bool {
	if err == nil || !strings.Contains(err.Error(), "permanent connection error") {
		return false
	}
	status := httpStatus(err.Error())
	return status != http.StatusUnauthorized && status != http.StatusForbidden
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
