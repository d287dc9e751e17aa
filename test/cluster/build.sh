#!/usr/bin/env bash
# Builds the real binaries the e2e tests run — etcd, kube-apiserver,
# kube-scheduler, kubectl and the Jaeger v2 all-in-one — from the Go modules
# pinned in k8s/go.mod and jaeger/go.mod, into test/cluster/bin/.
#
# Needs only Go (>= the go line of the wrapper modules) and the module proxy.
# Cached: each binary has a stamp (versions, go.mod/go.sum hash, Go version,
# flags); a run whose stamp matches an existing binary does not call go build,
# and one that finds the stamp's binary in ~/.cache/schedmesh/cluster-bin
# (SCHEDMESH_CLUSTER_CACHE) copies it from there.
#
#   bash test/cluster/build.sh              # all binaries
#   bash test/cluster/build.sh etcd jaeger  # some of them
#   FORCE=1 bash test/cluster/build.sh      # ignore the stamps and the cache
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
K8S_VERSION="${K8S_VERSION#v}"
bin="${SCHEDMESH_CLUSTER_BIN:-$here/bin}"
mkdir -p "$bin"
# Built binaries are also kept per user, keyed by their stamp, so a fresh clone
# on the same machine (CI) copies them instead of relinking. One version per binary.
cache="${SCHEDMESH_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/schedmesh/cluster-bin}"

command -v go >/dev/null || { echo "build.sh: Go is not installed (need go >= 1.26)" >&2; exit 1; }
# Never let go fetch another toolchain: the one installed builds these modules or we say so.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
go_version="$(go env GOVERSION)"
need_minor=26
have_minor="$(sed -E 's/^go1\.([0-9]+).*/\1/' <<<"$go_version")"
if [[ ! "$have_minor" =~ ^[0-9]+$ ]] || (( have_minor < need_minor )); then
  echo "build.sh: $go_version is too old; the pinned modules need go1.$need_minor or newer" >&2
  exit 1
fi

k8s_minor="${K8S_VERSION#1.}"; k8s_minor="${k8s_minor%%.*}"
k8s_ldflags=""
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+="-X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$k8s_minor -X $p.gitTreeState=clean "
done
j_ldflags="-X github.com/jaegertracing/jaeger/internal/version.latestVersion=$JAEGER_VERSION"

# name | module dir | package | extra ldflags
targets=(
  "etcd|k8s|go.etcd.io/etcd/server/v3|"
  "kube-apiserver|k8s|k8s.io/kubernetes/cmd/kube-apiserver|$k8s_ldflags"
  "kube-scheduler|k8s|k8s.io/kubernetes/cmd/kube-scheduler|$k8s_ldflags"
  "kubectl|k8s|k8s.io/kubernetes/cmd/kubectl|$k8s_ldflags"
  "jaeger|jaeger|github.com/jaegertracing/jaeger/cmd/jaeger|$j_ldflags"
)

wanted=("$@")
is_wanted() {
  (( ${#wanted[@]} == 0 )) && return 0
  local w; for w in "${wanted[@]}"; do [[ "$w" == "$1" ]] && return 0; done
  return 1
}
for w in "${wanted[@]}"; do
  grep -q "^$w|" < <(printf '%s\n' "${targets[@]}") || { echo "build.sh: unknown binary '$w'" >&2; exit 1; }
done

fmt_secs() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

total_start=$SECONDS
built=0
for t in "${targets[@]}"; do
  IFS='|' read -r name dir pkg ldx <<<"$t"
  is_wanted "$name" || continue
  moddir="$here/$dir"
  ldflags="-s -w${ldx:+ $ldx}"
  stamp_file="$bin/.$name.stamp"
  stamp="$(
    printf 'name=%s\npkg=%s\ngo=%s\nk8s=%s\njaeger=%s\nldflags=%s\n' \
      "$name" "$pkg" "$go_version" "$K8S_VERSION" "$JAEGER_VERSION" "$ldflags"
    sha256sum "$moddir/go.mod" "$moddir/go.sum" | cut -d' ' -f1
  )"
  if [[ -z "${FORCE:-}" && -x "$bin/$name" && -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" ]]; then
    echo "[cluster:build] $name: up to date ($(sed -n 's/^pkg=//p' "$stamp_file"))"
    continue
  fi
  key="$(sha256sum <<<"$stamp" | cut -c1-16)"
  cached="$cache/$name/$key"
  if [[ -z "${FORCE:-}" && -x "$cached" ]]; then
    cp -f "$cached" "$bin/.$name.tmp.$$" && mv -f "$bin/.$name.tmp.$$" "$bin/$name"
    printf '%s\n' "$stamp" > "$stamp_file"
    echo "[cluster:build] $name: copied from $cached"
    continue
  fi
  echo "[cluster:build] $name: building $pkg ..."
  start=$SECONDS
  tmp="$bin/.$name.tmp.$$"
  # -p 2: the machines have 2 cores; more parallel compiles only add memory.
  if ! (cd "$moddir" && go build -p 2 -trimpath -ldflags "$ldflags" -o "$tmp" "$pkg"); then
    rm -f "$tmp"
    echo "[cluster:build] $name: FAILED after $(fmt_secs $((SECONDS - start)))" >&2
    exit 1
  fi
  mv -f "$tmp" "$bin/$name"
  printf '%s\n' "$stamp" > "$stamp_file"
  # Best effort: a read-only or full cache only costs the next clone a relink.
  if mkdir -p "$cache/$name" 2>/dev/null; then
    find "$cache/$name" -mindepth 1 -maxdepth 1 ! -name "$key" -exec rm -f {} + 2>/dev/null || true
    cp -f "$bin/$name" "$cached.tmp.$$" 2>/dev/null && mv -f "$cached.tmp.$$" "$cached" || rm -f "$cached.tmp.$$"
  fi
  built=$((built + 1))
  echo "[cluster:build] $name: built in $(fmt_secs $((SECONDS - start))) ($(du -h "$bin/$name" | cut -f1))"
done
echo "[cluster:build] done in $(fmt_secs $((SECONDS - total_start))): $built built, binaries in $bin"
