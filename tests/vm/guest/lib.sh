# Helpers for the guest scenario (sourced).
# shellcheck shell=bash
# shellcheck disable=SC2034  # constants used by the step files that source this
readonly SHARE=/mnt/share
readonly OUT=$SHARE/out
readonly RES=$OUT/r
readonly APP=breathring
readonly UNIT=breathring.service
readonly DROPIN_DIR=/etc/systemd/system/$UNIT.d
readonly CONF=/etc/breathring/config.toml
readonly VENV_BIN=/opt/breathring/venv/bin
mkdir -p "$RES"

say() {
    local line
    line="[scenario $(cut -d' ' -f1 /proc/uptime)s] $*"
    echo "$line" >/dev/console
    echo "$line" >>"$OUT/scenario.log"
}

# result KEY JSON: one report value (a number, true/false, null or a JSON string).
result() {
    echo "$2" >"$RES/$1.json"
    say "result $1 = $2"
}

# Wall clock in microseconds (journal timestamps use the same clock).
now_us() { echo $(( $(date +%s%N) / 1000 )); }

# ms_between US1 US2 -> milliseconds, 1 decimal.
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

# s_between US1 US2 -> seconds, 2 decimals.
s_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1000000 }'; }

# wait_until TIMEOUT_S CMD...: poll CMD every 0.05 s; 0 when it succeeded.
wait_until() {
    local timeout="$1" deadline
    shift
    deadline=$(( $(date +%s%N) + timeout * 1000000000 ))
    while (( $(date +%s%N) < deadline )); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    return 1
}

is_active() { [[ "$(systemctl is-active "$UNIT")" == active ]]; }
main_pid() { systemctl show -p MainPID --value "$UNIT"; }

# journal_first_us SINCE_US PATTERN: realtime (us) of the first service log line matching
# PATTERN since SINCE_US, or nothing.
journal_first_us() {
    journalctl -u "$UNIT" --since "@$(( $1 / 1000000 ))" -o json --no-pager 2>/dev/null \
        | python3 -c '
import json, sys
since, pattern = int(sys.argv[1]), sys.argv[2]
for line in sys.stdin:
    e = json.loads(line)
    msg = e.get("MESSAGE")
    if isinstance(msg, str) and pattern in msg and int(e["__REALTIME_TIMESTAMP"]) >= since:
        print(e["__REALTIME_TIMESTAMP"]); break
' "$1" "$2"
}

# wait_journal TIMEOUT_S SINCE_US PATTERN: prints the line's realtime (us) once it is there.
wait_journal() {
    local timeout="$1" since="$2" pattern="$3" deadline t
    deadline=$(( $(date +%s) + timeout ))
    while (( $(date +%s) <= deadline )); do
        t="$(journal_first_us "$since" "$pattern")"
        if [[ -n "$t" ]]; then echo "$t"; return 0; fi
        sleep 0.2
    done
    return 1
}

status_json() { "$VENV_BIN/$APP" status --json 2>/dev/null; }

# status_field FIELD: one field of `breathring status --json`.
status_field() {
    status_json | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin).get(sys.argv[1])))' "$1"
}

# count_tracebacks: "Traceback" lines in this boot's journal.
count_tracebacks() { journalctl -b --no-pager 2>/dev/null | grep -c 'Traceback' || true; }
