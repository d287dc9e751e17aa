#!/bin/sh
# The schedmesh image's entrypoint: `docker run schedmesh <service> [args]`
# runs services/<service>/dist/main.js (configured by SCHEDMESH_* variables
# or SCHEDMESH_CONFIG). exec, so the service is PID 1 and gets SIGTERM.
set -eu
root=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
service=${1:-}
if [ -z "$service" ] || [ ! -f "$root/services/$service/dist/main.js" ]; then
  echo "usage: schedmesh <service> [args]; services: $(cd "$root/services" && ls -d -- */ | tr -d / | tr '\n' ' ')" >&2
  exit 64
fi
shift
exec node "$root/services/$service/dist/main.js" "$@"
