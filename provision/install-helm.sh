#!/usr/bin/env bash
# Builds the helm v3 CLI from source with the local Go toolchain (sources come from the Go module
# proxy, so no release-download host is needed) and installs it as
#
#   $ROOTGUARD_CACHE/helm/<version without v>/helm
#
# Environment:
#   ROOTGUARD_HELM_VERSION  helm version to build (default: HELM_VERSION in provision/versions.env)
#   ROOTGUARD_CACHE         cache root (default: ~/.cache/rootguard)
#
# The first build takes a couple of minutes; if helm is already installed the script exits
# without touching the network or even needing Go.
set -euo pipefail

log() { echo "install-helm: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEFAULT_HELM_VERSION="$(pinned HELM_VERSION)"
# Lowest Go worth trying; the module's own go directive is checked after download.
MIN_GO="$(pinned MIN_GO_VERSION)"

helm_version="${ROOTGUARD_HELM_VERSION:-$DEFAULT_HELM_VERSION}"
helm_version="v${helm_version#v}"
[[ "$helm_version" =~ ^v3\.[0-9]+\.[0-9]+$ ]] \
  || die "ROOTGUARD_HELM_VERSION must be a helm v3 release like 3.22.0 or v3.22.0, got '${ROOTGUARD_HELM_VERSION:-}'"

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
