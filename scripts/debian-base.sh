#!/usr/bin/env bash
# Make sure the Dockerfile's base image, docker.io/library/debian:trixie-slim, is in the
# local container storage (the one buildah and podman share), for `make image` and the
# image test on machines that reach Debian's mirror but no container registry.
#
#   1. an image already stored under that name is reused (nothing to do);
#   2. else it is pulled, where a registry answers;
#   3. else it is made here: debootstrap's minbase of trixie from Debian's mirror, slimmed
#      as the official slim images are (no docs, man pages, locales, apt lists; dpkg told
#      to keep it so), imported under the official name. ~80 MB, under a minute.
#
# Needs root (debootstrap). Installs buildah, podman and debootstrap with apt-get when
# they are missing and apt-get is there. MIRROR overrides the mirror.
set -euo pipefail

IMAGE=docker.io/library/debian:trixie-slim
SUITE=trixie
MIRROR="${MIRROR:-http://deb.debian.org/debian}"

missing=()
for tool in buildah podman debootstrap; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "debian-base: ${missing[*]} missing and no apt-get to install them" >&2
    exit 1
  fi
  echo "debian-base: installing ${missing[*]} (apt-get)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah podman debootstrap >/dev/null
fi

if podman image exists "$IMAGE"; then
  exit 0
fi
if timeout 120 podman pull -q "$IMAGE" >/dev/null 2>&1; then
  echo "debian-base: pulled $IMAGE" >&2
  exit 0
fi

echo "debian-base: no registry reached; making $IMAGE with debootstrap from $MIRROR" >&2
root="$(mktemp -d /var/tmp/debian-base.XXXXXX)"
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" >"$root.log" 2>&1 || {
  tail -n 20 "$root.log" >&2
  exit 1
}
rm -f "$root.log"

# What debuerreotype does for the official images (docker-debian-artifacts, "slim").
cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
# as in debian:*-slim: packages installed later leave these out too
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
cat >"$root/etc/apt/apt.conf.d/docker-no-languages" <<'EOF'
Acquire::Languages "none";
EOF
cat >"$root/etc/apt/apt.conf.d/docker-gzip-indexes" <<'EOF'
Acquire::GzipIndexes "true";
EOF
cat >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests" <<'EOF'
Apt::AutoRemove::SuggestsImportant "false";
EOF
# The official image's sources: the release, its updates and security updates.
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
find "$root/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete 2>/dev/null || true
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$root"/usr/share/{man,groff,info,lintian,linda,locale}/* \
  "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin \
  "$root"/var/lib/apt/lists/* "$root"/var/log/* "$root"/tmp/* \
  "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old
: >"$root/etc/hostname"
: >"$root/etc/resolv.conf"

tar -C "$root" --numeric-owner -c . |
  podman import -q --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$IMAGE" >/dev/null
echo "debian-base: made $IMAGE ($(podman image inspect --format '{{.Size}}' "$IMAGE") bytes)" >&2
