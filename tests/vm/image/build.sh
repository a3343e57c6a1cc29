#!/usr/bin/env bash
# Build the test image: a Debian bookworm root file system (ext4, raw), its kernel and initrd,
# with gpio-sim.ko built out of tree for that kernel (Debian does not ship gpio-sim).
#
#   build.sh ARCH OUTDIR
#
# Writes OUTDIR/root.img, OUTDIR/vmlinuz, OUTDIR/initrd.img, OUTDIR/kernel-version.
set -euo pipefail

ARCH="$1"
OUT="$2"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly MIRROR="http://deb.debian.org/debian"
readonly SECURITY="http://deb.debian.org/debian-security"
readonly IMAGE_SIZE=4G

case "$ARCH" in
    amd64) KERNEL_PKG=linux-image-amd64; HEADERS_PKG=linux-headers-amd64 ;;
    arm64) KERNEL_PKG=linux-image-arm64; HEADERS_PKG=linux-headers-arm64 ;;
    *) echo "build.sh: unknown arch $ARCH" >&2; exit 2 ;;
esac

packages="$(grep -v '^#' "$HERE/packages.txt" | grep -v '^$' | tr '\n' ',')"
packages+="$KERNEL_PKG,$HEADERS_PKG,linux-source-6.1,xz-utils"

work="$(mktemp -d "${OUT}/build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

mmdebstrap --variant=minbase --arch="$ARCH" --include="$packages" \
    --components=main \
    --customize-hook="cp '$HERE/gpio-sim-build.sh' \"\$1/tmp/\" && chroot \"\$1\" bash /tmp/gpio-sim-build.sh" \
    --customize-hook="cp '$HERE/breathring-vm-boot.service' \"\$1/etc/systemd/system/\"" \
    --customize-hook="cp '$HERE/breathring-vm-boot' \"\$1/usr/local/sbin/\"" \
    --customize-hook="chroot \"\$1\" systemctl enable breathring-vm-boot.service" \
    --customize-hook="echo breathring-vm > \"\$1/etc/hostname\"" \
    --customize-hook="printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' > \"\$1/etc/fstab\"" \
    --customize-hook="printf '9p\n9pnet_virtio\n' > \"\$1/etc/initramfs-tools/modules\" && chroot \"\$1\" update-initramfs -u -k all" \
    --customize-hook="chroot \"\$1\" apt-get purge -y -qq linux-source-6.1 >/dev/null && rm -rf \"\$1\"/usr/src/linux-source-6.1* \"\$1\"/var/cache/apt/archives/*.deb" \
    bookworm "$rootfs" \
    "deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main" \
    "deb $SECURITY bookworm-security main"

kver="$(ls "$rootfs/lib/modules" | sort -V | tail -1)"
cp "$rootfs/boot/vmlinuz-$kver" "$work/vmlinuz"
cp "$rootfs/boot/initrd.img-$kver" "$work/initrd.img"
echo "$kver" >"$work/kernel-version"
rm -f "$work/root.img"
mkfs.ext4 -q -L root -d "$rootfs" "$work/root.img" "$IMAGE_SIZE"
for f in root.img vmlinuz initrd.img kernel-version; do mv -f "$work/$f" "$OUT/$f"; done
echo "build.sh: image for $ARCH (kernel $kver) in $OUT"
