#!/bin/sh
# sendmail-scan.sh - ebb's scan of a real Sendmail queue agrees with
# "sendmail -bp" (and "-bp -qQ" for quarantined mail): the same ids,
# senders and recipients, multi-recipient mail, a partly delivered
# message, the null sender, the defer reason (M), the queue by quarantine
# reason (ebb's or the admin's), deadlines by timeout class; then corrupt
# and truncated control files are skipped, counted and logged, a tf file
# is ignored, and the valid messages still list; last, a .cf whose
# QueueDirectory ends in "*", a queue group's Path= and qf/ df/
# subdirectories: every control file in them is found, also by the
# scanner process of a drain run as root; and a queue big enough to be
# read by two threads lists the same as by one
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/sendmail-lib.sh"
require_sendmail
require_cmd jq perl smtp-sink

tap_plan 21
sm_create
sink_start || bail_out "smtp-sink did not start"
sm_submit 12 || bail_out "submission failed"
sm_send carl@multi.test x@d1.test y@d2.test z@d3.test ||
    bail_out "multi-recipient submission failed"
sm_send "" bounce@d4.test || bail_out "null sender submission failed"
sm_send dave@senders.test p@d1.test q@sink.test ||
    bail_out "partly delivered submission failed"
SM_HEADERS='Precedence: bulk
' sm_send erin@senders.test bulk@d2.test || bail_out "bulk submission failed"
sm_attempt
N=16
wait_for 10 sm_count_is $N qf || bail_out "expected $N qf, have $(sm_count qf)"
ids=$(sm_ids qf)
ADMIN=$(echo "$ids" | sed -n 1p)
PARKED=$(echo "$ids" | sed -n 2p)
sm_run "-Qvirus scan pending" "-qI$ADMIN" >/dev/null 2>&1
sm_run "-Qebb: parked" "-qI$PARKED" >/dev/null 2>&1
sm_ebb_config

ebbctl --json list >"$T/list.json" 2>"$T/list.err"
is "$?" 0 "list exits 0"

# 2-3: the same ids as sendmail -bp and -bp -qQ
jq -r 'select(.queue == "queue") | .queue_id' "$T/list.json" | sort \
    >"$T/ebb.q"
sm_bp_ids >"$T/bp.q"
if [ "$(wc -l <"$T/bp.q")" -eq $((N - 2)) ] && cmp -s "$T/ebb.q" "$T/bp.q"
then
	ok "queued ids agree with sendmail -bp"
else
	not_ok "queued ids agree with sendmail -bp" "$(diff "$T/ebb.q" "$T/bp.q")"
fi
jq -r 'select(.queue | startswith("quarantine")) | .queue_id' \
    "$T/list.json" | sort >"$T/ebb.h"
sm_bp_ids -qQ >"$T/bp.h"
if [ "$(wc -l <"$T/bp.h")" -eq 2 ] && cmp -s "$T/ebb.h" "$T/bp.h"; then
	ok "quarantined ids agree with sendmail -bp -qQ"
else
	not_ok "quarantined ids agree with sendmail -bp -qQ" \
	    "$(diff "$T/ebb.h" "$T/bp.h")"
fi

# 4: sender and recipients of every message, as -bp prints them
bp_envelopes() {	# "ID SENDER RCPT,RCPT..." per message of -bp ARGS
	sm_run -bp "$@" 2>/dev/null | perl -ne '
		if (/^([0-9A-Za-z]+)[*X-]? +\d+ .{16} (\S+)/) {
			push @ids, $1; $from{$1} = $2 eq "<>" ? "" : $2;
			$cur = $1; next;
		}
		next unless defined $cur;
		next if /^\s*(QUARANTINE:|\(|Total requests)/;
		if (/^\t+\s*(\S+)/) { push @{$to{$cur}}, $1 }
		END { for (@ids) {
			print "$_ <$from{$_}> ", join(",", sort @{$to{$_}}), "\n"
		} }' | sort
}
{ bp_envelopes; bp_envelopes -qQ; } | sort >"$T/bp.env"
jq -r '"\(.queue_id) <\(.sender)> \(.recipients | sort | join(","))"' \
    "$T/list.json" | sort >"$T/ebb.env"
if [ "$(wc -l <"$T/bp.env")" -eq $N ] && cmp -s "$T/ebb.env" "$T/bp.env"
then
	ok "senders and recipients agree with sendmail -bp"
else
	not_ok "senders and recipients agree with sendmail -bp" \
	    "$(diff "$T/ebb.env" "$T/bp.env")"
fi

# 5-8: the cases -bp shows too
jqs() {
	jq -r "$1" "$T/list.json"
}
is "$(jqs 'select(.sender == "carl@multi.test") | .recipients | length')" \
    3 "a message to three recipients has three"
is "$(jqs 'select(.sender == "dave@senders.test") | .recipients | join(",")')" \
    "p@d1.test" "a partly delivered message lists only what is pending"
is "$(jqs 'select(.recipients == ["bounce@d4.test"]) | .sender')" "" \
    "the null sender is empty"
is "$(jqs 'select(.sender == "dave@senders.test") | .delay_reason')" \
    "Deferred: Connection refused by [127.0.0.1]" \
    "the defer reason is Sendmail's M line"

# 9-10: the quarantine's reason decides whose it is
is "$(jqs "select(.queue_id == \"$ADMIN\") | .queue")" "quarantine-admin" \
    "a quarantine with another reason is the admin's"
is "$(jqs "select(.queue_id == \"$PARKED\") | .queue")" "quarantine" \
    "a quarantine with an ebb: reason is ebb's"

# 11-12: deadlines: T + Timeout.queuereturn of the class (.non-urgent 7d)
t_of() {
	sed -n 's/^T//p' "$(sm_file "$1")"
}
id=$(jqs 'select(.sender == "alice@senders.test") | .queue_id' | head -1)
is "$(jqs "select(.queue_id == \"$id\") | .deadline")" \
    "$(( $(t_of "$id") + 5 * 86400 ))" "deadline is T + 5d (normal)"
id=$(jqs 'select(.sender == "erin@senders.test") | .queue_id')
is "$(jqs "select(.queue_id == \"$id\") | .deadline")" \
    "$(( $(t_of "$id") + 7 * 86400 ))" \
    "Precedence: bulk is non-urgent: T + 7d"

# 13-17: corrupt and truncated files, a tf file and a damaged hf
good=$(sm_file "$(echo "$ids" | sed -n 3p)")
head -c 60 "$good" >"$SM_QUEUE/qfCUT0000000001"
printf 'not a control file\n' >"$SM_QUEUE/qfGARBAGE000001"
sed 's/^T.*/Tsoon/' "$good" >"$SM_QUEUE/qfBADTIME000001"
cp "$good" "$SM_QUEUE/tfTEMP000000001"
head -c 40 "$good" >"$SM_QUEUE/hfCUTHF00000001"
ebbctl --json list >"$T/list2.json" 2>"$T/list2.err"
is "$?" 0 "corrupt files: list still exits 0"
is "$(jq -r .queue_id "$T/list2.json" | sort)" \
    "$(jq -r .queue_id "$T/list.json" | sort)" \
    "the valid messages still list, the bad ones do not"
if grep -q "4 queue files skipped" "$T/list2.err"; then
	ok "corrupt files are counted"
else
	not_ok "corrupt files are counted" "$(cat "$T/list2.err")"
fi
missing=
for id in CUT0000000001 GARBAGE000001 BADTIME000001; do
	grep -q "^ebbctl: $id: skipped file=qf$id error=" "$T/list2.err" ||
	    missing="$missing $id"
done
grep -q "^ebbctl: CUTHF00000001: unreadable, kept file=hfCUTHF00000001" \
    "$T/list2.err" || missing="$missing CUTHF00000001"
is "$missing" "" "each bad file is logged by its queue id"
if grep -q TEMP000000001 "$T/list2.err" "$T/list2.json"; then
	not_ok "a tf file is not read" "$(cat "$T/list2.err")"
else
	ok "a tf file is not read"
fi

# 18-19: the layouts a .cf can name: QueueDirectory=.../q* (several
# directories), a queue group's own directory, qf/ and df/ subdirectories
L=$T/layout
mkdir -p "$L/q1" "$L/q2/qf" "$L/q2/df" "$L/grp"
i=0
for id in $(sm_ids qf | head -6); do
	i=$((i + 1))
	case $i in
	1|2) cp "$(sm_file "$id")" "$SM_QUEUE/df$id" "$L/q1/" ;;
	3|4) cp "$(sm_file "$id")" "$L/q2/qf/"
	     cp "$SM_QUEUE/df$id" "$L/q2/df/" ;;
	*) cp "$(sm_file "$id")" "$SM_QUEUE/df$id" "$L/grp/" ;;
	esac
done
sed -e "s|^O QueueDirectory=.*|O QueueDirectory=$L/q*|" "$SM_CF" >"$L/layout.cf"
printf 'Qgrp, Path=%s/grp, Flags=f\n' "$L" >>"$L/layout.cf"
ebb_config '[general]' 'mta = sendmail' '[sendmail]' \
    "config_file = $L/layout.cf" "sendmail_path = $SM_BIN"
ebbctl --json list >"$T/layout.json" 2>"$T/layout.err"
is "$(jq -r .queue_id "$T/layout.json" | sort)" \
    "$(sm_ids qf | head -6)" \
    "QueueDirectory q*, a queue group and qf/ subdirectories are all read"
is "$(jq -r 'select(.size == 0) | .queue_id' "$T/layout.json")" "" \
    "the size comes from the df file, in df/ too"

# 20: the same layouts read by the scanner process that ebbctl drain,
# run as root, starts (issue 9): uid 0 without capabilities, reading only
# below the directories the .cf names, the parent of "q*" among them. It
# sees all six and parks them; one is released.
"$EBBCTL" -c "$EBB_CONF" drain -v --limit 1 >"$T/layout.drain" 2>&1
if grep -q 'total=6 .*parked=5' "$T/layout.drain"; then
	ok "ebbctl drain as root reads every layout through its scanner"
else
	not_ok "ebbctl drain as root reads every layout through its scanner" \
	    "$(tail -n 5 "$T/layout.drain")"
fi

# 21: a queue big enough for the scan's threads (400 more messages,
# cloned, beside the corrupt files above): read by two threads, it lists
# exactly what one thread lists, and the scan counts the same
sm_clone 400 || bail_out "cloning failed"
for t in 1 2; do
	sm_ebb_config '[general]' "scan_threads = $t"
	rm -f "$T/state/scan-cache"
	EBB_SCAN_STATS=1 ebbctl --json list --limit 1000 2>"$T/threads$t.err" |
	    jq -S -c . | sort >"$T/threads$t.json"
	grep -o 'files [0-9]* parsed [0-9]*' "$T/threads$t.err" \
	    >"$T/threads$t.stats"
done
n=$(wc -l <"$T/threads2.json")
if [ "$n" -ge 400 ] && cmp -s "$T/threads1.json" "$T/threads2.json" &&
    [ -s "$T/threads1.stats" ] &&
    cmp -s "$T/threads1.stats" "$T/threads2.stats"; then
	ok "two scan threads list what one lists ($n messages, $(cat "$T/threads2.stats"))"
else
	not_ok "two scan threads list what one lists" "$n messages" \
	    "$(cat "$T/threads1.stats") / $(cat "$T/threads2.stats")" \
	    "$(diff "$T/threads1.json" "$T/threads2.json" | head -5)"
fi
