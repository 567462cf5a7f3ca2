// Package sandbox gives an Aurora task the Nix packages its processes use,
// on any agent, without copying them per task.
//
// # The sandbox
//
// A task's sandbox is one Nix derivation, written by a fixed, readable
// expression of this package (sandbox.nix, pinned by
// testdata/expression.nix) that takes all variable data as one JSON string
// (--argstr spec), so nothing a user writes is spliced into Nix or shell
// source. Its output has bin/ with the programs of every package
// ([Package]: an attribute path into <nixpkgs>, a user's Nix file or
// expression, the store paths a Nix value refers to, or a literal store
// path) and pkgs/ linking each package, so every named package is in the
// output's runtime closure. Its store name comes from
// the job key ([StoreName]).
//
// # Payload by evaluation
//
// [Prepare] evaluates the sandbox (nix-instantiate; nothing is built) and
// returns the job with an init_sandbox process first and ordered before
// every other process. The payload (job.Job.Build) thus needs no build;
// command lines, with their {{thermos.ports[...]}} templates, stay in the
// payload and never enter the store.
//
// # Publishing
//
// [Push] builds the sandbox on the client, signs its closure with the
// cluster's secret key and copies it to the cluster's binary cache (any
// store URL Nix accepts), skipping what the cache holds, then verifies the
// signatures in file:// and http(s):// caches.
//
// # On the agent
//
// The init_sandbox process ([InitCommand]) finds nix-store by absolute
// path, realises the sandbox from the cache into the agent's own store
// checking signatures against the keys the agent trusts, registers a GC
// root inside the task sandbox ([GCRootPath]) so the closure lives exactly
// as long as the sandbox, links it ([LinkPath]) and puts its bin/ on PATH
// in .thermos_profile. It is idempotent and safe to run concurrently for
// several tasks on one agent; every failure exits with its own code and
// one line naming the cause.
//
// What the agent trusts is its operator's, configured on the agent: its
// nix.conf lists the cluster's cache in substituters (or
// trusted-substituters) and the cluster's key in trusted-public-keys,
// with require-sigs left true and narinfo-cache-negative-ttl low (an
// agent that asked for a path before it was pushed otherwise keeps seeing
// it missing for an hour); [AgentNixConf] renders those lines. The
// operator also provides Nix (nix-store, and nix beside it to read the
// configuration when the payload names a cache; see [DefaultNixBinDirs]),
// bash with coreutils, grep and sed, the users tasks run as, Nix's GC
// root directory (/nix/var/nix/gcroots/auto, where the indirect root is
// recorded) and disk for the closures. Thermos runs a task as its role's
// user; with a multi-user daemon that user is untrusted and the daemon
// ignores the substituters and keys it sends: that, not init_sandbox, is
// what holds against the job's other processes, which are arbitrary
// commands.
//
// The payload ([Agent]) names only the sandbox's store path and at most
// a cache the agent already trusts (besides where nix-store is and
// --max-jobs), never a key: [Agent.Validate] refuses
// TrustedKeys and a cache URL with trusted=1 or require-sigs=false
// ([nix.CheckStoreURL]), and init_sandbox passes Nix --option require-sigs
// true, no key, and exits [ExitUntrustedCache] for a cache its nix.conf
// does not list. A job that could choose a key could sign an altered copy
// of a store path another job uses. Push before creating the job.
//
// # nix-aurora jobs
//
// [Load] evaluates a Nix file in nix-aurora's config.json shape into a
// job.Job, drops nix-aurora's own cp-based init_sandbox, and returns
// packages that put everything its command lines interpolate in the
// sandbox.
package sandbox
