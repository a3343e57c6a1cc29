#!/usr/bin/env bash
# Runs inside the image's chroot. When the installed kernel ships gpio-sim (CONFIG_GPIO_SIM=m),
# nothing to do. Otherwise build gpio-sim.ko out of tree from Debian's linux-source-X.Y for
# that kernel (fetched here with apt, removed afterwards). irq_to_desc() is not exported to
# modules, so the one call in irq_sim.c that uses it goes through generic_handle_irq() instead
# (same effect for a simple irq).
set -euo pipefail
kver="$(ls /lib/modules | sort -V | tail -1)"
if modinfo -k "$kver" gpio-sim >/dev/null 2>&1; then
    echo "gpio-sim-build: the kernel $kver ships gpio-sim; nothing to build"
    exit 0
fi
series="$(echo "$kver" | cut -d. -f1,2)"
echo "gpio-sim-build: the kernel $kver has no gpio-sim; building it from linux-source-$series"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends "linux-source-$series" xz-utils >/dev/null
src=/tmp/gpio-sim-src
mkdir -p "$src"
tar -xaf "/usr/src/linux-source-$series.tar.xz" -C "$src" --strip-components=1 \
    --wildcards '*/drivers/gpio/gpio-sim.c' '*/kernel/irq/irq_sim.c' '*/drivers/gpio/*.h'
mod=/tmp/gpio-sim-mod
mkdir -p "$mod"
cp "$src/drivers/gpio/gpio-sim.c" "$src/drivers/gpio/"*.h "$src/kernel/irq/irq_sim.c" "$mod/"
sed -i 's/handle_simple_irq(irq_to_desc(\([a-z_]*\)))/generic_handle_irq(\1)/' "$mod/irq_sim.c"
grep -q 'generic_handle_irq' "$mod/irq_sim.c" || { echo "gpio-sim-build: patch did not apply" >&2; exit 1; }
# irq_sim.c's symbols are exported in the kernel only when CONFIG_IRQ_SIM=y; build both in one module.
cat >"$mod/Kbuild" <<'KB'
obj-m := gpio-sim.o
gpio-sim-y := gpio-sim-main.o irq_sim.o
KB
mv "$mod/gpio-sim.c" "$mod/gpio-sim-main.c"
make -s -C "/lib/modules/$kver/build" M="$mod" modules
install -D -m 0644 "$mod/gpio-sim.ko" "/lib/modules/$kver/extra/gpio-sim.ko"
depmod "$kver"
rm -rf "$src" "$mod"
apt-get purge -y -qq "linux-source-$series" >/dev/null
rm -rf /usr/src/linux-source-"$series"*
echo "gpio-sim-build: /lib/modules/$kver/extra/gpio-sim.ko"
