# The sandbox tests' package set: a tiny stand-in for <nixpkgs>, written
# with builtins.derivation so it builds offline with /bin/sh and the host's
# coreutils (the tests run Nix with sandbox = false).
{ system ? builtins.currentSystem }:
let
  sh = name: script: builtins.derivation {
    inherit name system;
    builder = "/bin/sh";
    PATH = "/bin:/usr/bin";
    args = [ "-c" script ];
  };

  # blobs makes a closure of `paths` store paths holding `size` bytes of
  # random (incompressible) data split into `files` files in all, plus one
  # package that references them all and has bin/<name>.
  blobs = name: { size, files, paths }:
    let
      part = i: sh "${name}-part${toString i}" ''
        set -eu
        mkdir -p "$out"
        head -c ${toString (size / paths)} /dev/urandom |
          split -b ${toString (size / files)} -a 6 - "$out/f"
      '';
      parts = builtins.genList part paths;
    in sh name ''
      set -eu
      mkdir -p "$out/bin" "$out/parts"
      i=0
      for p in ${toString parts}; do i=$((i+1)); ln -s "$p" "$out/parts/$i"; done
      printf '#!/bin/sh\necho ${name}\n' > "$out/bin/${name}"
      chmod 0555 "$out/bin/${name}"
    '';

  script = name: text: sh name ''
    mkdir -p "$out/bin"
    cat > "$out/bin/${name}" <<'SCRIPT'
    ${text}
    SCRIPT
    chmod 0555 "$out/bin/${name}"
  '';
in {
  # hello prints a greeting.
  hello = script "hello" ''
    #!/bin/sh
    echo "Hello from the sandbox"
  '';

  # tools is a package with two programs, one of which hello also has.
  tools = sh "tools" ''
    mkdir -p "$out/bin"
    printf '#!/bin/sh\necho tools-hello\n' > "$out/bin/hello"
    printf '#!/bin/sh\necho greet\n' > "$out/bin/greet"
    chmod 0555 "$out/bin/hello" "$out/bin/greet"
  '';

  # data has no bin/ at all; it still belongs in the sandbox's closure.
  data = sh "data" ''
    mkdir -p "$out/share"
    echo data > "$out/share/data.txt"
  '';

  # nested packages, reached with a longer attribute path.
  lib.greeter = script "greeter" ''
    #!/bin/sh
    echo "greetings"
  '';

  # slow takes several seconds to build (the payload-by-building benchmark).
  slow = sh "slow" ''
    sleep 3
    mkdir -p "$out/bin"
    printf '#!/bin/sh\necho slow\n' > "$out/bin/slow"
    chmod 0555 "$out/bin/slow"
  '';

  # buildtools stands in for nixpkgs' bash and coreutils as the sandbox's
  # build tools (here: links to the host's).
  buildtools = sh "buildtools" ''
    mkdir -p "$out/bin"
    for t in sh mkdir ln; do ln -s "$(command -v $t)" "$out/bin/$t"; done
  '';

  # Closures for the init_sandbox benchmark.
  closure10m = blobs "closure-10m" { size = 10000000; files = 1000; paths = 10; };
  closure100m = blobs "closure-100m" { size = 100000000; files = 10000; paths = 50; };
  closure500m = blobs "closure-500m" { size = 500000000; files = 50000; paths = 100; };
}
