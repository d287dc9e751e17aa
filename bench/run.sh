#!/usr/bin/env bash
# Runs every benchmark in bench/ (each prints its own figures).
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
for b in bench/*.bench.ts; do
  echo "== $b"
  npx tsx "$b"
done
