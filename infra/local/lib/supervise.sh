#!/usr/bin/env bash
# Keeps one process running: starts it, and when it exits without being asked to (a crash, a SIGKILL), starts it
# again after a back-off, logging each restart. Stopping the supervisor (SIGTERM or SIGINT) stops the process
# (SIGTERM, then SIGKILL after SUPERVISE_STOP_TIMEOUT seconds) and exits: nothing is left behind.
#
#   supervise.sh NAME CHILD_PID_FILE -- COMMAND [ARGS...]
#
# NAME names the process in the log lines ("[supervise] referral: ..."), written to stderr; the child's own output
# goes where the supervisor's goes. CHILD_PID_FILE always holds the pid of the current child, so status checks and
# `kill` reach the process itself. Back-off: SUPERVISE_BACKOFF_INITIAL seconds (1), doubling up to
# SUPERVISE_BACKOFF_MAX (30); a child that ran SUPERVISE_STABLE_AFTER seconds (30) or more counts as healthy and
# the next restart waits the initial back-off again. SIGHUP restarts the child at once (no back-off).
set -uo pipefail

name=${1:?usage: supervise.sh NAME CHILD_PID_FILE -- COMMAND [ARGS...]}
pid_file=${2:?usage: supervise.sh NAME CHILD_PID_FILE -- COMMAND [ARGS...]}
[[ ${3:-} == -- ]] || { echo "usage: supervise.sh NAME CHILD_PID_FILE -- COMMAND [ARGS...]" >&2; exit 2; }
shift 3
(($# > 0)) || { echo "supervise.sh: no command given" >&2; exit 2; }

initial=${SUPERVISE_BACKOFF_INITIAL:-1}
max=${SUPERVISE_BACKOFF_MAX:-30}
stable_after=${SUPERVISE_STABLE_AFTER:-30}
stop_timeout=${SUPERVISE_STOP_TIMEOUT:-30}

child=""
stopping=0
restart_now=0
restarts=0

say() { printf '%s [supervise] %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$name" "$*" >&2; }

# stop_child: SIGTERM, wait up to stop_timeout, then SIGKILL.
stop_child() {
  [[ -n $child ]] && kill -0 "$child" 2>/dev/null || return 0
  kill -TERM "$child" 2>/dev/null
  local i
  for ((i = 0; i < stop_timeout * 10; i++)); do
    kill -0 "$child" 2>/dev/null || return 0
    sleep 0.1
  done
  say "pid $child did not stop within ${stop_timeout}s; SIGKILL"
  kill -KILL "$child" 2>/dev/null
}

on_stop() {
  stopping=1
  stop_child
}

on_hup() {
  restart_now=1
  say "restart requested"
  stop_child
}

trap on_stop TERM INT
trap on_hup HUP

backoff=$initial
while ((stopping == 0)); do
  started=$SECONDS
  "$@" &
  child=$!
  printf '%s\n' "$child" >"$pid_file"
  # `wait` returns early (status > 128) when a trapped signal arrives: wait again until the child is really gone.
  code=0
  while kill -0 "$child" 2>/dev/null; do
    wait "$child"
    code=$?
  done
  ((stopping)) && break
  if ((restart_now)); then
    restart_now=0
    backoff=$initial
    continue
  fi
  ((SECONDS - started >= stable_after)) && backoff=$initial
  restarts=$((restarts + 1))
  say "pid $child exited (status $code) after $((SECONDS - started))s; restart #$restarts in ${backoff}s"
  # Sleep in the background so a stop signal during the back-off is handled at once.
  sleep "$backoff" &
  sleeper=$!
  wait "$sleeper" 2>/dev/null
  kill "$sleeper" 2>/dev/null
  backoff=$((backoff * 2 > max ? max : backoff * 2))
done
say "stopped"
rm -f "$pid_file"
exit 0
