#!/usr/bin/env bash
# Builds the local images once the runtime can (a no-op until then), each only once:
#  - busybox and kubelite/web, from Debian's busybox-static;
#  - debian:bookworm, debootstrapped from Debian's package archive (`build-base debian`);
#  - the Dockerfiles under images/, FROM debian:bookworm with `RUN apt-get install` (their RUN
#    steps share the host's network, as `docker build --network host` does, to reach the mirror).
# A Dockerfile image is rebuilt only when its directory or its base image changed: a stamp in the
# image store keeps the hash of both and the id it built, checked against the tag's current id.
set -euo pipefail
PY=${1:-.venv/bin/python}
"$PY" -c 'import runtime.cli' 2>/dev/null || exit 0
KL="$(dirname "$PY")/kubelite"
ROOT=${KUBELITE_IMAGE_ROOT:-/var/lib/kubelite/runtime}
IMAGES_DIR="$(cd "$(dirname "$0")/.." && pwd)/images"
STAMPS="$ROOT/image-stamps"

"$KL" runtime --root "$ROOT" build-base --if-missing
start=$SECONDS
# a mirror hiccup should not fail a fresh machine's install: one more try
"$KL" runtime --root "$ROOT" build-base debian --if-missing ||
  "$KL" runtime --root "$ROOT" build-base debian --if-missing
echo "debian:bookworm ready ($((SECONDS - start)) s)"

image_id() {  # the id a tag names now, or nothing
  "$KL" runtime --root "$ROOT" inspect "$1" 2>/dev/null |
    "$PY" -c 'import json, sys; print(json.load(sys.stdin)[0]["Id"])' 2>/dev/null || true
}

build_image() {  # DIR TAG... : build images/DIR unless its stamp says nothing changed
  local dir=$1 tag=$2 base base_id key stamp log
  base=$(awk 'toupper($1) == "FROM" {print $2; exit}' "$IMAGES_DIR/$dir/Dockerfile")
  base_id=$(image_id "$base")
  [[ -n $base_id ]] || { echo "images/$dir: its base $base is missing" >&2; return 1; }
  key=$( {
    echo "$base_id"
    cd "$IMAGES_DIR/$dir" && find . -type f -printf '%p %m\n' | LC_ALL=C sort
    cd "$IMAGES_DIR/$dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-64)
  stamp="$STAMPS/${dir}"
  if [[ -f $stamp && "$(cat "$stamp")" == "$key $(image_id "$tag")" ]]; then
    echo "$tag: up to date (images/$dir)"
    return 0
  fi
  mkdir -p "$STAMPS"
  log="$STAMPS/${dir}.log"
  start=$SECONDS
  local tags=()
  for t in "${@:2}"; do tags+=(-t "$t"); done
  if ! "$KL" runtime --root "$ROOT" build "${tags[@]}" "$IMAGES_DIR/$dir" >"$log" 2>&1 &&
    ! "$KL" runtime --root "$ROOT" build "${tags[@]}" "$IMAGES_DIR/$dir" >>"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "images/$dir: build failed (log: $log)" >&2
    return 1
  fi
  echo "$key $(image_id "$tag")" >"$stamp"
  echo "$tag: built from images/$dir in $((SECONDS - start)) s"
}

# bases before the images built FROM them
build_image redis redis:7.0 redis:7
build_image nginx nginx:1.22 nginx:1
build_image python python:3 python:3.11
build_image gb-redis-follower kubelite/gb-redis-follower:v2
build_image gb-frontend kubelite/gb-frontend:v5
