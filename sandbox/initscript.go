package sandbox

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"text/template"

	"github.com/nixrealis/nixrealis/nix"
)

// InitProcessName is the name of the process that brings the sandbox into
// the task's sandbox directory; it runs before every other process.
const InitProcessName = "init_sandbox"

// DefaultNixBinDirs returns the directories init_sandbox searches for
// nix-store, in order, when [Agent.NixBinDirs] is empty: the multi-user
// install's default profile, then Debian's package.
func DefaultNixBinDirs() []string {
	return []string{"/nix/var/nix/profiles/default/bin", "/usr/bin"}
}

// Paths inside the task sandbox that init_sandbox creates.
const (
	// GCRootPath is the indirect GC root that keeps the sandbox's closure
	// alive on the agent while the task sandbox exists.
	GCRootPath = ".gcroots/sandbox"
	// LinkPath is the symlink to the sandbox's store path; processes can
	// run "$HOME/.sandbox/bin/<program>" or just "<program>" (see
	// ProfilePath).
	LinkPath = ".sandbox"
	// ProfilePath is the file Thermos sources (as BASH_ENV) before every
	// process; init_sandbox adds the sandbox's bin/ to PATH there.
	ProfilePath = ".thermos_profile"
	// LogPath keeps nix-store's full output of the last realisation.
	LogPath = ".gcroots/init_sandbox.log"
)

// Exit codes of init_sandbox, one per cause. Every failure also prints
// exactly one line "init_sandbox: <cause>: <detail>" on stderr.
const (
	ExitNixMissing       = 127 // no nix-store in the configured directories
	ExitCacheUnreachable = 10  // a binary cache could not be read
	ExitNotInCache       = 11  // no cache has the path
	ExitBadSignature     = 12  // the path lacks a signature by a trusted key
	ExitDiskFull         = 13  // no space left on the agent
	ExitCorrupt          = 14  // a NAR in the cache does not match its hash or does not decompress
	ExitSandbox          = 15  // the task sandbox cannot be written
	ExitNixFailed        = 16  // nix-store failed for another reason
	ExitUntrustedCache   = 17  // the payload names a cache the agent's nix.conf does not list
)

// Agent describes how init_sandbox, the first process of every task,
// reaches Nix on an agent: it is part of the payload, so it names nothing
// the agent must trust.
//
// Which binary caches an agent substitutes from and which keys it trusts
// is its operator's choice, made in the agent's nix.conf (substituters,
// trusted-substituters, trusted-public-keys; see [AgentNixConf]), never
// the job's: a job that could add a key could sign an altered copy of a
// store path another job uses, and Nix run as root (single-user, as
// Debian's nix-bin) would accept it. So init_sandbox passes Nix no keys.
// A cache in Caches is only a name the job expects the agent to trust:
// init_sandbox reads the agent's configuration (nix show-config) and
// refuses, with [ExitUntrustedCache], a cache that is not among its
// substituters or trusted-substituters; one listed only in
// trusted-substituters is enabled for this realisation (Nix allows that
// for untrusted users of a daemon too). Signature checking is never turned
// off: a cache URL with trusted=1 or require-sigs=false is refused
// ([nix.CheckStoreURL]).
//
// The zero value realises from the agent's own substituters.
type Agent struct {
	// Caches name binary caches (file://, http(s)://, s3://, ssh://...)
	// that the agent's nix.conf must already list; empty uses the agent's
	// substituters as they are.
	Caches []string
	// TrustedKeys must be empty: a job cannot choose the keys an agent
	// trusts, so Validate refuses it.
	//
	// Deprecated: list the cluster's key in trusted-public-keys of the
	// agent's nix.conf instead.
	TrustedKeys []string
	// NixBinDirs are searched, in order, for an executable nix-store.
	// Empty means DefaultNixBinDirs().
	NixBinDirs []string
	// MaxJobs, when > 0, is passed as --max-jobs: Nix 2.8 substitutes at
	// most max-jobs paths at once (Debian's default is 1), so a higher
	// value hides per-path network latency on the first task. Clients of a
	// daemon send it too.
	MaxJobs int
}

// ErrInvalid is wrapped by every error about bad input to this package.
var ErrInvalid = errors.New("invalid sandbox input")

var (
	storePathRE = regexp.MustCompile(`^/nix/store/[0123456789abcdfghijklmnpqrsvwxyz]{32}-[A-Za-z0-9+._?=-]{1,211}$`)
	keyRE       = regexp.MustCompile(`^[A-Za-z0-9+._-]+:[A-Za-z0-9+/]+={0,2}$`)
)

// checkStorePath reports whether p is a syntactically valid path in
// /nix/store.
func checkStorePath(field, p string) error {
	if !storePathRE.MatchString(p) {
		return fmt.Errorf("%w: %s %q is not a store path; want /nix/store/<32-character hash>-<name>", ErrInvalid, field, p)
	}
	return nil
}

// checkShellWord rejects what cannot be passed safely through Thermos:
// NUL bytes (no argv can hold them), newlines (one-line errors), and "{{"
// (Thermos would read it as a template and fail the task).
func checkShellWord(field, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: %s is empty", ErrInvalid, field)
	case strings.ContainsAny(s, "\x00\n\r"):
		return fmt.Errorf("%w: %s %q contains a NUL or newline character", ErrInvalid, field, s)
	case strings.Contains(s, "{{"):
		return fmt.Errorf("%w: %s %q contains \"{{\", which Thermos would read as a template", ErrInvalid, field, s)
	}
	return nil
}

// checkCacheURL reports whether c is a binary cache URL init_sandbox can
// name: one shell word, with a scheme, no white space (Nix splits cache
// lists on it) and no parameter that turns signature checks off.
func checkCacheURL(field, c string) error {
	if err := checkShellWord(field, c); err != nil {
		return err
	}
	if u, err := url.Parse(c); err != nil || u.Scheme == "" {
		return fmt.Errorf("%w: %s %q is not a store URL; want e.g. file:///srv/cache or https://cache.example", ErrInvalid, field, c)
	}
	if strings.ContainsAny(c, " \t") {
		return fmt.Errorf("%w: %s %q contains white space; Nix splits cache lists on it", ErrInvalid, field, c)
	}
	if err := nix.CheckStoreURL(c); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalid, field, err)
	}
	return nil
}

// Validate reports every problem with a, joined.
func (a Agent) Validate() error {
	var errs []error
	for i, c := range a.Caches {
		if err := checkCacheURL(fmt.Sprintf("Agent.Caches[%d]", i), c); err != nil {
			errs = append(errs, err)
		}
	}
	if len(a.TrustedKeys) > 0 {
		errs = append(errs, fmt.Errorf("%w: Agent.TrustedKeys is set, but a job cannot choose the keys an agent trusts; remove it and have the agent's operator put the key in trusted-public-keys of its nix.conf", ErrInvalid))
	}
	if a.MaxJobs < 0 {
		errs = append(errs, fmt.Errorf("%w: Agent.MaxJobs is %d; use 0 for the agent's own setting or a positive number", ErrInvalid, a.MaxJobs))
	}
	for i, d := range a.NixBinDirs {
		field := fmt.Sprintf("Agent.NixBinDirs[%d]", i)
		if err := checkShellWord(field, d); err != nil {
			errs = append(errs, err)
		} else if !strings.HasPrefix(d, "/") {
			errs = append(errs, fmt.Errorf("%w: %s %q is not absolute; Thermos processes have no useful PATH", ErrInvalid, field, d))
		}
	}
	return errors.Join(errs...)
}

// shellQuote returns s as one single-quoted shell word.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shellWords quotes each element and joins them with spaces.
func shellWords(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = shellQuote(s)
	}
	return strings.Join(q, " ")
}

// InitCommand returns the init_sandbox command line for the sandbox at
// storePath: a bash script, run by Thermos as /bin/bash -c with the task
// sandbox as working directory and HOME, that
//
//   - finds nix-store by absolute path in a.NixBinDirs;
//   - realises storePath from the binary caches into the agent's store,
//     checking signatures against the trusted keys, and registers
//     GCRootPath as its GC root (nix-store --add-root ... --indirect
//     --realise), so the closure lives as long as the task sandbox;
//   - links LinkPath to storePath and adds storePath/bin to PATH in
//     ProfilePath.
//
// Nothing is copied; running it twice in one sandbox, or concurrently in
// two sandboxes on one agent, succeeds. On failure it exits with one of the
// Exit* codes and one line on stderr naming the cause; the full Nix log is
// kept in LogPath.
//
// The script accepts "--store DIR" as arguments (bash -c SCRIPT
// init_sandbox --store DIR) to realise into a chroot store instead of the
// agent's default one; tests use it to simulate a remote agent.
//
// Every store path, URL and key is single-quoted; nothing in them is
// executed.
func InitCommand(storePath string, a Agent) (string, error) {
	if err := errors.Join(checkStorePath("sandbox store path", storePath), a.Validate()); err != nil {
		return "", err
	}
	dirs := a.NixBinDirs
	if len(dirs) == 0 {
		dirs = DefaultNixBinDirs()
	}
	var fileCaches []string
	for _, c := range a.Caches {
		if u, err := url.Parse(c); err == nil && u.Scheme == "file" {
			fileCaches = append(fileCaches, c)
		}
	}
	data := map[string]string{
		"Path": shellQuote(storePath),
		"Dirs": shellWords(dirs),
		// One word, so that the message stays one argument of fail.
		"DirList":    shellQuote(strings.Join(dirs, ", ")),
		"Caches":     shellWords(a.Caches),
		"FileCaches": shellWords(fileCaches),
		"GCRoot":     shellQuote(GCRootPath),
		"Link":       shellQuote(LinkPath),
		"Profile":    shellQuote(ProfilePath),
		"Log":        shellQuote(LogPath),
		"MaxJobs":    "",
	}
	if a.MaxJobs > 0 {
		data["MaxJobs"] = fmt.Sprint(a.MaxJobs)
	}
	for k, v := range map[string]int{
		"ExitNixMissing": ExitNixMissing, "ExitCacheUnreachable": ExitCacheUnreachable,
		"ExitNotInCache": ExitNotInCache, "ExitBadSignature": ExitBadSignature,
		"ExitDiskFull": ExitDiskFull, "ExitCorrupt": ExitCorrupt,
		"ExitSandbox": ExitSandbox, "ExitNixFailed": ExitNixFailed,
		"ExitUntrustedCache": ExitUntrustedCache,
	} {
		data[k] = fmt.Sprint(v)
	}
	var b strings.Builder
	if err := initTemplate.Execute(&b, data); err != nil {
		return "", fmt.Errorf("sandbox: rendering init_sandbox: %w", err)
	}
	return b.String(), nil
}

// initTemplate is the init_sandbox script. Every value substituted into it
// is already a single-quoted shell word (or a number).
var initTemplate = template.Must(template.New("init_sandbox").Parse(`# init_sandbox (nixrealis): realise the task's Nix sandbox on this agent.
set -u
p={{.Path}}
fail() { echo "init_sandbox: $2" >&2; exit "$1"; }
store=()
while [ $# -gt 0 ]; do
  case $1 in
    --store) [ $# -ge 2 ] || fail 2 "usage: --store needs a directory"; store=(--store "$2"); shift 2 ;;
    *) fail 2 "usage: unknown argument $1 (only --store DIR is accepted)" ;;
  esac
done
ns=
for d in {{.Dirs}}; do
  if [ -x "$d/nix-store" ]; then ns=$d/nix-store; break; fi
done
[ -n "$ns" ] || fail {{.ExitNixMissing}} "nix missing: no executable nix-store in "{{.DirList}}" on $(hostname 2>/dev/null || echo this agent); install Nix there or configure the nix bin dir"
# The agent's operator, not the job, decides which caches and keys Nix
# trusts (nix.conf). A cache the payload names must be one of them: one in
# substituters is used as it is; one only in trusted-substituters is added
# for this run; any other is refused. No key is ever passed.
extra=()
caches=({{.Caches}})
if [ ${#caches[@]} -gt 0 ]; then
  nixcmd=${ns%/nix-store}/nix
  [ -x "$nixcmd" ] || fail {{.ExitNixMissing}} "nix missing: no executable nix next to $ns to read this agent's substituters"
  conf=$("$nixcmd" --extra-experimental-features nix-command show-config 2>/dev/null) || fail {{.ExitNixFailed}} "nix-store failed: cannot read this agent's Nix configuration ($nixcmd show-config failed)"
  subs=" $(sed -n 's/^substituters = //p' <<<"$conf") "
  tsubs=" $(sed -n 's/^trusted-substituters = //p' <<<"$conf") "
  for c in "${caches[@]}"; do
    case $subs in *" $c "* | *" $c/ "* | *" ${c%/} "*) continue ;; esac
    case $tsubs in *" $c "* | *" $c/ "* | *" ${c%/} "*) extra+=("$c"); continue ;; esac
    fail {{.ExitUntrustedCache}} "untrusted cache: $c is not among the substituters or trusted-substituters of this agent's nix.conf; its operator must add it there, with the cache's key in trusted-public-keys"
  done
fi
for c in {{.FileCaches}}; do
  d=${c#file://}; d=${d%%\?*}
  [ -r "$d/nix-cache-info" ] || fail {{.ExitCacheUnreachable}} "cache unreachable: $c has no readable nix-cache-info"
done
mkdir -p .gcroots 2>/dev/null || fail {{.ExitSandbox}} "sandbox not writable: cannot create $PWD/.gcroots"
opts=(--option require-sigs true)
[ ${#extra[@]} -eq 0 ] || opts+=(--option extra-substituters "${extra[*]}")
{{if .MaxJobs}}opts+=(--max-jobs {{.MaxJobs}})
{{end}}log={{.Log}}
# Nix 2.8 initialises a fresh store (database, schema file, gcroots
# symlinks) without a lock, so the first runs on a new agent (instances of
# one job landing together) fail with "database ... is busy", "schema ...
# is corrupt" or "File exists" while another run creates them. So the
# store is first opened (which initialises it) under an flock on a file in
# its state directory, when that directory is ours to write (a single-user
# store; a multi-user one was initialised when Nix was installed, and its
# role users cannot write there). Only that cheap step is serialised, not
# the downloads. A run that still meets a busy database is retried after a
# growing, jittered backoff (0.1 s doubling, at most 7 retries, ~13 s).
if [ ${#store[@]} -gt 0 ]; then state=${store[1]}/nix/var/nix; else state=/nix/var/nix; fi
if command -v flock >/dev/null && mkdir -p "$state" 2>/dev/null && [ -w "$state" ]; then
  flock "$state/nixrealis-init.lock" "$ns" "${store[@]}" --check-validity "$p" >/dev/null 2>&1
fi
try=0
while ! "$ns" "${store[@]}" "${opts[@]}" --add-root {{.GCRoot}} --indirect --realise "$p" >"$log" 2>&1; do
  try=$((try + 1))
  if [ "$try" -le 7 ] && grep -q -e "SQLite database '.*' is busy" -e "/db/schema' is corrupt" "$log"; then
    ms=$(( (50 << try) + RANDOM % 100 ))
    sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
    continue
  fi
  # A full disk shows as ENOSPC from a write, or as SQLite's SQLITE_FULL
  # when the database's commit is what hits it.
  if grep -q -e 'No space left on device' -e 'database or disk is full' "$log"; then
    fail {{.ExitDiskFull}} "disk full: no space left on device while realising $p"
  elif grep -q -e 'is not signed by any of the keys' -e 'lacks a valid signature' -e 'lacks a signature' "$log"; then
    fail {{.ExitBadSignature}} "bad signature: $p is unsigned or signed by a key not in this agent's trusted-public-keys"
  elif grep -q -e 'hash mismatch importing path' -e 'input compression not recognized' -e 'Failed to open archive' \
      -e 'Failed to read archive' -e 'failed to read compressed data' -e 'Lzma library error' -e 'ecompress' -e 'bad archive' "$log"; then
    fail {{.ExitCorrupt}} "corrupt cache: a NAR for $p does not match its hash or does not decompress"
  elif grep -q -e 'unable to download' -e 'does not appear to be a binary cache' -e "Couldn't connect" -e 'unable to open' "$log"; then
    fail {{.ExitCacheUnreachable}} "cache unreachable: $(grep -m1 -o -e "unable to download '[^']*'" -e "'[^']*' does not appear to be a binary cache" "$log" || echo "see $PWD/$log")"
  elif grep -q "don't know how to build" "$log"; then
    fail {{.ExitNotInCache}} "path not in cache: no substituter of this agent has $p; push it to the cluster's cache (which the agent's nix.conf must list) before creating the job"
  elif grep -q 'already exists' "$log"; then
    fail {{.ExitSandbox}} "sandbox: $PWD/"{{.GCRoot}}" exists and is not a link into the store"
  fi
  fail {{.ExitNixFailed}} "nix-store failed: $(grep -v -e '(ignored)' "$log" | grep -m1 'error:' | tr -d '\033' || echo "see $PWD/$log")"
done
ln -sfn "$p" {{.Link}}.tmp.$$ 2>/dev/null && mv -fT {{.Link}}.tmp.$$ {{.Link}} 2>/dev/null || fail {{.ExitSandbox}} "sandbox not writable: cannot link $PWD/"{{.Link}}
line="export PATH='$p/bin'\"\${PATH:+:\$PATH}\""
if ! grep -qxF "$line" {{.Profile}} 2>/dev/null; then
  printf '%s\n' "$line" >>{{.Profile}} 2>/dev/null || fail {{.ExitSandbox}} "sandbox not writable: cannot write $PWD/"{{.Profile}}
fi
`))
