#!/bin/sh
# ebbd-http.sh - ebbd's HTTP endpoint against a real Postfix backlog:
# /status is the JSON of "ebbctl status --json"; /metrics parses as
# Prometheus text and names every family ebbd(8) lists; both answer only
# [http] allow, while the page, /summary.json and /history.json are
# public and carry no queue id or address; bad and oversized requests are
# refused; headless Chromium draws the page's charts (checked in the DOM
# and in the screenshot's pixels, png-ink.pl); TLS with a root-only key; and no fd or memory
# growth in the unprivileged process over 10,000 control requests and
# 2,000 HTTP requests (under ASan with its quarantine off, ebbd-lib.sh, so
# that freed memory is not held back and counted as growth). The incident
# timeline: ebbd writes it, "ebbctl note" adds to it (bad notes refused by
# ebbctl and by ebbd alike, a hostile one shown as text), /feed.atom is
# valid Atom (python3's xml.etree), the page shows it with the banner, in
# the host's time zone (TZ).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
require_root
require_cmd postfix smtp-source smtp-sink jq perl useradd curl

tap_plan 31
N=30
ebb_user
backlog $N
pf_stop
HPORT=$(free_port)
URL=http://127.0.0.1:$HPORT

# get PATH [CURL-OPTS...] - the body; the status code goes to $T/code
get() {
	_path=$1
	shift
	curl -s -o "$T/body" -w '%{http_code}' --max-time 10 "$@" \
	    "$URL$_path" >"$T/code" 2>/dev/null
	cat "$T/body"
}
code() {
	cat "$T/code"
}

# 1: a bad allow list is refused by ebbd -n, naming the entry
ebbd_config '[http]' "listen = 127.0.0.1:$HPORT" 'allow = ::1 127.0.0.1/8'
"$EBBD" -n -c "$EBB_CONF" >"$T/badallow.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q 'allow: "127.0.0.1/8" has host bits set' "$T/badallow.out"; then
	ok "a bad [http] allow is refused by ebbd -n"
else
	not_ok "a bad [http] allow is refused by ebbd -n" "rc=$rc" "$(cat "$T/badallow.out")"
fi

MPORT=$(free_port)
ebbd_config '[http]' "listen = 127.0.0.1:$HPORT" 'allow = 127.0.0.1/32, ::1' \
    'title = Example & <Mail>' \
    '[milter]' 'enable = yes' "socket = inet:$MPORT@127.0.0.1"
# the timeline's times are the host's: ebbd formats them in its zone
TZ=Europe/Zurich
export TZ
ebbd_start || bail_out "ebbd did not start"
ebbctl pause >/dev/null
wait_for 20 st_eq .parked $N || bail_out "ebbd did not park the backlog"
wait_for 10 curl -sf -o /dev/null "$URL/summary.json" ||
    bail_out "no HTTP on $URL: $(cat "$T/ebbd.out")"
wait_for 10 sh -c "[ \"\$(\"$EBBCTL\" -c \"$EBB_CONF\" --json status |
    jq -r '.milter.connections')\" != null ]" ||
    diag "the milter's counters did not reach the status"

# 2-3: /status is "ebbctl status --json"
get /status >"$T/status.json"
is "$(code)" 200 "/status answers the allowed client"
a=$(jq -c 'keys' "$T/status.json")
b=$(ebbctl --json status | jq -c 'keys')
if [ -n "$a" ] && [ "$a" = "$b" ] &&
    [ "$(jq .parked "$T/status.json")" = "$N" ]; then
	ok "/status is the JSON of ebbctl status --json"
else
	not_ok "/status is the JSON of ebbctl status --json" "$a" "$b"
fi

# 4-9: /metrics: Prometheus text, every family, values agree
get /metrics >"$T/metrics.txt"
is "$(code)" 200 "/metrics answers the allowed client"
if awk '
	/^# HELP / { help[$3] = 1; next }
	/^# TYPE / { if (!($3 in help) || ($4 != "gauge" && $4 != "counter" &&
		         $4 != "histogram"))
			{ print "bad TYPE: " $0; bad = 1 }
		     fam = $3; type = $4; next }
	/^#/ { print "stray comment: " $0; bad = 1; next }
	{
		if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*\})? [-+]?[0-9.]+([eE][-+]?[0-9]+)?$/) {
			print "bad sample: " $0; bad = 1
		}
		name = $0; sub(/[{ ].*/, "", name)
		if (type == "histogram") sub(/_(bucket|sum|count)$/, "", name)
		if (name != fam) { print "outside its family: " $0; bad = 1 }
		n++
	}
	END { exit bad || n < 10 }' "$T/metrics.txt" >"$T/prom.err"; then
	ok "/metrics parses as Prometheus text"
else
	not_ok "/metrics parses as Prometheus text" "$(head -5 "$T/prom.err")"
fi
# and as the Prometheus project's own client library reads it
if /usr/bin/python3 -c 'import prometheus_client' 2>/dev/null; then
	if /usr/bin/python3 -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(sys.stdin.read())}
h = fams["ebb_milter_decision_seconds"]
assert h.type == "histogram", h.type
names = [s.name for s in h.samples]
assert "ebb_milter_decision_seconds_count" in names, names
assert "ebb_milter_decision_seconds_sum" in names, names
assert fams["ebb_milter_connections"].type == "counter"
print(len(fams))' <"$T/metrics.txt" >"$T/promlib.out" 2>&1; then
		ok "prometheus_client parses /metrics, milter histogram included ($(cat "$T/promlib.out") families)"
	else
		not_ok "prometheus_client parses /metrics" "$(tail -3 "$T/promlib.out")"
	fi
else
	skip "prometheus_client parses /metrics" "apt-get install python3-prometheus-client"
fi
missing=
for f in ebb_pressure 'ebb_sensor_ratio{sensor="load"}' ebb_release_rate \
    ebb_window 'ebb_backlog{queue="deferred"}' 'ebb_backlog{queue="hold"}' \
    ebb_parked ebb_released_total ebb_expired_total \
    'ebb_at_risk{bucket="lt1h"}' 'ebb_at_risk{bucket="later"}' \
    ebb_scan_duration_seconds ebb_milter_connections_total \
    ebb_milter_messages_total 'ebb_milter_decision_seconds_bucket{le="+Inf"}' \
    ebb_milter_decision_seconds_count ebb_up \
    'ebb_sensor_value{sensor="load"}' 'ebb_sensor_limit{sensor="load"}' \
    'ebb_release_outcomes_total{outcome="left"}' \
    'ebb_release_outcomes_total{outcome="deferred_again"}' \
    'ebb_queue_message_size_bytes_bucket{queue="hold",le="+Inf"}' \
    'ebb_queue_message_age_seconds_count{queue="hold"}'; do
	grep -qF "$f " "$T/metrics.txt" || missing="$missing $f"
done
is "$missing" "" "/metrics has every family ebbd(8) lists"
is "$(sed -n 's/^ebb_parked //p' "$T/metrics.txt")" "$N" \
    "ebb_parked agrees with the status"
# the new families, read by the Prometheus client library: up, build,
# the queue histograms with postfix_exporter's buckets, raw sensors
if /usr/bin/python3 -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
n = int(sys.argv[1])
fams = {f.name: f for f in text_string_to_metric_families(sys.stdin.read())}
def one(fam, name, **labels):
    v = [s.value for s in fams[fam].samples
         if s.name == name and all(s.labels.get(k) == w for k, w in labels.items())]
    assert len(v) == 1, (fam, name, labels, v)
    return v[0]
assert one("ebb_up", "ebb_up") == 1
assert one("ebb_build_info", "ebb_build_info") == 1
assert fams["ebb_build_info"].samples[0].labels["version"]
for fam, bounds in (("ebb_queue_message_size_bytes", [1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9]),
                    ("ebb_queue_message_age_seconds", [1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8])):
    assert fams[fam].type == "histogram", fam
    les = [float(s.labels["le"]) for s in fams[fam].samples
           if s.name == fam + "_bucket" and s.labels["queue"] == "hold"]
    assert les == bounds + [float("inf")], (fam, les)
    assert one(fam, fam + "_count", queue="hold") == n, fam
    assert one(fam, fam + "_bucket", queue="hold", le="+Inf") == n, fam
# small test messages, all under 10 kB
assert one("ebb_queue_message_size_bytes", "ebb_queue_message_size_bytes_bucket", queue="hold", le="10000") == n
v = one("ebb_sensor_value", "ebb_sensor_value", sensor="load")
l = one("ebb_sensor_limit", "ebb_sensor_limit", sensor="load")
r = one("ebb_sensor_ratio", "ebb_sensor_ratio", sensor="load")
assert l > 0 and v >= 0, (v, l)
assert fams["ebb_release_outcomes"].type == "counter"
print("%d families" % len(fams))' "$N" <"$T/metrics.txt" >"$T/promnew.out" 2>&1; then
	ok "the new families parse: up, build_info, queue histograms, raw sensors ($(cat "$T/promnew.out"))"
else
	not_ok "the new families parse" "$(tail -3 "$T/promnew.out")"
fi

# 10-13: the incident timeline, the administrator's notes, the feed
NOTE='<img src=x onerror=alert(1)> Ask your senders & "resend" ]]> ✔'
wait_for 10 sh -c "curl -sf '$URL/history.json' |
    jq -e '.timeline | map(select(.kind == \"found\")) | length == 1' >/dev/null" ||
    diag "no \"found\" entry in the timeline: $(get /history.json)"
out=$(ebbctl note "$NOTE" 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ "$out" = noted ]; then
	ok "ebbctl note adds the administrator's entry"
else
	not_ok "ebbctl note adds the administrator's entry" "rc=$rc" "$out"
fi
nl='two
lines'
bad=0
ebbctl note "$nl" >/dev/null 2>&1; [ $? -eq 64 ] || bad="$bad newline"
ebbctl note "$(printf 'esc\033[2J')" >/dev/null 2>&1; [ $? -eq 64 ] || bad="$bad escape"
ebbctl note "$(head -c 281 /dev/zero | tr '\0' x)" >/dev/null 2>&1
[ $? -eq 64 ] || bad="$bad long"
ebbctl note >/dev/null 2>&1; [ $? -eq 64 ] || bad="$bad empty"
raw '{"command":"note","text":"a\u001bb"}' \
    '{"command":"note","text":"a\nb"}' \
    '{"command":"note","text":"   "}' \
    "{\"command\":\"note\",\"text\":\"$(head -c 300 /dev/zero | tr '\0' y)\"}" \
    '{"command":"note","text":"bad \udc00"}' >"$T/rawnote.out"
[ "$(grep -c '"ok":false' "$T/rawnote.out")" -eq 5 ] || bad="$bad raw:$(cat "$T/rawnote.out")"
is "$bad" 0 "bad notes are refused by ebbctl (64) and by ebbd"
# the page's answers are cached for a second: wait for the note
wait_for 5 sh -c "curl -sf '$URL/history.json' |
    jq -e '[.timeline[] | select(.kind == \"note\")] | length > 0' >/dev/null"
get /history.json >"$T/history2.json"
notes=$(jq -c '[.timeline[] | select(.kind == "note") | .text]' "$T/history2.json")
want=$(jq -cn --arg t "$NOTE" '[$t]')
if [ "$notes" = "$want" ] &&
    jq -e '.timeline[0].kind == "note" and
        (.timeline[0].local | test("^20[0-9-]+ [0-9:]+ CES?T$")) and
        (.timeline[0].iso | test("T[0-9:]+\\+0[12]:00$")) and
        ([.timeline[] | select(.kind == "found")] | length == 1)' \
    "$T/history2.json" >/dev/null; then
	ok "the timeline holds ebbd's entry and the note as written, in the host's time zone"
else
	not_ok "the timeline holds the note" "$notes" "$(jq -c '.timeline' "$T/history2.json")"
fi
# /feed.atom: valid Atom, every text escaped and read back as written
curl -s -D "$T/feed.head" -o "$T/feed.xml" --max-time 10 "$URL/feed.atom"
if grep -qi '^content-type: application/atom+xml' "$T/feed.head" &&
    /usr/bin/python3 -c '
import re, sys
import xml.etree.ElementTree as ET
A = "{http://www.w3.org/2005/Atom}"
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == A + "feed", root.tag
for k in ("id", "updated", "title"):
    assert (root.findtext(A + k) or "").strip(), k
assert root.find(A + "author/" + A + "name") is not None
assert root.findtext(A + "title").startswith("Example & <Mail>")
rfc3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)$")
assert rfc3339.match(root.findtext(A + "updated"))
entries = root.findall(A + "entry")
assert len(entries) >= 2, len(entries)
ids = set()
for e in entries:
    for k in ("id", "updated", "title"):
        assert (e.findtext(A + k) or "").strip(), k
    assert rfc3339.match(e.findtext(A + "updated")), e.findtext(A + "updated")
    ids.add(e.findtext(A + "id"))
assert len(ids) == len(entries), "ids not unique"
note = [e for e in entries if e.findtext(A + "title").startswith("Note")]
assert len(note) == 1 and note[0].findtext(A + "content").endswith(sys.argv[2]),     note[0].findtext(A + "content")
assert "<img" not in open(sys.argv[1]).read()
print(len(entries))' "$T/feed.xml" "$NOTE" >"$T/feed.out" 2>&1; then
	ok "/feed.atom is valid Atom with the timeline, the note escaped ($(cat "$T/feed.out") entries)"
else
	not_ok "/feed.atom is valid Atom" "$(tail -3 "$T/feed.out")" "$(head -c 600 "$T/feed.xml")"
fi

# 14-16: [http] allow: 127.0.0.2 is loopback but not allowed
get /metrics --interface 127.0.0.2 >/dev/null
c1=$(code)
get /status --interface 127.0.0.2 >/dev/null
c2=$(code)
is "$c1 $c2" "403 403" "/metrics and /status refuse a client not in allow"
get /summary.json --interface 127.0.0.2 >"$T/summary.json"
c1=$(code)
get / --interface 127.0.0.2 >"$T/page.html"
c2=$(code)
get /history.json --interface 127.0.0.2 >"$T/history.json"
c3=$(code)
is "$c1 $c2 $c3" "200 200 200" "the page, summary and history are public"
leak=
for id in $(pf_ids); do
	grep -q "$id" "$T/summary.json" "$T/page.html" "$T/history.json" &&
	    leak="$leak $id"
done
grep -q '@' "$T/summary.json" "$T/history.json" && leak="$leak @"
if [ -z "$leak" ] && [ "$(jq -r .state "$T/summary.json")" = paused ] &&
    jq -e '.words | test("waiting")' "$T/summary.json" >/dev/null; then
	ok "the public summary says it in words, with no id or address"
else
	not_ok "the public summary says it in words" "leak:$leak" "$(cat "$T/summary.json")"
fi

# 17-19: the page is self-contained; bad requests are refused, ebbd lives
curl -sI --max-time 10 "$URL/" >"$T/page.head" 2>/dev/null
# (the data embedded as JSON holds the note, "<img src=x ...", as text)
if grep -q '<canvas id="backlog">' "$T/page.html" &&
    ! sed '/^<script id="data"/d' "$T/page.html" |
    grep -Eq '(src|href)=|https?://' &&
    grep -qi "^content-security-policy: default-src 'none'" "$T/page.head"; then
	ok "the page is one document with no external assets"
else
	not_ok "the page is one document with no external assets" \
	    "$(cat "$T/page.head")"
fi
get /nope >/dev/null
c1=$(code)
get /status -X POST -d x=1 >/dev/null
c2=$(code)
if [ "$c1" = 404 ] && [ "$c2" -ge 400 ]; then
	ok "unknown paths and methods are refused ($c1, $c2)"
else
	not_ok "unknown paths and methods are refused" "$c1 $c2"
fi
big=$(head -c 12000 /dev/zero | tr '\0' a)
get /status -H "X-Big: $big" >/dev/null
c1=$(code)
get /summary.json >/dev/null
c2=$(code)
if [ "$c1" -ge 400 ] && [ "$c1" -lt 500 ] && [ "$c2" = 200 ]; then
	ok "oversized headers are refused ($c1) and ebbd answers on"
else
	not_ok "oversized headers are refused" "$c1 $c2"
fi

# 20-25: headless Chromium draws the charts
if command -v chromium >/dev/null 2>&1; then
	sleep 3		# a few history samples to chart
	chrome() {
		timeout 60 chromium --headless --no-sandbox --disable-gpu \
		    --disable-quic --no-first-run --disable-background-networking \
		    --disable-component-update --disable-sync \
		    --user-data-dir="$(mktemp -d "$T/chrome.XXXXXX")" \
		    --window-size=1000,1600 "$@" "$URL/" 2>>"$T/chromium.err"
	}
	chrome --virtual-time-budget=3000 --dump-dom >"$T/dom.html"
	chrome --virtual-time-budget=3000 --screenshot="$T/page.png" >/dev/null
	drawn=$(sed -n 's/.*<body[^>]* data-drawn="\([0-9]\)".*/\1/p' "$T/dom.html")
	inkb=$(sed -n 's/.*data-ink-backlog="\([0-9]*\)".*/\1/p' "$T/dom.html")
	inkp=$(sed -n 's/.*data-ink-pressure="\([0-9]*\)".*/\1/p' "$T/dom.html")
	is "$drawn" 2 "Chromium ran the page's script and drew both charts"
	# the legend swatch alone is 56 pixels; a line across the chart (400
	# pixels wide at this window size) adds hundreds more; the window is
	# tall enough for the banner, the timeline and the charts
	if [ "${inkb:-0}" -gt 250 ] && [ "${inkp:-0}" -gt 250 ]; then
		ok "the backlog and pressure lines are on the canvas ($inkb, $inkp px)"
	else
		not_ok "the chart lines are on the canvas" "backlog=$inkb pressure=$inkp"
	fi
	# and in the picture itself, read by our own PNG decoder
	pngb=$(perl "$top_srcdir/tests/integration/png-ink.pl" "$T/page.png" \
	    2f6fb3 2>&1)
	pngp=$(perl "$top_srcdir/tests/integration/png-ink.pl" "$T/page.png" \
	    8e44ad 2>&1)
	if [ "${pngb:-0}" -gt 250 ] 2>/dev/null &&
	    [ "${pngp:-0}" -gt 250 ] 2>/dev/null; then
		ok "the screenshot shows both chart lines ($pngb, $pngp px)"
	else
		not_ok "the screenshot shows both chart lines" \
		    "backlog=$pngb pressure=$pngp" "$(tail -3 "$T/chromium.err")"
	fi
	[ -n "${EBB_SCREENSHOT:-}" ] && cp "$T/page.png" "$EBB_SCREENSHOT"
	# the banner and the timeline, as Chromium rendered them
	ntl=$(sed -n 's/.*data-timeline="\([0-9]*\)".*/\1/p' "$T/dom.html")
	if [ "${ntl:-0}" -ge 2 ] &&
	    grep -q '<h1 id="title">Example &amp; &lt;Mail&gt;: mail delivery status</h1>' "$T/dom.html" &&
	    grep -Eq '<p id="since"[^>]*>Since 20[0-9-]+ [0-9:]+ CES?T\.</p>' "$T/dom.html" &&
	    grep -q 'class="found"><time>' "$T/dom.html" &&
	    grep -q 'Delivery of the backlog is paused by the administrators' "$T/dom.html" &&
	    grep -q 'id="eta">no estimate</b><small id="eta-why"[^>]*>delivery is paused by the administrators<' "$T/dom.html" &&
	    ! grep -q 'parked by ebb' "$T/dom.html"; then
		ok "Chromium shows the banner (title, since, no estimate and why) and the timeline ($ntl entries)"
	else
		not_ok "Chromium shows the banner and the timeline" "entries=$ntl" \
		    "$(grep -o '<h1.*</ol>' "$T/dom.html" | head -c 1500)"
	fi
	# the hostile note is text on the page, never an element
	if grep -qF '&lt;img src=x onerror=alert(1)&gt; Ask your senders &amp; "resend" ]]&gt; ✔' "$T/dom.html" &&
	    ! grep -q '<img' "$T/dom.html"; then
		ok "the note is shown as text: no markup gets into the page"
	else
		not_ok "the note is shown as text" "$(grep -o '<li class="note">.*</li>' "$T/dom.html" | head -c 400)"
	fi
	# the page's script on crafted data: an hour with no samples is a
	# gap (once per line of the backlog chart), the milter's counts
	# make the incoming chart; the live page has no gap
	/usr/bin/python3 -c '
import json, re, sys
page = open(sys.argv[1]).read()
t0 = 1700000000
pts = [[t0 + 10 * i, 0.5, 100 - i, 90 - i, 2.0, 5 * i, 2 * i] for i in range(30)]
pts += [[t0 + 3600 + 10 * i, 0.6, 50, 40, 2.0, 400 + 5 * i, 100 + i] for i in range(30)]
data = {"summary": {"state": "recovering", "words": "w", "waiting": 50, "rate": 2,
        "eta": 25, "eta_words": "a few minutes", "released_total": 5, "time": t0,
        "title": "t", "since": None, "since_local": None, "expired": 0, "advice": ""},
        "history": {"step": 10, "interval": 1, "points": pts, "timeline": []}}
text = json.dumps(data).replace("<", "\\u003c")
page, n = re.subn(r"(<script id=\"data\" type=\"application/json\">).*?(</script>)",
                  lambda m: m.group(1) + text + m.group(2), page, count=1, flags=re.S)
assert n == 1
open(sys.argv[2], "w").write(page)' "$T/page.html" "$T/gap.html" ||
	    diag "cannot craft the gap page"
	timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run \
	    --user-data-dir="$(mktemp -d "$T/chrome.XXXXXX")" \
	    --window-size=1000,1600 --virtual-time-budget=3000 --dump-dom \
	    "file://$T/gap.html" >"$T/gapdom.html" 2>>"$T/chromium.err"
	gaps=$(sed -n 's/.*data-gaps="\([0-9]*\)".*/\1/p' "$T/gapdom.html")
	inki=$(sed -n 's/.*data-ink-incoming="\([0-9]*\)".*/\1/p' "$T/gapdom.html")
	live=$(sed -n 's/.*data-gaps="\([0-9]*\)".*/\1/p' "$T/dom.html")
	if [ "$gaps" = 2 ] && [ "$live" = 0 ] && [ "${inki:-0}" -gt 100 ]; then
		ok "a stretch without samples is a gap; incoming mail is charted ($inki px)"
	else
		not_ok "gaps and the incoming chart" "gaps=$gaps live=$live incoming=$inki"
	fi
else
	skip "Chromium draws the charts" "no chromium (apt-get install chromium)"
	skip "the chart lines are on the canvas" "no chromium"
	skip "the screenshot shows both chart lines" "no chromium"
	skip "Chromium shows the banner and the timeline" "no chromium"
	skip "the note is shown as text" "no chromium"
	skip "gaps and the incoming chart" "no chromium"
fi

# 26-27: no growth in the unprivileged process: fds and RSS after 10,000
# control requests (on 1,000 connections) and 2,000 HTTP requests
child_pid() {
	_ppid=$(cat "$T/ebbd.pid")
	for _s in /proc/[0-9]*/status; do
		if grep -q "^PPid:[[:space:]]*$_ppid\$" "$_s" 2>/dev/null &&
		    grep -q "^Uid:[[:space:]]*$(id -u ebb)[[:space:]]" "$_s"; then
			_d=${_s%/status}
			echo "${_d#/proc/}"
			return 0
		fi
	done
	return 1
}
rss() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"
}
hammer() {
	perl -MIO::Socket::UNIX -e '
		$SIG{PIPE} = "IGNORE";
		my ($path, $conns, $per) = @ARGV;
		for my $c (1 .. $conns) {
			my $s = IO::Socket::UNIX->new(Peer => $path) or
			    die "connect: $!\n";
			for (1 .. $per) {
				print $s "{\"command\":\"status\"}\n";
				my $a = <$s>;
				die "no answer\n" unless defined $a &&
				    $a =~ /"ok":true/;
			}
			close $s;
		}' "$EBBD_SOCK" "$@"
}
hammer_http() {
	perl -MHTTP::Tiny -e '
		my ($url, $n) = @ARGV;
		for (1 .. $n) {
			my $r = HTTP::Tiny->new(keep_alive => 0)->get($url .
			    ($_ % 2 ? "/metrics" : "/"));
			die "$r->{status}\n" unless $r->{success};
		}' "$URL" "$1"
}
CHILD=$(child_pid)
if [ -n "$CHILD" ]; then
	hammer 100 10 && hammer_http 200 || diag "warm-up failed"
	fd0=$(ls "/proc/$CHILD/fd" | wc -l)
	rss0=$(rss "$CHILD")
	if hammer 1000 10 && hammer_http 2000; then
		# the last connections may still be closing: a leak stays
		wait_for 5 sh -c "[ \$(ls /proc/$CHILD/fd | wc -l) -le $fd0 ]"
		fd1=$(ls "/proc/$CHILD/fd" | wc -l)
		rss1=$(rss "$CHILD")
		is "$fd1" "$fd0" "no fd growth over 10,000 control and 2,000 HTTP requests"
		if [ $((rss1 - rss0)) -le 1024 ]; then
			ok "no memory growth (RSS $rss0 -> $rss1 kB)"
		else
			not_ok "no memory growth" "RSS $rss0 -> $rss1 kB"
		fi
	else
		not_ok "10,000 control requests answered"
		skip "no memory growth" "the requests failed"
	fi
else
	not_ok "found the unprivileged process" "$(ps -ef | grep ebbd)"
	skip "no memory growth" "no child"
fi

# 28: IPv6, and the default allow (loopback, ::1 included)
bg_stop ebbd
if grep -qs '^0*1 ' /proc/net/if_inet6; then
	HPORT=$(free_port)
	ebbd_config '[http]' "listen = [::1]:$HPORT"
	ebbd_start ebbd3 || bail_out "ebbd did not start on [::1]"
	URL="http://[::1]:$HPORT"
	wait_for 10 curl -gsf -o /dev/null "$URL/summary.json"
	get /metrics -g >"$T/metrics6.txt"
	if [ "$(code)" = 200 ] && grep -q '^ebb_parked ' "$T/metrics6.txt"; then
		ok "IPv6: /metrics on [::1] for the default allow"
	else
		not_ok "IPv6: /metrics on [::1]" "$(code)" "$(tail -5 "$T/ebbd3.out")"
	fi
	bg_stop ebbd3
else
	skip "IPv6: /metrics on [::1]" "no IPv6 loopback"
fi

# 29-31: TLS, the key readable by root only (read before dropping)
if command -v openssl >/dev/null 2>&1; then
	bg_stop ebbd
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	    -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 ||
	    bail_out "openssl req failed"
	chmod 600 "$T/key.pem"
	HPORT=$(free_port)
	URL=https://127.0.0.1:$HPORT
	ebbd_config '[http]' "listen = 127.0.0.1:$HPORT" \
	    "certificate = $T/cert.pem" "key = $T/key.pem"
	ebbd_start ebbd2 || bail_out "ebbd did not start with TLS"
	wait_for 10 curl -skf -o /dev/null "$URL/summary.json"
	get /metrics --cacert "$T/cert.pem" --resolve "localhost:$HPORT:127.0.0.1" \
	    >/dev/null
	URL=https://localhost:$HPORT
	get /metrics --cacert "$T/cert.pem" \
	    --resolve "localhost:$HPORT:127.0.0.1" >"$T/tls-metrics.txt"
	if [ "$(code)" = 200 ] && grep -q '^ebb_parked ' "$T/tls-metrics.txt"; then
		ok "TLS: /metrics over https with the configured certificate"
	else
		not_ok "TLS: /metrics over https" "$(code)" "$(tail -5 "$T/ebbd2.out")"
	fi
	URL=http://127.0.0.1:$HPORT
	get /summary.json >/dev/null
	if [ "$(code)" != 200 ]; then
		ok "TLS: plain HTTP gets nothing"
	else
		not_ok "TLS: plain HTTP gets nothing"
	fi
	bg_stop ebbd2
	ebbd_config '[http]' "listen = 127.0.0.1:$HPORT" "certificate = $T/cert.pem"
	"$EBBD" -f -c "$EBB_CONF" >"$T/half.out" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -Eq 'certificate.*(without key|go together)' "$T/half.out"; then
		ok "TLS: a certificate without a key is refused at start"
	else
		not_ok "TLS: a certificate without a key is refused" "rc=$rc" "$(cat "$T/half.out")"
	fi
else
	skip "TLS: /metrics over https" "no openssl command"
	skip "TLS: plain HTTP gets nothing" "no openssl command"
	skip "TLS: a certificate without a key is refused" "no openssl command"
fi
