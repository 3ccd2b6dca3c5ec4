#!/usr/bin/env bash
# Schema-driven fuzz run of the four services' HTTP APIs (schemathesis, from PyPI): every operation of each
# service's OpenAPI document is called with generated valid and invalid input and a valid token, and each answer
# is checked: no server error (5xx), the body matches the documented schema (problem+json included), the status
# is one the document names. Needs the running network (`npm start`).
#
#   bash infra/local/fuzz.sh            bounded: fixed seed, few examples, a time budget per service (~2 min in all)
#   FUZZ_FULL=1 bash infra/local/fuzz.sh   (npm run fuzz:full) many more examples, longer budget
#
# Environment:
#   FUZZ_DOCS=live|local  live (default): each service's own /docs/openapi.json; local: the documents of this
#                         checkout (built by test/openapi with OPENAPI_OUT), to check them against a network that
#                         runs other code (e.g. before a merge)
#   FUZZ_NETWORK_ROOT     checkout whose network runs (its dev token issuer signs the tokens); default this one
#   FUZZ_SEED, FUZZ_MAX_EXAMPLES, FUZZ_MAX_TIME (seconds per service), FUZZ_SERVICES (e.g. "referral audit")
# Reports: .local/fuzz/<service>/ (JUnit XML, NDJSON events, schemathesis output); summary on stderr.
# Exits 1 if any service has a failure (or could not be fuzzed), 0 otherwise.
set -euo pipefail

COMPONENT=fuzz
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

SCHEMATHESIS_VERSION=4.32.5
VENV="$CACHE_DIR/schemathesis-$SCHEMATHESIS_VERSION"
REPORT_DIR="$LOCAL_DIR/fuzz"
NETWORK_ROOT="${FUZZ_NETWORK_ROOT:-$ROOT}"
DOCS="${FUZZ_DOCS:-live}"

if [[ -n ${FUZZ_FULL:-} ]]; then
  MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-200}" MAX_TIME="${FUZZ_MAX_TIME:-600}"
else
  MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-20}" MAX_TIME="${FUZZ_MAX_TIME:-30}"
fi
SEED="${FUZZ_SEED:-20260101}"

# service:port:role — the role that may call most of the service's endpoints without changing anything a person
# made. Endpoints for other roles are still fuzzed: they must answer 403 problem+json, as documented. Writes by a
# GP or clinician (new referrals, decisions, manifest changes) are left out on purpose: the run must not fill a
# developer's network with made-up referrals; their input validation is covered by the services' Jest tests.
SERVICES=(
  referral:8081:ops
  records-transfer:8082:ops
  notification:8083:ops
  audit:8084:auditor
)
ORG=X26

install_schemathesis() {
  [[ -x $VENV/bin/schemathesis ]] && return 0
  need_cmd python3 python3
  python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
  log "installing schemathesis $SCHEMATHESIS_VERSION from PyPI into ${VENV#"$ROOT"/} (one-time)..."
  # Built in place (a venv's scripts name their interpreter by absolute path); removed again if the install fails.
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2 || { rm -rf "$VENV"; die "could not install schemathesis"; }
}

token() { bash "$NETWORK_ROOT/infra/local/token.sh" --role "$1" --org "$ORG"; }

# fuzz_one NAME PORT ROLE: 0 if every check passed.
fuzz_one() {
  local name=$1 port=$2 role=$3 base="http://$BIND_HOST:$2" out="$REPORT_DIR/$1" schema
  rm -rf "$out" && mkdir -p "$out"
  if ! curl -fsS -m 5 -o /dev/null "$base/health/live"; then
    log "$name: FAILED: nothing answers on $base (start the network: npm start)"
    return 1
  fi
  if [[ $DOCS == local ]]; then
    schema="$LOCAL_DIR/openapi/$name.json"
  else
    schema="$base/docs/openapi.json"
  fi
  local tok
  tok="$(token "$role")" || { log "$name: could not mint a $role token"; return 1; }
  log "$name: fuzzing $base as $role (seed $SEED, ≤$MAX_EXAMPLES examples an operation, ≤${MAX_TIME}s)"
  local status=0
  "$VENV/bin/schemathesis" run "$schema" \
    --url "$base" \
    --header "Authorization: Bearer $tok" \
    --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
    --max-examples "$MAX_EXAMPLES" \
    --max-time "$MAX_TIME" \
    --seed "$SEED" \
    --generation-deterministic \
    --request-timeout 10 \
    --workers 1 \
    --no-color \
    --report junit,ndjson \
    --report-dir "$out" \
    >"$out/schemathesis.log" 2>&1 || status=$?
  return "$status"
}

# summarise NAME: the failures schemathesis found (what, where, how to reproduce) and its summary lines.
summarise() {
  local file="$REPORT_DIR/$1/schemathesis.log"
  [[ -f $file ]] || return 0
  log "$1: FAILED (full output: ${file#"$ROOT"/}):"
  { sed -n '/FAILURES/,$p' "$file" | grep -v '^[[:space:]]*$' | head -n 100 || true; } | sed "s/^/[fuzz]   | /" >&2
}

install_schemathesis
mkdir -p "$REPORT_DIR"
if [[ $DOCS == local ]]; then
  # The documents of this checkout, as the services would serve them (test/openapi builds them from the controllers).
  log "building this checkout's OpenAPI documents into ${LOCAL_DIR#"$ROOT"/}/openapi..."
  # shellcheck source=node-env.sh
  source "$ROOT/infra/local/node-env.sh" >/dev/null
  OPENAPI_OUT="$LOCAL_DIR/openapi" NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning" \
    "$ROOT/node_modules/.bin/jest" --ci --silent test/openapi >&2 || die "the OpenAPI documents did not build"
fi

only="${FUZZ_SERVICES:-}"
failed=()
started=$SECONDS
for entry in "${SERVICES[@]}"; do
  IFS=: read -r name port role <<<"$entry"
  [[ -z $only || " $only " == *" $name "* ]] || continue
  if fuzz_one "$name" "$port" "$role"; then
    log "$name: ok ($(grep -Eo '[0-9]+ (operations? )?(tested|passed)[^,]*' "$REPORT_DIR/$name/schemathesis.log" | head -n 1 || true))"
  else
    failed+=("$name")
    summarise "$name"
  fi
done

log "done in $((SECONDS - started))s; reports in ${REPORT_DIR#"$ROOT"/}/"
if ((${#failed[@]} > 0)); then
  log "FAILED: ${failed[*]}"
  exit 1
fi
log "every service passed: no server error, every answer as documented"
