# Second boot (after the reboot): steps 8, 8b (the radar) and 10 (sourced by boot.sh).
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

# Step 8b (radar): a breath radar (C1001) on the VM's second serial port, added as docs/wiring.md says
# (the config's [breath_sensor], the installer again); tests/vm/radar.py answers on the host.
# Its reading reaches `status`; the module falls silent (a pulled cable) and the reading goes
# stale with one log line while the service runs on; it speaks again and the reading is back.
radar_rate() {
    status_json | python3 -c '
import json, sys
rate = json.load(sys.stdin).get("breath_rate")
print(json.dumps(rate["per_min"]) if rate and rate.get("source") == "c1001" else "")'
}
has_radar_rate() { [[ -n "$(radar_rate)" ]]; }
no_radar_rate() { [[ -z "$(radar_rate)" ]] && is_active; }

step8b_radar() {
    local device rate
    if ! read -r device rate <"$SHARE/harness/radar" 2>/dev/null; then
        say "step 8b: no radar wired on this architecture"
        result radar_wired false
        return
    fi
    say "step 8b: a C1001 radar on $device (the installer again)"
    result radar_wired true
    result radar_rate_expected "$rate"
    rm -f "$OUT/radar-quiet"
    # The installed config has a [breath_sensor] table (kind "none"): its keys change in place.
    sed -i -E "/^\[breath_sensor\]/,/^\[/ {
        s|^kind = .*|kind = \"c1001\"|
        s|^device = .*|device = \"$device\"|
        s|^stale_seconds = .*|stale_seconds = $RADAR_STALE_S|
    }" "$CONF"
    sed -n '/^\[breath_sensor\]/,/^\[/p' "$CONF" | grep -v '^#' >>"$OUT/scenario.log"
    (cd /root/breathring && PIP_NO_INDEX=1 PIP_FIND_LINKS="$SHARE/wheels" \
        systemd/install.sh) >"$OUT/install-radar.log" 2>&1
    result radar_install_rc "$?"
    local dropin=$DROPIN_DIR/breath-sensor.conf granted=false
    grep -qx "DeviceAllow=$device rw" "$dropin" 2>/dev/null && granted=true
    result radar_device_granted "$granted"
    systemctl daemon-reload
    local t0 t1 pid ok=true
    t0=$(now_us)
    systemctl restart "$UNIT"
    wait_until 30 is_active || ok=false
    pid="$(main_pid)"
    if wait_until "$RADAR_FIRST_READING_S" has_radar_rate; then
        t1=$(now_us)
        result radar_first_reading_s "$(s_between "$t0" "$t1")"
        result radar_rate_per_min "$(radar_rate)"
    else
        ok=false
        result radar_first_reading_s null
        result radar_rate_per_min null
    fi
    # A pulled cable: the module says nothing.
    t0=$(now_us)
    touch "$OUT/radar-quiet"
    local stale=false back=false
    if wait_until $(( RADAR_STALE_S + RADAR_SLACK_S )) no_radar_rate \
            && wait_journal "$RADAR_SLACK_S" "$t0" "breath sensor: nothing from $device" >/dev/null; then
        stale=true
    fi
    result radar_stale_s "$(s_between "$t0" "$(now_us)")"
    # Plugged in again.
    t0=$(now_us)
    rm -f "$OUT/radar-quiet"
    if wait_until "$RADAR_FIRST_READING_S" has_radar_rate; then
        back=true
        result radar_back_s "$(s_between "$t0" "$(now_us)")"
    fi
    [[ "$(main_pid)" == "$pid" ]] || { ok=false; say "  the service restarted (pid $pid -> $(main_pid))"; }
    is_active || ok=false
    journalctl -u "$UNIT" -b --no-pager -g 'breath sensor' >>"$OUT/scenario.log" 2>&1
    [[ "$stale" == true && "$back" == true && "$granted" == true ]] || ok=false
    result radar_stale_ok "$stale"
    result radar_back_ok "$back"
    result radar_ok "$ok"
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

# Step 8b's radar: the reading goes stale after this long (the config's stale_seconds; the
# reader itself gives up on a silent module after 10 s); the first reading within the second.
readonly RADAR_STALE_S=10
readonly RADAR_SLACK_S=15
readonly RADAR_FIRST_READING_S=60
step8_after_reboot
if is_active; then
    step8b_radar
else
    say "the service is not active: step 8b skipped"
fi
count_tracebacks >"$OUT/tracebacks-boot2"
journalctl -u "$UNIT" -b --no-pager -o short-precise >"$OUT/service-boot2.txt" 2>&1
step10_uninstall
