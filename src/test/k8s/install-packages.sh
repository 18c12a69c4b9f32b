#!/usr/bin/env bash
# Installs the Debian packages the tests use, when they are missing: openssl (TLS protocol checks
# and certs/) and haproxy (stands in for a Service with two webhook endpoints in the rollout test). A no-op when everything is present; needs root (or sudo) only when something is missing.
set -euo pipefail
packages=(openssl haproxy)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
command -v apt-get >/dev/null 2>&1 || { echo "install-packages: missing ${missing[*]} and no apt-get; install them by hand" >&2; exit 1; }
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-packages: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
