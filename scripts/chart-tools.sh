#!/usr/bin/env bash
# Installs what `npm run chart:check` needs, pinned and cached outside the repository
# ($CHART_TOOLS_DIR, default ~/.cache/api-clients-service/chart-tools), from package registries only:
#   helm and kubeconform: built from source with `go install` (the Go module proxy);
#   the Kubernetes JSON schemas: the PyPI package kubernetes-validate, which ships them for every
#   Kubernetes minor release (its folders v1.N.0-local-strict/), in a virtual environment.
# Needs Go and Python 3 with venv. Prints the tools' folder; does nothing when they are there.
set -euo pipefail

HELM_VERSION=v3.22.0
KUBECONFORM_VERSION=v0.8.0
KUBERNETES_VALIDATE_VERSION=1.37.0

dir="${CHART_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/api-clients-service/chart-tools}"
mkdir -p "$dir/bin"

# one stamp per tool and version: a changed pin installs again
install_go_tool() {
  local name=$1 module=$2 version=$3
  if [ -x "$dir/bin/$name" ] && [ "$(cat "$dir/bin/.$name-version" 2>/dev/null)" = "$version" ]; then return; fi
  command -v go >/dev/null 2>&1 || { echo "chart-tools: Go is needed to build $name (apt install golang-go)" >&2; exit 1; }
  echo "chart-tools: building $name $version with go install (once)" >&2
  GOBIN="$dir/bin" GOFLAGS=-mod=mod go install "$module@$version"
  echo "$version" >"$dir/bin/.$name-version"
}

install_go_tool helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION"
install_go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"

if [ "$(cat "$dir/venv/.kubernetes-validate-version" 2>/dev/null)" != "$KUBERNETES_VALIDATE_VERSION" ]; then
  echo "chart-tools: kubernetes-validate $KUBERNETES_VALIDATE_VERSION (the Kubernetes JSON schemas) into a venv (once)" >&2
  rm -rf "$dir/venv"
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  echo "$KUBERNETES_VALIDATE_VERSION" >"$dir/venv/.kubernetes-validate-version"
fi
# kubeconform reads schemas from files; kubernetes-validate's name themselves and their shared
# definitions by URL ("$id": "https://kubernetes.io/api/...", "$ref": "/api/_definitions.json#..."),
# which it resolves itself and kubeconform would try to download. The copy kubeconform reads has no
# "$id" and its references relative to each file's folder: the same schemas, offline.
schemas="$dir/schemas/$KUBERNETES_VALIDATE_VERSION"
if [ ! -f "$schemas/.done" ]; then
  rm -rf "$schemas"
  "$dir/venv/bin/python" - "$schemas" "$KUBERNETES_VALIDATE_VERSION" <<'PY'
import json, pathlib, sys
import kubernetes_validate
target, version = pathlib.Path(sys.argv[1]), sys.argv[2]
source = pathlib.Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
for variant in (f"v{version}-local", f"v{version}-local-strict"):
    (target / variant).mkdir(parents=True)
    for file in (source / variant).glob("*.json"):
        schema = json.loads(file.read_text().replace('"/api/_definitions.json#', '"_definitions.json#'))
        schema.pop("$id", None)
        (target / variant / file.name).write_text(json.dumps(schema))
PY
  touch "$schemas/.done"
fi
echo "$dir"
