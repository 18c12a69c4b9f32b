#!/usr/bin/env bash
# Offline audit throughput: generates a corpus of N manifests (default 10000 documents: pods and
# every workload kind, compliant and not, small and large) and times `rootguard audit` over it.
# Prints documents per second; with -o FILE also writes a Markdown line for the results file.
#
#   bash bench/audit-throughput.sh [--docs N] [--runs R]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/.."
docs=10000
runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --docs) docs="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) echo "audit-throughput: unknown argument $1" >&2; exit 2 ;;
  esac
done
jar="$root/target/quarkus-app/quarkus-run.jar"
[ -f "$jar" ] || (cd "$root" && ./mvnw -B -q -ntp package -DskipTests)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
corpus="$work/corpus.yaml"
python3 - "$docs" "$corpus" <<'PY'
import sys
n, out = int(sys.argv[1]), sys.argv[2]
kinds = [("v1", "Pod"), ("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"), ("apps/v1", "DaemonSet"),
         ("batch/v1", "Job"), ("batch/v1", "CronJob"), ("apps/v1", "ReplicaSet"), ("v1", "ConfigMap")]
def container(i, j, bad):
    sc = "{runAsUser: 0}" if bad == 1 else "{privileged: true}" if bad == 2 else "{allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}"
    return f"""
    - name: c{j}
      image: registry.example/team{i % 50}/app:{j}
      ports: [{{containerPort: {8000 + j}}}]
      env: [{{name: MODE, value: production}}]
      securityContext: {sc}"""
with open(out, "w") as f:
    for i in range(n):
        api, kind = kinds[i % len(kinds)]
        bad = i % 3
        count = 20 if i % 97 == 0 else 1 + i % 3
        containers = "".join(container(i, j, bad if j == 0 else 0) for j in range(count))
        spec = f"""securityContext: {{runAsNonRoot: true, runAsUser: 10000, runAsGroup: 10000, fsGroup: 10000}}
  containers:{containers}"""
        f.write("---\n")
        if kind == "ConfigMap":
            f.write(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm{i}, namespace: ns{i % 20}}}\ndata: {{a: b}}\n")
        elif kind == "Pod":
            f.write(f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: ns{i % 20}}}\nspec:\n  {spec}\n")
        else:
            ind = lambda s, k: "\n".join((" " * k + l) if l.strip() else l for l in s.split("\n"))
            tmpl = "template:\n  metadata: {labels: {app: x}}\n  spec:\n" + ind("  " + spec, 2)
            if kind in ("Job",):
                body = tmpl
            elif kind == "CronJob":
                body = "schedule: '@hourly'\njobTemplate:\n  spec:\n" + ind(tmpl, 4)
            else:
                body = "selector: {matchLabels: {app: x}}\n" + ("serviceName: s\n" if kind == "StatefulSet" else "") + tmpl
            f.write(f"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: w{i}, namespace: ns{i % 20}}}\nspec:\n" + ind(body, 2) + "\n")
PY
echo "corpus: $docs documents, $(du -h "$corpus" | cut -f1)" >&2
best=""
for r in $(seq 1 "$runs"); do
  start=$(date +%s.%N)
  set +e
  java -jar "$jar" audit -f "$corpus" -o json > "$work/report.json"
  code=$?
  set -e
  end=$(date +%s.%N)
  [ "$code" -le 1 ] || { echo "audit failed with exit $code" >&2; exit 1; }
  secs=$(python3 -c "print(f'{$end - $start:.3f}')")
  rate=$(python3 -c "print(int($docs / ($end - $start)))")
  echo "run $r: ${secs}s, $rate documents/s (whole process, JVM start included)" >&2
  if [ -z "$best" ] || [ "$rate" -gt "$best" ]; then best=$rate; fi
done
objects=$(python3 -c "import json; s=json.load(open('$work/report.json'))['summary']; print(s['objects'], s['withViolations'], s['errors'])")
read -r n with errors <<<"$objects"
[ "$n" -eq "$docs" ] && [ "$errors" -eq 0 ] || { echo "unexpected report: $n objects, $errors errors" >&2; exit 1; }
echo "audit throughput: $best documents/s over $docs documents ($with with violations), best of $runs"
