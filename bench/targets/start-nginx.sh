#!/usr/bin/env bash
# Starts the benchmark's nginx target (nginx.conf.template): HTTPS on 127.0.0.1:PORT answering
# POST /validate and /mutate with a fixed allowed AdmissionReview, 2 workers, TLS 1.2/1.3.
#
#   bench/targets/start-nginx.sh PORT CERT KEY          start; prints the instance dir on stdout
#   bench/targets/start-nginx.sh --foreground PORT CERT KEY
#                                                       run nginx in the foreground (exec), e.g.
#                                                       for a caller that backgrounds it with &
#   bench/targets/start-nginx.sh --stop DIR             stop the instance in DIR and remove DIR
#
# The instance dir (a new mktemp dir, or $NGINX_DIR) holds nginx.conf, nginx.pid (the master's
# PID), error.log and the temp paths; nothing is written elsewhere. nginx runs with daemon off, as
# a child of this script that is left running in the background (or, with --foreground, as this
# process). Stop it with --stop DIR, or `kill "$(cat DIR/nginx.pid)"` then rm -rf DIR. When
# started as root, the workers run as nobody. Installs nginx through provision/apt-install.sh when missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { echo "start-nginx: $*" >&2; }
die() { log "$*"; exit 1; }

if [ "${1:-}" = "--stop" ]; then
  dir="${2:?usage: start-nginx.sh --stop DIR}"
  [ -f "$dir/nginx.conf" ] || die "$dir is not an nginx instance dir (no nginx.conf)"
  if [ -s "$dir/nginx.pid" ]; then
    pid="$(cat "$dir/nginx.pid")"
    if kill -TERM "$pid" 2>/dev/null; then
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && { log "nginx $pid did not stop on TERM; sending KILL"; kill -KILL "$pid" 2>/dev/null || true; }
    fi
  fi
  rm -rf "$dir"
  exit 0
fi

foreground=""
if [ "${1:-}" = "--foreground" ]; then foreground=1; shift; fi
[ $# -eq 3 ] || die "usage: start-nginx.sh [--foreground] PORT CERT KEY | --stop DIR"
port="$1" cert="$2" key="$3"
[[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -gt 0 ] && [ "$port" -lt 65536 ] || die "PORT must be a TCP port number, got '$port'"
[ -r "$cert" ] || die "certificate $cert is not readable"
[ -r "$key" ] || die "private key $key is not readable"
cert="$(cd "$(dirname "$cert")" && pwd)/$(basename "$cert")"
key="$(cd "$(dirname "$key")" && pwd)/$(basename "$key")"

bash "$here/../../provision/apt-install.sh" nginx=nginx
nginx="$(command -v nginx || echo /usr/sbin/nginx)"
[ -x "$nginx" ] || die "nginx not found after install"

dir="${NGINX_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/rootguard-nginx.XXXXXX")}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
user=""
if [ "$(id -u)" -eq 0 ]; then
  # The master reads the key and opens the logs as root; the workers drop to nobody and only
  # need to reach the temp paths, which nginx creates and hands to them.
  user="user nobody $(id -gn nobody 2>/dev/null || echo nogroup);"
  chmod 711 "$dir"
fi
sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@CERT@|$cert|g" -e "s|@KEY@|$key|g" -e "s|@USER@|$user|g" \
  "$here/nginx.conf.template" >"$dir/nginx.conf"
"$nginx" -t -q -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >&2 || die "nginx rejected $dir/nginx.conf (see above and $dir/error.log)"

if [ -n "$foreground" ]; then
  exec "$nginx" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf"
fi
"$nginx" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" </dev/null >>"$dir/error.log" 2>&1 &
pid=$!
# Ready when the master has written its pid file and the port answers.
for _ in $(seq 100); do
  kill -0 "$pid" 2>/dev/null || { cat "$dir/error.log" >&2; die "nginx exited during startup"; }
  if [ -s "$dir/nginx.pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    log "nginx $pid serving https://127.0.0.1:$port (dir $dir)"
    echo "$dir"
    exit 0
  fi
  sleep 0.1
done
kill -TERM "$pid" 2>/dev/null || true
die "nginx did not start listening on 127.0.0.1:$port within 10 s (see $dir/error.log)"
