#!/usr/bin/env bash
# Builds the Open Policy Agent binary from source with the local Go toolchain, for the benchmark's
# OPA target (bench/targets/opa/policy.rego).
#
#   provision/install-opa.sh [VERSION]
#
# VERSION defaults to $OPA_VERSION, else OPA_VERSION in provision/versions.env; "latest" resolves
# the newest v1.x release that the Go module proxy reports for github.com/open-policy-agent/opa.
# The binary goes to ${ROOTGUARD_CACHE:-~/.cache/rootguard}/opa/<version>/opa; when it is already
# there nothing is built. Prints that directory on stdout (so callers can do:
# PATH="$(install-opa.sh):$PATH"); everything else goes to stderr.
#
# Needs Go (1.24 or newer for OPA v1.x); GOTOOLCHAIN=local stops Go from downloading another
# toolchain, CGO_ENABLED=0 gives a static binary.
set -euo pipefail

log() { echo "install-opa: $*" >&2; }
die() { log "$*"; exit 1; }
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

module=github.com/open-policy-agent/opa
cache="$cache_root/opa"

need_go() {
  command -v go >/dev/null 2>&1 || die "go not found on PATH; install Go 1.24 or newer (Debian: apt-get install golang-go, if new enough) and retry"
}
export GOTOOLCHAIN=local CGO_ENABLED=0

version="${1:-${OPA_VERSION:-}}"
if [ -z "$version" ]; then
  version="$(pinned OPA_VERSION)"
fi
if [ "$version" = latest ]; then
  need_go
  log "resolving the latest $module release"
  version="$(cd / && go list -m -f '{{.Version}}' "$module@latest")" || die "could not resolve $module@latest (is the Go module proxy reachable?)"
fi
case "$version" in
  v1.*) ;;
  1.*) version="v$version" ;;
  *) die "expected an OPA v1.x version, got '$version'" ;;
esac

dir="$cache/$version"
if [ -x "$dir/opa" ]; then
  log "OPA $version already built at $dir/opa"
  echo "$dir"
  exit 0
fi

need_go
log "building OPA $version with $(go version) (takes a few minutes on 2 cores)"
mkdir -p "$cache"
tmp="$(mktemp -d "$cache/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# go install pkg@version builds in module-aware mode outside any module, ignoring this checkout.
# The version string is also stamped into OPA's own `opa version` output.
(cd "$tmp" && GOBIN="$tmp/bin" go install -trimpath \
  -ldflags "-s -w -X $module/v1/version.Version=${version#v}" "$module@$version") >&2 \
  || die "go install $module@$version failed (see above)"
[ -x "$tmp/bin/opa" ] || die "build finished but $tmp/bin/opa is missing"
"$tmp/bin/opa" version >&2 || die "the built binary does not run"
mkdir -p "$dir"
mv "$tmp/bin/opa" "$dir/opa.new"
mv "$dir/opa.new" "$dir/opa"
log "installed $dir/opa"
echo "$dir"
