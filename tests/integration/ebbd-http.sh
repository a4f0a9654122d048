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
# that freed memory is not held back and counted as growth).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
require_root
require_cmd postfix smtp-source smtp-sink jq perl useradd curl

tap_plan 23
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
    '[milter]' 'enable = yes' "socket = inet:$MPORT@127.0.0.1"
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

# 4-7: /metrics: Prometheus text, every family, values agree
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
    ebb_milter_decision_seconds_count; do
	grep -qF "$f " "$T/metrics.txt" || missing="$missing $f"
done
is "$missing" "" "/metrics has every family ebbd(8) lists"
is "$(sed -n 's/^ebb_parked //p' "$T/metrics.txt")" "$N" \
    "ebb_parked agrees with the status"

# 8-10: [http] allow: 127.0.0.2 is loopback but not allowed
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

# 11-13: the page is self-contained; bad requests are refused, ebbd lives
curl -sI --max-time 10 "$URL/" >"$T/page.head" 2>/dev/null
if grep -q '<canvas id="backlog">' "$T/page.html" &&
    ! grep -Eq '(src|href)=|https?://' "$T/page.html" &&
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

# 14-16: headless Chromium draws the charts
if command -v chromium >/dev/null 2>&1; then
	sleep 3		# a few history samples to chart
	chrome() {
		timeout 60 chromium --headless --no-sandbox --disable-gpu \
		    --disable-quic --no-first-run --disable-background-networking \
		    --disable-component-update --disable-sync \
		    --user-data-dir="$(mktemp -d "$T/chrome.XXXXXX")" \
		    --window-size=1000,700 "$@" "$URL/" 2>>"$T/chromium.err"
	}
	chrome --virtual-time-budget=3000 --dump-dom >"$T/dom.html"
	chrome --virtual-time-budget=3000 --screenshot="$T/page.png" >/dev/null
	drawn=$(sed -n 's/.*<body[^>]* data-drawn="\([0-9]\)".*/\1/p' "$T/dom.html")
	inkb=$(sed -n 's/.*data-ink-backlog="\([0-9]*\)".*/\1/p' "$T/dom.html")
	inkp=$(sed -n 's/.*data-ink-pressure="\([0-9]*\)".*/\1/p' "$T/dom.html")
	is "$drawn" 2 "Chromium ran the page's script and drew both charts"
	# the legend swatch alone is 56 pixels; a line across the chart (400
	# pixels wide at this window size) adds hundreds more
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
else
	skip "Chromium draws the charts" "no chromium (apt-get install chromium)"
	skip "the chart lines are on the canvas" "no chromium"
	skip "the screenshot shows both chart lines" "no chromium"
fi

# 17-18: no growth in the unprivileged process: fds and RSS after 10,000
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

# 19: IPv6, and the default allow (loopback, ::1 included)
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

# 20-22: TLS, the key readable by root only (read before dropping)
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
