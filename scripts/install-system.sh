#!/usr/bin/env bash
# Debian packages kubelite needs on a fresh machine (run as root). Idempotent: installs only what is missing.
set -euo pipefail
PKGS=(runc conmon catatonit crun busybox-static nftables iproute2 docker-registry skopeo podman apache2-utils tmux postgresql python3-venv dnsperf dnsmasq-base conntrack etcd-server etcd-client nginx-light wrk haproxy chromium chromium-driver debootstrap)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
