#!/usr/bin/env bash
# Installs what the node suite (NodeSuiteIT, src/test/node/node.sh) needs beyond the control plane:
#
#   - the Debian packages in NODE_PACKAGES (containerd, runc, the CNI plugins, iptables, socat,
#     busybox-static, gcc) when their command is missing, without starting their services;
#   - kubelet, kube-controller-manager and kube-scheduler beside kube-apiserver
#     (install-control-plane.sh --node);
#   - the pause binary for pod sandboxes, compiled statically from build/pause/linux/pause.c of the
#     k8s.io/kubernetes module at KUBERNETES_VERSION, into $ROOTGUARD_CACHE/node/pause-<PAUSE_VERSION>/.
#
# A no-op when everything is there. Prints the pause binary's path.
set -euo pipefail

log() { echo "install-node: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ "$(uname -s)" == Linux ]] || die "the node suite runs on Linux only"
packages="$(pinned NODE_PACKAGES)"
bash "$PROVISION_DIR/apt-install.sh" ${packages//,/ }
bash "$PROVISION_DIR/install-control-plane.sh" --node >/dev/null

pause_version="$(pinned PAUSE_VERSION)"
pause_dir="$cache_root/node/pause-$pause_version"
if [[ -x "$pause_dir/pause" ]] && "$pause_dir/pause" -v 2>&1 | grep -q "v$pause_version"; then
  log "pause $pause_version already built, nothing to do"
  echo "$pause_dir/pause"
  exit 0
fi
k8s_version="${ROOTGUARD_K8S_VERSION:-$(pinned KUBERNETES_VERSION)}"
k8s_version="v${k8s_version#v}"
require_go "$(pinned MIN_GO_VERSION)"
src="$(GOFLAGS=-mod=mod GOTOOLCHAIN=local module_dir "k8s.io/kubernetes@$k8s_version")/build/pause/linux/pause.c"
[[ -f "$src" ]] || die "no $src"
grep -q "^TAG ?= $pause_version\$" "$(dirname "$src")/../Makefile" \
  || log "note: Kubernetes $k8s_version's pause Makefile is not at $pause_version; building its pause.c as $pause_version"
mkdir -p "$pause_dir"
# The flags of the pause Makefile.
gcc -Os -Wall -Werror -static -DVERSION="v$pause_version-rootguard" -o "$pause_dir/pause.tmp" "$src"
mv "$pause_dir/pause.tmp" "$pause_dir/pause"
log "built $pause_dir/pause"
echo "$pause_dir/pause"
