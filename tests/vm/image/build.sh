#!/usr/bin/env bash
# Build the test image: a Debian root file system (ext4, raw) of the given release, its kernel
# and initrd, with gpio-sim.ko built out of tree for that kernel when Debian's kernel lacks it.
#
#   build.sh ARCH RELEASE OUTDIR        RELEASE: trixie | bookworm
#
# Writes OUTDIR/root.img, OUTDIR/vmlinuz, OUTDIR/initrd.img, OUTDIR/kernel-version and
# OUTDIR/wheels/ (lgpio built for the release's Python).
# Kept small (CI builds it): minbase, no recommends, no documentation, man pages or locales.
# apt's package lists stay, as on a Pi that ran `apt update`: the installer resolves its
# package names against them (the VM has no network).
set -euo pipefail

ARCH="$1"
RELEASE="$2"
OUT="$3"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly MIRROR="http://deb.debian.org/debian"
readonly SECURITY="http://deb.debian.org/debian-security"
readonly IMAGE_SIZE=4G
# lgpio has no wheel for trixie's Python 3.13 on PyPI: pip in the guest would compile it from
# source (about 5 minutes under emulation, every run). It is built once here instead, natively
# in the image's chroot against the release's own Python, and kept beside the image
# (OUTDIR/wheels); tests/vm/run adds it to the guest's wheelhouse. The version rpi-lgpio's
# resolution picks today; a different one would only fall back to the source build.
readonly LGPIO_VERSION=0.2.2.0

case "$ARCH" in
    amd64) KERNEL_PKG=linux-image-amd64; HEADERS_PKG=linux-headers-amd64 ;;
    arm64) KERNEL_PKG=linux-image-arm64; HEADERS_PKG=linux-headers-arm64 ;;
    *) echo "build.sh: unknown arch $ARCH; allowed: amd64, arm64" >&2; exit 2 ;;
esac
case "$RELEASE" in
    trixie|bookworm) ;;
    *) echo "build.sh: unknown release $RELEASE; allowed: trixie, bookworm" >&2; exit 2 ;;
esac

# packages.txt: one package a line; "RELEASE: package" for one release only.
packages="$(sed -E 's/#.*//' "$HERE/packages.txt" | awk -v r="$RELEASE" '
    NF == 0 { next }
    $1 ~ /:$/ { if ($1 == r ":") print $2; next }
    { print $1 }' | tr '\n' ',')"
packages+="$KERNEL_PKG,$HEADERS_PKG"

work="$(mktemp -d "${OUT}/build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
mkdir -p "$work/lgpio" "$work/wheels"
python3 -m pip download -q --disable-pip-version-check --no-deps --no-binary=:all: \
    -d "$work/lgpio" "lgpio==$LGPIO_VERSION"

nodocs=()
for dir in doc man info locale lintian; do
    nodocs+=(--dpkgopt="path-exclude=/usr/share/$dir/*")
done
# Packages' copyright files stay (dpkg needs nothing else of /usr/share/doc).
nodocs+=(--dpkgopt="path-include=/usr/share/doc/*/copyright")

mmdebstrap --variant=minbase --arch="$ARCH" --include="$packages" --components=main \
    "${nodocs[@]}" \
    --aptopt='Acquire::Languages "none"' \
    --customize-hook="cp '$HERE/gpio-sim-build.sh' \"\$1/tmp/\" && chroot \"\$1\" bash /tmp/gpio-sim-build.sh" \
    --customize-hook="cp '$HERE/breathring-vm-boot.service' \"\$1/etc/systemd/system/\"" \
    --customize-hook="cp '$HERE/breathring-vm-boot' \"\$1/usr/local/sbin/\"" \
    --customize-hook="chroot \"\$1\" systemctl enable breathring-vm-boot.service" \
    --customize-hook="echo breathring-vm > \"\$1/etc/hostname\"" \
    --customize-hook="printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' > \"\$1/etc/fstab\"" \
    --customize-hook="printf '9p\n9pnet_virtio\n' > \"\$1/etc/initramfs-tools/modules\" && chroot \"\$1\" update-initramfs -u -k all" \
    --customize-hook="mkdir -p \"\$1/tmp/lgpio\" && cp '$work/lgpio/'* \"\$1/tmp/lgpio/\"" \
    --customize-hook="chroot \"\$1\" sh -c 'cd /tmp/lgpio && PYPI=1 python3 -m pip wheel -q --no-deps --no-index --no-build-isolation -w /tmp/lgpio/wheel ./lgpio-*.tar.gz'" \
    --customize-hook="cp \"\$1\"/tmp/lgpio/wheel/*.whl '$work/wheels/' && rm -rf \"\$1/tmp/lgpio\"" \
    --customize-hook="rm -rf \"\$1\"/var/cache/apt/archives/*.deb" \
    --skip=cleanup/apt/lists \
    "$RELEASE" "$rootfs" \
    "deb $MIRROR $RELEASE main" "deb $MIRROR $RELEASE-updates main" \
    "deb $SECURITY $RELEASE-security main"

kver="$(ls "$rootfs/lib/modules" | sort -V | tail -1)"
cp "$rootfs/boot/vmlinuz-$kver" "$work/vmlinuz"
cp "$rootfs/boot/initrd.img-$kver" "$work/initrd.img"
echo "$kver" >"$work/kernel-version"
rm -f "$work/root.img"
mkfs.ext4 -q -L root -d "$rootfs" "$work/root.img" "$IMAGE_SIZE"
rm -rf "$OUT/wheels"
mv "$work/wheels" "$OUT/wheels"
for f in root.img vmlinuz initrd.img kernel-version; do mv -f "$work/$f" "$OUT/$f"; done
echo "build.sh: $RELEASE image for $ARCH (kernel $kver) in $OUT"
