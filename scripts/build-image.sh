#!/usr/bin/env bash
# `make image`: build the Dockerfile with docker where a Docker engine answers, else with
# buildah (the image test builds through this script too).
#
#   TAG     image name                          default supply-watcher:latest
#   EXTRAS  optional parts: "" or fulltext      default "" (README, "The image")
#   ENGINE  auto | docker | buildah             default auto
#   HOST_CA a CA bundle for pip in the build, or "none"; default: the host's bundle when
#           the host trusts CAs of its own (/usr/local/share/ca-certificates), as behind
#           a TLS-inspecting proxy, else none
#   CONTEXT the build context                   default: this repository
#
# With buildah, scripts/debian-base.sh first makes sure the base image is stored (pulled,
# or made with debootstrap where no registry answers) and installs buildah when missing;
# layers are cached (--layers) in the machine's container storage.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
context="${CONTEXT:-$(dirname "$here")}"
tag="${TAG:-supply-watcher:latest}"
extras="${EXTRAS:-}"
engine="${ENGINE:-auto}"

if [ "$engine" = auto ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    engine=docker
  else
    engine=buildah
  fi
fi

case "$engine" in
docker)
  exec docker build --build-arg "EXTRAS=$extras" -t "$tag" "$context"
  ;;
buildah) ;;
*)
  echo "build-image: ENGINE=$engine: expected auto, docker or buildah" >&2
  exit 2
  ;;
esac

"$here/debian-base.sh"

ca="${HOST_CA:-}"
if [ -z "$ca" ] && [ -n "$(find /usr/local/share/ca-certificates -name '*.crt' 2>/dev/null | head -n 1)" ]; then
  ca=/etc/ssl/certs/ca-certificates.crt
fi
mounts=()
if [ -n "$ca" ] && [ "$ca" != none ]; then
  # pip in the build verifies PyPI with the host's CAs; nothing of it stays in the image.
  conf="$(mktemp -d)"
  trap 'rm -rf "$conf"' EXIT
  printf '[global]\ncert = /run/host-ca.pem\n' >"$conf/pip.conf"
  mounts=(-v "$(realpath "$ca"):/run/host-ca.pem:ro" -v "$conf/pip.conf:/etc/pip.conf:ro")
fi

# --format docker keeps HEALTHCHECK (the OCI format has no field for it); --force-rm
# removes the build containers of a failed build too.
buildah bud --quiet --format docker --layers --force-rm --pull=never \
  --isolation "${BUILDAH_ISOLATION:-chroot}" \
  "${mounts[@]}" --build-arg "EXTRAS=$extras" -t "$tag" "$context"
size="$(podman image inspect --format '{{.Size}}' "$tag")"
echo "build-image: $tag $(podman image inspect --format '{{.Id}}' "$tag" | cut -c1-12)," \
  "$((size / 1000000)) MB" >&2
