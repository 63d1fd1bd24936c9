#!/usr/bin/env bash
# Build the Debian 12 image the Molecule scenarios run in, once, without a registry:
# debootstrap a minimal bookworm root filesystem (main only, no bookworm-security) and
# import it into podman as localhost/debian:12. Reused when it already exists.
#   molecule/build-image.sh            build if missing
#   molecule/build-image.sh --force    rebuild
set -euo pipefail

IMAGE="${MAINT_MOLECULE_IMAGE:-localhost/debian:12}"
SUITE="${MAINT_MOLECULE_SUITE:-bookworm}"
MIRROR="${MAINT_MOLECULE_MIRROR:-http://deb.debian.org/debian}"
HERE="$(cd "$(dirname "$0")" && pwd)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$HERE/containers.conf}"

say() { echo "build-image: $*"; }

for tool in podman debootstrap; do
  if ! command -v "$tool" >/dev/null; then
    say "$tool is missing (apt-get install podman runc debootstrap)" >&2
    exit 2
  fi
done

if [[ "${1:-}" == "--force" ]]; then
  say "--force: removing $IMAGE"
  podman image rm -f "$IMAGE" >/dev/null 2>&1 || true
elif podman image exists "$IMAGE"; then
  say "$IMAGE already exists, reusing it (--force to rebuild)"
  exit 0
fi

ROOTFS="$(mktemp -d /tmp/maint-rootfs.XXXXXX)"
trap 'rm -rf "$ROOTFS"' EXIT
say "debootstrap --variant=minbase --include=python3,sudo $SUITE $ROOTFS $MIRROR"
debootstrap --variant=minbase --include=python3,sudo "$SUITE" "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1 || {
  tail -20 "$ROOTFS.log" >&2
  say "debootstrap failed, full log in $ROOTFS.log" >&2
  exit 1
}
rm -f "$ROOTFS.log"
# apt inside the image keeps its package lists out of the image; scenarios run apt-get update themselves
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/archives/*.deb
say "podman import -> $IMAGE"
tar -C "$ROOTFS" -c . | podman import --change 'CMD ["sleep", "infinity"]' - "$IMAGE" >/dev/null
say "built $IMAGE ($(podman image inspect --format '{{.Size}}' "$IMAGE") bytes)"
