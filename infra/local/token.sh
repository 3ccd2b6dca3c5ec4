#!/usr/bin/env bash
# `npm run -s token -- --role <role> --org <ODS code> [--nhs <NHS number>]`: prints a bearer token from the
# local development issuer (the one the running network trusts). Builds first if the project was never built.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=node-env.sh
source "$ROOT/infra/local/node-env.sh" >/dev/null
[[ -f dist/libs/auth/src/cli/token.js ]] || node tools/build.mjs >&2
exec node dist/libs/auth/src/cli/token.js "$@"
