#!/usr/bin/env bash
# A one-node Kubernetes cluster in a network namespace of its own, for the node suite (NodeSuiteIT):
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, containerd and the kubelet, from
# the binaries provision/install-node.sh installs, with everything the run writes under one
# directory. All traffic stays on loopback or inside the namespace: the node's address is on a veth
# pair inside it, pods get addresses on a CNI bridge inside it, there is no default route, and the
# API server is reached from the host through a relay on host loopback (socat, over a Unix socket in
# the run directory, which both namespaces see).
#
#   node.sh up DIR PORT [IMAGE.tar ...]   creates the namespace, starts the cluster, imports the
#                                         images into containerd and waits until the node is Ready;
#                                         the API server is then at https://127.0.0.1:PORT, with an
#                                         admin kubeconfig in DIR/kubeconfig
#   node.sh stop DIR                      stops the whole cluster as a power cut would: every
#                                         process and container is killed, the runtime state is gone,
#                                         etcd's data and the images stay
#   node.sh start DIR                     starts the stopped cluster again (same namespace and port)
#   node.sh start DIR --control-plane-only  only etcd, the API server and the controllers: no pod runs
#   node.sh start-node DIR                containerd and the kubelet, after --control-plane-only
#   node.sh down DIR                      stops everything and removes the namespace, cgroups,
#                                         mounts and DIR; restores the host settings the kubelet
#                                         changed. Safe to run twice, and on a half-started run
#   node.sh clean                         runs 'down' for every run whose owner process is gone
#                                         (a killed test run), found in /run/rootguard-node
#
# Environment: NODE_BIN (kubelet, kube-apiserver, ...: required), NODE_OWNER (the PID whose death
# makes the run a leftover; default: the caller's parent), NODE_SANDBOX_IMAGE (the pause image's
# name, default rootguard.local/pause:3.10.2), NODE_UP_TIMEOUT (seconds, default 120).
#
# Facts this relies on, found on a cgroup v1 host without CAP_SYS_RESOURCE and without systemd:
# runc needs containerd's restrict_oom_score_adj; 'ip netns exec' remounts /sys and hides the
# cgroup hierarchy, so processes enter the namespace with nsenter; kubelet 1.35+ needs
# failCgroupV1: false on cgroup v1; no kube-proxy runs: the API server sends webhook calls straight
# to endpoint pod IPs (--enable-aggregator-routing), and the one Service pods use, kubernetes.default,
# is a DNAT rule to the API server in the namespace (what kube-proxy would write for it).
set -euo pipefail

log() { echo "node.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

REGISTRY=/run/rootguard-node
SYSCTLS=(vm.overcommit_memory kernel.panic kernel.panic_on_oops)
NODE_IP=10.231.0.2
PEER_IP=10.231.0.1
POD_CIDR=10.231.1.0/24
POD_GW=10.231.1.1
SERVICE_CIDR=10.231.128.0/24
KUBERNETES_SERVICE_IP=10.231.128.1
NODE_NAME=rootguard-node
SANDBOX_IMAGE="${NODE_SANDBOX_IMAGE:-rootguard.local/pause:3.10.2}"

# --- helpers ---------------------------------------------------------------------------------------

state() { sed -nE "s/^$1=(.*)$/\1/p" "$RUN/state.env" 2>/dev/null | tail -n1; }

# run_of DIR: the registry entry of the run whose directory is DIR (empty if none).
run_of() {
  local f
  for f in "$REGISTRY"/*/state.env; do
    [[ -e "$f" ]] || continue
    if grep -qxF "DIR=$1" "$f"; then
      dirname "$f"
      return 0
    fi
  done
}
in_ns() { nsenter --net="/run/netns/$NS" -- "$@"; }

# start NAME CMD...: runs CMD in the node's namespace, in the background, logging to DIR/logs/NAME.log,
# and records its PID in DIR/pids/NAME.
start_proc() {
  local name="$1"
  shift
  mkdir -p "$DIR/logs" "$RUN/pids"
  setsid nsenter --net="/run/netns/$NS" -- "$@" >>"$DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/pids/$name"
}

# stop_proc NAME: SIGTERM, then SIGKILL after 10 s, by the recorded PID.
stop_proc() {
  local f="$RUN/pids/$1" pid i
  [[ -f "$f" ]] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

wait_for() {
  local what="$1" timeout="$2"
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out after ${timeout}s waiting for $what (logs in $DIR/logs)"
    sleep 0.2
  done
}

kubectl_() { "$BIN/kubectl" --kubeconfig "$DIR/kubeconfig" "$@"; }

# --- certificates and configuration ----------------------------------------------------------------

cert() { # NAME CN O [SAN]
  local name="$1" cn="$2" o="$3" san="${4:-}"
  local subj="/CN=$cn"
  [[ -n "$o" ]] && subj="/O=$o/CN=$cn"
  # RSA keys: the fabric8 client the tests use failed to read EC client keys from kubeconfig files.
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/$name.key" 2>/dev/null
  local ext=(-addext "basicConstraints=critical,CA:FALSE" -addext "keyUsage=critical,digitalSignature,keyEncipherment")
  if [[ -n "$san" ]]; then
    ext+=(-addext "subjectAltName=$san" -addext "extendedKeyUsage=serverAuth,clientAuth")
  else
    ext+=(-addext "extendedKeyUsage=clientAuth")
  fi
  openssl req -new -key "$PKI/$name.key" -subj "$subj" "${ext[@]}" -out "$PKI/$name.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 30 -sha256 -copy_extensions copyall -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr"
}

kubeconfig() { # FILE SERVER CERTNAME
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: node
  cluster:
    server: $2
    certificate-authority: $PKI/ca.crt
users:
- name: $3
  user:
    client-certificate: $PKI/$3.crt
    client-key: $PKI/$3.key
contexts:
- name: node
  context: {cluster: node, user: $3}
current-context: node
EOF
}

configure() {
  PKI="$DIR/pki"
  mkdir -p "$PKI" "$DIR/etcd" "$DIR/kubelet" "$DIR/pod-logs" "$DIR/cni/net.d" "$DIR/cni/ipam" "$DIR/cni/cache" \
    "$DIR/containerd/root" "$DIR/runc"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$PKI/ca.key" -sha256 -days 30 -subj "/CN=rootguard-node-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$PKI/ca.crt" 2>/dev/null
  cert apiserver kube-apiserver "" \
    "IP:127.0.0.1,IP:$NODE_IP,IP:$KUBERNETES_SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  cert admin admin system:masters
  cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
  cert kubelet "system:node:$NODE_NAME" system:nodes
  cert controller-manager system:kube-controller-manager ""
  cert scheduler system:kube-scheduler ""
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/sa.key" 2>/dev/null
  openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null

  local inside="https://127.0.0.1:6443"
  kubeconfig "$DIR/kubeconfig" "https://127.0.0.1:$PORT" admin
  kubeconfig "$DIR/admin-inside.kubeconfig" "$inside" admin
  kubeconfig "$DIR/kubelet.kubeconfig" "https://$NODE_IP:6443" kubelet
  kubeconfig "$DIR/controller-manager.kubeconfig" "$inside" controller-manager
  kubeconfig "$DIR/scheduler.kubeconfig" "$inside" scheduler

  : >"$DIR/resolv.conf"
  cat >"$DIR/cni/net.d/10-bridge.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "rootguard-node",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$DIR/cni/ipam",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$POD_GW"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "loopback"}
  ]
}
EOF
  cat >"$DIR/containerd.toml" <<EOF
version = 2
root = "$DIR/containerd/root"
state = "$DIR/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$DIR/containerd.sock"
[ttrpc]
  address = "$DIR/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$DIR/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$SANDBOX_IMAGE"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DIR/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$DIR/runc"
EOF
  cat >"$DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP
failSwapOn: false
failCgroupV1: false
containerRuntimeEndpoint: unix://$DIR/containerd.sock
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: "1Mi"
  nodefs.available: "1%"
  imagefs.available: "1%"
  nodefs.inodesFree: "1%"
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
podCIDR: $POD_CIDR
resolvConf: $DIR/resolv.conf
clusterDomain: cluster.local
podLogsDir: $DIR/pod-logs
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
serializeImagePulls: false
registerNode: true
EOF
}

# --- the namespace and the processes ---------------------------------------------------------------

save_sysctls() {
  # The first live run keeps the host's values; the last one to go down restores them.
  mkdir -p "$REGISTRY"
  if [[ ! -f "$REGISTRY/sysctl.orig" ]]; then
    local s
    for s in "${SYSCTLS[@]}"; do
      echo "$s=$(sysctl -n "$s")"
    done >"$REGISTRY/sysctl.orig.tmp"
    mv "$REGISTRY/sysctl.orig.tmp" "$REGISTRY/sysctl.orig"
  fi
}

restore_sysctls() {
  [[ -f "$REGISTRY/sysctl.orig" ]] || return 0
  local other
  for other in "$REGISTRY"/*/state.env; do
    [[ -e "$other" ]] || continue
    [[ "$(dirname "$other")" == "$RUN" ]] && continue
    return 0 # another run is still up and the kubelet there wants its values
  done
  local line
  while IFS= read -r line; do
    sysctl -q -w "$line" >/dev/null || log "could not restore $line"
  done <"$REGISTRY/sysctl.orig"
  rm -f "$REGISTRY/sysctl.orig"
}

create_namespace() {
  ip netns add "$NS"
  in_ns ip link set lo up
  in_ns ip link add rgnode0 type veth peer name rgnode1
  in_ns ip addr add "$NODE_IP/24" dev rgnode0
  in_ns ip addr add "$PEER_IP/24" dev rgnode1
  in_ns ip link set rgnode0 up
  in_ns ip link set rgnode1 up
  # kubernetes.default for pods, as kube-proxy would program it (no kube-proxy runs here).
  in_ns iptables -t nat -A PREROUTING -d "$KUBERNETES_SERVICE_IP/32" -p tcp --dport 443 \
    -j DNAT --to-destination "$NODE_IP:6443"
  in_ns iptables -t nat -A OUTPUT -d "$KUBERNETES_SERVICE_IP/32" -p tcp --dport 443 \
    -j DNAT --to-destination "$NODE_IP:6443"
}

start_cluster() {
  start_control_plane
  start_node_components
}

start_control_plane() {
  start_proc etcd "$BIN/etcd" --name node --data-dir "$DIR/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster node=http://127.0.0.1:2380 --unsafe-no-fsync
  start_proc kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers http://127.0.0.1:2379 \
    --bind-address 0.0.0.0 --secure-port 6443 --advertise-address "$NODE_IP" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --authorization-mode Node,RBAC --enable-aggregator-routing=true --allow-privileged=true \
    --kubelet-preferred-address-types InternalIP \
    --profiling=false
  # The relay: host loopback -> Unix socket in DIR -> the API server inside the namespace.
  start_proc relay-inside socat "UNIX-LISTEN:$DIR/apiserver.sock,fork,unlink-early" TCP:127.0.0.1:6443
  setsid socat "TCP-LISTEN:$PORT,bind=127.0.0.1,fork,reuseaddr" "UNIX-CONNECT:$DIR/apiserver.sock" \
    >>"$DIR/logs/relay-host.log" 2>&1 </dev/null &
  echo $! >"$RUN/pids/relay-host"
  wait_for "the API server" "$TIMEOUT" kubectl_ get --raw /readyz

  start_proc kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig "$DIR/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$DIR/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$DIR/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" --allocate-node-cidrs=false
  start_proc kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig "$DIR/scheduler.kubeconfig" \
    --authentication-kubeconfig "$DIR/scheduler.kubeconfig" \
    --authorization-kubeconfig "$DIR/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false

}

start_node_components() {
  start_proc containerd containerd --config "$DIR/containerd.toml"
  wait_for "containerd" 30 ctr --address "$DIR/containerd.sock" version
  local image
  for image in "$DIR"/images/*.tar; do
    [[ -e "$image" ]] || continue
    ctr --address "$DIR/containerd.sock" -n k8s.io images import --no-unpack=false "$image" >/dev/null \
      || die "cannot import $image"
  done
  create_cgroups
  start_proc kubelet "$BIN/kubelet" --config "$DIR/kubelet.yaml" --kubeconfig "$DIR/kubelet.kubeconfig" \
    --root-dir "$DIR/kubelet" --cert-dir "$DIR/kubelet/pki" --hostname-override "$NODE_NAME" \
    --node-ip "$NODE_IP" --v=1
  wait_for "node $NODE_NAME to be Ready" "$TIMEOUT" \
    kubectl_ wait --for=condition=Ready "node/$NODE_NAME" --timeout=2s
}

# Every process in the kubelet's cgroup tree (pods, shims), in every hierarchy.
cgroup_pids() {
  local root
  for root in /sys/fs/cgroup/*/"$CGROUP" /sys/fs/cgroup/"$CGROUP"; do
    [[ -d "$root" ]] || continue
    find "$root" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -u
}

stop_cluster() {
  local p
  for p in kubelet kube-scheduler kube-controller-manager; do
    stop_proc "$p"
  done
  # Pods and their shims: the shims are containerd's children in name only (they re-parent), so
  # kill everything under the cgroup root and every shim serving this containerd.
  local pids i
  for i in 1 2 3; do
    pids="$(cgroup_pids)"
    [[ -n "$pids" ]] && kill -KILL $pids 2>/dev/null || true
    sleep 0.2
  done
  for p in $(pgrep -f "containerd-shim-runc-v2 .*-address $DIR/containerd.sock" || true); do
    kill -KILL "$p" 2>/dev/null || true
  done
  stop_proc containerd
  for p in relay-host relay-inside kube-apiserver etcd; do
    stop_proc "$p"
  done
  # Runtime state as after a reboot: sandbox network namespaces and mounts under the state dir go.
  local m
  for m in $(awk -v d="$DIR/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf "$DIR/containerd/state" "$DIR/runc"
  mkdir -p "$DIR/runc"
  # Pod addresses, as a reboot would free them (host-local keeps them in files).
  rm -rf "$DIR/cni/ipam"
  mkdir -p "$DIR/cni/ipam"
  remove_cgroups
}

# The kubelet's cgroup root, in every hierarchy (the kubelet creates what is below it).
create_cgroups() {
  local h
  for h in /sys/fs/cgroup/*/; do
    mkdir -p "$h$CGROUP"
    if [[ -f "$h/cpuset.cpus" && ! -s "$h$CGROUP/cpuset.cpus" ]]; then
      cat "$h/cpuset.cpus" >"$h$CGROUP/cpuset.cpus"
      cat "$h/cpuset.mems" >"$h$CGROUP/cpuset.mems"
    fi
  done
}

remove_cgroups() {
  local root d
  for root in /sys/fs/cgroup/*/"$CGROUP" /sys/fs/cgroup/"$CGROUP"; do
    [[ -d "$root" ]] || continue
    for d in $(find "$root" -depth -type d); do
      rmdir "$d" 2>/dev/null || true
    done
  done
}

# down: everything of the run in $RUN goes, also when its directory is already gone.
down() {
  NS="$(state NS)"
  CGROUP="$(state CGROUP)"
  BIN="$(state BIN)"
  DIR="$(state DIR)"
  [[ -n "$DIR" && -n "$CGROUP" ]] || die "$RUN/state.env is incomplete"
  stop_cluster || true
  remove_cgroups
  [[ -n "$NS" ]] && ip netns delete "$NS" 2>/dev/null || true
  # The kubelet links container logs from /var/log/containers, a fixed path.
  local l
  for l in /var/log/containers/*; do
    [[ -L "$l" ]] || continue
    case "$(readlink "$l")" in "$DIR"/*) rm -f "$l" ;; esac
  done
  restore_sysctls
  rm -rf "$RUN"
}

# --- commands --------------------------------------------------------------------------------------

cmd="${1:-}"
case "$cmd" in
  up)
    [[ $# -ge 3 ]] || die "usage: node.sh up DIR PORT [IMAGE.tar ...]"
    [[ "$(id -u)" -eq 0 ]] || die "needs root (network namespace, cgroups, mounts)"
    BIN="${NODE_BIN:?NODE_BIN must name the directory with kubelet, kube-apiserver, ...}"
    DIR="$(realpath -m "$2")"
    PORT="$3"
    shift 3
    TIMEOUT="${NODE_UP_TIMEOUT:-120}"
    [[ -z "$(run_of "$DIR")" ]] || die "$DIR is in use; run node.sh down $DIR first"
    id="$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
    NS="rgnode-$id"
    CGROUP="rootguard-node-$id"
    RUN="$REGISTRY/$id"
    mkdir -p "$RUN/pids"
    printf 'DIR=%s\nNS=%s\nCGROUP=%s\nBIN=%s\nPORT=%s\nOWNER=%s\n' \
      "$DIR" "$NS" "$CGROUP" "$BIN" "$PORT" "${NODE_OWNER:-$PPID}" >"$RUN/state.env"
    rm -rf "$DIR"
    mkdir -p "$DIR/images"
    for image in "$@"; do
      cp "$image" "$DIR/images/"
    done
    save_sysctls
    create_namespace
    configure
    start_cluster
    log "node $NODE_NAME Ready; API server at https://127.0.0.1:$PORT, kubeconfig $DIR/kubeconfig"
    ;;
  stop | start | start-node)
    DIR="$(realpath -m "${2:?usage: node.sh $cmd DIR}")"
    RUN="$(run_of "$DIR")"
    [[ -n "$RUN" ]] || die "no run in $DIR"
    NS="$(state NS)" CGROUP="$(state CGROUP)" BIN="$(state BIN)" PORT="$(state PORT)" PKI="$DIR/pki"
    TIMEOUT="${NODE_UP_TIMEOUT:-120}"
    case "$cmd" in
      stop) stop_cluster ;;
      start) if [[ "${3:-}" == --control-plane-only ]]; then start_control_plane; else start_cluster; fi ;;
      start-node) start_node_components ;;
    esac
    ;;
  down)
    DIR="$(realpath -m "${2:?usage: node.sh down DIR}")"
    RUN="$(run_of "$DIR")"
    if [[ -n "$RUN" ]]; then down; fi
    rm -rf "$DIR"
    ;;
  clean)
    for f in "$REGISTRY"/*/state.env; do
      [[ -e "$f" ]] || continue
      RUN="$(dirname "$f")"
      owner="$(state OWNER)"
      if [[ "${owner:-0}" -gt 0 ]] && kill -0 "$owner" 2>/dev/null; then
        continue
      fi
      log "removing the leftover run $RUN of $(state DIR) (its owner, PID ${owner:-?}, is gone)"
      down
    done
    ;;
  *)
    sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
