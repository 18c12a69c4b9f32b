#!/usr/bin/env bash
# Builds the image's offline base from the installed JDK, for machines without registry access to
# eclipse-temurin (the tests here): a jlinked Java runtime at /opt/java/openjdk (the path
# eclipse-temurin uses, so the image's entrypoint `java` resolves on both bases), the C libraries it
# loads, copied from this machine, /etc/passwd and /etc/group with root and the image's user 10001,
# a writable /tmp (1777), and no shell or any other program. It is written as a docker-archive
# (manifest.json, config.json, one layer) that Jib reads as tar://... and caches as
#
#   $ROOTGUARD_CACHE/image/<jdk version>/base.tar      (and the tree it was packed from, rootfs/)
#
# Usage: build-base-image.sh [LINK]   LINK (e.g. target/jib-base.tar) is pointed at the cached tar.
#
# Environment:
#   JAVA_HOME        the JDK whose jlink and modules are used (default: the one `java` on PATH runs)
#   ROOTGUARD_CACHE  cache root (default: ~/.cache/rootguard)
#
# The first run takes about 20 s; when the base for this JDK and module set is cached, the script
# only refreshes LINK.
set -euo pipefail

log() { echo "build-base-image: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# What rootguard needs, found with jdeps on target/quarkus-app and by running the server (health,
# metrics, /validate) and the CLI (audit -o junit, sarif) on the result: java.xml for the CLI's JUnit
# report, java.naming for the TLS registry and the DNS resolver, jdk.crypto.ec for ECDSA
# certificates. java.desktop, which jdeps also lists (java.beans, in code paths of quarkus-core,
# micrometer and commons-lang3 that rootguard does not take), is left out: it would bring AWT and
# twenty X11, sound and font libraries along.
readonly MODULES=java.base,java.logging,java.management,java.naming,java.net.http,java.security.jgss,java.sql,jdk.crypto.ec,jdk.unsupported,jdk.management,java.xml,jdk.zipfs
# Bumped whenever the layout below changes, so a cached base of the same JDK is rebuilt.
readonly LAYOUT=2
readonly JAVA_DIR=opt/java/openjdk
readonly LIB_DIR=lib/x86_64-linux-gnu

if [[ -z "${JAVA_HOME:-}" ]]; then
  command -v java >/dev/null 2>&1 || die "neither JAVA_HOME nor 'java' on PATH"
  JAVA_HOME="$(java -XshowSettings:properties -version 2>&1 | sed -nE 's/^[[:space:]]*java\.home = (.*)$/\1/p')"
fi
[[ -x "$JAVA_HOME/bin/jlink" ]] || die "$JAVA_HOME/bin/jlink not found; set JAVA_HOME to a JDK (not a JRE)"
[[ "$(uname -m)" == x86_64 ]] || die "only x86_64 hosts are supported (the libraries go to /$LIB_DIR)"
for tool in ldd sha256sum tar; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found on PATH"
done

jdk_version="$(sed -nE 's/^JAVA_RUNTIME_VERSION="(.*)"$/\1/p' "$JAVA_HOME/release")"
[[ -n "$jdk_version" ]] || jdk_version="$(sed -nE 's/^JAVA_VERSION="(.*)"$/\1/p' "$JAVA_HOME/release")"
[[ -n "$jdk_version" ]] || die "cannot read the JDK version from $JAVA_HOME/release"
out="$cache_root/image/$jdk_version"
stamp="layout=$LAYOUT modules=$MODULES"

link() {
  if [[ -n "${1:-}" ]]; then
    mkdir -p "$(dirname "$1")"
    ln -sfn "$out/base.tar" "$1"
  fi
}

if [[ -f "$out/base.tar" && "$(cat "$out/stamp" 2>/dev/null)" == "$stamp" ]]; then
  log "base for JDK $jdk_version already built, nothing to do"
  link "${1:-}"
  echo "$out/base.tar"
  exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/rootguard-base-image.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
mkdir -p "$root/$JAVA_DIR" "$root/$LIB_DIR" "$root/lib64" "$root/etc" "$root/tmp"

# JDKs before 24 link from their jmods; later ones may ship none and link from their own run-time
# image (JEP 493). jdk.crypto.ec is empty from JDK 22 on and gone in later releases.
modules="$MODULES"
module_path=()
if [[ -d "$JAVA_HOME/jmods" ]]; then
  module_path=(--module-path "$JAVA_HOME/jmods")
  [[ -f "$JAVA_HOME/jmods/jdk.crypto.ec.jmod" ]] || modules="${modules/,jdk.crypto.ec/}"
elif ! "$JAVA_HOME/bin/java" --list-modules | grep -q '^jdk\.crypto\.ec@'; then
  modules="${modules/,jdk.crypto.ec/}"
fi
log "jlinking $modules from JDK $jdk_version"
rmdir "$root/$JAVA_DIR"
"$JAVA_HOME/bin/jlink" ${module_path[@]+"${module_path[@]}"} --add-modules "$modules" \
  --strip-debug --no-header-files --no-man-pages --compress=2 --output "$root/$JAVA_DIR" \
  || die "jlink failed; it needs a JDK with jmods (Debian: openjdk-17-jdk-headless) or one that links from its run-time image (JDK 24+)"
# A class-data sharing archive for the runtime's own classes: faster start-up, as in eclipse-temurin.
"$root/$JAVA_DIR/bin/java" -Xshare:dump >/dev/null 2>&1 || log "no CDS archive (java -Xshare:dump failed)"
# Some JDK builds (Debian's) link the CA store to /etc/ssl; the image has no /etc/ssl, so copy it in.
cacerts="$root/$JAVA_DIR/lib/security/cacerts"
if [[ -L "$cacerts" || ! -s "$cacerts" ]]; then
  rm -f "$cacerts"
  cp -L "$JAVA_HOME/lib/security/cacerts" "$cacerts" 2>/dev/null || log "no CA store copied; TLS to public hosts will fail"
fi

# The libraries the runtime and the BoringSSL library rootguard unpacks at start-up load, as this
# machine resolves them (ldd), under their sonames; the dynamic loader also at its ABI path /lib64.
objects=("$root/$JAVA_DIR/bin/java")
while IFS= read -r -d '' so; do objects+=("$so"); done < <(find "$root/$JAVA_DIR" -name '*.so' -print0)
tcnative="$(find "$HOME/.m2/repository/io/netty/netty-tcnative-boringssl-static" -name '*linux-x86_64.jar' 2>/dev/null | sort -V | tail -n1)"
if [[ -n "$tcnative" ]]; then
  (cd "$work" && "$JAVA_HOME/bin/jar" xf "$tcnative" META-INF/native)
  while IFS= read -r -d '' so; do objects+=("$so"); done < <(find "$work/META-INF" -name '*.so' -print0)
fi
declare -A libs=()
for o in "${objects[@]}"; do
  while read -r name path; do
    [[ -n "$path" ]] && libs["$name"]="$path"
  done < <(LD_LIBRARY_PATH="$root/$JAVA_DIR/lib:$root/$JAVA_DIR/lib/server" ldd "$o" 2>/dev/null \
    | sed -nE 's#^[[:space:]]*([^[:space:]/]+) => (/[^[:space:]]+) .*$#\1 \2#p; s#^[[:space:]]*(/[^[:space:]]*ld-linux[^[:space:]]*) .*$#ld-linux-x86-64.so.2 \1#p')
done
for name in "${!libs[@]}"; do
  case "${libs[$name]}" in "$root"/*) continue ;; esac # the runtime's own
  cp -L "${libs[$name]}" "$root/$LIB_DIR/$name"
done
[[ -f "$root/$LIB_DIR/ld-linux-x86-64.so.2" ]] || die "ldd did not report the dynamic loader"
cp "$root/$LIB_DIR/ld-linux-x86-64.so.2" "$root/lib64/ld-linux-x86-64.so.2"
chmod 0755 "$root/$LIB_DIR"/* "$root/lib64"/*
log "libraries: $(cd "$root/$LIB_DIR" && ls | tr '\n' ' ')"

# LANG=C.UTF-8 (the image sets it) needs the locale's data; glibc does not build it in.
if [[ -d /usr/lib/locale/C.utf8 ]]; then
  mkdir -p "$root/usr/lib/locale"
  cp -R /usr/lib/locale/C.utf8 "$root/usr/lib/locale/"
else
  log "no /usr/lib/locale/C.utf8 on this machine; the image falls back to the C locale"
fi

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/usr/sbin/nologin
rootguard:x:10001:10001:rootguard:/deployments:/usr/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
rootguard:x:10001:
EOF
cat >"$root/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files dns
EOF
cat >"$root/etc/hosts" <<'EOF'
127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback
EOF
chmod 1777 "$root/tmp"
find "$root" -name sh -o -name bash -o -name busybox | grep -q . && die "a shell ended up in the base"

# docker-archive: one uncompressed layer, its digest in the config, the config named in the manifest.
tar --create --file "$work/layer.tar" --directory "$root" --sort=name --numeric-owner --owner=0 --group=0 \
  --mtime=@0 .
diff_id="sha256:$(sha256sum "$work/layer.tar" | cut -d' ' -f1)"
cat >"$work/config.json" <<EOF
{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/$JAVA_DIR/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","JAVA_HOME=/$JAVA_DIR"]},"rootfs":{"type":"layers","diff_ids":["$diff_id"]},"history":[{"created_by":"provision/build-base-image.sh: jlink $modules from JDK $jdk_version"}]}
EOF
cat >"$work/manifest.json" <<EOF
[{"Config":"config.json","RepoTags":["rootguard/jre-base:$jdk_version"],"Layers":["layer.tar"]}]
EOF
tar --create --file "$work/base.tar" --directory "$work" --numeric-owner --owner=0 --group=0 --mtime=@0 \
  manifest.json config.json layer.tar

rm -rf "$out"
mkdir -p "$out"
mv "$work/base.tar" "$out/base.tar"
mv "$root" "$out/rootfs"
echo "$stamp" >"$out/stamp"
log "built $out/base.tar ($(du -h "$out/base.tar" | cut -f1))"
link "${1:-}"
echo "$out/base.tar"
