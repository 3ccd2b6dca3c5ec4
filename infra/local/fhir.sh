#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Local EHR: one HAPI FHIR R4 JPA server for the demo trusts, a partition per trust, URL-based tenants
# (http://127.0.0.1:8090/fhir/<ODS code>/...), HTTP Basic with one user per trust. A small Spring Boot
# application (fhir/) built with Maven from Maven Central into one jar; data in the project's PostgreSQL.
# Tenants and users come from hospitals/hospitals.json (written to .local/state/fhir/fhir.properties on start).
#
#   infra/local/fhir.sh install|start|stop|status|reset
#   infra/local/fhir.sh start --no-wait   start and return at once (builds in the background if needed)
#   infra/local/fhir.sh wait              wait until a started server is healthy (FHIR_START_TIMEOUT)
#
# Env: FHIR_PORT (8090), FHIR_DB (postgres | h2: an H2 file database in .local/state/fhir/h2),
#      FHIR_PG_DATABASE (fhir), PGPORT (5432), FHIR_HAPI_VERSION (8.8.0),
#      FHIR_HEAP_OPTS (-Xms256m -Xmx768m), FHIR_START_TIMEOUT (240 s).
set -euo pipefail

COMPONENT=fhir
PROC_MATCH=sonet-local-fhir
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

FHIR_PORT="${FHIR_PORT:-8090}"
FHIR_DB="${FHIR_DB:-postgres}"
FHIR_PG_DATABASE="${FHIR_PG_DATABASE:-fhir}"
PGPORT="${PGPORT:-5432}"
FHIR_HAPI_VERSION="${FHIR_HAPI_VERSION:-8.8.0}"
FHIR_HEAP_OPTS="${FHIR_HEAP_OPTS:--Xms256m -Xmx768m}"
FHIR_START_TIMEOUT="${FHIR_START_TIMEOUT:-240}"
SRC_DIR="$INFRA_DIR/fhir"
HOSPITALS="$INFRA_DIR/hospitals/hospitals.json"
FHIR_HOME="$CACHE_DIR/fhir-$FHIR_HAPI_VERSION"
JAR="$FHIR_HOME/sonet-local-fhir.jar"
JAR_STAMP="$FHIR_HOME/sources.sha256"
BUILD_DIR="$FHIR_HOME/build"
M2_REPO="$CACHE_DIR/m2"
PROPS="$STATE_DIR/fhir.properties"
STARTER_PID_FILE="$RUN_DIR/fhir-starter.pid"
BASE_URL="http://$BIND_HOST:$FHIR_PORT"

need_java() {
  need_cmd java default-jre-headless
  local major
  major="$(java -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -n 1)"
  [[ -n $major && $major -ge 17 ]] || die "HAPI FHIR 8 / Spring Boot 3 need Java 17+, found: $(java -version 2>&1 | head -n 1)"
}

# The jar is keyed on the HAPI version plus a hash of pom.xml and every file under src/: change a source, get a rebuild.
sources_hash() {
  {
    printf 'hapi=%s\n' "$FHIR_HAPI_VERSION"
    (cd "$SRC_DIR" && find pom.xml src -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -d' ' -f1
}

installed() { [[ -f $JAR && -f $JAR_STAMP && "$(<"$JAR_STAMP")" == "$(sources_hash)" ]]; }

# mvn_package [extra mvn args]: build the jar into $BUILD_DIR.
mvn_package() {
  mvn -B -f "$SRC_DIR/pom.xml" "$@" \
    -Dmaven.repo.local="$M2_REPO" -Dstyle.color=never \
    -Dhapi.version="$FHIR_HAPI_VERSION" -Dfhir.build.dir="$BUILD_DIR" \
    -DskipTests package
}

do_install() {
  if installed; then return 0; fi
  need_java
  need_cmd mvn maven
  mkdir -p "$LOG_DIR" "$FHIR_HOME"
  local hash ilog="$LOG_DIR/fhir-install.log" start=$SECONDS deps_stamp
  hash="$(sources_hash)"
  # Maven's cache holds everything this pom needs once a build with it succeeded: then build offline (-o).
  deps_stamp="$FHIR_HOME/.deps-$FHIR_HAPI_VERSION-$(sha256sum "$SRC_DIR/pom.xml" | cut -c1-16)"
  rm -f -- "$BUILD_DIR/sonet-local-fhir.jar"
  if [[ -f $deps_stamp ]]; then
    log "building the server jar (sources changed) offline from ${M2_REPO#"$ROOT"/}; maven log: ${ilog#"$ROOT"/}"
    if ! mvn_package -q -o >"$ilog" 2>&1; then
      log "offline build failed (Maven cache incomplete?); retrying online"
      rm -f -- "$deps_stamp"
    fi
  fi
  if [[ ! -f $BUILD_DIR/sonet-local-fhir.jar ]]; then
    log "building HAPI FHIR $FHIR_HAPI_VERSION server jar from Maven Central into ${FHIR_HOME#"$ROOT"/}"
    log "  (first run: ~900 files, ~330 MB into ${M2_REPO#"$ROOT"/}, 40 s-3 min; maven log: ${ilog#"$ROOT"/})"
    if ! mvn_package 2>&1 \
        | tee "$ilog" \
        | awk '/Downloaded from/ { n++; if (n % 200 == 0) { printf "[fhir]   %d files downloaded...\n", n; fflush() } }' >&2 \
        || [[ ! -f $BUILD_DIR/sonet-local-fhir.jar ]]; then
      grep -E '^\[(ERROR|WARNING)\]' "$ilog" | head -n 30 | sed 's/^/[fhir]   | /' >&2
      die "maven could not build the FHIR server (see ${ilog#"$ROOT"/})"
    fi
  fi
  # a new inode: a running server keeps reading the jar it started with
  mv -f -- "$BUILD_DIR/sonet-local-fhir.jar" "$JAR.tmp"
  mv -f -- "$JAR.tmp" "$JAR"
  printf '%s\n' "$hash" >"$JAR_STAMP"
  touch "$deps_stamp"
  log "installed ${JAR#"$ROOT"/} ($(du -h "$JAR" | cut -f1)) in $(( SECONDS - start )) s"
}

tenants() { jq -r '[.trusts[].fhir.tenant] | join(" ")' "$HOSPITALS"; }

# PostgreSQL (the project's cluster, started if needed) with database $FHIR_PG_DATABASE, created if missing.
ensure_database() {
  [[ $FHIR_DB == postgres ]] || return 0
  if ! "$INFRA_DIR/postgres.sh" status >/dev/null 2>&1; then
    log "PostgreSQL is not running: starting it (infra/local/postgres.sh start)"
    "$INFRA_DIR/postgres.sh" start
  fi
  if [[ -z $("$INFRA_DIR/postgres.sh" psql postgres -tA -c "SELECT 1 FROM pg_database WHERE datname = '$FHIR_PG_DATABASE'") ]]; then
    log "creating database $FHIR_PG_DATABASE (owner sonet)"
    "$INFRA_DIR/postgres.sh" psql postgres -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$FHIR_PG_DATABASE\" OWNER sonet" >/dev/null
  fi
}

db_description() {
  if [[ $FHIR_DB == postgres ]]; then
    printf 'postgres://sonet@%s:%s/%s' "$BIND_HOST" "$PGPORT" "$FHIR_PG_DATABASE"
  else
    printf 'H2 file %s' "${STATE_DIR#"$ROOT"/}/h2/fhir.mv.db"
  fi
}

# Settings that follow the environment and hospitals.json, rewritten on every start (mode 600: it holds passwords).
write_config() {
  need_cmd jq jq
  [[ -f $HOSPITALS ]] || die "missing $HOSPITALS"
  local tmp="$PROPS.tmp"
  (
    umask 077
    {
      printf '# Generated by infra/local/fhir.sh on every start from infra/local/hospitals/hospitals.json.\n'
      printf '# Edit those, not this file. Development credentials only.\n'
      printf 'server.address=%s\nserver.port=%s\n' "$BIND_HOST" "$FHIR_PORT"
      case $FHIR_DB in
        postgres)
          printf 'spring.datasource.url=jdbc:postgresql://%s:%s/%s\n' "$BIND_HOST" "$PGPORT" "$FHIR_PG_DATABASE"
          printf 'spring.datasource.username=sonet\nspring.datasource.password=sonet\n'
          printf 'spring.datasource.driver-class-name=org.postgresql.Driver\n'
          printf 'spring.jpa.properties.hibernate.dialect=ca.uhn.fhir.jpa.model.dialect.HapiFhirPostgresDialect\n'
          ;;
        h2)
          printf 'spring.datasource.url=jdbc:h2:file:%s/h2/fhir;DB_CLOSE_ON_EXIT=FALSE\n' "$STATE_DIR"
          printf 'spring.datasource.username=sa\nspring.datasource.password=\n'
          printf 'spring.datasource.driver-class-name=org.h2.Driver\n'
          printf 'spring.jpa.properties.hibernate.dialect=ca.uhn.fhir.jpa.model.dialect.HapiFhirH2Dialect\n'
          ;;
        *) die "FHIR_DB must be postgres or h2, not '$FHIR_DB'" ;;
      esac
      # one tenant (= partition, preferred id = position + 1) and one Basic user per trust
      jq -r '
        def v: tostring | gsub("\\\\"; "\\\\") | gsub("\n"; " ");
        .trusts | to_entries[] | .key as $i | .value as $t |
          "sonet.fhir.tenants[\($i)].id=\($t.fhir.tenant | v)",
          "sonet.fhir.tenants[\($i)].partition-id=\($i + 1)",
          "sonet.fhir.tenants[\($i)].name=\($t.name | v)",
          "sonet.fhir.users[\($i)].username=\($t.fhir.username | v)",
          "sonet.fhir.users[\($i)].password=\($t.fhir.password | v)",
          "sonet.fhir.users[\($i)].tenant=\($t.fhir.tenant | v)"
      ' "$HOSPITALS"
    } >"$tmp"
  ) || die "could not read the trusts from ${HOSPITALS#"$ROOT"/}"
  grep -q '^sonet.fhir.users\[0\].password=.' "$tmp" || die "no trusts with fhir.username/password in ${HOSPITALS#"$ROOT"/}"
  mv -f -- "$tmp" "$PROPS"
}

healthy() { curl -fsS -m 5 "$BASE_URL/health" 2>/dev/null | grep -q '"status":"UP"'; }

# Pid of a background `fhir.sh start` (from `start --no-wait` before the jar was built), or return 1.
starter_pid() {
  local pid
  [[ -f $STARTER_PID_FILE ]] || return 1
  pid="$(<"$STARTER_PID_FILE")"
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "fhir.sh" || return 1
  printf '%s\n' "$pid"
}

start_in_background() {
  local pid
  if pid="$(starter_pid)"; then
    log "a background start is already under way (pid $pid); '$0 wait' waits for it"
    return 0
  fi
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  printf '\n===== %s: fhir background build + start =====\n' "$(date -Is)" >>"$LOG_FILE"
  FHIR_BACKGROUND_START=1 setsid nohup bash "$INFRA_DIR/fhir.sh" start >>"$LOG_FILE" 2>&1 </dev/null 9>&- &
  printf '%s\n' "$!" >"$STARTER_PID_FILE"
  log "the server jar is not built yet: building and starting in the background (pid $!, log ${LOG_FILE#"$ROOT"/}); '$0 wait' waits for it"
}

do_start() {
  local no_wait=0 pid since
  if [[ ${1:-} == --no-wait ]]; then no_wait=1; fi
  # this process may be the background start of `start --no-wait`: its pid file goes when it ends
  if [[ ${FHIR_BACKGROUND_START:-} == 1 ]]; then trap 'rm -f "$STARTER_PID_FILE"' EXIT; fi
  need_cmd curl curl
  need_cmd jq jq
  if (( no_wait )) && ! running_pid >/dev/null && ! installed; then
    start_in_background
    return 0
  fi
  take_lock
  ensure_dirs
  if pid="$(running_pid)"; then
    if ! installed; then log "note: the sources changed since this server was built; '$0 stop && $0 start' rebuilds"; fi
    if healthy; then
      log "already running (pid $pid) on $BASE_URL"
      return 0
    fi
    if (( no_wait )); then
      log "process $pid is starting; '$0 wait' waits for it"
      return 0
    fi
    log "process $pid is up but $BASE_URL/health is not UP yet; waiting"
    wait_until "$FHIR_START_TIMEOUT" "$BASE_URL/health to report UP" healthy
    return 0
  fi
  rm -f "$PID_FILE"
  do_install
  need_java
  check_port_free "$FHIR_PORT" FHIR_PORT
  write_config
  ensure_database

  since="$(log_size)"
  log "starting HAPI FHIR $FHIR_HAPI_VERSION on $BASE_URL/fhir/<tenant> (tenants $(tenants)); database $(db_description); log ${LOG_FILE#"$ROOT"/}"
  # shellcheck disable=SC2086  # FHIR_HEAP_OPTS is a list of JVM flags
  spawn_detached java $FHIR_HEAP_OPTS \
    -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true -Dfile.encoding=UTF-8 \
    -jar "$JAR" --spring.config.additional-location="file:$PROPS"
  if (( no_wait )); then
    log "started (pid $(<"$PID_FILE")), not waiting; '$0 wait' waits until it is healthy"
    return 0
  fi
  local t0=$SECONDS
  wait_until "$FHIR_START_TIMEOUT" "$BASE_URL/health to report UP (Spring Boot + HAPI: ~20-80 s)" healthy
  log "ready on $BASE_URL/fhir/<tenant> (pid $(<"$PID_FILE"), $(( SECONDS - t0 )) s)$(log_since "$since" | grep -o ' tenants .* created now)' | tail -n 1 | sed 's/^/;/')"
}

do_wait() {
  local start=$SECONDS next=10 spid
  # first a background build + start, if one runs (it has its own timeouts)
  while spid="$(starter_pid)"; do
    if healthy; then break; fi
    if (( SECONDS - start >= 1800 )); then fail_with_log "the background start (pid $spid) is still running after 30 min"; fi
    if (( SECONDS - start >= next )); then
      log "still building/starting in the background ($(( SECONDS - start ))s)..."
      next=$(( next + 10 ))
    fi
    sleep 1
  done
  if ! running_pid >/dev/null; then
    fail_with_log "not running (start it with '$0 start' or '$0 start --no-wait')"
  fi
  wait_until "$FHIR_START_TIMEOUT" "$BASE_URL/health to report UP" healthy
  log "ready on $BASE_URL/fhir/<tenant> (pid $(<"$PID_FILE"))"
}

# A background `fhir.sh start` may hold the lock for minutes (a build): end it before taking the lock.
stop_starter() {
  local spid
  if spid="$(starter_pid)"; then
    log "stopping the background build/start (pid $spid)"
    stop_pid "$spid" 10
  fi
  rm -f "$STARTER_PID_FILE"
}

do_stop() {
  stop_starter
  take_lock
  generic_stop
}

# `reset`: stop, drop the PostgreSQL database (that is where the data lives), then generic_reset deletes the state dir.
stop_and_drop_database() {
  generic_stop
  [[ $FHIR_DB == postgres ]] || return 0
  if "$INFRA_DIR/postgres.sh" status >/dev/null 2>&1; then
    log "dropping database $FHIR_PG_DATABASE"
    "$INFRA_DIR/postgres.sh" psql postgres -q -v ON_ERROR_STOP=1 \
      -c "DROP DATABASE IF EXISTS \"$FHIR_PG_DATABASE\" WITH (FORCE)" >/dev/null
  else
    log "PostgreSQL is not running: database $FHIR_PG_DATABASE kept (run reset again with PostgreSQL up to drop it)"
  fi
}

do_status() {
  local pid spid
  if pid="$(running_pid)" && healthy; then
    print_status yes "$BASE_URL/fhir/<tenant>" "pid $pid, HAPI FHIR $FHIR_HAPI_VERSION, tenants $(tenants 2>/dev/null || echo '?'), $(db_description)"
  elif [[ -n ${pid:-} ]]; then
    print_status no "$BASE_URL/fhir/<tenant>" "pid $pid alive, not healthy yet (starting?)"
  elif spid="$(starter_pid)"; then
    print_status no "$BASE_URL/fhir/<tenant>" "building/starting in the background, pid $spid"
  else
    print_status no "$BASE_URL/fhir/<tenant>"
  fi
}

case "${1:-}" in
  install) take_lock; do_install ;;
  start) shift; do_start "$@" ;;
  wait) need_cmd curl curl; do_wait ;;
  stop) do_stop ;;
  status) do_status ;;
  reset) stop_starter; take_lock; generic_reset stop_and_drop_database ;;
  *) usage_common "wait"; echo "  start --no-wait  start without waiting (builds in the background if needed); then: wait" >&2; exit 2 ;;
esac
