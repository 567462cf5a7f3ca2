package auroratest

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/robfig/cron/v3"
)

// cronParser parses the five crontab(5) fields, as Aurora's CrontabEntry
// does: no seconds, no descriptors (@hourly), no time zone prefix.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// cronEntry is CrontabEntry.Parser's pattern: five fields separated by
// whitespace, nothing before or after.
var cronEntry = regexp.MustCompile(`^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)$`)

// cronComponent is the forms CrontabEntry accepts in a comma-separated
// field (names are allowed in months and days of the week): "*", "5",
// "1-5", "*/5", "1-5/2". Quartz's and robfig's extras ("?", "L", "W",
// "#", "5/10") are not.
var cronComponent = regexp.MustCompile(`^(\*|[0-9A-Za-z]+|[0-9A-Za-z]+-([0-9A-Za-z]+)|\*/[0-9]+|[0-9A-Za-z]+-([0-9A-Za-z]+)/([0-9]+))$`)

// cronNames are the month and day names CrontabEntry replaces by numbers.
var cronNames = map[string]int{
	"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
	"JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12,
	"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6,
}

// parseCron parses a cron schedule as Aurora's CrontabEntry.tryParse
// accepts it, returning the schedule on Aurora's cron clock (UTC,
// -cron_timezone's default) and whether the schedule is valid. The
// schedule itself is computed by robfig/cron; on top of it this applies
// the rules in which Aurora is stricter: only the forms of cronComponent,
// no 7 for Sunday (robfig refuses it too), the skip of a range smaller
// than its upper bound, and not both a day of the month and a day of the
// week restricted ("Specifying both dayOfWeek and dayOfMonth is not
// supported.").
func parseCron(s string) (cron.Schedule, bool) {
	m := cronEntry.FindStringSubmatch(s)
	if m == nil {
		return nil, false
	}
	fields := m[1:]
	for _, f := range fields {
		parts := strings.Split(f, ",")
		nonEmpty := 0
		for _, p := range parts {
			if p == "" {
				continue // Aurora's splitter omits empty components
			}
			nonEmpty++
			c := cronComponent.FindStringSubmatch(p)
			if c == nil {
				return nil, false
			}
			if c[4] != "" && !skipBelowUpper(c[3], c[4]) {
				return nil, false
			}
		}
		if nonEmpty == 0 {
			return nil, false
		}
	}
	parsed, err := cronParser.Parse(strings.Join(fields, " "))
	if err != nil {
		return nil, false
	}
	spec, ok := parsed.(*cron.SpecSchedule)
	if !ok {
		return nil, false
	}
	allDom, allDow := covers(spec.Dom, 1, 31), covers(spec.Dow, 0, 6)
	if !allDom && !allDow {
		return nil, false
	}
	// Quartz reads a field covering every day as "don't care": so must
	// robfig, which does only for a literal "*" (or it would OR a
	// restricted day of the month with "every day of the week").
	if allDom {
		fields[2] = "*"
	}
	if allDow {
		fields[4] = "*"
	}
	parsed, err = cronParser.Parse(strings.Join(fields, " "))
	if err != nil {
		return nil, false
	}
	return parsed, true
}

// skipBelowUpper is CrontabEntry's "skip value %s must be smaller than %s".
func skipBelowUpper(upper, skip string) bool {
	u, ok := cronNames[strings.ToUpper(upper)]
	if !ok {
		var err error
		if u, err = strconv.Atoi(upper); err != nil {
			return false
		}
	}
	k, err := strconv.Atoi(skip)
	return err == nil && k > 0 && k < u
}

// covers reports whether bits has every bit from lo to hi set.
func covers(bits uint64, lo, hi uint) bool {
	for i := lo; i <= hi; i++ {
		if bits&(1<<i) == 0 {
			return false
		}
	}
	return true
}

// nextCron returns the next fire time of schedule strictly after now, on
// Aurora's cron clock (UTC), or false when schedule is not valid.
func nextCron(schedule string, now time.Time) (time.Time, bool) {
	sched, ok := parseCron(schedule)
	if !ok {
		return time.Time{}, false
	}
	next := sched.Next(now.UTC())
	return next, !next.IsZero()
}

// killByCron is AuroraCronJob's KILL_AUDIT_MESSAGE.
const killByCron = "Killed by cronScheduler"

// cronRun is a KILL_EXISTING run of a cron job waiting for the tasks it
// killed to be gone before it starts (AuroraCronJob's delayed launch).
// Like Aurora's, it lives in memory only: a restart forgets it.
type cronRun struct {
	tmpl *aurora.JobConfiguration // the template when the run was triggered
	wait []string                 // the killed tasks
}

// scheduleCron (re)starts the trigger of the cron job key from now, as
// CronJobManagerImpl.scheduleJob does on create, replace and start-up.
func (st *state) scheduleCron(key jobKey) {
	job := st.cron[key]
	if job == nil {
		delete(st.cronNext, key)
		return
	}
	if next, ok := nextCron(job.GetCronSchedule(), st.s.now()); ok {
		st.cronNext[key] = next
	} else {
		delete(st.cronNext, key)
	}
}

// triggerCron is AuroraCronJob.doExecute: one run of the cron job key,
// by its schedule or by startCronJob. Without active tasks the template's
// instances are inserted PENDING. Otherwise KILL_EXISTING kills the
// active tasks and starts the run once they are gone; CANCEL_NEW (and
// RUN_OVERLAP, which only templates stored before AURORA-38 can have)
// skip the run. A trigger while a KILL_EXISTING run is still waiting is
// ignored.
func (st *state) triggerCron(key jobKey) {
	tmpl := st.cron[key]
	if tmpl == nil || st.cronRuns[key] != nil {
		return
	}
	active := st.activeTasks(key)
	if len(active) == 0 {
		st.startCronRun(key, tmpl)
		return
	}
	policy := tmpl.CronCollisionPolicy // KILL_EXISTING when unset
	st.s.logf("cron triggered for %s with policy %v: %d active tasks", key, policy, len(active))
	if policy != aurora.CronCollisionPolicy_KILL_EXISTING {
		return
	}
	run := &cronRun{tmpl: tmpl}
	for _, t := range active {
		run.wait = append(run.wait, t.id)
		st.changeState(t, aurora.ScheduleStatus_KILLING, killByCron)
	}
	st.cronRuns[key] = run
	st.stepCronRuns()
}

func (st *state) startCronRun(key jobKey, tmpl *aurora.JobConfiguration) {
	cfg := newConfig(tmpl.TaskConfig)
	for i := range tmpl.InstanceCount {
		st.insertTask(key, i, cfg, nil, 0)
	}
	st.s.wake()
}

// stepCronRuns starts the waiting KILL_EXISTING runs whose killed tasks
// are all gone.
func (st *state) stepCronRuns() {
	for key, run := range st.cronRuns {
		gone := true
		for _, id := range run.wait {
			if t := st.byID[id]; t != nil && activeStates[t.status] {
				gone = false
				break
			}
		}
		if gone {
			delete(st.cronRuns, key)
			st.startCronRun(key, run.tmpl)
		}
	}
}

// fireCron triggers every cron job whose fire time has come and returns
// the earliest next fire time (zero when there is none). Fire times
// missed while the clock jumped (Server.Advance) fire once, as Quartz's
// default misfire policy for cron triggers does.
func (st *state) fireCron(now time.Time) time.Time {
	st.stepCronRuns()
	for key := range st.cron {
		if _, ok := st.cronNext[key]; !ok {
			st.scheduleCron(key) // a template loaded from storage
		}
	}
	var earliest time.Time
	for key, next := range st.cronNext {
		if st.cron[key] == nil {
			delete(st.cronNext, key)
			continue
		}
		if !now.Before(next) {
			st.triggerCron(key)
			st.scheduleCron(key)
			next = st.cronNext[key]
		}
		if !next.IsZero() && (earliest.IsZero() || next.Before(earliest)) {
			earliest = next
		}
	}
	return earliest
}
