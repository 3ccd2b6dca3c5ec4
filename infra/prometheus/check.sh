#!/usr/bin/env bash
# Checks infra/prometheus/alerts.yml with promtool (`promtool check rules`). promtool is built once with the Go
# toolchain into .local/cache/promtool-<version> (the Prometheus module is large: the first build took ~25 min on a
# busy 2-core machine, most of it downloading modules).
# libs/observability/src/alerts.spec.ts checks the same file without it (shape, runbooks, metric names).
#
#   infra/prometheus/check.sh            build if needed, then check
# Env: PROMTOOL_VERSION (v0.316.0, the Go module version of Prometheus 3.x)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VERSION="${PROMTOOL_VERSION:-v0.316.0}"
HOME_DIR="$ROOT/.local/cache/promtool-${VERSION#v}"
BIN="$HOME_DIR/promtool"

if [[ ! -x $BIN ]]; then
  go="$(command -v go || echo /usr/local/go/bin/go)"
  [[ -x $go ]] || { echo "[promtool] Go is needed to build promtool" >&2; exit 1; }
  mkdir -p "$HOME_DIR"
  echo "[promtool] building github.com/prometheus/prometheus/cmd/promtool@$VERSION (once; minutes)" >&2
  GOBIN="$HOME_DIR" GOFLAGS=-buildvcs=false "$go" install "github.com/prometheus/prometheus/cmd/promtool@$VERSION"
fi
"$BIN" check rules "$ROOT/infra/prometheus/alerts.yml"
