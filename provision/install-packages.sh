#!/usr/bin/env bash
# Installs the Debian packages the integration tests use (TEST_PACKAGES in provision/versions.env:
# openssl for the TLS protocol checks and certs/generate.sh, haproxy standing in for a Service with
# two webhook endpoints in the rollout test, htpasswd from apache2-utils for the test registry's
# password file) when their command is missing. A no-op when everything is present, on any system;
# needs apt-get and root (or passwordless sudo) only when something is missing. Elsewhere (macOS)
# install them with your package manager.
set -euo pipefail

log() { echo "install-packages: $*" >&2; }
die() { log "$*"; exit 1; }
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

packages="$(pinned TEST_PACKAGES)"
exec bash "$PROVISION_DIR/apt-install.sh" ${packages//,/ }
