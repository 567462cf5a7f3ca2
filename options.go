package nixrealis

// Each Client method that takes options has its own option type, so that
// an option a method does not understand does not compile. Options that
// several methods share (NoWait, Message) satisfy each of their types.
//
// Every method that waits (Create, Update, Restart, Kill) waits by
// default; NoWait makes it return once the scheduler accepted the
// request. Every message recorded with an update or an update control is
// passed with Message.

// CreateOption is an option of Create: NoWait.
type CreateOption interface{ applyCreate(*createOptions) }

// UpdateOption is an option of Update: NoWait, Message.
type UpdateOption interface{ applyUpdate(*updateOptions) }

// RestartOption is an option of Restart: NoWait.
type RestartOption interface{ applyRestart(*restartOptions) }

// KillOption is an option of Kill: NoWait, AbortActiveUpdate.
type KillOption interface{ applyKill(*killOptions) }

// ControlOption is an option of Pause, Resume, Rollback and Abort: Message.
type ControlOption interface{ applyControl(*controlOptions) }

type createOptions struct{ noWait bool }

type updateOptions struct {
	noWait  bool
	message string
}

type restartOptions struct{ noWait bool }

type killOptions struct {
	noWait      bool
	abortUpdate bool
}

type controlOptions struct{ message string }

// NoWaitOption is NoWait's option; Create, Update, Restart and Kill take it.
type NoWaitOption struct{}

// NoWait makes Create, Update, Restart or Kill return once the scheduler
// accepted the request, without waiting for its outcome.
func NoWait() NoWaitOption { return NoWaitOption{} }

func (NoWaitOption) applyCreate(o *createOptions)   { o.noWait = true }
func (NoWaitOption) applyUpdate(o *updateOptions)   { o.noWait = true }
func (NoWaitOption) applyRestart(o *restartOptions) { o.noWait = true }
func (NoWaitOption) applyKill(o *killOptions)       { o.noWait = true }

// MessageOption is Message's option; Update, Pause, Resume, Rollback and
// Abort take it.
type MessageOption struct{ message string }

// Message sets the message the scheduler records with an update (Update)
// or an update control (Pause, Resume, Rollback, Abort); shown by
// UpdateInfo's events and `aurora update info`.
func Message(m string) MessageOption { return MessageOption{m} }

func (m MessageOption) applyUpdate(o *updateOptions)   { o.message = m.message }
func (m MessageOption) applyControl(o *controlOptions) { o.message = m.message }

// AbortActiveUpdateOption is AbortActiveUpdate's option; Kill takes it.
type AbortActiveUpdateOption struct{}

// AbortActiveUpdate makes Kill abort the job's active update first instead
// of failing with ErrUpdateInProgress.
func AbortActiveUpdate() AbortActiveUpdateOption { return AbortActiveUpdateOption{} }

func (AbortActiveUpdateOption) applyKill(o *killOptions) { o.abortUpdate = true }

func createOpts(opts []CreateOption) createOptions {
	return collect(opts, CreateOption.applyCreate)
}

func updateOpts(opts []UpdateOption) updateOptions {
	return collect(opts, UpdateOption.applyUpdate)
}

func restartOpts(opts []RestartOption) restartOptions {
	return collect(opts, RestartOption.applyRestart)
}

func killOpts(opts []KillOption) killOptions {
	return collect(opts, KillOption.applyKill)
}

func controlOpts(opts []ControlOption) controlOptions {
	return collect(opts, ControlOption.applyControl)
}

// collect applies every non-nil option of opts, with apply, to the zero
// options of its method.
func collect[F comparable, O any](opts []F, apply func(F, *O)) (o O) {
	var none F
	for _, f := range opts {
		if f != none {
			apply(f, &o)
		}
	}
	return o
}
