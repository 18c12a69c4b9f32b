#!/usr/bin/env bash
# Builds the benchmark's echo webhook (provision/echo-webhook/main.go: a webhook with no policy
# that allows everything, the floor for the API-server benchmark) with the local Go toolchain into
#
#   ${ROOTGUARD_CACHE:-~/.cache/rootguard}/bench/echo-webhook
#
# and prints that path on stdout. Nothing is built when the binary is there and newer than its
# source. Go standard library only: no module download.
set -euo pipefail

log() { echo "install-echo-webhook: $*" >&2; }
die() { log "$*"; exit 1; }
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

src="$PROVISION_DIR/echo-webhook"
bin="$cache_root/bench/echo-webhook"
if [ ! -x "$bin" ] || [ "$src/main.go" -nt "$bin" ]; then
  command -v go >/dev/null 2>&1 || die "go not found on PATH; install Go and retry"
  log "building $bin"
  mkdir -p "$(dirname "$bin")"
  (cd "$src" && go build -o "$bin" main.go) >&2
else
  log "echo webhook already built at $bin"
fi
echo "$bin"
