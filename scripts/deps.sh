#!/usr/bin/env bash
# deps.sh installs what nixrealis' tests and example need, when missing:
# Debian's nix-bin (the nix CLI, used single-user as root) and zookeeper (for the
# ZooKeeper discovery tests). It is idempotent and does nothing when both are present.
#
# It writes /etc/nix/nix.conf only for a Nix it installed itself in this run,
# or when there is no nix.conf at all; the configuration of an existing Nix
# installation (e.g. a multi-user one with a daemon and build users) is never
# changed. The tests do not depend on it: they give Nix the settings they need
# through NIX_CONFIG (internal/testenv).
set -euo pipefail

need=()
command -v nix-store >/dev/null 2>&1 || [ -x /usr/bin/nix-store ] || need+=(nix-bin)
[ -x /usr/share/zookeeper/bin/zkServer.sh ] || need+=(zookeeper)

installed_nix=false
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: need root to install ${need[*]} (run: sudo $0)" >&2
    exit 1
  fi
  echo "deps.sh: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  case " ${need[*]} " in *" nix-bin "*) installed_nix=true ;; esac
fi

# Debian's nix-bin, as installed here, runs single-user as root: the store
# must exist, builds run as root without build users and without a sandbox
# (the example's package set builds with the host's /bin/sh), and there is no
# public cache (this machine has no network; clusters name their own caches).
conf=/etc/nix/nix.conf
if [ "$(id -u)" -eq 0 ] && { $installed_nix || [ ! -e "$conf" ]; }; then
  mkdir -p /nix/store /nix/var/nix/gcroots /nix/var/nix/profiles /etc/nix
  if [ ! -e "$conf" ]; then
    echo "deps.sh: writing $conf for a single-user Nix" >&2
    printf '%s\n' 'sandbox = false' 'build-users-group =' 'substituters =' \
      'experimental-features = nix-command' > "$conf"
  else
    # nix-bin was installed just now: add what its own nix.conf leaves unset.
    for kv in 'sandbox = false' 'build-users-group =' 'substituters =' 'experimental-features = nix-command'; do
      grep -q "^${kv%% =*}[[:space:]]*=" "$conf" || echo "$kv" >> "$conf"
    done
  fi
elif [ -e "$conf" ] && ! grep -q '^sandbox[[:space:]]*=[[:space:]]*false' "$conf"; then
  echo "deps.sh: leaving $conf of the existing Nix as it is (the tests set what they need;" \
    "examples/hello builds with /bin/sh, so scripts/run.sh needs sandbox = false there)" >&2
fi
