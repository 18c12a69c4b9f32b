#!/usr/bin/env bash
# Installs Debian packages when their command is missing, without letting a package start its
# system service: the integration tests' (install-packages.sh) and the benchmark targets'.
#
#   provision/apt-install.sh COMMAND=PACKAGE ...     e.g. apt-install.sh nginx=nginx wrk=wrk
#
# For each pair, nothing happens when COMMAND is already on PATH (or in /usr/sbin). Otherwise it
# runs apt-get update (once) and apt-get install -y --no-install-recommends PACKAGE, with a
# policy-rc.d that forbids service starts in place for the duration, and afterwards stops a
# system nginx if one is running anyway (the benchmark only runs its own instances). Needs root
# (or passwordless sudo) when something must be installed. Logs to stderr.
set -euo pipefail
log() { echo "apt-install: $*" >&2; }

missing=()
for pair in "$@"; do
  cmd="${pair%%=*}" pkg="${pair#*=}"
  if command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ]; then
    continue
  fi
  missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
  else
    log "need root to install ${missing[*]}; run: apt-get install -y ${missing[*]}"
    exit 1
  fi
fi
command -v apt-get >/dev/null 2>&1 || { log "apt-get not found; install ${missing[*]} with your package manager"; exit 1; }

policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# temporary, from rootguard provision/apt-install.sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod 755 "$policy"
  made_policy=1
fi
cleanup() { if [ -n "$made_policy" ]; then $sudo rm -f "$policy"; fi; }
trap cleanup EXIT

log "installing ${missing[*]}"
$sudo apt-get update -qq >&2 || log "apt-get update failed; trying the install with the current package lists"
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2

# A system nginx started by the package (where policy-rc.d was not honoured) is not ours: stop it.
if [ -s /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
  log "stopping the nginx service the package started"
  $sudo service nginx stop >&2 2>&1 || $sudo kill -QUIT "$(cat /run/nginx.pid)" || true
fi
