#!/usr/bin/env bash
# Runs every benchmark in bench/ (each prints its own figures).
set -euo pipefail
cd "$(dirname "$0")/.."
# Benchmarks load the libraries and services by package name, from dist/.
npm run build --silent
shopt -s nullglob
for b in bench/*.bench.ts; do
  echo "== $b"
  npx tsx "$b"
done
