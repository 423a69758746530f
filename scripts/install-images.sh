#!/usr/bin/env bash
# Builds the local base images (busybox, web) once the runtime can; a no-op until then.
set -euo pipefail
PY=${1:-.venv/bin/python}
if "$PY" -c 'import runtime.cli' 2>/dev/null; then
  "$(dirname "$PY")/kubelite" runtime build-base --if-missing
fi
