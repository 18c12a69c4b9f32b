#!/usr/bin/env bash
# Builds the helm v3 CLI from source with the local Go toolchain (sources come from the Go module
# proxy, so no release-download host is needed) and installs it as
#
#   $ROOTGUARD_CACHE/helm/<version without v>/helm
#
# Environment:
#   ROOTGUARD_HELM_VERSION  helm version to build (default: DEFAULT_HELM_VERSION below)
#   ROOTGUARD_CACHE         cache root (default: ~/.cache/rootguard)
#
# The first build takes a couple of minutes; if helm is already installed the script exits
# without touching the network or even needing Go.
set -euo pipefail

# Newest helm v3 release available from the module proxy when this was written.
readonly DEFAULT_HELM_VERSION=v3.22.0
# Lowest Go worth trying; the module's own go directive is checked after download.
readonly MIN_GO=1.24

log() { echo "install-helm: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# version_ge A B: true if version A >= version B.
version_ge() { [[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" == "$2" ]]; }

require_go() {
  command -v go >/dev/null 2>&1 || die "'go' not found on PATH; install Go >= $1"
  local have
  have="$(GOTOOLCHAIN=local go env GOVERSION)" || die "'go env GOVERSION' failed"
  have="${have%% *}"
  have="${have#go}"
  # Development toolchains ("devel ...") are assumed to be new enough.
  [[ "$have" == devel* ]] || version_ge "$have" "$1" \
    || die "Go $have is too old; need Go >= $1 (GOTOOLCHAIN=local is enforced, no automatic toolchain download)"
}

# go_directive GO_MOD_FILE: the 'go' version a module declares.
go_directive() { sed -nE 's/^go[[:space:]]+([0-9][0-9.]*)[[:space:]]*$/\1/p' "$1" | head -n1; }

# module_dir MODULE@VERSION: downloads the module (zip and go.mod, checksum-verified) and prints its directory.
module_dir() {
  local json
  if ! json="$(go mod download -json "$1")"; then
    die "cannot download $1: $(sed -nE 's/^[[:space:]]*"Error": "(.*)",?$/\1/p' <<<"$json")"
  fi
  sed -nE 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p' <<<"$json"
}

helm_version="${ROOTGUARD_HELM_VERSION:-$DEFAULT_HELM_VERSION}"
helm_version="v${helm_version#v}"
[[ "$helm_version" =~ ^v3\.[0-9]+\.[0-9]+$ ]] \
  || die "ROOTGUARD_HELM_VERSION must be a helm v3 release like 3.22.0 or v3.22.0, got '${ROOTGUARD_HELM_VERSION:-}'"

cache_root="${ROOTGUARD_CACHE:-$HOME/.cache/rootguard}"
bin_dir="$cache_root/helm/${helm_version#v}"
helm_bin="$bin_dir/helm"

installed() {
  [[ -x "$helm_bin" ]] && [[ "$("$helm_bin" version --template '{{.Version}}' 2>/dev/null)" == "$helm_version" ]]
}

if installed; then
  log "helm $helm_version already installed, nothing to do"
  echo "$bin_dir"
  exit 0
fi

require_go "$MIN_GO"

# Reproducible, static, host-native builds that never switch toolchains behind our back.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false" GOWORK=off GO111MODULE=on
unset GOOS GOARCH

work="$(mktemp -d "${TMPDIR:-/tmp}/rootguard-helm-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT

log "fetching helm.sh/helm/v3@$helm_version"
helm_src="$(module_dir "helm.sh/helm/v3@$helm_version")"
require_go "$(go_directive "$helm_src/go.mod")"

# Mirror upstream's Makefile: without these, 'helm version' reports a dev build and
# 'helm template' assumes Kubernetes 1.20 for .Capabilities.KubeVersion.
client_go="$(awk '$1 == "k8s.io/client-go" { print $2; exit }' "$helm_src/go.mod")"
[[ "$client_go" =~ ^v0\.([0-9]+)\. ]] || die "cannot find the k8s.io/client-go version in $helm_src/go.mod"
k8s_minor="${BASH_REMATCH[1]}"
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version"
ldflags+=" -X helm.sh/helm/v3/internal/version.metadata= -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done

# helm's go.mod has no replace directives, so 'go install pkg@version' builds it with exactly
# the dependency versions of the release.
log "building helm $helm_version"
start=$SECONDS
GOBIN="$work" go install -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$helm_version"
log "built helm in $((SECONDS - start))s"

mkdir -p "$bin_dir"
# Copy then rename so a concurrently running test never sees a half-written binary.
cp "$work/helm" "$bin_dir/.helm.tmp"
chmod 0755 "$bin_dir/.helm.tmp"
mv -f "$bin_dir/.helm.tmp" "$helm_bin"

installed || die "installed $helm_bin does not report version $helm_version"
"$helm_bin" version >&2
log "installed into:"
echo "$bin_dir"
