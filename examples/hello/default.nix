# The example job's package set: a tiny stand-in for <nixpkgs>, written with
# builtins.derivation so it builds offline with nothing but /bin/sh and the
# host's coreutils (Debian's nix-bin runs builds with sandbox = false).
#
# Each attribute is a package whose output has bin/<name>.
{ system ? builtins.currentSystem }:
let
  script = name: text: builtins.derivation {
    inherit name system;
    builder = "/bin/sh";
    args = [ "-c" ''
      /bin/mkdir -p "$out/bin"
      /bin/cat > "$out/bin/${name}" <<'SCRIPT'
      ${text}
      SCRIPT
      /bin/chmod 0555 "$out/bin/${name}"
    '' ];
  };
in {
  # hello prints a greeting, like GNU hello.
  hello = script "hello" ''
    #!/bin/sh
    echo "Hello, world! (from a Nix-built package, instance ''${1:-?})"
  '';

  # ticker prints a line every second until it is stopped.
  ticker = script "ticker" ''
    #!/bin/sh
    i=0
    while :; do i=$((i+1)); echo "tick $i"; sleep 1; done
  '';
}
