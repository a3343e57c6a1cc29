# First boot: the machine made Pi-like, then steps 1-7 and 9 of issue 13 §3 (sourced by boot.sh).
# shellcheck shell=bash

# --------------------------------------------------------------------------------------------
# Step 0: what Raspberry Pi OS has before our installer runs: the gpio and spi groups, a udev
# rule giving /dev/gpiochip* to the gpio group, a GPIO chip (gpio-sim, 54 lines like the Pi's
# gpiochip0) and a sound card (snd-aloop). Both come up at every boot, before the service.
step0_fake_pi() {
    say "step 0: the Pi-like machine (groups, udev rule, gpio-sim chip, loopback sound card)"
    getent group gpio >/dev/null || groupadd --system gpio
    getent group spi >/dev/null || groupadd --system spi
    cat >/etc/udev/rules.d/60-breathring-vm-gpio.rules <<'RULE'
SUBSYSTEM=="gpio", KERNEL=="gpiochip*", GROUP="gpio", MODE="0660"
RULE
    udevadm control --reload
    # ALSA's default device is the loopback card itself (through `plug`, for format changes),
    # not Debian's default chain with dmix. dmix over snd-aloop under TCG underruns in bursts
    # (one every 64 ms, three of its periods, for up to a second after the emulator stopped the
    # guest) in any client: a plain aplay of /dev/zero beside the service showed the same
    # bursts, while the service's sound thread sat ready in poll (tests/vm/run --diag). A Pi's
    # card is driven by DMA, not by the guest's timer. The capture side records subdevice 0.
    cat >/etc/asound.conf <<'ALSA'
pcm.!default {
    type plug
    slave.pcm "hw:Loopback,0,0"
}
ctl.!default {
    type hw
    card Loopback
}
ALSA
    install -m 0755 "$GUEST/fake-pi" /usr/local/sbin/breathring-vm-fake-pi
    cat >/etc/systemd/system/breathring-vm-fake-pi.service <<'UNIT'
[Unit]
Description=Pi-like hardware for the breathring VM test (gpio-sim chip, snd-aloop)
DefaultDependencies=no
After=systemd-udevd.service sys-kernel-config.mount
Before=sound.target breathring.service
Wants=sys-kernel-config.mount

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/breathring-vm-fake-pi

[Install]
WantedBy=sysinit.target
UNIT
    systemctl daemon-reload
    systemctl enable --now breathring-vm-fake-pi.service
    ls -l /dev/gpiochip* /dev/snd/ >>"$OUT/scenario.log" 2>&1
    cat /proc/asound/cards >>"$OUT/scenario.log" 2>&1
}

# --------------------------------------------------------------------------------------------
# Step 1: the installer as docs/on-the-pi.md says (a clone in the home directory, sudo install.sh).
step1_install() {
    say "step 1: systemd/install.sh"
    rm -rf /root/breathring
    cp -a "$SHARE/breathring" /root/breathring
    local t0 t1 rc
    t0=$(now_us)
    (cd /root/breathring && PIP_NO_INDEX=1 PIP_FIND_LINKS="$SHARE/wheels" \
        systemd/install.sh) >"$OUT/install.log" 2>&1
    rc=$?
    t1=$(now_us)
    result install_rc "$rc"
    result install_s "$(s_between "$t0" "$t1")"
    result guest_python "\"$("$VENV_BIN/python" -c 'import platform; print(platform.python_version())' 2>/dev/null)\""
    tail -25 "$OUT/install.log" | sed 's/^/    install: /' >>"$OUT/scenario.log"

    # The ring is not wired (there is none): per-part hardware when the product has it.
    MODE=mock
    if [[ -x "$VENV_BIN/$APP" ]]; then
        local probe=/tmp/vm-config-probe.toml
        sed -E 's/^([[:space:]]*driver[[:space:]]*=[[:space:]]*)"spi"/\1"none"/' "$CONF" >"$probe"
        if BREATHRING_PI_REVISION="$PI_REVISION" "$VENV_BIN/$APP" config check --config "$probe" \
                >/dev/null 2>&1 && grep -q '"none"' "$probe"; then
            MODE=pi
        fi
    fi
    mkdir -p "$DROPIN_DIR"
    if [[ "$MODE" == pi ]]; then
        sed -i -E 's/^([[:space:]]*driver[[:space:]]*=[[:space:]]*)"spi"/\1"none"/' "$CONF"
        # The sound device closes after IDLE_CLOSE_S without a sound (the default is 10 min):
        # the first press comes after a longer idle, to a closed device (issue 20).
        sed -i -E "s/^([[:space:]]*idle_close_seconds[[:space:]]*=[[:space:]]*).*/\1$IDLE_CLOSE_S/" "$CONF"
        grep -Eq "^[[:space:]]*idle_close_seconds[[:space:]]*=[[:space:]]*$IDLE_CLOSE_S\$" "$CONF" \
            || say "  warning: audio.idle_close_seconds not set in $CONF"
        cat >"$DROPIN_DIR/10-vm.conf" <<CONFD
# The VM is no Pi: tell gpiozero which Pi it stands for (a Pi 3 B, gpiochip0).
[Service]
Environment=BREATHRING_PI_REVISION=$PI_REVISION
# SDL prints the ALSA period and buffer it got (diagnostics in the journal).
Environment=SDL_AUDIO_ALSA_DEBUG=1
CONFD
        if [[ -f "$SHARE/harness/diag" ]]; then   # tests/vm/run --diag
            install -D -m 0644 "$GUEST/diag/sitecustomize.py" /usr/local/lib/breathring-vm-diag/sitecustomize.py
            printf '[Service]\nEnvironment=PYTHONPATH=/usr/local/lib/breathring-vm-diag BREATHRING_VM_DIAG=1\n' \
                >"$DROPIN_DIR/20-vm-diag.conf"
        fi
    else
        cat >"$DROPIN_DIR/10-vm.conf" <<'CONFD'
# The product cannot yet run the real button and audio without a ring: mock hardware.
[Service]
ExecStart=
ExecStart=/opt/breathring/venv/bin/breathring run --hardware mock
CONFD
    fi
    echo "$MODE" >"$OUT/mode"
    result hardware_mode "\"$MODE\""
    systemctl daemon-reload
    local t2 t3
    t2=$(now_us)
    systemctl restart "$UNIT" >>"$OUT/scenario.log" 2>&1
    if wait_until 30 is_active; then
        t3=$(now_us)
        ACTIVE_US=$t3
        result active_s "$(s_between "$t2" "$t3")"
    else
        result active_s null
        systemctl status "$UNIT" --no-pager >>"$OUT/scenario.log" 2>&1
    fi
}

# --------------------------------------------------------------------------------------------
# The button on gpio-sim: a press pulls GPIO17 down (the button shorts it to ground), then up.
pull_attr() { cat "$OUT/gpio17-pull-path" 2>/dev/null; }
# buttons STEP...: exact timing in one process (see press.py); prints the first write's time (us).
buttons() { python3 "$GUEST/press.py" "$(pull_attr)" "$@"; }

# Per thread: name and CPU ticks (diagnostics).
thread_ticks() {
    local t
    for t in /proc/"$1"/task/*; do
        echo "$(cat "$t/comm") $(awk '{ print $14 + $15 }' "$t/stat") nice=$(awk '{ print $19 }' "$t/stat")"
    done
}

# Scratch space in the guest's RAM for what is written while the session is recorded.
readonly SCRATCH=/run/vm-scenario
readonly FOLLOW=$SCRATCH/follow.json

# follow_first_us PATTERN: realtime (us) of the first line with PATTERN in the journal follower's
# file, with shell builtins only (no process started).
follow_first_us() {
    local line
    while IFS= read -r line; do
        if [[ "$line" == *"$1"* && "$line" =~ \"__REALTIME_TIMESTAMP\":\"([0-9]+)\" ]]; then
            echo "${BASH_REMATCH[1]}"
            return 0
        fi
    done <"$FOLLOW"
    return 1
}

# wait_follow TIMEOUT_S PATTERN: prints the line's realtime (us) once the follower has it.
wait_follow() {
    local deadline=$(( SECONDS + $1 ))
    while (( SECONDS <= deadline )); do
        follow_first_us "$2" && return 0
        sleep 0.2
    done
    return 1
}

# CPU ticks (user + system) of a process.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# The release's Python runs the pure core's tests, offline (pytest from the wheelhouse), while
# the service waits idle for the first press. -W error: a DeprecationWarning fails a test.
step_guest_tests() {
    say "  the pure core's tests on $(python3 --version 2>&1) (during the idle wait)"
    local venv=/root/test-venv t0 rc
    t0=$(now_us)
    python3 -m venv "$venv" \
        && PIP_NO_INDEX=1 PIP_FIND_LINKS="$SHARE/wheels" "$venv/bin/pip" install -q \
            --disable-pip-version-check pytest hypothesis paho-mqtt >"$OUT/guest-tests.log" 2>&1
    (cd /root/breathring && CI=true timeout "$GUEST_TESTS_TIMEOUT_S" "$venv/bin/python" -m pytest \
        -o addopts="" -q -p no:cacheprovider -W error::DeprecationWarning \
        -W error::PendingDeprecationWarning "${GUEST_TESTS[@]}") >>"$OUT/guest-tests.log" 2>&1
    rc=$?
    result guest_tests_rc "$rc"
    result guest_tests_s "$(s_between "$t0" "$(now_us)")"
    result guest_tests "\"$(grep -E '[0-9]+ (passed|failed)' "$OUT/guest-tests.log" | tail -1)\""
}

# Steps 2, 3 and 9: a press, the whole session recorded from the loopback, double press, hold.
step2_button_audio() {
    say "step 2/3/9: button presses, recorded session, late frames, CPU share"
    local pid tick_hz t_press t_lit t0 t1 c0 c1
    pid="$(main_pid)"
    tick_hz="$(getconf CLK_TCK)"
    if [[ "$MODE" != pi ]]; then
        for key in press_to_light_ms double_ok hold_toggles cue_onset_err_ms_max clicks underrun_gaps; do
            result "$key" null
        done
        say "  mock hardware: the button and audio steps need ring.driver = \"none\" (not yet in the product)"
        # CPU share of a session started over the socket.
        t0=$(now_us); c0=$(cpu_ticks "$pid")
        "$VENV_BIN/$APP" start >/dev/null 2>&1
        wait_until 120 sh -c "! $VENV_BIN/$APP status --json | grep -q '\"session\"'"
        t1=$(now_us); c1=$(cpu_ticks "$pid")
        result session_cpu_pct "$(awk -v c=$(( c1 - c0 )) -v hz="$tick_hz" -v a="$t0" -v b="$t1" \
            'BEGIN { printf "%.1f", 100 * (c / hz) / ((b - a) / 1e6) }')"
        result late_frames_pct "$(status_field late_frames_pct)"
        "$VENV_BIN/$APP" reminders off >/dev/null 2>&1
        echo false >"$OUT/reminders-before-reboot"
        return
    fi

    # While the session is recorded the guest starts no interpreter (journalctl | python3,
    # `breathring status`): under emulation each start stalls the whole VM for moments (new
    # code to translate), which the service's audio would take for its own underruns. One
    # journal follower and one button process are started before the recording.
    # The recording and the journal follower write to the guest's RAM (tmpfs), copied to the
    # share afterwards: the share is 9p, whose writes QEMU serves from its main loop, and a
    # steady stream of them (the WAV, 176 kB/s) paused the whole guest now and then, long
    # enough for the service's sound to underrun.
    # The service opens its sound device in the background after it is ready (seconds under
    # emulation). The recording starts once the device is open: the loopback's capture side
    # fails (EBADFD) when the playback side opens under it, and a press while the mixer is
    # still opening is not the cue timing being measured here.
    local since=$SECONDS
    until journalctl -u "$UNIT" -b -o cat --no-pager "_PID=$pid" 2>/dev/null \
            | grep -q "audio ready after"; do
        (( SECONDS - since < 60 )) || { say "  the service never said its audio was ready"; break; }
        sleep 0.5
    done
    result audio_ready_wait_s "$(( SECONDS - since ))"
    mkdir -p "$SCRATCH"
    # The long idle before the first press (issue 20): the service has been idle since it
    # became active; its sound device closed IDLE_CLOSE_S later. The guest's own test run
    # (Python of this release) fills the wait; then the rest of it is waited out.
    step_guest_tests
    local press_wait_s=5 idle_until_us
    idle_until_us=$(( ${ACTIVE_US:-0} + (MIN_IDLE_BEFORE_PRESS_S - press_wait_s + 1) * 1000000 ))
    while (( $(now_us) < idle_until_us )); do sleep 1; done
    journalctl -u "$UNIT" -f -n 0 -o json >"$FOLLOW" 2>/dev/null &
    local follow=$!
    # press.py notes whether the loopback card's playback side was closed just before the press.
    PRESS_TIMES="$OUT/press-times.json" CLOSED_GLOB="$PLAYBACK_STATUS_GLOB" \
        CLOSED_OUT="$OUT/closed-before-press.json" \
        buttons "wait:$press_wait_s" down:0.15 up:0 >"$OUT/press-us" &
    local presser=$!
    # One pause probe per CPU (pause_probe.py): when the emulator itself stops the guest.
    local probes=() cpu
    for (( cpu = 0; cpu < $(nproc); cpu++ )); do
        python3 "$GUEST/pause_probe.py" "$cpu" "$SCRATCH/pauses-cpu$cpu.txt" &
        probes+=($!)
    done
    sleep 2
    thread_ticks "$pid" >"$OUT/threads-before.txt"
    # plughw: the capture side converts from the format the service's playback side chose.
    arecord -q -D plughw:Loopback,1,0 -f S16_LE -r 44100 -c 2 -t wav "$SCRATCH/session.wav" 2>"$SCRATCH/arecord.log" &
    local rec=$!
    local rec_start t_end
    rec_start=$(now_us)
    c0=$(cpu_ticks "$pid"); t0=$(now_us)
    wait "$presser"
    t_press="$(cat "$OUT/press-us")"
    if [[ -n "${ACTIVE_US:-}" && "$t_press" =~ ^[0-9]+$ ]]; then
        result idle_before_press_s "$(s_between "$ACTIVE_US" "$t_press")"
    else
        result idle_before_press_s null
    fi
    result audio_closed_before_press "$(cat "$OUT/closed-before-press.json" 2>/dev/null || echo null)"
    if t_lit="$(wait_follow 10 "session started")"; then
        result press_to_light_ms "$(ms_between "$t_press" "$t_lit")"
    else
        result press_to_light_ms null
    fi
    t_end="$(wait_follow 120 "session finished")"
    t1=$(now_us); c1=$(cpu_ticks "$pid")
    thread_ticks "$pid" >"$OUT/threads-session.txt"
    sleep 2   # silence while idle, recorded too
    kill -INT "$rec"; wait "$rec"
    local rec_end
    rec_end=$(now_us)
    kill "$follow" "${probes[@]}" 2>/dev/null; wait "$follow" "${probes[@]}" 2>/dev/null
    cat "$SCRATCH"/pauses-cpu*.txt 2>/dev/null | sort -n >"$SCRATCH/pauses.txt"
    cp "$SCRATCH/session.wav" "$SCRATCH/arecord.log" "$FOLLOW" "$SCRATCH/pauses.txt" "$OUT/"
    # ALSA's own word for a late buffer, in the service's log while it played the session
    # (the times, in microseconds; report.py counts those inside the recording).
    journalctl -u "$UNIT" --since "@$(( rec_start / 1000000 ))" --no-pager -o short-unix \
        | awk '/underrun occurred/ { printf "%.0f\n", $1 * 1000000 }' >"$OUT/underruns.txt" || true
    result session_cpu_pct "$(awk -v c=$(( c1 - c0 )) -v hz="$tick_hz" -v a="$t0" -v b="$t1" \
        'BEGIN { printf "%.1f", 100 * (c / hz) / ((b - a) / 1e6) }')"
    result late_frames_pct "$(status_field late_frames_pct)"
    printf '{"record_start_us": %s, "record_end_us": %s, "press_us": %s, "session_started_us": %s, "session_end_us": %s}\n' \
        "$rec_start" "$rec_end" "$t_press" "${t_lit:-null}" "${t_end:-$t1}" >"$OUT/session-times.json"
    cp "$CONF" "$OUT/config.toml"
    [[ ! -f /run/breathring/diag.txt ]] || cp /run/breathring/diag.txt "$OUT/diag.txt"

    # Double press: the long session; then a press fades it out.
    local t_double
    t_double="$(buttons down:0.1 up:0.12 down:0.1 up:0)"
    if wait_journal 10 "$t_double" "double press" >/dev/null; then
        result double_ok true
    else
        result double_ok false
    fi
    sleep 1; buttons down:0.1 up:0 >/dev/null
    wait_until 30 sh -c "! $VENV_BIN/$APP status --json | grep -q '\"session\"'"

    # Hold 2.5 s: reminders on -> off (the default is on).
    local before after t_hold toggles
    before="$(status_field reminders)"
    t_hold=$(now_us)
    buttons down:2.5 up:0 >/dev/null
    sleep 2
    toggles="$(journalctl -u "$UNIT" --since "@$(( t_hold / 1000000 ))" --no-pager -o cat \
        | grep -c 'reminders turned' || true)"
    after="$(status_field reminders)"
    result hold_toggles "$toggles"
    say "  reminders: $before -> $after"
    echo "$after" >"$OUT/reminders-before-reboot"
}

# --------------------------------------------------------------------------------------------
# Step 4: the hardening by behaviour, as the service: the unit's own [Service] settings given to
# systemd-run (all but those that start/stop/name the running service's directories).
step4_hardening() {
    say "step 4: hardening by behaviour"
    local props=() key line
    while IFS= read -r line; do
        key="${line%%=*}"
        case "$key" in
            Type|NotifyAccess|ExecStart|ExecReload|WatchdogSec|TimeoutStartSec|TimeoutStopSec|\
            KillSignal|Restart|RestartSec|RestartPreventExitStatus|StateDirectory|StateDirectoryMode|\
            RuntimeDirectory|RuntimeDirectoryMode|ConfigurationDirectory|WorkingDirectory) continue ;;
        esac
        props+=(-p "$line")
    done < <(awk '/^\[Service\]/ { s = 1; next } /^\[/ { s = 0 } s && /^[A-Za-z]+=/ { print }' \
        "/etc/systemd/system/$UNIT")
    install -m 0644 "$GUEST/probe.py" /usr/local/lib/breathring-vm-probe.py
    systemd-run --quiet --wait --pipe --collect "${props[@]}" \
        "$VENV_BIN/python" /usr/local/lib/breathring-vm-probe.py >"$OUT/hardening.json" \
        2>>"$OUT/scenario.log"
    cat "$OUT/hardening.json" >>"$OUT/scenario.log"
    result hardening_ok "$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["ok"]))' \
        "$OUT/hardening.json" 2>/dev/null || echo false)"
}

# --------------------------------------------------------------------------------------------
# Step 5: the watchdog. WatchdogSec lowered by a drop-in, the process frozen with SIGSTOP.
readonly VM_WATCHDOG_S=6
step5_watchdog() {
    say "step 5: watchdog (WatchdogSec=$VM_WATCHDOG_S, SIGSTOP)"
    printf '[Service]\nWatchdogSec=%s\n' "$VM_WATCHDOG_S" >"$DROPIN_DIR/20-watchdog.conf"
    systemctl daemon-reload
    systemctl restart "$UNIT"
    wait_until 30 is_active
    local pid t0 t1 newpid
    pid="$(main_pid)"
    sleep 1
    t0=$(now_us)
    kill -STOP "$pid"
    # Restarted: a new main process (systemd forked it); then ready again (Type=notify).
    # shellcheck disable=SC2016
    if wait_until 60 sh -c 'p=$(systemctl show -p MainPID --value breathring); [ "$p" != 0 ] && [ "$p" != "$1" ]' _ "$pid"; then
        t1=$(now_us)
        newpid="$(main_pid)"
        result watchdog_restart_s "$(s_between "$t0" "$t1")"
        say "  restarted: pid $pid -> $newpid"
        if wait_until 60 is_active; then
            result watchdog_active_again_s "$(s_between "$t0" "$(now_us)")"
            # The first frame after the restart: dark (status `light`: the last frame's total).
            result watchdog_first_frame_light "$(status_field light)"
        fi
    else
        result watchdog_restart_s null
    fi
    local says
    says=false
    journalctl -u "$UNIT" --since "@$(( t0 / 1000000 ))" --no-pager -o cat | grep -qi 'watchdog timeout' \
        && says=true
    result watchdog_journal_ok "$says"
    rm -f "$DROPIN_DIR/20-watchdog.conf"
    systemctl daemon-reload
    systemctl restart "$UNIT"
    wait_until 30 is_active
}

# --------------------------------------------------------------------------------------------
# Step 6: systemctl reload applies a changed config; a broken one keeps the old, one log line.
step6_reload() {
    say "step 6: reload"
    cp "$CONF" /tmp/config.orig
    local t0 ok=true n
    sed -i -E 's/^([[:space:]]*brightness[[:space:]]*=[[:space:]]*)0\.5/\10.3/' "$CONF"
    t0=$(now_us)
    systemctl reload "$UNIT" >>"$OUT/scenario.log" 2>&1 || ok=false
    wait_journal 10 "$t0" "configuration reloaded" >/dev/null || ok=false
    sed -i -E 's/^([[:space:]]*pixels[[:space:]]*=[[:space:]]*)[0-9]+/\1-5/' "$CONF"
    t0=$(now_us)
    systemctl reload "$UNIT" >>"$OUT/scenario.log" 2>&1 || ok=false
    wait_journal 10 "$t0" "reload failed, keeping the old configuration" >/dev/null || ok=false
    n="$(journalctl -u "$UNIT" --since "@$(( t0 / 1000000 ))" --no-pager -o cat | grep -c 'reload failed' || true)"
    [[ "$n" == 1 ]] || ok=false
    is_active || ok=false
    cp /tmp/config.orig "$CONF"
    systemctl reload "$UNIT" >/dev/null 2>&1
    result reload_ok "$ok"
}

# --------------------------------------------------------------------------------------------
# Step 7: systemctl stop within 1 s; then started again for the reboot.
step7_stop() {
    say "step 7: stop"
    local t0 t1 rc t_stopping t_stopped
    t0=$(now_us)
    systemctl stop "$UNIT"
    rc=$?
    t1=$(now_us)
    # The service's own stop time, from systemd's journal lines (without systemctl's start-up).
    t_stopping="$(journal_first_us "$t0" "Stopping ")"
    t_stopped="$(journal_first_us "$t0" "Stopped ")"
    if [[ -n "$t_stopping" && -n "$t_stopped" ]]; then
        result stop_s "$(s_between "$t_stopping" "$t_stopped")"
    else
        result stop_s "$(s_between "$t0" "$t1")"
    fi
    result stop_systemctl_s "$(s_between "$t0" "$t1")"
    result stop_rc "$rc"
    result stop_result "\"$(systemctl show -p Result --value "$UNIT")\""
    systemctl start "$UNIT"
    wait_until 30 is_active
}

readonly PI_REVISION=a02082
# Issue 20: the first press comes after at least this long idle, the sound device closed.
readonly IDLE_CLOSE_S=30
readonly MIN_IDLE_BEFORE_PRESS_S=120
# The loopback card's playback side (what the service plays into): "closed" while no stream.
readonly PLAYBACK_STATUS_GLOB='/proc/asound/Loopback/pcm0p/sub*/status'
# The pure core's tests run in the guest (fast ones: emulation is several times slower).
readonly GUEST_TESTS=(tests/core --ignore=tests/core/test_properties.py
    --ignore=tests/core/test_sounds.py)
readonly GUEST_TESTS_TIMEOUT_S=240
ACTIVE_US=
MODE=mock
step0_fake_pi
step1_install
if is_active; then
    step2_button_audio
    step4_hardening
    step5_watchdog
    step6_reload
    step7_stop
else
    say "the service is not active: steps 2-7 skipped"
fi
count_tracebacks >"$OUT/tracebacks-boot1"
journalctl -b --no-pager >"$OUT/journal-boot1.txt" 2>&1
journalctl -u "$UNIT" -b --no-pager -o short-precise >"$OUT/service-boot1.txt" 2>&1
