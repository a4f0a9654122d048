# lib.sh - shared harness of ebb's integration tests (sourced, POSIX sh)
#
# A test script sources this file, calls tap_plan, builds what it needs in
# the private temporary directory $T, and prints TAP through the helpers
# below. Everything lives under $T (mktemp -d): a private Postfix instance
# on 127.0.0.1 (main.cf, master.cf with the chroot column "n", a closed
# relayhost so all mail defers, postlogd writing $PF_DIR/maillog), a fake
# idle /proc and /sys for ebb's sensors, ebb's state directory and config.
# An EXIT trap stops Postfix, the sink and any helper started with bg_start,
# and removes $T, also when the test fails (EBB_KEEP_TMP=1 keeps $T).
#
# Nothing is written into the source or build tree; the build tree is
# found through $top_builddir (exported by make check).
#
#   TAP        tap_plan N, ok NAME, not_ok NAME [DIAG...], check NAME CMD...,
#              is GOT WANT NAME, skip NAME WHY, diag MSG..., skip_all WHY,
#              bail_out WHY
#   setup      require_root, require_cmd CMD..., free_port, wait_for SECS CMD...
#   Postfix    pf_create [--milter PORT], pf_start, pf_stop, pf_reload,
#              pf_postconf KEY=VALUE..., pf_submit N [OPTS], pf_sendmail ...,
#              pf_count [QUEUE...], pf_wait_count N SECS [QUEUE...],
#              pf_ids [QUEUE...], pf_file ID, pf_age ID SECONDS_OLD,
#              pf_flush, smtp_try FROM AGE
#   sink       sink_start [SMTP-SINK-OPTS], sink_stop, pf_relay sink|closed
#   ebb        fake_proc [DIR], ebb_config [LINE...], ebbctl ARGS...
#   helpers    bg_start NAME CMD..., bg_stop NAME

set -u

: "${top_builddir:=$(pwd)}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
EBBCTL=$top_builddir/ebbctl
# shellcheck disable=SC2034	# for the tests that start ebbd
EBBD=$top_builddir/ebbd

# postfix tools live here on Debian; the tests never use the system instance
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export PATH

# ---------------------------------------------------------------------------
# TAP

tap_n=0
tap_failed=0

# tap_plan - print the plan line; call once, before the first test
tap_plan() {
	echo "1..$1"
}

# ok - a passed test
ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1"
}

# not_ok - a failed test; the remaining arguments are printed as diagnostics
not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $1"
	shift
	for l in "$@"; do
		printf '%s\n' "$l" | sed 's/^/#   /'
	done
}

# check - run CMD; ok when it exits 0, else not ok with its output
check() {
	_name=$1
	shift
	if _out=$("$@" 2>&1); then
		ok "$_name"
	else
		not_ok "$_name" "command failed (exit $?): $*" "$_out"
	fi
}

# is - ok when GOT equals WANT (strings)
is() {
	if [ "$1" = "$2" ]; then
		ok "$3"
	else
		not_ok "$3" "got:  $1" "want: $2"
	fi
}

# skip - a test that cannot run here
skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}

diag() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

# skip_all - nothing in this script can run here: plan 0 and exit
skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

bail_out() {
	echo "Bail out! $1"
	exit 1
}

# ---------------------------------------------------------------------------
# setup

require_root() {
	[ "$(id -u)" -eq 0 ] || skip_all "needs root (a private Postfix)"
	require_cmd postfix postconf postqueue postsuper
}

require_cmd() {
	for _c in "$@"; do
		command -v "$_c" >/dev/null 2>&1 || skip_all "$_c not installed"
	done
}

# port_in_use - true when something listens on (or holds) TCP port $1
port_in_use() {
	_hex=$(printf '%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '{print $2}' |
	    grep -q ":$_hex\$"
}

# free_port - print an unused TCP port from 20000-59999, never the same
# twice in one test (called as $(free_port), so the ports handed out are
# remembered in $T/ports, not in a variable)
free_port() {
	for _i in $(seq 1 200); do
		_p=$(( $(od -An -N2 -tu2 /dev/urandom) % 40000 + 20000 ))
		grep -qx "$_p" "$T/ports" 2>/dev/null && continue
		if ! port_in_use "$_p"; then
			echo "$_p" >>"$T/ports"
			echo "$_p"
			return 0
		fi
	done
	bail_out "no free TCP port found"
}

# wait_for - retry CMD every 0.1 s until it succeeds or SECS pass
wait_for() {
	_limit=$(( $1 * 10 ))
	shift
	_i=0
	while ! "$@" >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ "$_i" -ge "$_limit" ] && return 1
		sleep 0.1
	done
	return 0
}

# bg_start - run CMD in the background, its pid kept for bg_stop and the trap
bg_start() {
	_bgname=$1
	shift
	"$@" >"$T/$_bgname.out" 2>&1 &
	echo $! >"$T/$_bgname.pid"
}

bg_stop() {
	_sig=${2:-TERM}
	[ -f "$T/$1.pid" ] || return 0
	_pid=$(cat "$T/$1.pid")
	rm -f "$T/$1.pid"
	kill -"$_sig" "$_pid" 2>/dev/null || return 0
	for _i in $(seq 1 50); do
		kill -0 "$_pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$_pid" 2>/dev/null
	return 0
}

# cleanup - the EXIT trap: stop everything this test started, remove $T
cleanup() {
	_rc=$?
	trap - EXIT INT TERM
	if [ -n "${PF_DIR:-}" ] && [ -f "$PF_DIR/started" ]; then
		pf_stop >/dev/null 2>&1
	fi
	for _f in "$T"/*.pid; do
		[ -f "$_f" ] && bg_stop "$(basename "$_f" .pid)"
	done
	if [ "${EBB_KEEP_TMP:-0}" = 1 ]; then
		echo "# kept $T" >&2
	else
		rm -rf "$T"
	fi
	exit "$_rc"
}

T=$(mktemp -d "${TMPDIR:-/tmp}/ebb-test.XXXXXX") || bail_out "mktemp failed"
chmod 755 "$T"
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# Postfix

# pf_create - write a private instance under $T/pf; sets PF_DIR (base),
# PF_CONF (config_directory), PF_SPOOL (queue_directory), PF_PORT (smtpd),
# PF_SINK_PORT (smtp-sink, when started) and PF_CLOSED_PORT (the relayhost
# nobody listens on). Mail to *.sink.test always goes to the sink port, so a
# message to a sink.test and another domain is delivered partly (D records).
# --milter PORT adds an smtpd milter at inet:127.0.0.1:PORT (fails open).
pf_create() {
	_milter=
	while [ $# -gt 0 ]; do
		case $1 in
		--milter) _milter=$2; shift 2 ;;
		*) bail_out "pf_create: unknown option $1" ;;
		esac
	done
	PF_DIR=$T/pf
	PF_CONF=$PF_DIR/etc
	PF_SPOOL=$PF_DIR/spool
	PF_PORT=$(free_port)
	PF_SINK_PORT=$(free_port)
	PF_CLOSED_PORT=$(free_port)
	mkdir -p "$PF_CONF" "$PF_SPOOL" "$PF_DIR/data"
	chown postfix "$PF_DIR/data"
	touch "$PF_DIR/maillog"
	chown postfix "$PF_DIR/maillog"
	cat >"$PF_CONF/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $PF_SPOOL
data_directory = $PF_DIR/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
mail_owner = postfix
setgid_group = postdrop
maillog_file = $PF_DIR/maillog
maillog_file_prefixes = $PF_DIR
myhostname = test.localdomain
mydomain = localdomain
myorigin = test.localdomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_authorized_xclient_hosts = 127.0.0.1
relayhost = [127.0.0.1]:$PF_CLOSED_PORT
transport_maps = texthash:$PF_CONF/transport
smtp_dns_support_level = disabled
alias_maps =
alias_database =
local_recipient_maps =
biff = no
delay_warning_time = 0
EOF
	echo "sink.test smtp:[127.0.0.1]:$PF_SINK_PORT" >"$PF_CONF/transport"
	if [ -n "$_milter" ]; then
		cat >>"$PF_CONF/main.cf" <<EOF
smtpd_milters = inet:127.0.0.1:$_milter
milter_default_action = accept
milter_protocol = 6
EOF
	fi
	cat >"$PF_CONF/master.cf" <<EOF
127.0.0.1:$PF_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	postfix -c "$PF_CONF" check >"$T/pf-check.out" 2>&1 ||
	    bail_out "postfix check failed: $(cat "$T/pf-check.out")"
}

# pf_start - start the instance and wait until smtpd answers
pf_start() {
	touch "$PF_DIR/started"		# first: the trap stops a half start
	postfix -c "$PF_CONF" start >"$T/pf-start.out" 2>&1 || {
		diag "postfix start failed: $(cat "$T/pf-start.out")" \
		    "$(tail -5 "$PF_DIR/maillog")"
		return 1
	}
	wait_for 10 port_in_use "$PF_PORT" || {
		diag "smtpd did not listen on $PF_PORT"
		return 1
	}
}

# pf_master_pid - the running master's pid, or nothing
pf_master_pid() {
	_pidf=$PF_SPOOL/pid/master.pid
	[ -f "$_pidf" ] || return 1
	_mp=$(tr -d ' \n' <"$_pidf")
	[ -n "$_mp" ] && kill -0 "$_mp" 2>/dev/null && echo "$_mp"
}

# pf_stop - stop the instance and wait until the master is gone
pf_stop() {
	_mp=$(pf_master_pid) || { rm -f "$PF_DIR/started"; return 0; }
	postfix -c "$PF_CONF" stop >/dev/null 2>&1
	for _i in $(seq 1 100); do
		kill -0 "$_mp" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$_mp" 2>/dev/null && kill -9 "$_mp" 2>/dev/null
	rm -f "$PF_DIR/started"
	return 0
}

pf_reload() {
	postfix -c "$PF_CONF" reload >/dev/null 2>&1
}

# pf_postconf - set main.cf parameters (postconf -e); reload to apply
pf_postconf() {
	postconf -c "$PF_CONF" -e "$@"
}

# pf_submit - send N messages over SMTP with smtp-source, fast
#   -f FROM   sender (default: rotate over three senders)
#   -t TO     recipient (default: rotate over four domains)
#   -r K      K recipients per message (numbered by smtp-source)
#   -l BYTES  message length (default 512)
# Returns once every message was accepted (250 queued).
pf_submit() {
	_n=$1
	shift
	_from='' _to='' _r=1 _l=512
	while [ $# -gt 0 ]; do
		case $1 in
		-f) _from=$2; shift 2 ;;
		-t) _to=$2; shift 2 ;;
		-r) _r=$2; shift 2 ;;
		-l) _l=$2; shift 2 ;;
		*) bail_out "pf_submit: unknown option $1" ;;
		esac
	done
	if [ -n "$_from" ] || [ -n "$_to" ]; then
		smtp-source -s 4 -m "$_n" -r "$_r" -l "$_l" \
		    -f "${_from:-alice@senders.test}" \
		    -t "${_to:-rcpt@d1.test}" "127.0.0.1:$PF_PORT" ||
		    return 1
		return 0
	fi
	# 12 (sender, domain) groups, all in parallel
	_per=$(( _n / 12 ))
	_left=$(( _n % 12 ))
	_g=0
	_pids=
	for _s in alice bob carol; do
		for _d in d1 d2 d3 d4; do
			_m=$_per
			[ "$_g" -lt "$_left" ] && _m=$((_m + 1))
			_g=$((_g + 1))
			[ "$_m" -eq 0 ] && continue
			smtp-source -s 2 -m "$_m" -r "$_r" -l "$_l" \
			    -f "$_s@senders$_g.test" -t "user@$_d.test" \
			    "127.0.0.1:$PF_PORT" &
			_pids="$_pids $!"
		done
	done
	_rc=0
	for _p in $_pids; do
		wait "$_p" || _rc=1
	done
	return $_rc
}

# pf_sendmail - submit one message from stdin through sendmail -C (pickup)
#   pf_sendmail -f SENDER RCPT...
pf_sendmail() {
	sendmail -C "$PF_CONF" "$@"
}

# pf_count - number of complete queue files in the queues (default: all
# four); counts the owner-execute bit like Postfix does
pf_count() {
	[ $# -eq 0 ] && set -- incoming active deferred hold
	_c=0
	for _q in "$@"; do
		[ -d "$PF_SPOOL/$_q" ] || continue
		_k=$(find "$PF_SPOOL/$_q" -type f -perm -u+x | wc -l)
		_c=$((_c + _k))
	done
	echo "$_c"
}

# pf_wait_count - wait up to SECS until pf_count QUEUE... is N
pf_wait_count() {
	_want=$1 _secs=$2
	shift 2
	wait_for "$_secs" pf_count_is "$_want" "$@"
}

pf_count_is() {
	_want=$1
	shift
	[ "$(pf_count "$@")" -eq "$_want" ]
}

# pf_ids - queue ids of complete files in the queues (default: all four)
pf_ids() {
	[ $# -eq 0 ] && set -- incoming active deferred hold
	for _q in "$@"; do
		[ -d "$PF_SPOOL/$_q" ] || continue
		find "$PF_SPOOL/$_q" -type f -perm -u+x -printf '%f\n'
	done | sort
}

# pf_file - path of the queue file of ID (in any queue)
pf_file() {
	find "$PF_SPOOL/incoming" "$PF_SPOOL/active" "$PF_SPOOL/deferred" \
	    "$PF_SPOOL/hold" -type f -name "$1" 2>/dev/null | head -1
}

# pf_age - make message ID look SECONDS_OLD: rewrite the digits of its T
# record and create_time= attribute in place (same length, so the file stays
# valid). Only with the instance stopped, as REFERENCE.md says.
pf_age() {
	_f=$(pf_file "$1")
	[ -n "$_f" ] || { diag "pf_age: no queue file for $1"; return 1; }
	if pf_master_pid >/dev/null; then
		diag "pf_age: stop Postfix first"
		return 1
	fi
	_when=$(( $(date +%s) - $2 ))
	perl -e '
		my ($f, $when) = @ARGV;
		length($when) == 10 or die "$f: cannot write $when in place\n";
		open(my $fh, "+<:raw", $f) or die "$f: $!";
		local $/; my $d = <$fh>;
		my $head = substr($d, 0, 8192);
		my $n = 0;
		# the T record after C: type, one length byte, "sec usec"
		$n++ if $head =~
		    s/^(C.{1,4}?[ 0-9]{95}T[\x00-\x7f])(\d{10}) /$1$when /s;
		$n++ if $head =~ s/(create_time=)(\d{10})/$1$when/;
		$n == 2 or die "$f: T or create_time not found\n";
		substr($d, 0, length($head)) = $head;
		seek($fh, 0, 0); print $fh $d; close($fh) or die "$f: $!";
	' "$_f" "$_when"
}

# pf_flush - ask the queue manager to retry every deferred message now
pf_flush() {
	postqueue -c "$PF_CONF" -f >/dev/null 2>&1
}

# smtp_try FROM AGE - one SMTP session to PF_PORT, a message whose
# Received: is AGE seconds old; prints "mail=CODE" or "mail=CODE data=CODE
# [id=QUEUEID]", and leaves the last reply line (with its enhanced status
# code and text) in $T/smtp.reply. With SMTP_CLIENT=ADDR the session
# claims that client address through XCLIENT (pf_create allows it from
# 127.0.0.1), so Postfix and its milters see ADDR instead of loopback.
# SMTP_RECEIVED, a Perl expression over $date, replaces the Received:
# header's value (for bytes no argument can carry: NUL, 64 KiB).
smtp_try() {
	perl -MIO::Socket::INET -MPOSIX=strftime -e '
		my ($port, $last, $client, $expr, $from, $age) = @ARGV;
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
		    PeerPort => $port, Timeout => 20) or die "connect: $!\n";
		sub reply { my $l; do { $l = <$s>; defined $l or die "eof\n" }
		    while ($l =~ /^\d{3}-/); return $l }
		sub cmd { print $s "$_[0]\r\n"; return reply() }
		sub keep { open(my $f, ">", $last) or die "$last: $!\n";
		    print $f $_[0]; close($f) }
		reply();
		cmd("EHLO client.example");
		if ($client ne "") {
			my $x = cmd("XCLIENT ADDR=$client NAME=[UNAVAILABLE]");
			$x =~ /^220/ or die "XCLIENT: $x";
			cmd("EHLO client.example");
		}
		my $r = cmd("MAIL FROM:<$from>");
		my ($m) = $r =~ /^(\d{3})/;
		if ($m != 250) {
			keep($r); print "mail=$m\n"; cmd("QUIT"); exit 0
		}
		cmd("RCPT TO:<user\@dest.example>");
		cmd("DATA");
		my $date = strftime("%a, %d %b %Y %H:%M:%S +0000",
		    gmtime(time - $age));
		my $rcvd = "from relay.example (relay.example " .
		    "[192.0.2.7]) by mx.example with ESMTP id 4Ab; $date";
		$rcvd = eval($expr) if $expr ne "";
		die "SMTP_RECEIVED: $@" if $@;
		print $s "Received: $rcvd\r\n" .
		    "From: <$from>\r\nSubject: test\r\n\r\nhello\r\n.\r\n";
		$r = reply();
		keep($r);
		my ($d) = $r =~ /^(\d{3})/;
		my ($id) = $r =~ /queued as ([0-9A-Za-z]+)/;
		print "mail=$m data=$d" . (defined $id ? " id=$id" : "") . "\n";
		cmd("QUIT");
	' "$PF_PORT" "$T/smtp.reply" "${SMTP_CLIENT:-}" "${SMTP_RECEIVED:-}" "$@"
}

# ---------------------------------------------------------------------------
# the sink

# sink_start - an smtp-sink on PF_SINK_PORT (extra smtp-sink options allowed)
sink_start() {
	bg_start sink smtp-sink -u postfix "$@" "127.0.0.1:$PF_SINK_PORT" 256
	wait_for 10 port_in_use "$PF_SINK_PORT"
}

sink_stop() {
	bg_stop sink
}

# pf_relay - relayhost to the sink, or back to the closed port; reloads
pf_relay() {
	case $1 in
	sink) pf_postconf "relayhost = [127.0.0.1]:$PF_SINK_PORT" ;;
	closed) pf_postconf "relayhost = [127.0.0.1]:$PF_CLOSED_PORT" ;;
	*) bail_out "pf_relay: sink or closed" ;;
	esac
	if pf_master_pid >/dev/null; then pf_reload; fi
}

# ---------------------------------------------------------------------------
# ebb

# fake_proc - an idle host under DIR (default $T/root): proc/ and sys/ with
# a quiet load average, plenty of memory, calm PSI and no thermal zone
fake_proc() {
	_r=${1:-$T/root}
	mkdir -p "$_r/proc/pressure" "$_r/sys/class/thermal"
	echo "0.01 0.02 0.00 1/120 4242" >"$_r/proc/loadavg"
	cat >"$_r/proc/meminfo" <<EOF
MemTotal:        8000000 kB
MemFree:         6000000 kB
MemAvailable:    7000000 kB
EOF
	for _k in cpu io memory; do
		cat >"$_r/proc/pressure/$_k" <<EOF
some avg10=0.00 avg60=0.00 avg300=0.00 total=0
full avg10=0.00 avg60=0.00 avg300=0.00 total=0
EOF
	done
	: >"$_r/proc/cpuinfo"
	for _i in 0 1 2 3; do
		printf 'processor\t: %s\n\n' "$_i" >>"$_r/proc/cpuinfo"
	done
	cat >"$_r/proc/stat" <<EOF
cpu  100 0 100 10000 0 0 0 0 0 0
cpu0 25 0 25 2500 0 0 0 0 0 0
cpu1 25 0 25 2500 0 0 0 0 0 0
cpu2 25 0 25 2500 0 0 0 0 0 0
cpu3 25 0 25 2500 0 0 0 0 0 0
EOF
}

# ebb_config - write $T/ebb.conf (EBB_CONF): state in $T/state, this test's
# Postfix, the fake /proc and /sys; each extra argument is one more line
# (e.g. '[drain]' 'max_rate = 50'). An extra key replaces the base key of
# the same section and name (ebb.conf refuses a key set twice).
ebb_config() {
	EBB_CONF=$T/ebb.conf
	mkdir -p "$T/state"
	[ -d "$T/root/proc" ] || fake_proc "$T/root"
	: >"$T/ebb.extra"
	for _l in "$@"; do
		printf '%s\n' "$_l" >>"$T/ebb.extra"
	done
	awk '
	function key(line,   k) {
		k = line
		sub(/[ \t]*=.*/, "", k)
		gsub(/^[ \t]+/, "", k)
		return k
	}
	FNR == NR {
		if ($0 ~ /^\[/) sec = $0
		else if ($0 ~ /=/) over[sec SUBSEP key($0)] = 1
		extra[++n] = $0
		next
	}
	{
		if ($0 ~ /^\[/) sec = $0
		else if ((sec SUBSEP key($0)) in over) next
		print
	}
	END { for (i = 1; i <= n; i++) print extra[i] }
	' "$T/ebb.extra" - >"$EBB_CONF" <<EOF
[general]
mta = postfix
state_directory = $T/state
[postfix]
config_directory = ${PF_CONF:-/etc/postfix}
[sensors]
proc_root = $T/root
sys_root = $T/root
EOF
}

# ebbctl - the built ebbctl with this test's config
ebbctl() {
	"$EBBCTL" -c "$EBB_CONF" "$@"
}
