#!/usr/bin/env bash
# Builds kube-apiserver, kubectl and etcd from source with the local Go toolchain (sources come
# from the Go module proxy, so no release-download host is needed) and installs them where
# io.fabric8:kube-api-test looks for binaries in offline mode:
#
#   $ROOTGUARD_CACHE/k8s/<version without v>-<os>-<arch>/{kube-apiserver,etcd,kubectl}
#
#   install-control-plane.sh          kube-apiserver, kubectl and etcd
#   install-control-plane.sh --node   also kubelet, kube-controller-manager and kube-scheduler, from
#                                     the same wrapper module and with the same version stamp, into
#                                     the same directory (for the node suite)
#   install-control-plane.sh --oldest kube-apiserver, kubectl and etcd of OLDEST_KUBERNETES_VERSION,
#                                     the oldest supported minor the end-to-end suite also runs on
#
# kube-api-test defaults to ~/.jenvtest, so point its kubeAPITestDir at $ROOTGUARD_CACHE.
#
# Environment:
#   ROOTGUARD_K8S_VERSION   Kubernetes version to build (default: KUBERNETES_VERSION in provision/versions.env,
#                           or OLDEST_KUBERNETES_VERSION with --oldest)
#   ROOTGUARD_ETCD_VERSION  etcd version (default: the one that Kubernetes release ships with,
#                           read from its build/dependencies.yaml)
#   ROOTGUARD_CACHE         cache root (default: ~/.cache/rootguard)
#
# The first build downloads about 1 GB of modules and compiles for a few minutes (about 4 on two
# cores); the default Go module and build caches make rebuilds much faster. If the binaries are
# already installed the script exits without touching the network or even needing Go.
set -euo pipefail

log() { echo "install-control-plane: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEFAULT_K8S_VERSION="$(pinned KUBERNETES_VERSION)"
# Lowest Go the script tries; the Kubernetes and etcd modules' own go directives are checked too.
MIN_GO="$(pinned MIN_GO_VERSION)"

# Platform naming follows kube-api-test's OSInfo (os.name lower-cased, Go-style arch).
case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) die "unsupported OS: $(uname -s)" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  ppc64le) arch=ppc64le ;;
  *) die "unsupported architecture: $(uname -m)" ;;
esac

components=(kube-apiserver kubectl)
case "${1:-}" in
  "") ;;
  --node) components+=(kubelet kube-controller-manager kube-scheduler) ;;
  --oldest) DEFAULT_K8S_VERSION="$(pinned OLDEST_KUBERNETES_VERSION)" ;;
  *) die "usage: install-control-plane.sh [--node | --oldest]" ;;
esac

k8s_version="${ROOTGUARD_K8S_VERSION:-$DEFAULT_K8S_VERSION}"
k8s_version="v${k8s_version#v}"
[[ "$k8s_version" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] \
  || die "ROOTGUARD_K8S_VERSION must look like 1.34.10 or v1.34.10, got '${ROOTGUARD_K8S_VERSION:-}'"
k8s_minor="${BASH_REMATCH[1]}"
# Staging modules (k8s.io/api, client-go, ...) are published as v0.<minor>.<patch>.
staging_version="v0.${k8s_version#v1.}"
etcd_version="${ROOTGUARD_ETCD_VERSION:+v${ROOTGUARD_ETCD_VERSION#v}}"

bin_dir="$cache_root/k8s/${k8s_version#v}-$os-$arch"

installed() {
  local b
  for b in "${components[@]}" etcd; do
    [[ -x "$bin_dir/$b" ]] || return 1
  done
  for b in "${components[@]}"; do
    [[ "$b" == kubectl ]] && continue
    [[ "$("$bin_dir/$b" --version 2>/dev/null)" == "Kubernetes $k8s_version" ]] || return 1
  done
  local kubectl_out
  kubectl_out="$("$bin_dir/kubectl" version --client 2>/dev/null)" || return 1
  grep -qx "Client Version: $k8s_version" <<<"$kubectl_out" || return 1
  local etcd_out
  etcd_out="$("$bin_dir/etcd" --version 2>/dev/null)" || return 1
  # Only an explicitly requested etcd version is compared; the default needs the network to resolve.
  [[ -z "$etcd_version" ]] || grep -qx "etcd Version: ${etcd_version#v}" <<<"$etcd_out" || return 1
}

if installed; then
  log "Kubernetes $k8s_version binaries (${components[*]}, etcd) already installed, nothing to do"
  echo "$bin_dir"
  exit 0
fi

require_go "$MIN_GO"

# Reproducible, static, host-native builds that never switch toolchains behind our back.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" GOFLAGS="-trimpath -buildvcs=false" GOWORK=off GO111MODULE=on

work="$(mktemp -d "${TMPDIR:-/tmp}/rootguard-k8s-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/out"

log "fetching k8s.io/kubernetes@$k8s_version"
k8s_src="$(module_dir "k8s.io/kubernetes@$k8s_version")"
require_go "$(go_directive "$k8s_src/go.mod")"

if [[ -z "$etcd_version" ]]; then
  etcd_version="$(awk '/^[[:space:]]*- name: "etcd"$/ { found = 1; next }
                       found && $1 == "version:" { print "v" $2; exit }' "$k8s_src/build/dependencies.yaml")"
  [[ -n "$etcd_version" ]] || die "cannot find the etcd version in $k8s_src/build/dependencies.yaml; set ROOTGUARD_ETCD_VERSION"
fi

# k8s.io/kubernetes replaces its k8s.io/* staging modules with local directories, which do not
# exist in the published module, so 'go install' cannot build it. A wrapper module requires it
# and points every staging module at the matching published release instead.
staging_modules="$(sed -nE 's#^(replace)?[[:space:]]*([^[:space:]]+)[[:space:]]+=>[[:space:]]+\./staging/.*#\2#p' "$k8s_src/go.mod")"
[[ -n "$staging_modules" ]] || die "no staging replace directives found in $k8s_src/go.mod"

mkdir "$work/k8s"
{
  echo "module rootguard-k8s-build"
  echo
  echo "go $(go_directive "$k8s_src/go.mod")"
  # Keep upstream's GODEBUG defaults, which follow the main module.
  grep -E '^godebug[[:space:]]' "$k8s_src/go.mod" || true
  echo
  echo "require k8s.io/kubernetes $k8s_version"
  echo
  echo "replace ("
  while read -r m; do echo "	$m => $m $staging_version"; done <<<"$staging_modules"
  echo ")"
} >"$work/k8s/go.mod"
cat >"$work/k8s/tools.go" <<'EOF'
//go:build tools

// Records the commands to build so that 'go mod tidy' resolves their dependencies.
package tools

import (
EOF
for c in "${components[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$c\"" >>"$work/k8s/tools.go"; done
echo ")" >>"$work/k8s/tools.go"

# The same version variables that upstream's hack/lib/version.sh sets, so that --version,
# 'kubectl version' and the apiserver's /version and emulation-version logic report the release.
build_date="$(go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' "k8s.io/kubernetes@$k8s_version")"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.gitCommit= -X $pkg.buildDate=$build_date"
done

log "resolving dependencies (staging modules at $staging_version)"
(cd "$work/k8s" && go mod tidy)
log "building ${components[*]} $k8s_version (slow on first run)"
start=$SECONDS
# One 'go build' for all commands, so the packages they share compile once.
(cd "$work/k8s" && go build -ldflags "$ldflags" -o "$work/out/" "${components[@]/#/k8s.io/kubernetes/cmd/}")
log "built ${components[*]} in $((SECONDS - start))s"

# etcd gets its own module so that its dependency versions are etcd's, not Kubernetes' (and vice versa).
log "fetching go.etcd.io/etcd/server/v3@$etcd_version"
etcd_src="$(module_dir "go.etcd.io/etcd/server/v3@$etcd_version")"
require_go "$(go_directive "$etcd_src/go.mod")"
mkdir "$work/etcd"
cat >"$work/etcd/go.mod" <<EOF
module rootguard-etcd-build

go $(go_directive "$etcd_src/go.mod")

require go.etcd.io/etcd/server/v3 $etcd_version
EOF
# Same entry point as upstream's server/main.go.
cat >"$work/etcd/main.go" <<'EOF'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
EOF
(cd "$work/etcd" && go mod tidy)
log "building etcd $etcd_version"
start=$SECONDS
(cd "$work/etcd" && go build -ldflags "-s -w" -o "$work/out/etcd" .)
log "built etcd in $((SECONDS - start))s"

mkdir -p "$bin_dir"
for b in "${components[@]}" etcd; do
  # Copy then rename so a concurrently running test never sees a half-written binary.
  cp "$work/out/$b" "$bin_dir/.$b.tmp"
  chmod 0755 "$bin_dir/.$b.tmp"
  mv -f "$bin_dir/.$b.tmp" "$bin_dir/$b"
done

installed || die "installed binaries in $bin_dir do not run correctly"
"$bin_dir/kube-apiserver" --version >&2
"$bin_dir/etcd" --version | sed -n 1p >&2
log "installed into:"
echo "$bin_dir"
