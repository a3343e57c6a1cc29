# Second boot (after the reboot): steps 8 and 10 (sourced by boot.sh).
# shellcheck shell=bash

step8_after_reboot() {
    say "step 8: after the reboot"
    local ok=false before after
    if wait_until 90 is_active; then
        before="$(cat "$OUT/reminders-before-reboot" 2>/dev/null)"
        after="$(status_field reminders)"
        say "  reminders before $before, after $after"
        [[ -n "$before" && "$before" == "$after" ]] && ok=true
    else
        systemctl status "$UNIT" --no-pager >>"$OUT/scenario.log" 2>&1
    fi
    result reminders_after_reboot_ok "$ok"
}

step10_uninstall() {
    say "step 10: install.sh --uninstall"
    (cd /root/breathring && systemd/install.sh --uninstall) >"$OUT/uninstall.log" 2>&1
    local rc=$? clean=true what
    result uninstall_rc "$rc"
    for what in /etc/systemd/system/$UNIT /opt/breathring /usr/local/bin/$APP; do
        if [[ -e "$what" || -L "$what" ]]; then clean=false; say "  left: $what"; fi
    done
    if id -u "$APP" >/dev/null 2>&1; then clean=false; say "  left: user $APP"; fi
    # Gone for systemd too (a drop-in the owner wrote may stay; it does not load the unit).
    if [[ "$(systemctl show -p LoadState --value "$UNIT")" != not-found ]]; then
        clean=false; say "  left: unit $UNIT still loads"
    fi
    result uninstall_clean "$clean"
}

step8_after_reboot
count_tracebacks >"$OUT/tracebacks-boot2"
journalctl -u "$UNIT" -b --no-pager -o short-precise >"$OUT/service-boot2.txt" 2>&1
step10_uninstall
