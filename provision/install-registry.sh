#!/usr/bin/env bash
# Builds the CNCF distribution registry (the reference OCI registry) from source with the local Go
# toolchain, for the tests that read image configurations from a real registry on loopback
# (dev.rootguard.testing.Registry).
#
#   provision/install-registry.sh [VERSION]
#
# VERSION defaults to $REGISTRY_VERSION, else REGISTRY_VERSION in provision/versions.env; "latest"
# resolves the newest v3.x release that the Go module proxy reports for
# github.com/distribution/distribution/v3. The binary goes to
# ${ROOTGUARD_CACHE:-~/.cache/rootguard}/registry/<version>/registry; when it is already there
# nothing is built. Prints that directory on stdout (so callers can do:
# PATH="$(install-registry.sh):$PATH"); everything else goes to stderr.
#
# Needs Go (the module's go directive says which); GOTOOLCHAIN=local stops Go from downloading
# another toolchain, CGO_ENABLED=0 gives a static binary.
set -euo pipefail

log() { echo "install-registry: $*" >&2; }
die() { log "$*"; exit 1; }
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

module=github.com/distribution/distribution/v3
cache="$cache_root/registry"

need_go() {
  command -v go >/dev/null 2>&1 || die "go not found on PATH; install Go $(pinned MIN_GO_VERSION) or newer (Debian: apt-get install golang-go, if new enough) and retry"
}
export GOTOOLCHAIN=local CGO_ENABLED=0

version="${1:-${REGISTRY_VERSION:-}}"
if [ -z "$version" ]; then
  version="$(pinned REGISTRY_VERSION)"
fi
if [ "$version" = latest ]; then
  need_go
  log "resolving the latest $module release"
  version="$(cd / && go list -m -f '{{.Version}}' "$module@latest")" || die "could not resolve $module@latest (is the Go module proxy reachable?)"
fi
case "$version" in
  v3.*) ;;
  3.*) version="v$version" ;;
  *) die "expected a distribution registry v3.x version, got '$version'" ;;
esac

dir="$cache/$version"
if [ -x "$dir/registry" ]; then
  log "registry $version already built at $dir/registry"
  echo "$dir"
  exit 0
fi

need_go
log "building registry $version with $(go version) (takes a few minutes on 2 cores)"
mkdir -p "$cache"
tmp="$(mktemp -d "$cache/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# go install pkg@version builds in module-aware mode outside any module, ignoring this checkout.
# The version string is also stamped into the registry's own `registry --version` output.
(cd "$tmp" && GOBIN="$tmp/bin" go install -trimpath \
  -ldflags "-s -w -X $module/version.version=$version" "$module/cmd/registry@$version") >&2 \
  || die "go install $module/cmd/registry@$version failed (see above)"
[ -x "$tmp/bin/registry" ] || die "build finished but $tmp/bin/registry is missing"
"$tmp/bin/registry" --version >&2 || die "the built binary does not run"
mkdir -p "$dir"
mv "$tmp/bin/registry" "$dir/registry.new"
mv "$dir/registry.new" "$dir/registry"
log "installed $dir/registry"
echo "$dir"
