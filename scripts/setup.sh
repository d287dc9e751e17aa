#!/usr/bin/env bash
# One command from a fresh clone to a built tree: system packages (servers the
# tests and the demo run for real), npm dependencies, generated code, the
# TypeScript build, and the Kubernetes/etcd/Jaeger binaries the end-to-end
# tests and the demo run (built from their Go modules, cached after the first time).
#
# `npm start` and `npm test` call it first, so it is idempotent and cheap when
# nothing changed: each step keeps a stamp (a hash of what it depends on) in
# node_modules/.schedmesh-setup/ and is skipped while the stamp matches.
#   SCHEDMESH_SKIP_CLUSTER=1  skips the Go builds (unit and integration tests only).
#   --cluster-optional        a failed or impossible Go build warns instead of
#                             failing (the demo falls back to fixture mode).
set -euo pipefail
cd "$(dirname "$0")/.."
cluster_optional=0
for arg in "$@"; do
  case "$arg" in
    --cluster-optional) cluster_optional=1 ;;
    *) echo "setup: unknown option $arg" >&2; exit 2 ;;
  esac
done
started=$SECONDS
step() { printf '==> %s\n' "$*"; }

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

stamps=node_modules/.schedmesh-setup
# A content key for a set of files: their paths and modification times.
files_key() {
  find "$@" \( -name node_modules -o -name dist -o -name .tmp \) -prune -o -type f -printf '%p %T@ %s\n' 2>/dev/null | sort | sha256sum | cut -c1-32
}
# Runs "$@" unless the stamp NAME holds KEY; records KEY once it succeeded.
# The key is computed after the run too, for steps that rewrite their inputs.
cached_step() {
  local name=$1 what=$2 keyfn=$3; shift 3
  if [ -f "$stamps/$name" ] && [ "$(cat "$stamps/$name")" = "$($keyfn)" ]; then
    return 0
  fi
  step "$what"
  "$@"
  mkdir -p "$stamps"
  $keyfn > "$stamps/$name"
}

npm_key() { { node --version; sha256sum package-lock.json; find . -name package.json -not -path '*/node_modules/*' -print0 | sort -z | xargs -0 sha256sum; } | sha256sum | cut -c1-32; }
gen_key() { files_key proto buf.yaml buf.gen.yaml scripts/gen-proto.sh scripts/descriptor-module.js libs/proto/src; }
build_key() { files_key libs services examples tsconfig.base.json tsconfig.build.json; }

# npm ci refuses lockfiles whose optional platform packages this registry
# mirror does not serve (see research/tooling.md); install honours the lockfile.
cached_step npm "installing npm dependencies" npm_key npm install --no-audit --no-fund
cached_step gen "checking generated code" gen_key npm run -s gen:check
cached_step build "building the TypeScript projects" build_key npm run -s build

if [ "${SCHEDMESH_SKIP_CLUSTER:-}" != "1" ] && [ -f test/cluster/build.sh ]; then
  # build.sh has its own stamps: a matching one costs ~0.05 s (its "up to date" lines are not repeated).
  set +e
  bash test/cluster/build.sh 2>&1 | grep --line-buffered -v -E -e ': up to date \(' -e '^\[cluster:build\] done in [0-9]+m[0-9]+s: 0 built'
  cluster_rc=${PIPESTATUS[0]}
  set -e
  if [ "$cluster_rc" != 0 ]; then
    [ "$cluster_optional" = 1 ] || exit "$cluster_rc"
    echo "setup: the cluster binaries could not be built: the demo falls back to the informer's fixture mode" >&2
  fi
fi
step "set-up current ($((SECONDS - started)) s)"
