#!/usr/bin/env bash
# Compares /validate and /mutate of two revisions on this machine: builds each revision's jar in a
# temporary git worktree, starts both webhooks (each with its own launcher and JVM defaults) on
# 127.0.0.1, then measures them in alternating rounds (A, B, A, B, ...) so that a busy moment of
# the machine falls on both alike. Writes bench/results/<date>-compare-<a>-<b>.md.
#
#   bash bench/compare.sh REV_A REV_B [--rounds 5] [--duration 10s] [--concurrency 8]
#
# Exit status is non-zero when a target answered wrongly (non-200, wrong decision, socket errors).
# It reports measured numbers and never judges them.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
[ $# -ge 2 ] || { sed -n '2,10p' "$0" >&2; exit 2; }
rev_a="$1"; rev_b="$2"; shift 2
rounds=5; duration=10s; concurrency=8; out="$here/results"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --concurrency) concurrency="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
log() { echo "compare: $*" >&2; }
work="$(mktemp -d)"
pids=()
trees=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  for t in "${trees[@]:-}"; do [ -n "$t" ] && git -C "$root" worktree remove --force "$t" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

sha_a="$(git -C "$root" rev-parse --short "$rev_a")"
sha_b="$(git -C "$root" rev-parse --short "$rev_b")"
bash "$root/provision/apt-install.sh" wrk >&2
certs="$work/certs"
bash "$root/certs/generate.sh" --out "$certs" >/dev/null
corpus="$work/corpus"
python3 "$here/corpus/generate.py" "$corpus" >/dev/null
index="$corpus/index.tsv"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_for() {
  for _ in $(seq 1 600); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.05; done
  log "not ready: $1"; return 1
}

build() { # REV DIR: a worktree at REV with its jar built
  git -C "$root" worktree add --detach -q "$2" "$1"
  trees+=("$2")
  log "building $1"
  (cd "$2" && ./mvnw -B -q -ntp -o package -DskipTests >&2)
}

start() { # DIR PORT MGMT: that revision's production launcher
  JAVA_OPTS="-Dquarkus.http.host=127.0.0.1 -Dquarkus.http.ssl-port=$2 -Dquarkus.management.host=127.0.0.1 \
    -Dquarkus.management.port=$3 -Drootguard.tls.cert=$certs/tls.crt -Drootguard.tls.key=$certs/tls.key \
    -Drootguard.namespace-labels.enabled=false -Dquarkus.log.category.\"dev.rootguard\".level=WARN" \
    "$1/rootguard" > "$work/rootguard-$2.log" 2>&1 &
  echo $!
}

build "$rev_a" "$work/a"
build "$rev_b" "$work/b"
port_a=$(free_port); mgmt_a=$(free_port); port_b=$(free_port); mgmt_b=$(free_port)
pid_a=$(start "$work/a" "$port_a" "$mgmt_a"); pids+=("$pid_a")
pid_b=$(start "$work/b" "$port_b" "$mgmt_b"); pids+=("$pid_b")
wait_for "http://127.0.0.1:$mgmt_a/q/health/ready"
wait_for "http://127.0.0.1:$mgmt_b/q/health/ready"

results="$work/results.tsv"
failures=0
run() { # NAME PORT PATH CHECK ROUND
  local f="$work/$1-$3-$5.txt" line
  POST_CHECK="$4" POST_STRICT=0 wrk -t2 -c"$concurrency" -d"$duration" --latency -s "$here/targets/post.lua" \
    "https://127.0.0.1:$2/$3" -- "$index" > "$f" 2>&1 || true
  if ! line="$(python3 "$here/report.py" parse-wrk "$f")"; then
    log "$1 /$3 round $5: cannot read wrk output"; cat "$f" >&2; failures=$((failures + 1)); return
  fi
  [ "$(cut -f7 <<<"$line")" = "0" ] || { log "$1 /$3 round $5: wrong answers or errors"; failures=$((failures + 1)); }
  printf '%s\t%s\t%s\t%s\n' "$1" "$3" "$5" "$line" >> "$results"
  log "$1 /$3 round $5: $(cut -f1 <<<"$line") req/s, p99 $(cut -f4 <<<"$line") ms"
}

# Warm both up (the JIT) before the measured rounds.
for path in validate mutate; do
  check=decision; [ "$path" = mutate ] && check=allowed
  POST_CHECK="$check" POST_STRICT=0 wrk -t2 -c4 -d10s -s "$here/targets/post.lua" "https://127.0.0.1:$port_a/$path" -- "$index" >/dev/null 2>&1 || true
  POST_CHECK="$check" POST_STRICT=0 wrk -t2 -c4 -d10s -s "$here/targets/post.lua" "https://127.0.0.1:$port_b/$path" -- "$index" >/dev/null 2>&1 || true
done
for r in $(seq 1 "$rounds"); do
  for path in validate mutate; do
    check=decision; [ "$path" = mutate ] && check=allowed
    if [ $((r % 2)) -eq 1 ]; then
      run "$sha_a" "$port_a" "$path" "$check" "$r"; run "$sha_b" "$port_b" "$path" "$check" "$r"
    else
      run "$sha_b" "$port_b" "$path" "$check" "$r"; run "$sha_a" "$port_a" "$path" "$check" "$r"
    fi
  done
done

mkdir -p "$out"
md="$out/$(date -u +%Y-%m-%d)-compare-$sha_a-$sha_b.md"
python3 - "$results" "$sha_a" "$sha_b" "$rounds" "$duration" "$concurrency" > "$md" <<'EOF'
import statistics, sys, platform, os
path, a, b, rounds, duration, conc = sys.argv[1:]
rows = [l.rstrip("\n").split("\t") for l in open(path)]
def med(rev, p, col):
    vals = [float(r[3 + col]) for r in rows if r[0] == rev and r[1] == p]
    return statistics.median(vals) if vals else float("nan"), vals
print(f"# /validate and /mutate: {a} against {b}\n")
print(f"{rounds} alternating rounds of {duration} per target at {conc} connections (wrk, keep-alive, HTTPS), "
      f"the 200-review corpus of bench/corpus; {os.cpu_count()} CPUs, {platform.platform()}. Medians over the rounds; "
      "the change is B against A.\n")
print("| path | A req/s | B req/s | change | A p99 ms | B p99 ms | A rounds (req/s) | B rounds (req/s) |")
print("|---|---|---|---|---|---|---|---|")
for p in ("validate", "mutate"):
    ra, va = med(a, p, 0); rb, vb = med(b, p, 0)
    la, _ = med(a, p, 3); lb, _ = med(b, p, 3)
    change = (rb - ra) / ra * 100 if ra else float("nan")
    print(f"| /{p} | {ra:,.0f} | {rb:,.0f} | {change:+.1f}% | {la:.2f} | {lb:.2f} | "
          f"{', '.join(f'{v:,.0f}' for v in va)} | {', '.join(f'{v:,.0f}' for v in vb)} |")
errors = sum(int(r[3 + 6]) for r in rows)
print(f"\nA = {a}, B = {b}. Wrong answers or errors over all rounds: {errors}.")
EOF
cat "$md"
log "wrote $md"
[ "$failures" -eq 0 ]
