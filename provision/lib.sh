# Shared by the provision/*.sh scripts; sourced after they define log() and die().

readonly PROVISION_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# pinned KEY: the value of KEY in provision/versions.env (the one place versions are written).
pinned() {
  local v
  v="$(sed -nE "s/^$1=([^[:space:]#]*).*$/\1/p" "$PROVISION_DIR/versions.env" | tail -n1)"
  [[ -n "$v" ]] || die "no $1 in $PROVISION_DIR/versions.env"
  echo "$v"
}

# The cache every script installs into.
cache_root="${ROOTGUARD_CACHE:-$HOME/.cache/rootguard}"

# version_ge A B: true if version A >= version B.
version_ge() { [[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" == "$2" ]]; }

require_go() {
  command -v go >/dev/null 2>&1 || die "'go' not found on PATH; install Go >= $1"
  local have
  have="$(GOTOOLCHAIN=local go env GOVERSION)" || die "'go env GOVERSION' failed"
  have="${have%% *}"
  have="${have#go}"
  # Development toolchains ("devel ...") are assumed to be new enough.
  [[ "$have" == devel* ]] || version_ge "$have" "$1" \
    || die "Go $have is too old; need Go >= $1 (GOTOOLCHAIN=local is enforced, no automatic toolchain download)"
}

# go_directive GO_MOD_FILE: the 'go' version a module declares.
go_directive() { sed -nE 's/^go[[:space:]]+([0-9][0-9.]*)[[:space:]]*$/\1/p' "$1" | head -n1; }

# module_dir MODULE@VERSION: downloads the module (zip and go.mod, checksum-verified) and prints its directory.
module_dir() {
  local json
  if ! json="$(go mod download -json "$1")"; then
    die "cannot download $1: $(sed -nE 's/^[[:space:]]*"Error": "(.*)",?$/\1/p' <<<"$json")"
  fi
  sed -nE 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p' <<<"$json"
}
