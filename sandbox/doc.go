// Package sandbox gives an Aurora task the Nix packages its processes use,
// on any agent, without copying them per task.
//
// # The sandbox
//
// A task's sandbox is one Nix derivation, written by a fixed, readable
// expression of this package ([Expression], testdata/*.nix) that takes all
// variable data as one JSON string (--argstr spec), so nothing a user
// writes is spliced into Nix or shell source. Its output has bin/ with the
// programs of every package ([Package]: an attribute path into <nixpkgs>,
// a user's Nix file or expression, the store paths a Nix value refers to,
// or a literal store path) and pkgs/ linking each package, so every named
// package is in the output's runtime closure. Its store name comes from
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
// checking signatures against the cluster's keys, registers a GC root
// inside the task sandbox ([GCRootPath]) so the closure lives exactly as
// long as the sandbox, links it ([LinkPath]) and puts its bin/ on PATH in
// .thermos_profile. It is idempotent and safe to run concurrently for
// several tasks on one agent; every failure exits with its own code and
// one line naming the cause.
//
// The agent's nix.conf should list the cluster's cache in substituters
// and its key in trusted-public-keys (Nix ignores those options from
// untrusted users of a daemon), and set narinfo-cache-negative-ttl low:
// an agent that asked for a path before it was pushed keeps seeing it
// missing for an hour by default. Push before creating the job.
//
// # nix-aurora jobs
//
// [Load] evaluates a Nix file in nix-aurora's config.json shape into a
// job.Job, drops nix-aurora's own cp-based init_sandbox, and returns
// packages that put everything its command lines interpolate in the
// sandbox.
package sandbox
