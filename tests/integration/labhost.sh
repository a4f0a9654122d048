#!/bin/sh
# labhost.sh - ebb-labhost, the lab's modelled host, behind a real Postfix
#
# A private Postfix relays to ebb-labhost. A slow host (4 msg/s, 2 CPUs:
# a lone message takes 0.5 s) gets a dozen messages: each 250 comes only
# after its processing, its fake /proc and /sys are what ebbctl sensors
# reads. Then a hot host (tau 10 s, heading for 200 C, 2 msg/s) gets 40 at
# once: it trips, drops the connections in progress without a reply,
# refuses connections while down, Postfix keeps those messages deferred,
# and the host comes back after its reboot time. Usage errors exit 64;
# SIGTERM ends it cleanly.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/labhost-lib.sh"
require_root
require_cmd postfix jq perl

tap_plan 16
ROOT=$T/lab
HOT_ROOT=$T/hot

# 1-2: usage errors
"$EBB_LABHOST" --root "$T/x" >"$T/u1.out" 2>&1
rc=$?
if [ $rc -eq 64 ] && grep -q 'listen.*required' "$T/u1.out"; then
	ok "no --listen: usage error, exit 64"
else
	not_ok "no --listen: usage error, exit 64" "rc=$rc" "$(cat "$T/u1.out")"
fi
"$EBB_LABHOST" --listen 127.0.0.1:1 --root "$T/x" --capacity 250 \
    >"$T/u2.out" 2>&1
rc=$?
if [ $rc -eq 64 ] && grep -q 'capacity 250 msg/s is outside 2..200' \
    "$T/u2.out"; then
	ok "a parameter out of range names its range, exit 64"
else
	not_ok "a parameter out of range names its range, exit 64" "rc=$rc" \
	    "$(cat "$T/u2.out")"
fi

# 3: it starts and writes the fake /proc and /sys
LAB_PORT=$(free_port)
labhost_start lab "$LAB_PORT" "$ROOT" --capacity 4 ||
    bail_out "ebb-labhost did not start"
missing=
for f in proc/loadavg proc/stat proc/meminfo proc/pressure/cpu \
    proc/pressure/io proc/pressure/memory \
    sys/class/thermal/thermal_zone0/temp \
    sys/class/thermal/thermal_zone0/trip_point_0_temp \
    sys/class/thermal/thermal_zone0/trip_point_1_type; do
	[ -s "$ROOT/$f" ] || missing="$missing $f"
done
is "$missing" "" "the fake /proc and /sys files exist"

# 4: ebbctl sensors reads the host: its temperature and load
ebb_config '[sensors]' "proc_root = $ROOT" "sys_root = $ROOT"
ebbctl --json sensors >"$T/sensors.json" 2>"$T/sensors.err"
want=$(grep '"event":"sample"' "$T/lab.log" | tail -1)
t_lab=$(printf '%s' "$want" | jq .temperature)
l_lab=$(printf '%.2f' "$(printf '%s' "$want" | jq .load1)")
# load: the 1-minute average as the host wrote it, and the smaller of it
# and the tasks running now (ebb.conf(5), load_per_cpu) per CPU
if jq -e --argjson t "$t_lab" --arg l "$l_lab" '
    (.sensors[] | select(.name == "temperature")) as $temp |
    (.sensors[] | select(.name == "load")) as $load |
    $temp.present and ($temp.value - $t | fabs) < 1 and $temp.limit < 90 and
    $load.present and ($load.detail | contains("loadavg " + $l)) and
    $load.value <= ($l | tonumber) / 2 + 0.005' \
    "$T/sensors.json" >/dev/null; then
	ok "ebbctl sensors reads the host's temperature ($t_lab C) and load"
else
	not_ok "ebbctl sensors reads the host's temperature and load" \
	    "labhost: $want" "$(cat "$T/sensors.json" "$T/sensors.err")"
fi

# 5: straight SMTP: the 250 comes after the processing, cpus / capacity
set -- $(smtp_probe "$LAB_PORT")
if [ "${1:-}" = 220 ] && [ "${2:-}" = 250 ] &&
    awk -v s="${3:-0}" 'BEGIN { exit !(s >= 0.45 && s < 5) }'; then
	ok "a lone message is answered 250 after ${3}s (model: 0.5 s)"
else
	not_ok "a lone message is answered 250 after about 0.5 s" "got: $*"
fi

# 6-8: Postfix relays to it; everything is delivered, after processing
N=12
pf_create
pf_postconf "relayhost = [127.0.0.1]:$LAB_PORT"
pf_start || bail_out "postfix did not start"
lab_submit $N ok 2 || bail_out "submitting failed"
if wait_for 60 sh -c "[ \$(grep -c '\"event\":\"delivered\".*\"lab_id\":\"ok-' \
    '$T/lab.log') -ge $N ]" && pf_wait_count 0 20; then
	ok "Postfix delivered all $N messages through the host"
else
	not_ok "Postfix delivered all $N messages through the host" \
	    "queue: $(pf_count)" "$(grep -v sample "$T/lab.log" | tail -5)"
fi
got=$(jq -r 'select(.event == "delivered" and .reply) | .lab_id' \
    "$T/lab.log" | grep '^ok-' | sort | tr '\n' ' ')
want=$(seq 1 $N | sed 's/^/ok-/' | sort | tr '\n' ' ')
sent=$(grep -c "relay=127.0.0.1\[127.0.0.1\]:$LAB_PORT.* status=sent" \
    "$PF_DIR/maillog")
if [ "$got" = "$want" ] && [ "$sent" -eq $N ]; then
	ok "each X-Lab-Id answered 250 once; the maillog shows $N sent"
else
	not_ok "each X-Lab-Id answered 250 once" "got:  $got" "want: $want" \
	    "maillog sent: $sent"
fi
# latency from the log itself: offered -> delivered, on the host's clock
jq -r 'select(.lab_id != null and (.lab_id | startswith("ok-"))) |
    select(.event == "offered" or .event == "delivered") |
    "\(.lab_id) \(.event) \(.mono)"' "$T/lab.log" | awk '
	$2 == "offered" { o[$1] = $3 }
	$2 == "delivered" && ($1 in o) { d = $3 - o[$1]; n++
		if (min == "" || d < min) min = d; if (d > max) max = d }
	END { printf "%d %.3f %.3f\n", n, min, max }' >"$T/lat"
read -r n lmin lmax <"$T/lat"
if [ "$n" -eq $N ] && awk -v m="$lmin" 'BEGIN { exit !(m >= 0.499) }'; then
	what="latency ${lmin}..${lmax}s >= cpus/capacity"
	ok "every reply waited for its processing: $what"
else
	not_ok "every reply waited for its processing" "$(cat "$T/lat")"
fi

# 9-14: a hot host trips, drops its connections, comes back
HOT_PORT=$(free_port)
REBOOT=8
labhost_start hot "$HOT_PORT" "$HOT_ROOT" --capacity 2 --tau 10 \
    --temp-full 200 --conn-max 1000 --reboot-time $REBOOT ||
    bail_out "the hot ebb-labhost did not start"
pf_postconf "relayhost = [127.0.0.1]:$HOT_PORT"
pf_reload
sleep 1
lab_submit 40 hot 8 || bail_out "submitting failed"
if wait_for 60 grep -q '"event":"down"' "$T/hot.log"; then
	ok "the hot host reached its critical trip"
else
	not_ok "the hot host reached its critical trip" \
	    "$(grep sample "$T/hot.log" | tail -3)"
fi
# while down: no greeting
set -- $(smtp_probe "$HOT_PORT")
if [ "${1:-}" = EOF ] || [ "${1:-}" = 421 ] || [ "${1:-}" = CONNECT ]; then
	ok "a connection while it reboots gets no greeting ($1)"
else
	not_ok "a connection while it reboots gets no greeting" "got: $*"
fi
dropped=$(jq -r 'select(.event == "dropped") | .lab_id' "$T/hot.log" |
    sort -u)
ndropped=$(printf '%s\n' "$dropped" | grep -c 'hot-')
down_conns=$(jq -r 'select(.event == "down") | .connections' "$T/hot.log" |
    head -1)
if [ "$ndropped" -gt 0 ] && [ "${down_conns:-0}" -ge "$ndropped" ]; then
	ok "the reboot dropped $ndropped messages and $down_conns connections"
else
	not_ok "the reboot dropped the messages in progress" \
	    "dropped: $ndropped, connections: $down_conns"
fi
# Postfix got no reply for them: each is still in its queue, deferred
lab_qids >"$T/qids"
pf_ids deferred active incoming >"$T/queued"
lost=0 kept=0
for id in $dropped; do
	# delivered by a later try is fine too (not with the default backoff)
	if jq -r 'select(.event == "delivered") | .lab_id' "$T/hot.log" |
	    grep -qx "$id"; then
		kept=$((kept + 1))
		continue
	fi
	qid=$(awk -v l="$id" '$1 == l { print $2 }' "$T/qids")
	if [ -n "$qid" ] && grep -qx "$qid" "$T/queued"; then
		kept=$((kept + 1))
	else
		lost=$((lost + 1))
	fi
done
reasons=$(postqueue -c "$PF_CONF" -j 2>/dev/null |
    jq -r '.recipients[].delay_reason // empty' |
    grep -c 'lost connection\|Connection refused\|conversation')
if [ "$lost" -eq 0 ] && [ "$kept" -eq "$ndropped" ] &&
    [ "$reasons" -gt 0 ]; then
	what="$reasons deferred for a lost connection"
	ok "Postfix keeps the $ndropped dropped messages queued ($what)"
else
	not_ok "Postfix keeps the dropped messages queued" "lost: $lost" \
	    "reasons: $reasons" "$(postqueue -c "$PF_CONF" -p | head -20)"
fi
if wait_for $((REBOOT + 10)) grep -q '"event":"up"' "$T/hot.log"; then
	span=$(jq -s '([.[] | select(.event == "down")][0].mono) as $d |
	    ([.[] | select(.event == "up")][0].mono) - $d |
	    . * 1000 | round / 1000' "$T/hot.log")
	if awk -v s="$span" -v r=$REBOOT 'BEGIN { exit !(s > r - 0.05 &&
	    s < r + 0.05) }'; then
		ok "it came back after its reboot time (${span}s)"
	else
		not_ok "it came back after its reboot time" "span: $span"
	fi
else
	not_ok "it came back after its reboot time" "no up event"
fi
set -- $(smtp_probe "$HOT_PORT")
if [ "${1:-}" = 220 ]; then
	ok "after the reboot it greets again"
else
	not_ok "after the reboot it greets again" "got: $*"
fi

# 15-16: SIGTERM: a clean exit with a last line, the pidfile gone
pid=$(cat "$T/lab.pid")
kill -TERM "$pid"
wait "$pid" 2>/dev/null
rc=$?
rm -f "$T/lab.pid"
if [ $rc -eq 0 ] && [ ! -e "$T/lab.pid.lab" ]; then
	ok "SIGTERM: exit 0, pidfile removed"
else
	not_ok "SIGTERM: exit 0, pidfile removed" "rc=$rc" "$(cat "$T/lab.out")"
fi
if tail -1 "$T/lab.log" | jq -e '.event == "exit" and .delivered >= 13' \
    >/dev/null; then
	ok "the log ends with its exit line"
else
	not_ok "the log ends with its exit line" "$(tail -2 "$T/lab.log")"
fi
