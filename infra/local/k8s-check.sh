#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Renders the Kubernetes manifests (k8s/) with kustomize and validates them offline with kubeconform against the
# Kubernetes JSON schemas that PyPI's kubernetes-validate package ships (kubeconform's default is to download
# schemas, which a machine without internet access cannot do). Everything is cached under .local/cache.
#
#   infra/local/k8s-check.sh            install if needed, then validate every kustomization under k8s/
#   infra/local/k8s-check.sh install    build kustomize and kubeconform (go install), install the schemas
#   infra/local/k8s-check.sh render DIR print the rendered manifests of k8s/DIR as one JSON array (for tests)
#
# The operators' custom resources (Strimzi's Kafka, KafkaNodePool, KafkaTopic; CloudNativePG's Cluster, Database)
# have no schema in that package: they are rendered but skipped by kubeconform (test/k8s checks their content).
#
# Env: K8S_VERSION (Kubernetes version the schemas are for, 1.33.0), KUSTOMIZE_VERSION, KUBECONFORM_VERSION.
set -euo pipefail

COMPONENT=k8s
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

K8S_VERSION="${K8S_VERSION:-1.33.0}"
KUSTOMIZE_VERSION="${KUSTOMIZE_VERSION:-v5.7.1}"
KUBECONFORM_VERSION="${KUBECONFORM_VERSION:-v0.7.0}"
SCHEMAS_VERSION=1.37.0
TOOLS="$CACHE_DIR/k8s-tools"
KUSTOMIZE="$TOOLS/kustomize-$KUSTOMIZE_VERSION"
KUBECONFORM="$TOOLS/kubeconform-$KUBECONFORM_VERSION"
VENV="$TOOLS/kubernetes-validate-$SCHEMAS_VERSION"
CRD_KINDS=Kafka,KafkaNodePool,KafkaTopic,Cluster,Database

# go_tool MODULE_PATH@VERSION TARGET: one `go install` per module (go refuses several modules in one call).
go_tool() {
  local pkg=$1 target=$2 go tmp="$TOOLS/bin.tmp" ilog="$LOG_DIR/k8s-tools-install.log"
  [[ -x $target ]] && return 0
  go="$(find_go)" || die "Go is needed to build ${pkg%@*} (go install $pkg)"
  mkdir -p "$TOOLS" "$LOG_DIR"
  rm -rf -- "$tmp"
  log "building ${pkg##*/} with go install (one time, ~1-2 min; log: ${ilog#"$ROOT"/})"
  if ! GOBIN="$tmp" GOFLAGS=-buildvcs=false "$go" install "$pkg" >>"$ilog" 2>&1; then
    tail -n 20 "$ilog" | sed 's/^/[k8s]   | /' >&2
    die "go install $pkg failed"
  fi
  mv -f -- "$tmp"/* "$target"
  rm -rf -- "$tmp"
}

do_install() {
  go_tool "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" "$KUSTOMIZE"
  go_tool "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION" "$KUBECONFORM"
  if [[ ! -x $VENV/bin/python ]]; then
    need_cmd python3 python3
    python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
    log "installing the Kubernetes JSON schemas (PyPI kubernetes-validate $SCHEMAS_VERSION) into ${VENV#"$ROOT"/} (one time)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$SCHEMAS_VERSION" >&2 || {
      rm -rf "$VENV"
      die "could not install kubernetes-validate"
    }
  fi
}

schema_source() {
  local dir
  dir="$(compgen -G "$VENV/lib/python3*/site-packages/kubernetes_validate/kubernetes-json-schema/v$K8S_VERSION-local-strict" | head -n 1)"
  [[ -n $dir && -d $dir ]] || die "no schemas for Kubernetes $K8S_VERSION in ${VENV#"$ROOT"/} (set K8S_VERSION)"
  printf '%s\n' "$dir"
}

# validate DIR: 0 when every resource of the kustomization is valid (strict: unknown fields are errors).
validate() {
  local dir=$1 rendered schemas="$TOOLS/schemas-v$K8S_VERSION-strict"
  rendered="$(mktemp --suffix=.yaml)"
  "$KUSTOMIZE" build "$ROOT/k8s/$dir" >"$rendered" || { rm -f "$rendered"; return 1; }
  # The kinds it holds, named as kubeconform names schema files (deployment-apps-v1, service-v1), made standalone.
  "$VENV/bin/python" -c '
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d:
        group, _, version = d["apiVersion"].rpartition("/")
        print("-".join([d["kind"].lower()] + ([group.split(".")[0]] if group else []) + [version]))
' "$rendered" | "$VENV/bin/python" "$INFRA_DIR/lib/k8s_schemas.py" "$(schema_source)" "$schemas"
  log "k8s/$dir: kubeconform -strict (Kubernetes $K8S_VERSION; operator resources skipped: $CRD_KINDS)"
  local status=0
  "$KUBECONFORM" -strict -summary -kubernetes-version "$K8S_VERSION" -skip "$CRD_KINDS" \
    -schema-location "$schemas/{{.ResourceKind}}{{.KindSuffix}}.json" "$rendered" || status=1
  rm -f "$rendered"
  return "$status"
}

render() {
  local dir=${1:?usage: k8s-check.sh render DIR}
  "$KUSTOMIZE" build "$ROOT/k8s/$dir" |
    "$VENV/bin/python" -c 'import json, sys, yaml; json.dump([d for d in yaml.safe_load_all(sys.stdin) if d], sys.stdout)'
}

case "${1:-check}" in
  install) do_install ;;
  render)
    do_install >&2
    render "${2:-}"
    ;;
  check)
    do_install
    failed=0
    for k in "$ROOT"/k8s/*/kustomization.yaml; do
      d="$(basename "$(dirname "$k")")"
      validate "$d" || failed=1
    done
    exit "$failed"
    ;;
  *) die "usage: k8s-check.sh [check|install|render DIR]" ;;
esac
