#!/bin/sh
# lab-senders.sh - "ebb-lab senders", the inbound flood's remote senders
# over real SMTP, against a private Postfix relaying to smtp-sink: its
# accounting adds up (accepted + lost + pending = the backlog, and the
# event log agrees with the summary), the X-Lab-Ids it counts as accepted
# are exactly the ones Postfix queued and the sink received, each
# message's oldest Received: date is its first-queued time on the
# compressed clock, a sender Postfix answers 5xx loses its mail, one it
# answers 4xx retries on its schedule (Exchange Online's 15 minutes,
# compressed), and a closed port makes every sender retry, never accept.
#
# The clock is compressed 240x so that a few seconds show retries and
# lifetimes running out (the near-deadline messages of Exchange Online,
# Gmail and Exim have at most 2 h / 240 = 30 s left). With 10 senders of
# the "mixed" mix and seed 1, sender 6 is outlook.com (Exchange
# Online, tempfailed here) and sender 7 qmail7.example (rejected).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/labhost-lib.sh"
require_root
require_cmd postfix smtp-sink perl jq

tap_plan 9
EBB_LAB=$top_builddir/ebb-lab
C=240

pf_create
pf_postconf "mynetworks = 127.0.0.0/8 10.0.0.0/8" \
    "smtpd_sender_restrictions = check_sender_access texthash:$PF_CONF/senders"
cat >"$PF_CONF/senders" <<EOF
outlook.com 451 4.7.1 try again later
qmail7.example 550 5.7.1 not from you
EOF
mkdir "$T/sink"
chown postfix "$T/sink"
sink_start -D "$T/sink/dump" -S 'SINK-MESSAGE\n'
pf_relay sink
pf_start || bail_out "postfix did not start"

"$EBB_LAB" senders --connect "127.0.0.1:$PF_PORT" --messages 400 \
    --senders 10 --seed 1 --compress $C --duration 8 --xclient \
    --events "$T/ev.log" >"$T/summary" 2>"$T/senders.err"
rc=$?

# 1: it ran and logged its start and end
if [ "$rc" -eq 0 ] && [ "$(jq -r 'select(.event == "start") | .messages' \
    "$T/ev.log")" = 400 ] && grep -q '"event":"end"' "$T/ev.log"; then
	ok "ebb-lab senders ran and logged its start and end"
else
	not_ok "ebb-lab senders ran" "exit $rc" "$(cat "$T/senders.err")"
fi

# 2: the summary adds up, and the event log agrees with it
end() {
	jq -r "select(.event == \"end\") | .$1" "$T/ev.log"
}
ev() {
	jq -r "select(.event == \"$1\") | .lab_id" "$T/ev.log" | sort -u |
	    wc -l | tr -d ' '
}
A=$(end accepted) L=$(end lost) P=$(end pending)
if [ $((A + L + P)) -eq 400 ] && [ "$(ev accepted)" -eq "$A" ] &&
    [ "$(ev lost)" -eq "$L" ] && [ "$A" -gt 0 ] && [ "$L" -gt 0 ] &&
    grep -qx "accepted=$A" "$T/summary"; then
	ok "accepted $A + lost $L + pending $P = 400, as the events say"
else
	not_ok "the accounting adds up" "accepted=$A lost=$L pending=$P" \
	    "events: $(ev accepted) accepted, $(ev lost) lost"
fi

# 3: what it counts as accepted is what Postfix queued (cleanup's
# message-id lines, <ID@lab.test>), and under the queue ids it logged
wait_for 20 sh -c "[ \"\$(grep -c '^SINK-MESSAGE' '$T/sink/dump' \
    2>/dev/null)\" -ge $A ]"
jq -r 'select(.event == "accepted") | "\(.lab_id) \(.queue_id)"' \
    "$T/ev.log" | sort >"$T/accepted"
lab_qids | sort -u >"$T/queued"
if [ -s "$T/accepted" ] && cmp -s "$T/accepted" "$T/queued"; then
	ok "the $A messages accepted are the ones Postfix queued"
else
	not_ok "accepted = queued" "$(diff "$T/accepted" "$T/queued" |
	    head -5)"
fi

# 4: ... and the ones the sink received, each once
grep '^X-Lab-Id: ' "$T/sink/dump" | tr -d '\r' | cut -d' ' -f2 | sort \
    >"$T/sunk"
if [ "$(cut -d' ' -f1 "$T/accepted")" = "$(cat "$T/sunk")" ]; then
	ok "the sink received each accepted message once"
else
	not_ok "sink = accepted" "$(cut -d' ' -f1 "$T/accepted" |
	    diff - "$T/sunk" | head -5)"
fi

# 5: the oldest Received: date of each message is its first-queued time
# (now - age / C), to the second
jq -r 'select(.event == "accepted") | "\(.lab_id) \(.first_queued)"' \
    "$T/ev.log" >"$T/firstq"
bad=$(perl -MTime::Local -e '
	my %mon; @mon{qw(Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec)} =
	    0..11;
	open(my $f, "<", $ARGV[0]) or die;
	my %fq = map { split } <$f>;
	local $/ = "SINK-MESSAGE\n";
	open(my $d, "<", $ARGV[1]) or die;
	my ($bad, $n) = (0, 0);
	while (my $m = <$d>) {
		$m =~ s/\r//g;
		my ($id) = $m =~ /^X-Lab-Id: (\S+)/m or next;
		$m =~ s/\n[ \t]+/ /g;
		my $old;
		while ($m =~ /^Received: .*; \w{3}, (\d+) (\w{3}) (\d{4}) (\d\d):(\d\d):(\d\d) ([+-]\d{4})/mg) {
			my $t = timegm($6, $5, $4, $1, $mon{$2}, $3);
			$old = $t if !defined $old || $t < $old;
		}
		$n++;
		$bad++ unless defined $old && exists $fq{$id} &&
		    abs($old - int($fq{$id})) <= 1;
	}
	print $n ? $bad : "none";
' "$T/firstq" "$T/sink/dump")
if [ "$bad" = 0 ]; then
	ok "each message's oldest Received: is its compressed first-queued time"
else
	not_ok "Received: dates" "$bad messages with a wrong date"
fi

# 6: the sender answered 5xx loses its mail, and only that way
rej=$(jq -r 'select(.event == "lost" and .reason == "rejected") |
    .domain' "$T/ev.log" | sort | uniq -c | awk '{ print $2 "=" $1 }')
acc7=$(jq -r 'select(.event == "accepted" and .domain ==
    "qmail7.example") | .lab_id' "$T/ev.log" | wc -l)
if [ "$acc7" -eq 0 ] && [ "${rej%%=*}" = qmail7.example ] &&
    [ "$(echo "$rej" | wc -l)" -eq 1 ] &&
    [ "${rej#*=}" -eq "$(end rejected)" ]; then
	ok "5xx loses the mail: $rej"
else
	not_ok "5xx loses the mail" "rejected: $rej" "accepted: $acc7"
fi

# 7: the sender answered 4xx retries, never sooner than Exchange
# Online's 15 minutes (900 s / C = 3.75 s) after a refusal
gap=$(jq -r 'select(.event == "refused" and .domain ==
    "outlook.com") | "\(.lab_id) \(.wall)"' "$T/ev.log" | awk '
	{ if ($1 in last) { g = $2 - last[$1]; if (min == "" || g < min)
	    min = g; n++ } last[$1] = $2 }
	END { printf "%d %.3f\n", n, min == "" ? 0 : min }')
if [ "${gap%% *}" -gt 0 ] &&
    awk -v g="${gap#* }" 'BEGIN { exit !(g >= 3.7) }' &&
    [ "$(jq -r 'select(.event == "accepted" and .domain ==
    "outlook.com") | .lab_id' "$T/ev.log" | wc -l)" -eq 0 ]; then
	ok "4xx puts the mail back on its schedule: ${gap%% *} retries, the shortest ${gap#* } s after the refusal"
else
	not_ok "4xx retries on schedule" "retries, shortest gap: $gap"
fi

# 8-9: a closed port: nothing accepted, every sender retries
"$EBB_LAB" senders --connect "127.0.0.1:$PF_CLOSED_PORT" --messages 100 \
    --senders 5 --compress $C --duration 3 --events "$T/closed.log" \
    >"$T/closed" 2>&1
cf=$(sed -n 's/^connect_failed=//p' "$T/closed")
cl=$(sed -n 's/^lost=//p' "$T/closed")
cp=$(sed -n 's/^pending=//p' "$T/closed")
is "$(sed -n 's/^accepted=//p' "$T/closed")" 0 \
    "a closed port accepts nothing"
if [ "${cf:-0}" -gt 5 ] && [ $((cl + cp)) -eq 100 ]; then
	ok "refused connections are retried ($cf failed; $cl lost, $cp pending)"
else
	not_ok "refused connections are retried" "$(cat "$T/closed")"
fi
