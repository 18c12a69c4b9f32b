#!/usr/bin/env bash
# The benchmark: rootguard /validate and /mutate against the physical limit (nginx answering a
# fixed AdmissionReview) and a peer (OPA with the same policy), over HTTPS with keep-alive, at
# several concurrency levels; pod creates through a real kube-apiserver with and without the
# webhooks; start-up time and memory; the latency image lookups add (cold, cached, fallbacks, against
# a real registry on loopback); offline audit throughput. Writes
# bench/results/<date>-<short-commit>.md and .png.
#
#   bash bench/run.sh                full run (several minutes)
#   bash bench/run.sh --smoke        seconds per step: checks the harness and that every target
#                                    answers correctly; never judges speed
#   options: --duration 10s --concurrency "1 8 32 64" --out DIR
#
# Every server is started and stopped by this script on 127.0.0.1. Exit status is non-zero when a
# target answered wrongly (non-200, wrong decision, socket errors) or a step failed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
mode=full
duration=10s
warmup=10s
levels="1 8 32 64"
out="$here/results"
footprint_requests=1000000
apiserver_pods=1000
audit_docs=10000
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) mode=smoke; duration=2s; warmup=6s; levels="4"; footprint_requests=5000; apiserver_pods=40; audit_docs=500; shift ;;
    --duration) duration="$2"; shift 2 ;;
    --concurrency) levels="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
log() { echo "bench: $*" >&2; }
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  [ -n "${nginx_dir:-}" ] && bash "$here/targets/start-nginx.sh" --stop "$nginx_dir" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# ---- prerequisites (each is a no-op when already present)
jar="$root/target/quarkus-app/quarkus-run.jar"
[ -f "$jar" ] || (cd "$root" && ./mvnw -B -q -ntp package -DskipTests)
bash "$root/provision/apt-install.sh" wrk nginx >&2
opa="$(bash "$root/provision/install-opa.sh")/opa"
certs="$work/certs"
bash "$root/certs/generate.sh" --out "$certs" >/dev/null
corpus="$work/corpus"
python3 "$here/corpus/generate.py" "$corpus" >/dev/null
index="$corpus/index.tsv"
results="$work/http.tsv"
printf 'target\tconcurrency\trps\tp50_ms\tp90_ms\tp99_ms\tmax_ms\trequests\terrors\trss_mb\n' > "$results"
failures=0

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
rss_mb() { # PID and its children
  local total=0 p
  for p in "$1" $(pgrep -P "$1" 2>/dev/null || true); do
    total=$((total + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  echo $((total / 1024))
}
wait_for() { # URL [curl args...]
  local url="$1"; shift
  for _ in $(seq 1 600); do curl -fsS -o /dev/null "$@" "$url" 2>/dev/null && return 0; sleep 0.05; done
  log "not ready: $url"; return 1
}

# Runs wrk against URL at each level and appends a line per level. CHECK: allowed|decision.
measure() {
  local name="$1" url="$2" pid="$3" check="$4" c
  POST_CHECK="$check" POST_STRICT=0 wrk -t2 -c4 -d"$warmup" -s "$here/targets/post.lua" "$url" -- "$index" >/dev/null 2>&1 || true
  for c in $levels; do
    local f="$work/$name-$c.txt" t=2
    [ "$c" -lt 2 ] && t=1
    POST_CHECK="$check" POST_STRICT=0 wrk -t"$t" -c"$c" -d"$duration" --latency -s "$here/targets/post.lua" "$url" -- "$index" > "$f" 2>&1 || true
    local line
    line="$(python3 "$here/report.py" parse-wrk "$f")" || { log "$name c=$c: cannot read wrk output"; cat "$f" >&2; failures=$((failures + 1)); continue; }
    printf '%s\t%s\t%s\t%s\n' "$name" "$c" "$line" "$(rss_mb "$pid")" >> "$results"
    local errors requests
    errors="$(cut -f7 <<<"$line")"
    requests="$(cut -f6 <<<"$line")"
    if [ "$errors" != "0" ]; then log "$name c=$c: $errors wrong answers or errors"; failures=$((failures + 1)); fi
    if [ "$requests" = "0" ]; then log "$name c=$c: no request completed"; failures=$((failures + 1)); fi
    log "$name c=$c: $(cut -f1 <<<"$line") req/s, p99 $(cut -f4 <<<"$line") ms, errors $errors"
  done
}

start_rootguard() { # PORT MGMT: the production launcher with its JVM defaults
  JAVA_OPTS="-Dquarkus.http.host=127.0.0.1 -Dquarkus.http.ssl-port=$1 -Dquarkus.management.host=127.0.0.1 \
    -Dquarkus.management.port=$2 -Drootguard.tls.cert=$certs/tls.crt -Drootguard.tls.key=$certs/tls.key \
    -Drootguard.namespace-labels.enabled=false -Dquarkus.log.category.\"dev.rootguard\".level=WARN" \
    "$root/rootguard" > "$work/rootguard-$1.log" 2>&1 &
  echo $!
}

# ---- 1. HTTPS throughput and latency
port=$(free_port); mgmt=$(free_port)
rg=$(start_rootguard "$port" "$mgmt"); pids+=("$rg")
wait_for "http://127.0.0.1:$mgmt/q/health/ready"
measure rootguard-validate "https://127.0.0.1:$port/validate" "$rg" decision
# Latency below saturation: half of the measured peak, paced (each connection waits between
# requests) rather than as fast as possible. Enough connections that the pause is about 10 ms.
peak=$(awk -F'\t' '$1=="rootguard-validate" && $3>m {m=$3} END {print int(m)}' "$results")
if [ "${peak:-0}" -gt 0 ]; then
  rate=$((peak / 2)); conns=$(( (rate + 99) / 100 )); [ "$conns" -ge 2 ] || conns=2
  pace=$(( conns * 1000 / rate )); [ "$pace" -ge 1 ] || pace=1
  f="$work/paced.txt"
  POST_PACE_MS="$pace" POST_CHECK=decision POST_STRICT=0 wrk -t2 -c"$conns" -d"$duration" --latency -s "$here/targets/post.lua" \
    "https://127.0.0.1:$port/validate" -- "$index" > "$f" 2>&1 || true
  if line="$(python3 "$here/report.py" parse-wrk "$f")"; then
    printf 'target\toffered_rps\tconnections\tpace_ms\trps\tp50_ms\tp90_ms\tp99_ms\tmax_ms\trequests\terrors\n%s\t%s\t%s\t%s\t%s\n' \
      rootguard-validate "$rate" "$conns" "$pace" "$line" > "$work/paced.tsv"
    log "paced at ~$rate req/s ($conns connections, ${pace} ms apart): $(cut -f1 <<<"$line") req/s, p99 $(cut -f4 <<<"$line") ms"
    [ "$(cut -f7 <<<"$line")" = "0" ] || { log "paced run: wrong answers or errors"; failures=$((failures + 1)); }
  else
    log "paced run: cannot read wrk output"; failures=$((failures + 1))
  fi
fi
measure rootguard-mutate "https://127.0.0.1:$port/mutate" "$rg" allowed
kill "$rg"; wait "$rg" 2>/dev/null || true

nport=$(free_port)
nginx_dir="$(bash "$here/targets/start-nginx.sh" "$nport" "$certs/tls.crt" "$certs/tls.key")"
wait_for "https://127.0.0.1:$nport/validate" --cacert "$certs/ca.crt" -X POST -H 'Content-Type: application/json' -d '{}'
measure nginx-limit "https://127.0.0.1:$nport/validate" "$(cat "$nginx_dir/nginx.pid")" allowed
bash "$here/targets/start-nginx.sh" --stop "$nginx_dir"; nginx_dir=""

oport=$(free_port)
"$opa" run --server --addr "127.0.0.1:$oport" --tls-cert-file "$certs/tls.crt" --tls-private-key-file "$certs/tls.key" \
  --set default_decision=rootguard/main --skip-version-check --log-level error "$here/targets/opa/policy.rego" > "$work/opa.log" 2>&1 &
op=$!; pids+=("$op")
wait_for "https://127.0.0.1:$oport/health" --cacert "$certs/ca.crt"
measure opa-peer "https://127.0.0.1:$oport/" "$op" decision
kill "$op"; wait "$op" 2>/dev/null || true

# ---- 2. Footprint: start to ready, memory idle and after many requests
port=$(free_port); mgmt=$(free_port)
t0=$(date +%s%N)
rg=$(start_rootguard "$port" "$mgmt"); pids+=("$rg")
wait_for "http://127.0.0.1:$mgmt/q/health/ready"
ready_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
sleep 2
idle=$(rss_mb "$rg")
[ "${peak:-0}" -ge 10 ] || peak=1000
secs=$(( footprint_requests / (peak * 8 / 10) + 5 ))
POST_CHECK=allowed POST_STRICT=0 wrk -t2 -c16 -d"${secs}s" -s "$here/targets/post.lua" "https://127.0.0.1:$port/validate" -- "$index" > "$work/footprint.txt" 2>&1 &
wrk_pid=$!
# RSS every tenth of the run, to show whether it grows with the requests served.
printf 'second\trss_mb\n0\t%s\n' "$idle" > "$work/rss-trend.tsv"
step=$(( secs / 10 )); [ "$step" -ge 1 ] || step=1
for i in $(seq 1 10); do
  sleep "$step"; kill -0 "$wrk_pid" 2>/dev/null || break
  printf '%s\t%s\n' $((i * step)) "$(rss_mb "$rg")" >> "$work/rss-trend.tsv"
done
wait "$wrk_pid" || true
served=$(awk '/^ *[0-9]+ requests in/ {print $1}' "$work/footprint.txt")
after=$(rss_mb "$rg")
[ "${served:-0}" -gt 0 ] || { log "footprint: no request completed"; tail -5 "$work/footprint.txt" >&2; failures=$((failures + 1)); }
[ "${served:-0}" -ge "$footprint_requests" ] || log "footprint: served ${served:-0} of $footprint_requests requests in ${secs}s"
kill "$rg"; wait "$rg" 2>/dev/null || true
printf 'ready_ms\tidle_rss_mb\trequests\tafter_rss_mb\n%s\t%s\t%s\t%s\n' "$ready_ms" "$idle" "${served:-0}" "$after" > "$work/footprint.tsv"
log "footprint: ready in ${ready_ms} ms, RSS ${idle} MB idle, ${after} MB after ${served:-0} requests"

# ---- 3. Through the real kube-apiserver
cp_file="$work/classpath.txt"
(cd "$root" && { [ -f target/test-classes/dev/rootguard/bench/ApiServerBenchmark.class ] || ./mvnw -B -q -ntp test-compile; } \
  && ./mvnw -B -q -ntp dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >/dev/null)
bash "$root/provision/install-control-plane.sh" >/dev/null
echo_bin="$(bash "$root/provision/install-echo-webhook.sh")"
(cd "$root" && java -Djava.util.logging.manager=org.jboss.logmanager.LogManager -Dbench.echo="$echo_bin" -cp "target/test-classes:target/classes:$(cat "$cp_file")" \
  dev.rootguard.bench.ApiServerBenchmark "$apiserver_pods" "1 8" "$work/apiserver.tsv" > "$work/apiserver.log" 2>&1) \
  || { log "API server benchmark failed"; tail -20 "$work/apiserver.log" >&2; failures=$((failures + 1)); }
if [ -f "$work/apiserver.tsv" ] && awk -F'\t' 'NR>1 && $6 != 0 {bad=1} END {exit bad}' "$work/apiserver.tsv"; then
  log "API server: $(tr '\n' ' ' < "$work/apiserver.tsv")"
else
  log "API server benchmark had failed creates"; failures=$((failures + 1))
fi

# ---- 4. Image lookups: the latency a cold lookup, a cached one and the fallbacks add to /validate
bash "$root/provision/install-registry.sh" >/dev/null
image_requests=200
[ "$mode" = smoke ] && image_requests=10
(cd "$root" && java -Djava.util.logging.manager=org.jboss.logmanager.LogManager -cp "target/test-classes:target/classes:$(cat "$cp_file")" \
  dev.rootguard.bench.ImageLookupBenchmark "$image_requests" "$work/images.tsv" > "$work/images.log" 2>&1) \
  || { log "image lookup benchmark failed or answered wrongly"; tail -20 "$work/images.log" >&2; failures=$((failures + 1)); }
[ -f "$work/images.tsv" ] && log "image lookups: $(tr '\n' ' ' < "$work/images.tsv")"

# ---- 5. Offline audit throughput
bash "$here/audit-throughput.sh" --docs "$audit_docs" --runs 1 > "$work/audit.txt" || failures=$((failures + 1))

# ---- report
mkdir -p "$out"
name="$(date -u +%Y-%m-%d)-$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo nogit)"
[ "$mode" = smoke ] && name="$name-smoke"
venv="${ROOTGUARD_CACHE:-$HOME/.cache/rootguard}/bench-venv"
[ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import matplotlib' 2>/dev/null \
  || { python3 -m venv "$venv" && "$venv/bin/pip" install -q matplotlib >&2; }
"$venv/bin/python" "$here/report.py" write --mode "$mode" --http "$results" --footprint "$work/footprint.tsv" --rss-trend "$work/rss-trend.tsv" --paced "$work/paced.tsv" --notes "$here/tuning.md" \
  --apiserver "$work/apiserver.tsv" --images "$work/images.tsv" --audit "$work/audit.txt" --opa "$opa" --out "$out/$name.md" --png "$out/$name.png"
log "wrote $out/$name.md"
[ "$failures" -eq 0 ] || { log "$failures step(s) failed or answered wrongly"; exit 1; }
