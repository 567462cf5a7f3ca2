// Package nix is a thin, honest wrapper over the nix command-line tools
// (nix, nix-store, nix-instantiate), modelled on os/exec.
//
// A zero [Nix] runs the binaries found on $PATH against the default store.
// Every method takes a context first; cancelling it sends SIGINT to the
// nix process group (Nix's own Ctrl-C path, which stops its builders) and,
// if nix has not exited after [Nix.WaitDelay], SIGKILL. The returned error
// then satisfies errors.Is(err, context.Canceled) (or DeadlineExceeded).
//
// Every command runs with --log-format internal-json. Its stderr is parsed
// line by line into [Event] values for a progress bar ([Nix.Progress]; a
// [Tracker] sums them into builds, paths and bytes done and expected);
// Nix's messages, with ANSI escapes removed, go to [Nix.Stderr] and into
// the returned [*Error]. An evaluation error keeps Nix's own text and its
// position (file:line:column); a failed build is errors.Is(err,
// [ErrBuildFailed]); a missing nix binary is errors.Is(err, [ErrNotFound])
// (and errors.Is(err, exec.ErrNotFound)).
//
// What needs no build: [Nix.Instantiate] writes .drv files and
// [Nix.OutputPaths] reads their output paths (from the .drv file in a
// local store, else nix-store -q --outputs), so a payload that names a
// sandbox's store path can be produced by evaluation alone; [Nix.Eval] evaluates an expression to JSON (--eval --strict
// --json). What builds or moves store paths: [Nix.Build], [Nix.Realise]
// (substituting from binary caches with trusted keys, rooting the result
// with --add-root), [Nix.Copy] (to or from any store URL Nix accepts,
// signing on upload with a secret key file), [Nix.Sign] and
// [Nix.GenerateKey]. [Nix.Closure] lists a closure with NAR sizes,
// references and signatures.
//
// [VerifyCache] checks, in Go with crypto/ed25519 and without running Nix,
// that a binary cache holds the whole closure of some store paths signed by
// a trusted key: a client publishes, verifies, and only then creates the
// job, because an agent that looked a path up too early keeps it as
// missing for narinfo-cache-negative-ttl.
//
// # Stores and agents
//
// [Nix.Store] is passed as --store. A directory there is a chroot store:
// /nix/store paths live under that directory, with its own database and GC
// roots. That is how the tests (and Debian's single-user nix as root)
// simulate a remote agent's store next to the client's: the client builds
// and copies to a file:// cache, the "agent" realises from that cache into
// Store: "<dir>" with the cache's public key trusted.
//
// Nix 2.8 specifics handled here: internal-json has no "parent" field and
// embeds ANSI escapes in messages; nix path-info --json is an array (an
// object from 2.19 on; both are read); nix-store --realise with --add-root
// prints root paths, which are read back to store paths; nix-store -r exits
// 100 on a failed build.
//
// A Nix value is safe for concurrent use as long as its fields are not
// changed while commands run. The package has no global state.
package nix
