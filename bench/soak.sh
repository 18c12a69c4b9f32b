#!/usr/bin/env bash
# Soak: rootguard /validate under paced load at a fraction of its measured peak for a long time,
# with the serving certificate replaced mid-run. Checks every answer's status, a sample of the
# decisions against the corpus's expected ones, resident memory over time, and that new
# connections get the new certificate while no request fails.
#
#   bash bench/soak.sh                        10 minutes at 80% of peak (writes bench/results/<date>-<commit>-soak.md)
#   bash bench/soak.sh --duration 30s         short form (CI runs this through SoakSmokeIT)
#   options: --duration 10m  --fraction 80  --out DIR  --sample N (check every Nth decision, default 5)
#
# Exit status is non-zero on any failed request, wrong decision, failed handshake during the
# rotation, a rotation that did not take effect, or RSS that keeps growing (second-half slope over
# 2 MB/min). Every server is started and stopped by this script on 127.0.0.1.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
duration=10m
fraction=80
out="$here/results"
sample=5
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --fraction) fraction="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --sample) sample="$2"; shift 2 ;;
    *) echo "soak.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
log() { echo "soak: $*" >&2; }
seconds() { # 10m, 30s, 1h, 45 -> seconds
  case "$1" in *h) echo $(( ${1%h} * 3600 )) ;; *m) echo $(( ${1%m} * 60 )) ;; *s) echo "${1%s}" ;; *) echo "$1" ;; esac
}
total=$(seconds "$duration")
[ "$total" -ge 10 ] || { echo "soak.sh: --duration must be at least 10s" >&2; exit 2; }
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

jar="$root/target/quarkus-app/quarkus-run.jar"
[ -f "$jar" ] || (cd "$root" && ./mvnw -B -q -ntp package -DskipTests)
bash "$here/../provision/apt-install.sh" wrk >&2
certs="$work/certs"
bash "$root/certs/generate.sh" --out "$certs" >/dev/null
python3 "$here/corpus/generate.py" "$work/corpus" >/dev/null
index="$work/corpus/index.tsv"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
rss_mb() { awk '/^VmRSS/ {print int($2/1024)}' "/proc/$1/status" 2>/dev/null || echo 0; }
serial() { openssl s_client -connect "127.0.0.1:$1" -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null | cut -d= -f2; }

port=$(free_port); mgmt=$(free_port)
JAVA_OPTS="-Dquarkus.http.host=127.0.0.1 -Dquarkus.http.ssl-port=$port -Dquarkus.management.host=127.0.0.1 \
  -Dquarkus.management.port=$mgmt -Drootguard.tls.cert=$certs/tls.crt -Drootguard.tls.key=$certs/tls.key \
  -Drootguard.tls.reload-period=1s -Drootguard.namespace-labels.enabled=false \
  -Dquarkus.log.category.\"dev.rootguard.admission.AdmissionHandler\".level=WARN" \
  "$root/rootguard" > "$work/rootguard.log" 2>&1 &
rg=$!; pids+=("$rg")
for _ in $(seq 1 600); do curl -fs -o /dev/null "http://127.0.0.1:$mgmt/q/health/ready" && break; sleep 0.05; done
url="https://127.0.0.1:$port/validate"

# Peak, after a warm-up, then the paced rate.
POST_CHECK=allowed POST_STRICT=0 wrk -t2 -c4 -d10s -s "$here/targets/post.lua" "$url" -- "$index" >/dev/null 2>&1 || true
POST_CHECK=allowed POST_STRICT=0 wrk -t2 -c8 -d10s -s "$here/targets/post.lua" "$url" -- "$index" > "$work/peak.txt" 2>&1 || true
peak=$(awk '/^Requests\/sec/ {print int($2)}' "$work/peak.txt")
[ "${peak:-0}" -gt 0 ] || { log "could not measure the peak"; cat "$work/peak.txt" >&2; exit 1; }
rate=$(( peak * fraction / 100 )); conns=$(( (rate + 99) / 100 )); [ "$conns" -ge 2 ] || conns=2
pace=$(( conns * 1000 / rate )); [ "$pace" -ge 1 ] || pace=1
log "peak $peak req/s; soaking at ~$rate req/s ($conns connections, ${pace} ms apart) for ${total}s"

POST_PACE_MS="$pace" POST_CHECK=decision POST_SAMPLE="$sample" POST_STRICT=0 \
  wrk -t2 -c"$conns" -d"${total}s" --latency -s "$here/targets/post.lua" "$url" -- "$index" > "$work/soak.txt" 2>&1 &
load=$!; pids+=("$load")

# RSS every tenth of the run; the certificate is replaced at half time while new connections keep
# arriving (one per request, from a separate client).
printf 'second\trss_mb\n0\t%s\n' "$(rss_mb "$rg")" > "$work/rss.tsv"
step=$(( total / 10 )); [ "$step" -ge 1 ] || step=1
before="$(serial "$port")"
after=""; handshakes=0; handshake_failures=0
for i in $(seq 1 10); do
  if [ "$i" -eq 5 ]; then
    bash "$root/certs/generate.sh" --out "$certs" >/dev/null   # same CA, new serving key and certificate
    end=$(( $(date +%s) + step ))
    bodies=("$work"/corpus/0*.json)
    f="${bodies[0]}"
    while [ "$(date +%s)" -lt "$end" ]; do
      if curl -fsS -o /dev/null --cacert "$certs/ca.crt" -H 'Content-Type: application/json' --data-binary @"$f" "$url"; then
        handshakes=$((handshakes + 1))
      else
        handshake_failures=$((handshake_failures + 1))
      fi
    done
    after="$(serial "$port")"
  else
    sleep "$step"
  fi
  kill -0 "$load" 2>/dev/null || break
  printf '%s\t%s\n' $((i * step)) "$(rss_mb "$rg")" >> "$work/rss.tsv"
done
wait "$load" || true
pids=("$rg")

result="$(grep 'post.lua: result' "$work/soak.txt" || true)"
requests=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$result"); non200=$(sed -n 's/.*non200=\([0-9]*\).*/\1/p' <<<"$result")
checked=$(sed -n 's/.*checked=\([0-9]*\).*/\1/p' <<<"$result"); bad=$(sed -n 's/.*bad=\([0-9]*\).*/\1/p' <<<"$result")
socket_errors=$(sed -n 's/.*socket_errors=\([0-9]*\).*/\1/p' <<<"$result")
p99=$(awk '$1=="99%" {print $2}' "$work/soak.txt"); rps=$(awk '/^Requests\/sec/ {print int($2)}' "$work/soak.txt")
slope=$(python3 - "$work/rss.tsv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))[1:]
pts = [(float(r["second"]), float(r["rss_mb"])) for r in rows][len(rows) // 2:]
if len(pts) < 2:
    print("0.00"); sys.exit()
mx = sum(x for x, _ in pts) / len(pts); my = sum(y for _, y in pts) / len(pts)
var = sum((x - mx) ** 2 for x, _ in pts)
print(f"{(sum((x - mx) * (y - my) for x, y in pts) / var * 60 if var else 0):.2f}")
PY
)

failures=()
[ -n "$result" ] || failures+=("no wrk report")
[ "${non200:-1}" = 0 ] || failures+=("$non200 non-200 answers")
[ "${socket_errors:-1}" = 0 ] || failures+=("$socket_errors socket errors")
[ "${bad:-1}" = 0 ] || failures+=("$bad wrong decisions")
[ "$handshake_failures" = 0 ] || failures+=("$handshake_failures failed requests on new connections during the rotation")
[ "$handshakes" -gt 0 ] || failures+=("no new connection during the rotation")
[ -n "$before" ] && [ -n "$after" ] && [ "$before" != "$after" ] || failures+=("new connections did not get the new certificate ($before -> $after)")
# A trend needs time: short runs (CI) report RSS but do not judge it.
if [ "$total" -ge 300 ]; then
  python3 -c "import sys; sys.exit(0 if float('$slope') <= 2.0 else 1)" || failures+=("RSS grows: $slope MB/min over the second half")
fi

mkdir -p "$out"
name="$(date -u +%Y-%m-%d)-$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo nogit)-soak"
{
  echo "# rootguard soak ($duration)"
  echo
  echo "- machine: $(nproc) cores, $(java -version 2>&1 | head -1)"
  echo "- measured peak $peak req/s; paced at ~$rate req/s ($fraction%) over $conns kept-alive connections for ${total}s"
  echo "- served $requests requests (${rps} req/s), p99 $p99; non-200 ${non200:-?}, socket errors ${socket_errors:-?}"
  echo "- decisions checked against the corpus: ${checked:-0} (every ${sample}th answer), wrong: ${bad:-?}"
  echo "- certificate replaced at half time: serial $before -> $after; $handshakes requests on new connections during the rotation, $handshake_failures failed"
  echo "- RSS (second: MB): $(awk -F'\t' 'NR>1 {printf "%s%s: %s", sep, $1, $2; sep=", "}' "$work/rss.tsv"); second-half slope $slope MB/min"
  echo
  if [ ${#failures[@]} -eq 0 ]; then echo "Result: passed (zero errors, zero wrong decisions)."; else printf 'Result: FAILED: %s\n' "${failures[*]}"; fi
} > "$out/$name.md"
cat "$out/$name.md" >&2
kill "$rg"; wait "$rg" 2>/dev/null || true; pids=()
[ ${#failures[@]} -eq 0 ]
