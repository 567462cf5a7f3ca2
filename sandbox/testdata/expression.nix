# nixrealis sandbox expression, template v1.
# Written by github.com/nixrealis/nixrealis/sandbox; do not edit.
#
# Every variable datum (the sandbox name, the package sets, the packages)
# arrives as one JSON string in the argument `spec` (nix-instantiate
# --argstr spec '<json>'); nothing a user writes is spliced into this file or
# into the builder's shell script, which only reads environment variables.
#
# spec = {
#   name    = "aurora-sandbox-…";           # a valid store name (Go derives it)
#   system  = "x86_64-linux";
#   shell   = "/bin/sh";  path = "/bin:/usr/bin";   # the builder and its PATH, or
#   tools   = [ <package> … ];   # packages giving bin/sh, mkdir and ln, for
#                                # builds in Nix's sandbox (e.g. bash, coreutils)
#   sets    = { "<id>" = { nixPath = "nixpkgs"; } or { file = "/abs/file.nix"; }; };
#   packages = [ { set = "<id>"; attrPath = [ "a" "b" ]; }
#                { set = "<id>"; attrPath = [ "job" ]; refs = true; }
#                { storePath = "/nix/store/…"; } ];
# }
#
# The output has bin/ with a symlink to every program in the packages' bin/
# directories (the first package providing a name wins) and pkgs/ with a
# symlink to every package, so each named package is referenced by the output
# and therefore part of its runtime closure. A package listed twice (or
# referenced twice) is linked once.
{ spec }:
let
  s = builtins.fromJSON spec;

  # A package set is imported from the Nix search path (<nixpkgs>) or a file;
  # a function (as nixpkgs is) is called with its defaults.
  loadSet = set:
    let v = if set ? nixPath
            then import (builtins.findFile builtins.nixPath set.nixPath)
            else import set.file;
    in if builtins.isFunction v then v { } else v;
  sets = builtins.mapAttrs (_: loadSet) s.sets;

  select = set: path: builtins.foldl' (acc: n: acc.${n}) set path;

  # refsOf gives every store path a value refers to (its string context):
  # the outputs of the derivations it mentions and the sources it copied.
  # (nix-instantiate has written those derivations by now, so importing a
  # .drv yields the derivation.)
  refsOf = v:
    let ctx = builtins.getContext (builtins.toJSON v);
    in builtins.concatLists (builtins.attrValues (builtins.mapAttrs (path: c:
      (if c ? outputs then map (o: (import path).${o}) c.outputs else [ ])
      ++ (if c.path or false then [ (builtins.storePath path) ] else [ ])) ctx));

  load = p:
    if p ? storePath then [ (builtins.storePath p.storePath) ]
    else if p.refs or false then refsOf (select sets.${p.set} p.attrPath)
    else [ (select sets.${p.set} p.attrPath) ];

  packages = builtins.concatMap load s.packages;

  # Build tools, when given, replace the host's /bin/sh and PATH: the
  # builder is the first tool's bin/sh and PATH their bin directories, so
  # the build works in Nix's sandbox. They are build-time inputs only.
  tools = builtins.concatMap load (s.tools or [ ]);
in
derivation {
  name = s.name;
  system = s.system;
  builder = if tools == [ ] then s.shell else "${builtins.head tools}/bin/sh";
  PATH = if tools == [ ] then s.path
         else builtins.concatStringsSep ":" (map (t: "${t}/bin") tools);
  packages = packages;
  args = [ "-c" ''
    set -eu
    set -f
    mkdir -p "$out/bin" "$out/pkgs"
    for p in $packages; do
      [ ! -L "$out/pkgs/''${p##*/}" ] || continue
      ln -s "$p" "$out/pkgs/''${p##*/}"
      if [ -d "$p/bin" ]; then
        set +f
        for e in "$p"/bin/* "$p"/bin/.[!.]*; do
          [ -e "$e" ] || [ -L "$e" ] || continue
          n="''${e##*/}"
          [ -e "$out/bin/$n" ] || [ -L "$out/bin/$n" ] || ln -s "$e" "$out/bin/$n"
        done
        set -f
      fi
    done
  '' ];
}
