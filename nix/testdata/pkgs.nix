# A tiny stand-in for <nixpkgs> used by the nix package's tests (and
# reusable by others): every package is a builtins.derivation whose builder
# is the host's /bin/sh with the host's coreutils, so it builds offline with
# Debian's nix-bin (sandbox = false). Each package's output has bin/<name>.
#
# Arguments (all strings, pass them with --argstr):
#   nonce    changes every derivation's hash, so nothing is cached
#   seconds  how long `slow` takes to build
#   pidFile  where `sleeper` writes its builder's and its child's pids
#   size     bytes of random data in `blob`
{ system ? builtins.currentSystem, nonce ? "", seconds ? "2", pidFile ? "/dev/null", size ? "1048576" }:
let
  mk = name: script: builtins.derivation {
    inherit name system nonce;
    builder = "/bin/sh";
    PATH = "/usr/bin:/bin";
    args = [ "-ec" script ];
  };
  # writeScript makes a package with one executable, bin/<name>; text is
  # passed through the environment, never through the builder's shell.
  writeScript = name: text: (builtins.derivation {
    inherit name system nonce text;
    builder = "/bin/sh";
    PATH = "/usr/bin:/bin";
    passAsFile = [ "text" ];
    args = [ "-ec" ''
      mkdir -p "$out/bin"
      cp "$textPath" "$out/bin/${name}"
      chmod 0555 "$out/bin/${name}"
    '' ];
  });
in rec {
  # hello prints a greeting.
  hello = writeScript "hello" ''
    #!/bin/sh
    echo "Hello, world!"
  '';

  # greeter runs hello by store path, so hello is in its runtime closure.
  greeter = writeScript "greeter" ''
    #!/bin/sh
    exec ${hello}/bin/hello "$@"
  '';

  # blob holds `size` random bytes (for copy progress in bytes).
  blob = mk "blob" ''
    mkdir -p "$out/share"
    head -c ${size} /dev/urandom > "$out/share/blob"
  '';

  # slow takes `seconds` seconds to build.
  slow = mk "slow" ''
    echo "building slowly for ${seconds}s"
    sleep ${seconds}
    mkdir -p "$out/bin"
    echo "#!/bin/sh" > "$out/bin/slow"
    chmod 0555 "$out/bin/slow"
  '';

  # sleeper writes "<builder pid> <child pid>" to pidFile and then waits
  # for a long sleep: a build to cancel.
  sleeper = mk "sleeper" ''
    sleep 3600 &
    echo "$$ $!" > ${pidFile}
    echo "sleeper started"
    wait
  '';

  # multi has three outputs: out, dev and bin.
  multi = builtins.derivation {
    name = "multi";
    inherit system nonce;
    builder = "/bin/sh";
    PATH = "/usr/bin:/bin";
    outputs = [ "out" "dev" "bin" ];
    args = [ "-ec" ''mkdir -p "$out" "$dev" "$bin"'' ];
  };

  # broken fails to build with exit code 3.
  broken = mk "broken" ''
    echo "about to fail"
    exit 3
  '';
}
