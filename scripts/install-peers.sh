#!/usr/bin/env bash
# Install the real peers that Coracle's interop, differential and fault tests and its benchmarks
# run against (DESIGN.md §8), from Debian packages, idempotently:
#   etcd-server etcd-client   etcd 3.4 and etcdctl
#   zookeeper zookeeper-bin   Apache ZooKeeper 3.8 (jars, zkCli.sh) and the C client (cli_mt, load_gen)
#   python3-kazoo             kazoo for /usr/bin/python3
#   libcurator-client-java libcurator-framework-java libcurator-recipes-java
#                             Apache Curator 5.4 (jars in /usr/share/java, Guava unshaded), for the
#                             Curator recipes interop test (test/interop/curator.test.ts)
#   patroni python3-etcd postgresql
#                             Patroni 3 with PostgreSQL: a real service on ZooKeeper and etcd v3, run
#                             on Coracle through a failover (test/interop/patroni.test.ts); Patroni's
#                             etcd3 backend imports python3-etcd, which Debian's patroni only suggests
#   clickhouse-server         ClickHouse 18.16, whose replicated tables keep their replication log,
#                             block numbers and replica liveness in ZooKeeper through its own C++
#                             client (test/interop/clickhouse.test.ts)
#   zktop                     a console ZooKeeper monitor that parses `stat` (test/interop/zktop.test.ts)
#   krb5-kdc krb5-admin-server krb5-user
#                             MIT Kerberos: a throwaway KDC (krb5kdc, kdb5_util, kadmin.local) and kinit
#                             for the SASL GSSAPI tests (test/support/kdc.ts, zk-kerberos.test.ts);
#                             the tests run their own KDC, so any krb5kdc/kadmind service the packages
#                             start is stopped and disabled below
#   python3-pure-sasl python3-kerberos
#                             SASL for kazoo (sasl_options): DIGEST-MD5, and GSSAPI over MIT's library
#   openssl                   makes the test certificates of the TLS tests (test/support/tls-certs.ts)
#   make gcc g++              to build the optional npm package `zookeeper` (a Node addon over the C
#                             client, whose sources it bundles) during `npm ci`; node-gyp also needs
#                             python3 and Node's headers (the nodejs package's /usr/include/node)
#   openjdk-17-jdk-headless   only if javac is missing (the Java-client interop test compiles
#                             a small ZooKeeper client program; the JDK also brings java)
# The npm peers (etcd3, node-zookeeper-client) are devDependencies, installed by `npm ci`; the
# native `zookeeper` package is an optionalDependency that `npm ci` builds (see README).
#
# Uses sudo only when not root. Runs `apt-get update` only if the install fails without it.
# Prints what it installed and the versions found; exits non-zero if a peer is still missing.
set -euo pipefail

PACKAGES=(etcd-server etcd-client zookeeper zookeeper-bin python3-kazoo python3-pure-sasl
  libcurator-client-java libcurator-framework-java libcurator-recipes-java openssl make gcc g++
  patroni python3-etcd postgresql clickhouse-server zktop
  krb5-kdc krb5-admin-server krb5-user python3-kerberos)
SYSTEM_PYTHON=/usr/bin/python3
ZK_JAR=/usr/share/java/zookeeper.jar
ZKCLI=/usr/share/zookeeper/bin/zkCli.sh
# zookeeper-bin puts the C client tools outside PATH.
CLI_MT_CANDIDATES=(/usr/lib/zookeeper/bin/cli_mt /usr/bin/cli_mt /usr/local/bin/cli_mt)

log() { printf 'install-peers: %s\n' "$*"; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

if ! command -v javac >/dev/null 2>&1; then
  PACKAGES=(openjdk-17-jdk-headless "${PACKAGES[@]}")
fi

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${PACKAGES[@]}"; do
    installed "$p" || missing+=("$p")
  done
else
  log "dpkg-query not found: this script needs a Debian-family system (apt-get)"
  exit 1
fi

if [ "${#missing[@]}" -eq 0 ]; then
  log "all packages already installed: ${PACKAGES[*]}"
else
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    log "not root and no sudo: install as root: apt-get install -y ${missing[*]}"
    exit 1
  fi
  apt_install() {
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
  }
  log "installing: ${missing[*]}"
  started=$(date +%s)
  if ! apt_install "${missing[@]}"; then
    log "install failed; running apt-get update and retrying once"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    apt_install "${missing[@]}"
  fi
  log "installed ${missing[*]} in $(( $(date +%s) - started ))s"
  # krb5-kdc and krb5-admin-server start their daemons on install wherever an init system runs
  # services (they exit at once without a realm database, but a later realm would wake them).
  # The tests run their own KDC: stop and disable the services of the packages installed just
  # now, and only those, so an existing KDC that someone runs on purpose is left alone.
  for p in "${missing[@]}"; do
    case $p in krb5-kdc | krb5-admin-server) ;; *) continue ;; esac
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
      "${SUDO[@]}" systemctl disable --now "$p" >/dev/null 2>&1 || true
    elif command -v invoke-rc.d >/dev/null 2>&1; then
      "${SUDO[@]}" invoke-rc.d "$p" stop >/dev/null 2>&1 || true
      "${SUDO[@]}" update-rc.d "$p" disable >/dev/null 2>&1 || true
    fi
    log "stopped and disabled the $p service (tests start their own KDC)"
  done
fi

# Verify every peer and print its version; collect failures instead of stopping at the first.
failures=0
check() { # check <name> <command…>: run the command, print its first line of output
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then
    printf '  %-14s %s\n' "$name" "$(printf '%s\n' "$out" | head -n 1)"
  else
    printf '  %-14s MISSING (%s)\n' "$name" "$(printf '%s\n' "$out" | head -n 1)"
    failures=$((failures + 1))
  fi
}
find_cli_mt() {
  for c in "${CLI_MT_CANDIDATES[@]}"; do
    if [ -x "$c" ]; then echo "$c"; return 0; fi
  done
  echo "cli_mt not found in ${CLI_MT_CANDIDATES[*]}"
  return 1
}
zk_version() {
  [ -f "$ZK_JAR" ] || { echo "$ZK_JAR not found"; return 1; }
  local versioned
  versioned=$(cd "$(dirname "$ZK_JAR")" && ls zookeeper-[0-9]*.jar 2>/dev/null | head -n 1)
  echo "${versioned:-$(basename "$ZK_JAR")} (package zookeeper $(dpkg-query -W -f='${Version}' zookeeper 2>/dev/null || echo '?'))"
}
curator_version() {
  local jar
  for jar in curator-client curator-framework curator-recipes; do
    [ -f "/usr/share/java/$jar.jar" ] || { echo "/usr/share/java/$jar.jar not found"; return 1; }
  done
  echo "curator $(dpkg-query -W -f='${Version}' libcurator-recipes-java 2>/dev/null || echo '?') (client, framework, recipes)"
}
postgres_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/[0-9]*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/initdb" ] || { echo "no /usr/lib/postgresql/<version>/bin/initdb"; return 1; }
  echo "$("$d/postgres" --version) in $d"
}
dpkg_version() { # dpkg_version <package> <file it must have installed>
  [ -e "$2" ] || { echo "$2 not found"; return 1; }
  echo "$1 $(dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo '?') ($2)"
}
zkcli_path() {
  [ -x "$ZKCLI" ] || { echo "$ZKCLI not found"; return 1; }
  echo "$ZKCLI"
}

log "peers:"
check etcd etcd --version
check etcdctl env ETCDCTL_API=3 etcdctl version
check java java -version
check zookeeper zk_version
check zkCli.sh zkcli_path
check cli_mt find_cli_mt
check curator curator_version
check openssl openssl version
check kazoo "$SYSTEM_PYTHON" -c 'import kazoo.version as v; print("kazoo " + v.__version__ + " for /usr/bin/python3")'
check patroni patroni --version
check postgresql postgres_bin
check clickhouse dpkg_version clickhouse-server /usr/sbin/clickhouse-server
check zktop dpkg_version zktop /usr/lib/python3/dist-packages/zktop.py
check krb5kdc dpkg_version krb5-kdc /usr/sbin/krb5kdc
check kadmin.local dpkg_version krb5-admin-server /usr/sbin/kadmin.local
check kinit dpkg_version krb5-user /usr/bin/kinit
check pykerberos "$SYSTEM_PYTHON" -c 'import kerberos, puresasl; print("kerberos and pure-sasl for /usr/bin/python3")'

if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet etcd 2>/dev/null; then
  log "note: the etcd.service from etcd-server is running on 127.0.0.1:2379 (Coracle's default port);"
  log "      tests use their own ports, but stop it (systemctl disable --now etcd) to run coracle with defaults"
fi

for d in krb5kdc kadmind; do
  if pid=$(pidof "$d" 2>/dev/null); then
    log "note: $d is running (pid $pid); the tests start their own KDC and do not use it"
  fi
done

if [ "$failures" -gt 0 ]; then
  log "$failures peer(s) missing"
  exit 1
fi
log "ok"
