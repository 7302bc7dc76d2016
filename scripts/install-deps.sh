#!/usr/bin/env bash
# Installs the system pieces the tests use (real etcd for differential tests, a Docker engine,
# nginx/haproxy, Chromium) and starts dockerd when no engine answers. Idempotent; needs root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(etcd-server etcd-client docker.io nginx haproxy busybox-static chromium iproute2 iptables procps openssl systemd)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if ! docker info >/dev/null 2>&1; then
  echo "starting dockerd"
  nohup dockerd >/tmp/berth-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /tmp/berth-dockerd.log" >&2; tail -20 /tmp/berth-dockerd.log >&2; exit 1; }
fi
echo "docker: $(docker version --format '{{.Server.Version}}')"
echo "etcd: $(etcd --version | head -1)"
