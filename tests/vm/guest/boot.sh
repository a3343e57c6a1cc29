#!/usr/bin/env bash
# Runs at every boot of the test VM (from breathring-vm-boot.service, as root, share mounted on
# /mnt/share). The scenario of issue 13 §3 runs in two boots: steps 0-7 and the reboot request,
# then (after QEMU booted the same disk again) steps 8-10. Results: /mnt/share/out/r/<key>.json
# (one JSON value per report key), logs in /mnt/share/out/.
set -uo pipefail
GUEST="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$GUEST/lib.sh"

phase="$(cat "$OUT/phase" 2>/dev/null || echo first)"
say "boot: phase $phase, kernel $(uname -r), $(nproc) cpu"
case "$phase" in
    first)
        # shellcheck source=steps-first.sh
        . "$GUEST/steps-first.sh"
        echo second >"$OUT/phase"
        touch "$OUT/next-boot"
        sync
        say "rebooting (step 8)"
        systemctl reboot
        ;;
    second)
        # shellcheck source=steps-second.sh
        . "$GUEST/steps-second.sh"
        echo finished >"$OUT/phase"
        touch "$OUT/done"
        sync
        say "done; powering off"
        ;;
    *)
        say "nothing to do in phase $phase"
        ;;
esac
exit 0
