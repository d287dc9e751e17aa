#!/bin/sh
# Lays out the schedmesh image's application tree from a built source tree:
# the root and every workspace's package.json (npm ci needs them all to
# match package-lock.json), the built dist/ of each package, and the
# entrypoint. The Dockerfile runs it, then `npm ci --omit=dev` in DEST;
# test/integration/image.test.ts runs the same two steps in a temp dir.
# Usage: layout.sh SRC DEST
set -eu
src=$1
dest=$2
mkdir -p "$dest"
cp "$src/package.json" "$src/package-lock.json" "$dest/"
for pkg in "$src"/libs/*/ "$src"/services/*/ "$src"/examples/*/; do
  rel=${pkg#"$src"/}
  mkdir -p "$dest/$rel"
  cp "$pkg/package.json" "$dest/$rel"
  if [ -d "$pkg/dist" ]; then
    cp -R "$pkg/dist" "$dest/$rel"
    find "$dest/${rel}dist" -name '*.tsbuildinfo' -delete
  fi
done
cp "$src/deploy/image/entrypoint.sh" "$dest/entrypoint.sh"
chmod 0755 "$dest/entrypoint.sh"
