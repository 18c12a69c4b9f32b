#!/usr/bin/env bash
# Renders deploy/rootguard.yaml from charts/rootguard with default values (release "rootguard" in
# namespace "rootguard"), so `kubectl apply -f deploy/` installs the same thing as `helm install`.
#
#   bash deploy/render.sh            rewrite deploy/rootguard.yaml
#   bash deploy/render.sh -          print to standard output instead
#
# Each run generates a new CA and serving certificate (the chart's default TLS mode). The copy in
# the repository is therefore a shared example key pair: for a real cluster render your own
# (`bash deploy/render.sh - > rootguard.yaml`) or install with Helm. A test fails when the
# committed file drifts from the chart, ignoring the generated certificate material.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
helm="${HELM:-$(bash "$here/../provision/install-helm.sh")/helm}"
render() {
  cat <<'NS'
# Rendered from charts/rootguard by deploy/render.sh with default values. Do not edit by hand.
apiVersion: v1
kind: Namespace
metadata:
  name: rootguard
  labels:
    app.kubernetes.io/part-of: rootguard
NS
  "$helm" template rootguard "$here/../charts/rootguard" --namespace rootguard --skip-tests
}
if [ "${1:-}" = "-" ]; then
  render
else
  render > "$here/rootguard.yaml"
  echo "wrote $here/rootguard.yaml" >&2
fi
