#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Temporal's time-skipping test server (the Java one from the Java SDK, io.temporal.testserver.TestServer),
# with its jars from Maven Central. Not a long-running service: each workflow test file starts its own.
#
#   infra/local/temporal-test-server.sh install       fetch the jars into .local/cache (no-op when cached)
#   infra/local/temporal-test-server.sh status        installed or not (exit 0 / 3)
#   infra/local/temporal-test-server.sh PORT [FLAGS]  run the server in the foreground on PORT (all interfaces)
#
# The run form is the command line the Temporal SDKs use for a test-server executable, so this script's
# path works as `server: { executable: { type: 'existing-path', path } }` in
# TestWorkflowEnvironment.createTimeSkipping. libs/testing's createTimeSkippingEnvironment() starts it itself
# and waits for it without the SDK's 5 s limit.
#
# Env: TEMPORAL_TEST_SERVER_VERSION (1.38.0), TEMPORAL_TEST_SERVER_JAVA_OPTS (replaces the default JVM
#      flags), TEMPORAL_TEST_SERVER_DIE_WITH_PARENT=1 (the server gets SIGTERM when the process that started
#      it dies, so a killed test worker leaves no server behind).
set -euo pipefail

COMPONENT=temporal-test-server
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

TTS_VERSION="${TEMPORAL_TEST_SERVER_VERSION:-1.38.0}"
TTS_HOME="$CACHE_DIR/temporal-test-server-$TTS_VERSION"
TTS_LIBS="$TTS_HOME/libs"
# Class-data-sharing archive of the server's classes, made at install: halves JVM startup (~0.6 s -> ~0.25 s).
TTS_CDS="$TTS_HOME/server.jsa"
M2_REPO="$CACHE_DIR/m2"
CONF_DIR="$INFRA_DIR/temporal-test-server"
MAIN_CLASS=io.temporal.testserver.TestServer
# Small heap, fast start (C1 only, serial GC, CDS); a test server lives for one test file.
DEFAULT_JAVA_OPTS="-Xss512k -Xms32m -Xmx384m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError
  -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true -Dorg.slf4j.simpleLogger.defaultLogLevel=warn"
JAVA_OPTS="${TEMPORAL_TEST_SERVER_JAVA_OPTS:-$DEFAULT_JAVA_OPTS}"

installed() { [[ -f $TTS_HOME/.complete ]]; }

need_java() {
  need_cmd java default-jre-headless
  local major
  major="$(java -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -n 1)"
  [[ -n $major && $major -ge 13 ]] || die "needs Java 13+ (for its class-data-sharing archive), found: $(java -version 2>&1 | head -n 1)"
}

# server_cmd [EXTRA JVM FLAGS...] -- SERVER ARGS...: the JVM command line (NUL-separated) for run mode and install.
# -Xshare:auto + -Xlog:cds=off: a missing or stale archive (e.g. after a JDK update) is silently ignored.
server_cmd() {
  local -a extra=()
  while [[ $# -gt 0 && $1 != -- ]]; do extra+=("$1"); shift; done
  [[ ${1:-} == -- ]] && shift
  # shellcheck disable=SC2086  # JAVA_OPTS is a list of JVM flags
  printf '%s\0' java $JAVA_OPTS -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off "${extra[@]}" \
    -cp "$TTS_LIBS/*" "$MAIN_CLASS" "$@"
}

# Start the server once with -XX:ArchiveClassesAtExit, wait until it listens, stop it: the JVM writes the archive.
make_cds_archive() {
  local port pid waited=0 ilog=$1
  port="$(free_port)"
  rm -f -- "$TTS_CDS"
  local -a cmd
  mapfile -d '' cmd < <(server_cmd "-XX:ArchiveClassesAtExit=$TTS_CDS" -- "$port")
  "${cmd[@]}" >>"$ilog" 2>&1 </dev/null 9>&- &
  pid=$!
  until port_listening "$port"; do
    if ! kill -0 "$pid" 2>/dev/null || (( waited >= 600 )); then
      kill "$pid" 2>/dev/null || true
      log "  could not make the CDS archive (server did not start; see ${ilog#"$ROOT"/}); startup will be slower"
      return 0
    fi
    sleep 0.1
    waited=$(( waited + 1 ))
  done
  sleep 0.5
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [[ -s $TTS_CDS ]]; then
    log "  CDS archive: $(du -h "$TTS_CDS" | cut -f1)"
  else
    log "  no CDS archive written (see ${ilog#"$ROOT"/}); startup will be slower"
  fi
}

# A TCP port nothing listens on (only used once, at install).
free_port() {
  local p
  for _ in {1..50}; do
    p=$(( 20000 + RANDOM % 40000 ))
    port_bound "$p" || { printf '%s\n' "$p"; return 0; }
  done
  die "no free port found"
}

do_install() {
  if installed; then return 0; fi
  need_java
  need_cmd mvn maven
  log "installing the Temporal test server $TTS_VERSION: resolving io.temporal:temporal-test-server from Maven Central"
  log "  into ${TTS_LIBS#"$ROOT"/} (first run: ~40 jars, ~40 MB, 5-30 s; maven log: ${LOG_DIR#"$ROOT"/}/$COMPONENT-install.log)"
  mkdir -p "$LOG_DIR" "$TTS_HOME"
  local tmp="$TTS_HOME/libs.tmp" ilog="$LOG_DIR/$COMPONENT-install.log"
  rm -rf -- "$tmp"
  if ! mvn -B -f "$CONF_DIR/pom.xml" \
      -Dmaven.repo.local="$M2_REPO" -Dstyle.color=never \
      -Dtemporal.test-server.version="$TTS_VERSION" \
      -DincludeScope=runtime -DoutputDirectory="$tmp" \
      dependency:copy-dependencies 2>&1 \
      | tee "$ilog" \
      | awk -v p="[$COMPONENT]" '/Downloaded from/ { n++; if (n % 50 == 0) { printf "%s   %d files downloaded...\n", p, n; fflush() } }' >&2; then
    tail -n 30 "$ilog" | sed "s/^/[$COMPONENT]   | /" >&2
    die "maven could not resolve io.temporal:temporal-test-server:$TTS_VERSION (see ${ilog#"$ROOT"/})"
  fi
  [[ -f $tmp/temporal-test-server-$TTS_VERSION.jar ]] || die "temporal-test-server-$TTS_VERSION.jar missing after resolve"
  rm -rf -- "$TTS_LIBS"
  mv -- "$tmp" "$TTS_LIBS"
  log "  $(find "$TTS_LIBS" -name '*.jar' | wc -l) jars, $(du -sh "$TTS_LIBS" | cut -f1); making the class-data-sharing archive..."
  make_cds_archive "$ilog"
  touch "$TTS_HOME/.complete"
  log "installed in ${TTS_HOME#"$ROOT"/}"
}

do_run() {
  [[ $1 =~ ^[0-9]+$ ]] || die "not a port: $1"
  installed || die "Temporal test server $TTS_VERSION is not installed: run infra/local/temporal-test-server.sh install"
  local -a cds=() cmd
  [[ -s $TTS_CDS ]] && cds=("-XX:SharedArchiveFile=$TTS_CDS")
  mapfile -d '' cmd < <(server_cmd "${cds[@]}" -- "$@")
  # exec: the caller's pid is the JVM's, so its kill stops the server itself.
  if [[ ${TEMPORAL_TEST_SERVER_DIE_WITH_PARENT:-} == 1 ]] && command -v setpriv >/dev/null; then
    exec setpriv --pdeathsig TERM -- "${cmd[@]}"
  fi
  exec "${cmd[@]}"
}

case "${1:-}" in
  install) take_lock; do_install ;;
  status)
    if installed; then
      printf '%-9s installed  %s\n' "$COMPONENT" "${TTS_HOME#"$ROOT"/}"
    else
      printf '%-9s missing  run: %s install\n' "$COMPONENT" "$0"
      exit 3
    fi
    ;;
  [0-9]*) do_run "$@" ;;
  *)
    echo "usage: $(basename "$0") install|status|PORT [server flags]" >&2
    exit 2
    ;;
esac
