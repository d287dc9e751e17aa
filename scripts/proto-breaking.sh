#!/usr/bin/env bash
# Keeps the v1 API wire-compatible: buf's FILE breaking rules against the last
# committed proto/. With uncommitted proto changes the base is HEAD, otherwise
# HEAD~1 (so CI, on a clean clone, checks the newest commit). Override with
# PROTO_BREAKING_BASE=<git ref>.
set -euo pipefail
cd "$(dirname "$0")/.."
BUF=./node_modules/.bin/buf
if [ -n "${PROTO_BREAKING_BASE:-}" ]; then
  base=$PROTO_BREAKING_BASE
elif ! git diff --quiet HEAD -- proto 2>/dev/null || [ -n "$(git ls-files --others --exclude-standard proto)" ]; then
  base=HEAD
else
  base=HEAD~1
fi
if ! git cat-file -e "$base:proto/schedmesh/v1" 2>/dev/null; then
  echo "proto-breaking: $base has no proto/schedmesh/v1; nothing to compare against"
  exit 0
fi
"$BUF" breaking --against ".git#ref=$base,depth=50"
echo "proto-breaking: proto/ is wire-compatible with $base"
