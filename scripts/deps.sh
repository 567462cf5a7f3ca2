#!/usr/bin/env bash
# deps.sh installs what nixrealis' tests and example need, when missing:
# Debian's nix-bin (the nix CLI, used single-user as root) and zookeeper (for the
# ZooKeeper discovery tests). It is idempotent and does nothing when both are present.
set -euo pipefail

need=()
command -v nix-store >/dev/null 2>&1 || [ -x /usr/bin/nix-store ] || need+=(nix-bin)
[ -x /usr/share/zookeeper/bin/zkServer.sh ] || need+=(zookeeper)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: need root to install ${need[*]} (run: sudo $0)" >&2
    exit 1
  fi
  echo "deps.sh: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Debian's nix-bin runs single-user: the store must exist and be writable by us,
# and builds run without a sandbox (no user namespaces needed).
if [ "$(id -u)" -eq 0 ]; then
  mkdir -p /nix/store /nix/var/nix/gcroots /nix/var/nix/profiles /etc/nix
  if [ ! -f /etc/nix/nix.conf ] || ! grep -q '^sandbox' /etc/nix/nix.conf; then
    echo 'sandbox = false' >> /etc/nix/nix.conf
  fi
  # Single-user as root: builds run as root, no nixbld group needed.
  if ! grep -q '^build-users-group' /etc/nix/nix.conf; then
    echo 'build-users-group =' >> /etc/nix/nix.conf
  fi
  # This machine has no network: the default substituter (the public cache)
  # would only add retries to every build. Clusters name their own caches.
  if ! grep -q '^substituters' /etc/nix/nix.conf; then
    echo 'substituters =' >> /etc/nix/nix.conf
  fi
  if ! grep -q '^experimental-features' /etc/nix/nix.conf; then
    echo 'experimental-features = nix-command' >> /etc/nix/nix.conf
  fi
fi
