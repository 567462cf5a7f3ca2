#!/usr/bin/env bash
# run.sh runs the main job: the example client creates the example Nix job
# on an embedded Aurora scheduler (auroratest) with a local executor, after
# installing nix when missing. Extra arguments go to the client.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
exec go run ./examples/client -cmd=create "$@"
