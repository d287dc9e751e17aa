#!/usr/bin/env bash
# One command from a fresh clone to a built tree: system packages (servers the
# tests and the demo run for real), npm dependencies, generated code, the
# TypeScript build, and the Kubernetes/etcd/Jaeger binaries the end-to-end
# tests run (built from their Go modules, cached after the first time).
#   SCHEDMESH_SKIP_CLUSTER=1  skips the Go builds (unit and integration tests only).
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> %s\n' "$*"; }

need_apt=()
for bin in redis-server:redis-server nats-server:nats-server openssl:openssl; do
  command -v "${bin%%:*}" >/dev/null 2>&1 || need_apt+=("${bin##*:}")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  step "installing system packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

command -v node >/dev/null || { echo "setup: Node.js 20.19+ is required (https://nodejs.org)" >&2; exit 1; }
node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("setup: Node.js >= 20.19 required, found "+process.versions.node); process.exit(1) }'

step "installing npm dependencies"
# npm ci refuses lockfiles whose optional platform packages this registry
# mirror does not serve (see research/tooling.md); install honours the lockfile.
npm install --no-audit --no-fund

step "checking generated code and building"
npm run -s gen:check
npm run -s build

if [ "${SCHEDMESH_SKIP_CLUSTER:-}" != "1" ] && [ -f test/cluster/build.sh ]; then
  step "building kube-apiserver, kube-scheduler, kubectl, etcd and Jaeger (cached after the first run)"
  npm run -s cluster:build
fi
step "ready: run 'npm test'"
