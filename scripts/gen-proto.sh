#!/usr/bin/env bash
# Generates libs/proto from proto/ with ts-proto, offline (the buf binary comes
# from npm; the options are fixed in buf.gen.yaml). With --check, fails if the
# committed output is stale instead of writing it.
set -euo pipefail
cd "$(dirname "$0")/.."
BUF=./node_modules/.bin/buf
[ -x "$BUF" ] || { echo "gen-proto: $BUF missing; run 'npm install' first" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# buf writes each plugin's out path below -o.
"$BUF" generate -o "$tmp"
fresh=$tmp/libs/proto/src
# The descriptor set for server reflection (grpcurl can list and describe services).
"$BUF" build --as-file-descriptor-set -o "$tmp/descriptor.binpb"
node scripts/descriptor-module.js "$tmp/descriptor.binpb" > "$fresh/descriptor.ts"

out=libs/proto/src
if [ "${1:-}" = "--check" ]; then
  if ! diff -r "$out/gen" "$fresh/gen" >/dev/null 2>&1 || ! diff "$out/descriptor.ts" "$fresh/descriptor.ts" >/dev/null 2>&1; then
    echo "gen-proto: libs/proto is stale: run 'npm run gen' and commit the result" >&2
    diff -r "$out/gen" "$fresh/gen" 2>&1 | head -20 >&2 || true
    exit 1
  fi
  echo "gen-proto: libs/proto is up to date"
else
  rm -rf "$out/gen"
  mv "$fresh/gen" "$out/gen"
  mv "$fresh/descriptor.ts" "$out/descriptor.ts"
  echo "gen-proto: wrote $out/gen and $out/descriptor.ts"
fi
