#!/usr/bin/env bash
# The compatibility tests drive every kubectl the README claims (1.27 to 1.33). They are the
# versioned binaries of the machine image's `kubectl` package (Google Cloud CLI), in
# $KUBECTL_DIR (default /usr/lib/google-cloud-sdk/bin). Say exactly what is missing, and fail.
set -euo pipefail
DIR=${KUBECTL_DIR:-/usr/lib/google-cloud-sdk/bin}
missing=()
for v in 27 28 29 30 31 32 33; do
  [[ -x "$DIR/kubectl.1.$v" ]] || missing+=("$DIR/kubectl.1.$v")
done
if ((${#missing[@]})); then
  echo "make install: the real kubectl binaries the tests use are missing:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  echo "They come with the Google Cloud CLI's 'kubectl' package (apt-get install kubectl from its apt" >&2
  echo "repository; 'dpkg -L kubectl | grep bin/kubectl' lists them), or set KUBECTL_DIR to a directory" >&2
  echo "holding kubectl.1.27 ... kubectl.1.33. Do not install Debian's kubernetes-client: it conflicts." >&2
  exit 1
fi
