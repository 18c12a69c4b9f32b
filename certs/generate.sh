#!/usr/bin/env bash
# Creates a CA and a serving certificate for the rootguard webhook with openssl, and prints the
# base64 caBundle to put in the webhook configurations.
#
#   certs/generate.sh [--out DIR] [--service NAME] [--namespace NS] [--days N] [--client CN]
#
# Writes DIR/ca.crt, DIR/ca.key, DIR/tls.crt, DIR/tls.key (default DIR: certs/out). With --client,
# also DIR/client.crt and DIR/client.key: a client certificate (CN and extended key usage
# clientAuth) from the same CA, for the API server when the webhook requires mutual TLS
# (rootguard.tls.client-ca=DIR/ca.crt). The serving
# certificate's SANs: <service>.<namespace>.svc, <service>.<namespace>.svc.cluster.local,
# <service>, localhost, host.testcontainers.internal and 127.0.0.1. Keys are ECDSA P-256, PKCS#8.
# An existing CA in DIR is reused, so re-running renews the serving certificate without
# changing the caBundle.
set -euo pipefail

out="$(dirname "$0")/out"
service=rootguard
namespace=rootguard
days=365
client=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --service) service="$2"; shift 2 ;;
    --namespace) namespace="$2"; shift 2 ;;
    --days) days="$2"; shift 2 ;;
    --client) client="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "generate.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
command -v openssl >/dev/null 2>&1 || { echo "generate.sh: openssl not found; install it (Debian: apt-get install openssl)" >&2; exit 1; }
mkdir -p "$out"
umask 077

if [ ! -s "$out/ca.crt" ] || [ ! -s "$out/ca.key" ]; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$out/ca.key" -sha256 -days $((days * 10)) -subj "/CN=rootguard-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$out/ca.crt" 2>/dev/null
fi

ext="$(mktemp)"
trap 'rm -f "$ext" "$out/tls.csr" "$out/client.csr" "$out/ca.srl"' EXIT
cat >"$ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:${service}.${namespace}.svc,DNS:${service}.${namespace}.svc.cluster.local,DNS:${service},DNS:localhost,DNS:host.testcontainers.internal,IP:127.0.0.1
EXT
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/tls.key.new" 2>/dev/null
openssl req -new -key "$out/tls.key.new" -subj "/CN=${service}.${namespace}.svc" -out "$out/tls.csr" 2>/dev/null
openssl x509 -req -in "$out/tls.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial -sha256 -days "$days" \
  -extfile "$ext" -out "$out/tls.crt.new" 2>/dev/null
# Replace key and certificate together, each with an atomic rename.
chmod 644 "$out/tls.crt.new" "$out/ca.crt"
mv "$out/tls.key.new" "$out/tls.key"
mv "$out/tls.crt.new" "$out/tls.crt"

if [ -n "$client" ]; then
  cat >"$ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
EXT
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/client.key" 2>/dev/null
  openssl req -new -key "$out/client.key" -subj "/CN=${client}" -out "$out/client.csr" 2>/dev/null
  openssl x509 -req -in "$out/client.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial -sha256 -days "$days" \
    -extfile "$ext" -out "$out/client.crt" 2>/dev/null
  chmod 644 "$out/client.crt"
fi
base64 -w0 "$out/ca.crt"
echo
