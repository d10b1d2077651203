#!/usr/bin/env bash
# Builds the Docker image from the Dockerfile:
#   scripts/build-image.sh [TAG]          (default TAG: skirmish)
# With `docker build` when a Docker engine answers (`docker info`); otherwise with buildah,
# as root and with no daemon:
#   buildah --storage-driver vfs bud --isolation chroot --format docker --pull=never
# over a debian:bookworm-slim that, when buildah's storage has none, is imported from a
# bare `debootstrap --variant=minbase bookworm` root (scripts/bare-root.sh, cached) and
# given this machine's Debian apt sources, apt proxy and CA certificates, so no registry is
# asked. The image then lives in buildah's storage (`buildah images`; `buildah push
# skirmish docker-archive:skirmish.tar` exports it for `docker load`). Env:
#   SKIRMISH_IMAGE_BUILDER=docker|buildah  use this one and no other
#   SKIRMISH_IMAGE_STORAGE=DIR             buildah keeps its images and containers under
#                                          DIR (default: buildah's own storage)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
tag=${1:-skirmish}
builder=${SKIRMISH_IMAGE_BUILDER:-}
base=docker.io/library/debian:bookworm-slim

if [[ -z "$builder" ]]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then builder=docker; else builder=buildah; fi
fi

t0=$(date +%s)
if [[ "$builder" == docker ]]; then
  echo "build-image: docker build -t $tag"
  docker build -t "$tag" "$src"
  echo "build-image: built $tag with docker in $(($(date +%s) - t0)) s"
  exit 0
fi

if ! command -v buildah >/dev/null 2>&1; then
  echo "build-image: no Docker engine answers and buildah is missing (apt-get install buildah)" >&2
  exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "build-image: building with buildah (chroot isolation, vfs) needs root" >&2
  exit 1
fi
bh=(buildah --storage-driver vfs)
if [[ -n "${SKIRMISH_IMAGE_STORAGE:-}" ]]; then
  bh+=(--root "$SKIRMISH_IMAGE_STORAGE/root" --runroot "$SKIRMISH_IMAGE_STORAGE/run")
fi

if ! "${bh[@]}" inspect --type image "$base" >/dev/null 2>&1; then
  tarball=$("$src/scripts/bare-root.sh")
  t1=$(date +%s)
  ctr=$("${bh[@]}" from --pull=never scratch)
  trap '"${bh[@]}" rm "$ctr" >/dev/null 2>&1 || true' EXIT
  mnt=$("${bh[@]}" mount "$ctr")
  # No device nodes: the runtime gives the container its own /dev.
  tar --numeric-owner --xattrs -C "$mnt" --exclude='./dev/*' -xpf "$tarball"
  "$src/scripts/bare-root.sh" --apt-sources >"$mnt/etc/apt/sources.list"
  if command -v apt-config >/dev/null 2>&1; then
    apt-config dump 2>/dev/null | grep -Ei '^Acquire::(https?|ftp)::Proxy' >"$mnt/etc/apt/apt.conf.d/80host-proxy" || rm -f "$mnt/etc/apt/apt.conf.d/80host-proxy"
  fi
  if [[ -d /usr/local/share/ca-certificates ]]; then
    cp -a /usr/local/share/ca-certificates/. "$mnt/usr/local/share/ca-certificates/"
  fi
  if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
    mkdir -p "$mnt/etc/ssl/certs"
    cp -L /etc/ssl/certs/ca-certificates.crt "$mnt/etc/ssl/certs/ca-certificates.crt"
  fi
  "${bh[@]}" umount "$ctr" >/dev/null
  "${bh[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd bash --created-by "scripts/build-image.sh: debootstrap --variant=minbase bookworm" "$ctr"
  "${bh[@]}" commit --quiet --format docker "$ctr" "$base" >/dev/null
  "${bh[@]}" rm "$ctr" >/dev/null
  trap - EXIT
  echo "build-image: imported $base from $(basename "$tarball") in $(($(date +%s) - t1)) s"
fi

echo "build-image: buildah bud -t $tag (chroot isolation, vfs storage, docker format)"
t2=$(date +%s)
nice -n 15 "${bh[@]}" bud --isolation chroot --format docker --pull=never -t "$tag" -f "$src/Dockerfile" "$src"
echo "build-image: built $tag with buildah in $(($(date +%s) - t2)) s (total $(($(date +%s) - t0)) s)"
