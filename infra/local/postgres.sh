#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Project-local PostgreSQL cluster in .local/state/postgres (not Debian's system cluster).
#
#   infra/local/postgres.sh install|start|stop|status|reset
#   infra/local/postgres.sh psql [DB] [psql args]   psql as the app role (default DB: postgres)
#
# Roles: superuser `sonet`, password `sonet` (TCP 127.0.0.1, scram-sha-256), the audit service's
# `audit_writer`/`audit_writer` (no rights of its own: the audit migration grants SELECT/INSERT), plus the
# bootstrap superuser `postgres` (unix socket only, trust). Databases owned by sonet, one per service:
# referral, records_transfer, notification, audit (override with POSTGRES_DATABASES).
# PostgreSQL refuses to run as root: as root the cluster runs as the `postgres` OS user.
#
# Env: PGPORT (5432), POSTGRES_DATABASES, POSTGRES_START_TIMEOUT (60 s).
set -euo pipefail

COMPONENT=postgres
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

PGPORT="${PGPORT:-5432}"
POSTGRES_DATABASES="${POSTGRES_DATABASES:-referral records_transfer notification audit}"
POSTGRES_START_TIMEOUT="${POSTGRES_START_TIMEOUT:-60}"
APP_ROLE=sonet
APP_PASSWORD=sonet
AUDIT_WRITER_ROLE=audit_writer
AUDIT_WRITER_PASSWORD=audit_writer
DATA_DIR="$STATE_DIR/data"
SOCK_DIR="$STATE_DIR/socket"
# unix socket paths are limited to 107 bytes: fall back to /tmp for deep checkouts
if (( ${#SOCK_DIR} + 20 > 107 )); then
  SOCK_DIR="/tmp/pg-local-$(printf '%s' "$ROOT" | md5sum | cut -c1-10)"
fi
export PGPORT

# As root the cluster runs as the postgres OS user, which must reach its files. A checkout inside a private
# directory (one made by `mktemp -d` is mode 0700) is out of its reach: the cluster then lives in the postgres
# user's home, one directory per checkout, and .local/logs/postgres.log links to its log.
EXTERNAL_DIR=""
relocate_if_unreachable() {
  [[ -z $EXTERNAL_DIR ]] || return 0
  is_root && id postgres >/dev/null 2>&1 || return 0
  if (cd / && runuser -u postgres -- test -x "$ROOT"); then return 0; fi
  EXTERNAL_DIR="$(getent passwd postgres | cut -d: -f6)/sonet-$(printf '%s' "$ROOT" | md5sum | cut -c1-12)"
  DATA_DIR="$EXTERNAL_DIR/data"
  SOCK_DIR="$EXTERNAL_DIR/socket"
  LOG_FILE="$EXTERNAL_DIR/postgres.log"
}
relocate_if_unreachable

# OS user that owns and runs the cluster.
if is_root; then RUN_AS=postgres; else RUN_AS="$(id -un)"; fi

as_pg() {
  if is_root; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

find_pg_bin() {
  local v d=""
  if [[ -n ${PG_BIN:-} && -x $PG_BIN/pg_ctl ]]; then return 0; fi
  # keep using the major version the data dir was created with
  if [[ -f $DATA_DIR/PG_VERSION ]]; then
    v="$(<"$DATA_DIR/PG_VERSION")"
    if [[ -x /usr/lib/postgresql/$v/bin/pg_ctl ]]; then
      PG_BIN="/usr/lib/postgresql/$v/bin"
      return 0
    fi
  fi
  d="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1 || true)"
  if [[ -n $d && -x $d/pg_ctl ]]; then
    PG_BIN="$d"
  elif command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
    PG_BIN="$(dirname "$(command -v pg_ctl)")"
  else
    return 1
  fi
  if [[ -f $DATA_DIR/PG_VERSION ]] && ! "$PG_BIN/postgres" --version | grep -q " $(<"$DATA_DIR/PG_VERSION")[.]"; then
    die "data dir was created by PostgreSQL $(<"$DATA_DIR/PG_VERSION") but only $("$PG_BIN/postgres" --version) is installed; run '$0 reset' to recreate it (deletes data)"
  fi
}

do_install() {
  if find_pg_bin; then return 0; fi
  log "PostgreSQL binaries not found: installing the Debian package (one-time, ~1 min)"
  local before=""
  if command -v pg_lsclusters >/dev/null; then before="$(pg_lsclusters -h 2>/dev/null || true)"; fi
  apt_install postgresql
  find_pg_bin || die "postgresql installed but no pg_ctl found under /usr/lib/postgresql/*/bin"
  # The package creates and starts a system cluster on 5432; we just installed it, so stop it
  # to keep the port for the project's own cluster.
  if command -v pg_lsclusters >/dev/null; then
    local ver name port status
    while read -r ver name port status _; do
      if [[ $status == online* && $port == "$PGPORT" ]] && ! grep -q "^$ver $name " <<<"$before"; then
        log "stopping Debian's freshly created system cluster $ver/$name on port $port"
        pg_ctlcluster "$ver" "$name" stop || true
      fi
    done < <(pg_lsclusters -h 2>/dev/null || true)
  fi
  log "using $("$PG_BIN/postgres" --version)"
}

# Pid of our postmaster (from postmaster.pid in our data dir), mirrored into the pid file.
running_pid() {
  local pid
  [[ -f $DATA_DIR/postmaster.pid ]] || { rm -f "$PID_FILE"; return 1; }
  pid="$(head -n 1 "$DATA_DIR/postmaster.pid" 2>/dev/null || true)"
  if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null \
      && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DATA_DIR"; then
    printf '%s\n' "$pid" >"$PID_FILE"
    printf '%s\n' "$pid"
    return 0
  fi
  rm -f "$PID_FILE"
  return 1
}

ready() { "$PG_BIN/pg_isready" -q -h "$BIND_HOST" -p "$PGPORT" -d postgres; }

prepare_dirs() {
  ensure_dirs
  relocate_if_unreachable
  if [[ -n $EXTERNAL_DIR ]]; then
    log "the postgres OS user cannot reach this checkout: keeping the cluster in $EXTERNAL_DIR"
    mkdir -p "$EXTERNAL_DIR"
    chown postgres: "$EXTERNAL_DIR"
    ln -sfn "$LOG_FILE" "$LOG_DIR/postgres.log"
  fi
  mkdir -p "$SOCK_DIR"
  touch "$LOG_FILE"
  if is_root; then
    id postgres >/dev/null 2>&1 || die "OS user 'postgres' is missing (it comes with the postgresql package)"
    chown postgres: "$STATE_DIR" "$SOCK_DIR" "$LOG_FILE"
    chmod 0755 "$SOCK_DIR"
    if [[ -z $EXTERNAL_DIR ]] && ! runuser -u postgres -- test -w "$STATE_DIR"; then
      die "the postgres OS user cannot reach ${STATE_DIR}: every parent directory of the repo needs o+x (e.g. chmod o+x $(dirname "$ROOT"))"
    fi
  fi
}

init_cluster() {
  if [[ -f $DATA_DIR/PG_VERSION ]]; then return 0; fi
  log "initdb: creating cluster in ${DATA_DIR#"$ROOT"/} (run as OS user $RUN_AS)"
  as_pg "$PG_BIN/initdb" -D "$DATA_DIR" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 2>&1 | sed 's/^/[postgres]   | /' >&2 \
    || die "initdb failed"
  printf '%s\n' "include_if_exists = 'postgresql.local.conf'" | as_pg tee -a "$DATA_DIR/postgresql.conf" >/dev/null
}

# Settings that follow the environment (port, socket) are rewritten on every start.
write_config() {
  as_pg tee "$DATA_DIR/postgresql.local.conf" >/dev/null <<EOF
# Generated by infra/local/postgres.sh on every start; edit the script, not this file.
listen_addresses = '$BIND_HOST'
port = $PGPORT
unix_socket_directories = '$SOCK_DIR'
unix_socket_permissions = 0777
max_connections = 200
shared_buffers = 256MB
fsync = on
synchronous_commit = on
max_wal_size = 1GB
log_destination = 'stderr'
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = 1000
# Per-statement counts and times for operators (CREATE EXTENSION pg_stat_statements in a database to read them).
shared_preload_libraries = 'pg_stat_statements'
EOF
}

port_clash_hint() {
  local hint=""
  if command -v pg_lsclusters >/dev/null; then
    hint="$(pg_lsclusters -h 2>/dev/null | awk -v p="$PGPORT" '$3 == p && $4 ~ /^online/ { printf "Debian system cluster %s/%s is online on %s (stop it: pg_ctlcluster %s %s stop). ", $1, $2, p, $1, $2 }')"
  fi
  die "port $PGPORT is already in use by $(port_owner "$PGPORT"). ${hint}Stop it or use another port: PGPORT=5433 $0 start (and point the services at it)"
}

psql_admin() {
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK_DIR" -p "$PGPORT" -U postgres -d postgres "$@"
}

ensure_roles_and_dbs() {
  psql_admin -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$APP_ROLE') THEN
        CREATE ROLE $APP_ROLE LOGIN SUPERUSER PASSWORD '$APP_PASSWORD';
      END IF;
      -- The audit service's own role: SELECT and INSERT on its log only (its migrations grant them).
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$AUDIT_WRITER_ROLE') THEN
        CREATE ROLE $AUDIT_WRITER_ROLE LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '$AUDIT_WRITER_PASSWORD';
      END IF;
    END \$\$;" >/dev/null
  local db
  for db in $POSTGRES_DATABASES; do
    if [[ -z $(psql_admin -tA -c "SELECT 1 FROM pg_database WHERE datname = '$db'") ]]; then
      log "creating database $db (owner $APP_ROLE)"
      psql_admin -c "CREATE DATABASE \"$db\" OWNER $APP_ROLE" >/dev/null
    fi
  done
}

do_start() {
  take_lock
  do_install
  local pid
  if pid="$(running_pid)"; then
    if ! ready; then
      wait_until "$POSTGRES_START_TIMEOUT" "pg_isready on $BIND_HOST:$PGPORT" ready
    fi
    ensure_roles_and_dbs
    log "already running (pid $pid) on $BIND_HOST:$PGPORT"
    return 0
  fi
  prepare_dirs
  if port_bound "$PGPORT"; then port_clash_hint; fi
  init_cluster
  write_config
  log "starting $("$PG_BIN/postgres" --version | sed 's/^postgres (PostgreSQL) /PostgreSQL /') on $BIND_HOST:$PGPORT; log ${LOG_FILE#"$ROOT"/}"
  printf '\n===== %s: postgres start =====\n' "$(date -Is)" >>"$LOG_FILE"
  if ! as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" -l "$LOG_FILE" -s -w -t "$POSTGRES_START_TIMEOUT" start 9>&-; then
    fail_with_log "pg_ctl start failed"
  fi
  running_pid >/dev/null || fail_with_log "postmaster is not running after pg_ctl start"
  wait_until "$POSTGRES_START_TIMEOUT" "pg_isready on $BIND_HOST:$PGPORT" ready
  ensure_roles_and_dbs
  log "ready on $BIND_HOST:$PGPORT (pid $(<"$PID_FILE")); databases: $POSTGRES_DATABASES"
}

do_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    log "not running"
    return 0
  fi
  find_pg_bin || die "PostgreSQL binaries not found"
  log "stopping (pid $pid)..."
  if ! as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" -s -m fast -w -t "$STOP_TIMEOUT" stop 9>&-; then
    log "fast shutdown did not finish in ${STOP_TIMEOUT}s; immediate shutdown"
    as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" -s -m immediate -w -t 10 stop 9>&- || true
  fi
  # pg_ctl returns once postmaster.pid is gone; the process itself may need a moment more
  local i=0
  while kill -0 "$pid" 2>/dev/null && (( i++ < 20 )); do sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then
    log "still alive; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  log "stopped"
}

pg_accepting() { find_pg_bin && ready; }

do_status() {
  component_status "$BIND_HOST:$PGPORT" "user $APP_ROLE/$APP_PASSWORD" pg_accepting
}

do_psql() {
  find_pg_bin || die "PostgreSQL is not installed: run $0 start"
  ready || die "not running on $BIND_HOST:$PGPORT: run $0 start"
  local db=${1:-postgres}
  if [[ $# -gt 0 ]]; then shift; fi
  exec "$PG_BIN/psql" -X -h "$SOCK_DIR" -p "$PGPORT" -U "$APP_ROLE" -d "$db" "$@"
}

case "${1:-}" in
  install) take_lock; do_install ;;
  start) do_start ;;
  stop) take_lock; do_stop ;;
  status) do_status ;;
  reset)
    take_lock
    generic_reset do_stop
    if [[ -n $EXTERNAL_DIR && -d $EXTERNAL_DIR ]]; then log "deleting $EXTERNAL_DIR"; rm -rf -- "$EXTERNAL_DIR"; fi ;;
  psql) shift; do_psql "$@" ;;
  *) usage_common "psql [DB] [args]"; exit 2 ;;
esac
