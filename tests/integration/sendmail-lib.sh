# sendmail-lib.sh - a private Sendmail for the integration tests (sourced
# after lib.sh)
#
# Debian's sendmail packages conflict with postfix, so Sendmail is never
# installed: the .debs of sendmail-bin, sendmail-base, sendmail-cf and
# libwrap0 are unpacked (dpkg -x) under $T/sm, a .cf is built with m4, and
# every call runs "sendmail -C $SM_CF" through a wrapper ($SM_BIN) in a
# mount and UTS namespace of its own: a qualified host name and private
# /etc/hosts, nsswitch.conf and resolv.conf, so Sendmail neither sleeps
# 60 s on an unqualified name nor sends a DNS query out (REFERENCE.md).
# The .debs come from $EBB_SENDMAIL_DEBS (default /var/cache/ebb-test/
# sendmail, which "./quickstart test" fills with apt-get download); without
# them, or without root, unshare or m4, the test is skipped, never passed.
#
# Mail goes to the relay [127.0.0.1]:SM_RELAY_PORT, closed (so everything
# defers) until sm_relay sink points it at the sink (lib.sh's sink_start,
# on SM_SINK_PORT); mail to *.sink.test always goes to the sink, so a
# message to a sink.test and another domain is delivered partly. No daemon
# runs unless sm_start starts one (SMTP on SM_PORT); "sendmail -q" runs are
# started by the tests and by ebb.
#
#   setup      require_sendmail, sm_create [--milter PORT], sm_relay sink|closed
#   daemon     sm_start, sm_stop
#   mail       sm_submit N [-f FROM] [-t TO] [-r K], sm_send FROM RCPT...,
#              sm_run ARGS... (sendmail -C CF ARGS), sm_attempt (one queue
#              run, in the foreground)
#   queue      sm_ids [qf|hf], sm_count [qf|hf], sm_file ID, sm_reason ID,
#              sm_age_all SPREAD, sm_bp_ids [-qQ], sm_clone N
#   ebb        sm_ebb_config [LINE...] (ebb_config for mta = sendmail)

SM_DEBS=${EBB_SENDMAIL_DEBS:-/var/cache/ebb-test/sendmail}

# require_sendmail - skip the whole test unless a private Sendmail can run
require_sendmail() {
	[ "$(id -u)" -eq 0 ] || skip_all "needs root (a private Sendmail)"
	require_cmd unshare m4 dpkg-deb hostname mount
	for _p in sendmail-bin sendmail-base sendmail-cf libwrap0; do
		ls "$SM_DEBS"/${_p}_*.deb >/dev/null 2>&1 ||
		    skip_all "no $_p .deb in $SM_DEBS (set EBB_SENDMAIL_DEBS; ./quickstart test downloads them)"
	done
	unshare --mount --uts true 2>/dev/null ||
	    skip_all "unshare --mount --uts is not allowed here"
}

# sm_mc - write $SM_DIR/test.mc for relay port $1
sm_mc() {
	cat >"$SM_DIR/test.mc" <<EOF
divert(-1)
divert(0)dnl
OSTYPE(\`linux')dnl
define(\`confCF_VERSION', \`ebbtest')dnl
define(\`confDOMAIN_NAME', \`test.localdomain')dnl
define(\`QUEUE_DIR', \`$SM_QUEUE')dnl
define(\`confPID_FILE', \`$SM_DIR/sendmail.pid')dnl
define(\`STATUS_FILE', \`$SM_DIR/statistics')dnl
define(\`HELP_FILE', \`$SM_DIR/helpfile')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`confSERVICE_SWITCH_FILE', \`$SM_DIR/etc/service.switch')dnl
define(\`confHOSTS_FILE', \`$SM_DIR/etc/hosts')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confQUEUE_LA', \`1000')dnl
define(\`confREFUSE_LA', \`1000')dnl
define(\`confTO_QUEUEWARN', \`30d')dnl
define(\`confTO_QUEUERETURN_NONURGENT', \`7d')dnl
define(\`confTO_CONNECT', \`10s')dnl
define(\`confTO_INITIAL', \`10s')dnl
define(\`confDONT_BLAME_SENDMAIL', \`GroupWritableDirPathSafe')dnl
define(\`SMART_HOST', \`relay:[127.0.0.1]')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $1')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $SM_SINK_PORT')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
DAEMON_OPTIONS(\`Family=inet, Name=MTA, Addr=127.0.0.1, Port=$SM_PORT')dnl
EOF
	# the milter as contrib/sendmail.mc.snippet hooks it in, on our port
	if [ -n "$SM_MILTER" ]; then
		sed "s/inet:8891@127\.0\.0\.1/inet:$SM_MILTER@127.0.0.1/g" \
		    "$top_srcdir/contrib/sendmail.mc.snippet" >>"$SM_DIR/test.mc"
	fi
	# *.sink.test goes to the sink, whatever the relay is
	printf '%s\n' 'MAILER(`smtp'"'"')dnl' 'LOCAL_RULE_0' \
	    "R\$* < @ \$* sink.test \$* > \$*	\$#esmtp \$@ [127.0.0.1] \$: \$1 < @ \$2 sink.test \$3 > \$4" \
	    >>"$SM_DIR/test.mc"
	m4 -D_CF_DIR_="$SM_ROOT/usr/share/sendmail/cf/" \
	    "$SM_ROOT/usr/share/sendmail/cf/m4/cf.m4" "$SM_DIR/test.mc" \
	    >"$SM_CF.new" 2>"$T/sm-m4.err" || return 1
	mv "$SM_CF.new" "$SM_CF"
}

# sm_create - unpack Sendmail and write a private instance under $T/sm; sets
# SM_DIR, SM_ROOT (the unpacked packages), SM_CF, SM_QUEUE, SM_BIN (the
# wrapper, for ebb's sendmail_path too), SM_PORT (its SMTP daemon),
# SM_RELAY_PORT (closed), SM_SINK_PORT (= PF_SINK_PORT, for sink_start).
# --milter PORT adds contrib/sendmail.mc.snippet (INPUT_MAIL_FILTER, failing
# open) with its socket moved to inet:PORT@127.0.0.1.
sm_create() {
	SM_MILTER=
	while [ $# -gt 0 ]; do
		case $1 in
		--milter) SM_MILTER=$2; shift 2 ;;
		*) bail_out "sm_create: unknown option $1" ;;
		esac
	done
	SM_DIR=$T/sm
	SM_ROOT=$SM_DIR/root
	SM_CF=$SM_DIR/sendmail.cf
	SM_QUEUE=$SM_DIR/mqueue
	SM_BIN=$SM_DIR/sendmail
	SM_PORT=$(free_port)
	SM_RELAY_PORT=$(free_port)
	SM_SINK_PORT=$(free_port)
	PF_SINK_PORT=$SM_SINK_PORT
	mkdir -p "$SM_ROOT" "$SM_DIR/etc" "$SM_QUEUE"
	chmod 700 "$SM_QUEUE"
	for _d in "$SM_DEBS"/sendmail-bin_*.deb "$SM_DEBS"/sendmail-base_*.deb \
	    "$SM_DEBS"/sendmail-cf_*.deb "$SM_DEBS"/libwrap0_*.deb; do
		dpkg-deb -x "$_d" "$SM_ROOT" ||
		    bail_out "dpkg-deb -x $_d failed"
	done
	# setgid would make the loader ignore LD_LIBRARY_PATH (libwrap)
	cp "$SM_ROOT/usr/libexec/sendmail/sendmail" "$SM_DIR/sendmail.bin"
	chmod 0755 "$SM_DIR/sendmail.bin"
	_lib=$(dirname "$(find "$SM_ROOT" -name 'libwrap.so.0' | head -1)")
	printf '127.0.0.1 localhost\n127.0.0.1 test.localdomain test\n' \
	    >"$SM_DIR/etc/hosts"
	echo "hosts files" >"$SM_DIR/etc/service.switch"
	echo "hosts: files" >"$SM_DIR/etc/nsswitch.conf"
	echo "nameserver 127.0.0.1" >"$SM_DIR/etc/resolv.conf"
	cat >"$SM_BIN" <<EOF
#!/bin/sh
# sendmail in a namespace of its own: a qualified host name, private
# hosts, nsswitch.conf and resolv.conf (no DNS leaves, no 60 s sleep)
exec unshare --mount --uts /bin/sh -c '
hostname test.localdomain &&
mount --bind $SM_DIR/etc/hosts /etc/hosts &&
mount --bind $SM_DIR/etc/nsswitch.conf /etc/nsswitch.conf &&
mount --bind $SM_DIR/etc/resolv.conf /etc/resolv.conf &&
LD_LIBRARY_PATH=$_lib exec $SM_DIR/sendmail.bin "\$@"' sendmail "\$@"
EOF
	chmod 755 "$SM_BIN"
	sm_mc "$SM_RELAY_PORT" ||
	    bail_out "m4 failed: $(cat "$T/sm-m4.err")"
	SM_RELAY=closed
}

# sm_backlog N [ADMINS] - sm_create, then a backlog: N messages submitted
# and tried once (deferred: no relay listens yet), the first ADMINS of
# them (default 0; their ids in $ADMIN) quarantined by the administrator
# with the reason $ADMIN_REASON ("held by the postmaster"), every one
# aged 4.5 days; and $T/sink for a sink's files
sm_backlog() {
	sm_create
	mkdir -p "$T/sink"
	chown postfix "$T/sink"
	sm_submit "$1" || bail_out "submission failed"
	sm_attempt
	wait_for 10 sm_count_is "$1" qf ||
	    bail_out "expected $1 qf, have $(sm_count qf)"
	ADMIN=$(sm_ids qf | head -n "${2:-0}")
	for _id in $ADMIN; do
		sm_run "-Q${ADMIN_REASON:-held by the postmaster}" "-qI$_id" \
		    >/dev/null 2>&1
	done
	sm_count_is "${2:-0}" hf || bail_out "admin quarantine failed"
	sm_age_all 388800 || bail_out "aging the backlog failed"
}

# sm_run - sendmail -C $SM_CF ARGS...
sm_run() {
	"$SM_BIN" -C "$SM_CF" "$@"
}

# sm_relay - the relay to the sink, or back to the closed port (the .cf
# is rebuilt: later sendmail runs read it; a running daemon is restarted)
sm_relay() {
	case $1 in
	sink) sm_mc "$SM_SINK_PORT" ;;
	closed) sm_mc "$SM_RELAY_PORT" ;;
	*) bail_out "sm_relay: sink or closed" ;;
	esac
	SM_RELAY=$1
	if [ -f "$SM_DIR/started" ]; then
		sm_stop
		sm_start
	fi
}

# sm_daemon_pid - the running daemon's pid, or nothing
sm_daemon_pid() {
	[ -f "$SM_DIR/sendmail.pid" ] || return 1
	_sp=$(head -1 "$SM_DIR/sendmail.pid")
	[ -n "$_sp" ] && kill -0 "$_sp" 2>/dev/null && echo "$_sp"
}

# sm_start - the SMTP daemon on 127.0.0.1:SM_PORT (no queue runs of its
# own: -q is not given), waiting until it answers
sm_start() {
	touch "$SM_DIR/started"
	sm_run -bd >"$T/sm-start.out" 2>&1 || {
		diag "sendmail -bd failed: $(cat "$T/sm-start.out")"
		return 1
	}
	wait_for 10 port_in_use "$SM_PORT" || {
		diag "sendmail did not listen on $SM_PORT"
		return 1
	}
}

# sm_stop - stop the daemon and wait until it is gone
sm_stop() {
	_sp=$(sm_daemon_pid) || { rm -f "$SM_DIR/started"; return 0; }
	kill "$_sp" 2>/dev/null
	for _i in $(seq 1 50); do
		kill -0 "$_sp" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$_sp" 2>/dev/null
	rm -f "$SM_DIR/started"
	return 0
}

# sm_send - one message, queued only (-odq): sm_send FROM RCPT...; FROM
# "" is the null sender; extra headers come from $SM_HEADERS
sm_send() {
	_sfrom=$1
	shift
	printf '%sSubject: test\n\nhello\n' "${SM_HEADERS:-}" |
	    sm_run -odq -f "${_sfrom:-<>}" "$@"
}

# sm_submit - N messages, queued only, from three senders to four domains
#   -f FROM, -t TO: one sender or recipient for all; -r K: K recipients
sm_submit() {
	_n=$1
	shift
	_from='' _to='' _r=1
	while [ $# -gt 0 ]; do
		case $1 in
		-f) _from=$2; shift 2 ;;
		-t) _to=$2; shift 2 ;;
		-r) _r=$2; shift 2 ;;
		*) bail_out "sm_submit: unknown option $1" ;;
		esac
	done
	_i=0
	while [ "$_i" -lt "$_n" ]; do
		_s=${_from:-$(echo alice bob carol | cut -d' ' -f$((_i % 3 + 1)))@senders.test}
		_rc=''
		_k=0
		while [ "$_k" -lt "$_r" ]; do
			_rc="$_rc ${_to:-user$_k@d$((_i % 4 + 1)).test}"
			_k=$((_k + 1))
		done
		# shellcheck disable=SC2086
		sm_send "$_s" $_rc || return 1
		_i=$((_i + 1))
	done
}

# sm_attempt - one queue run in the foreground: every qf is tried now
sm_attempt() {
	sm_run -qf >/dev/null 2>&1
}

# sm_ids - queue ids of the control files: qf (queued), hf (quarantined),
# or both
sm_ids() {
	case ${1:-all} in
	qf) _pat='qf*' ;;
	hf) _pat='hf*' ;;
	*) _pat='[qh]f*' ;;
	esac
	find "$SM_QUEUE" -maxdepth 2 -type f -name "$_pat" -printf '%f\n' |
	    cut -c3- | sort
}

sm_count() {
	sm_ids "$@" | wc -l
}

sm_count_is() {
	_want=$1
	shift
	[ "$(sm_count "$@")" -eq "$_want" ]
}

# sm_file - the control file of ID (qf or hf)
sm_file() {
	find "$SM_QUEUE" -maxdepth 2 -type f \( -name "qf$1" -o -name "hf$1" \) |
	    head -1
}

# sm_reason - the quarantine reason of ID ("" when it is not quarantined)
sm_reason() {
	_f=$(sm_file "$1")
	[ -n "$_f" ] && sed -n 's/^q//p' "$_f"
}

# sm_bp_ids - the queue ids "sendmail -bp" (with -qQ: quarantined) lists
sm_bp_ids() {
	sm_run -bp "$@" 2>/dev/null |
	    awk '/^[0-9A-Za-z]+[*X-]? +[0-9]+ / { sub(/[*X-]$/, "", $1); print $1 }' |
	    sort
}

# sm_age_all SPREAD - make every queued message 0..SPREAD seconds old, in
# an order unrelated to the queue ids, by rewriting the digits of its T
# line in place (same length). Sendmail runs only when asked, so no
# queue run can rewrite a file meanwhile.
sm_age_all() {
	find "$SM_QUEUE" -maxdepth 2 -type f -name 'qf*' | sort | perl -e '
		my ($spread) = @ARGV;
		my @files = <STDIN>;
		chomp @files;
		my ($i, $n, $now) = (0, scalar @files, time);
		for my $f (@files) {
			my $when = $now - int(($i++ * 7919 % $n) * $spread / $n);
			open(my $fh, "+<:raw", $f) or die "$f: $!";
			local $/; my $d = <$fh>;
			$d =~ s/^T\d{10}$/T$when/m or die "$f: no T line\n";
			seek($fh, 0, 0); print $fh $d; close($fh) or die "$f: $!";
		}' "$1"
}

# sm_clone N - N more messages, fast, for the benchmarks: copies of the
# one queued message Sendmail wrote, each with its own id (bqNNNNNNNNNNNN),
# sender, recipient and creation time (0-4.5 days old); submitting 100,000
# through sendmail would take most of an hour
sm_clone() {
	_tpl=$(sm_ids qf | head -1)
	[ -n "$_tpl" ] || { diag "sm_clone: no message to copy"; return 1; }
	perl -e '
		my ($dir, $tpl, $n) = @ARGV;
		local $/;
		open(my $q, "<:raw", "$dir/qf$tpl") or die "qf$tpl: $!";
		my $qf = <$q>;
		open(my $d, "<:raw", "$dir/df$tpl") or die "df$tpl: $!";
		my $df = <$d>;
		my @s = qw(alice bob carol);
		my $now = time;
		for my $i (1 .. $n) {
			my $id = sprintf("bq%012d", $i);
			my $c = $qf;
			my $to = "user$i\@d" . ($i % 4 + 1) . ".test";
			$c =~ s/^T\d+$/"T" . ($now - $i * 7 % 388800)/me;
			$c =~ s/^S.*$/"S" . $s[$i % 3] . "\@senders$i.test"/me;
			$c =~ s/^(r[^;]*; ).*$/$1$to/m;
			$c =~ s/^(R[A-Z]*:).*$/$1$to/m;
			open(my $o, ">:raw", "$dir/qf$id") or die "$id: $!";
			print $o $c;
			close($o);
			open($o, ">:raw", "$dir/df$id") or die "$id: $!";
			print $o $df;
			close($o);
		}' "$SM_QUEUE" "$_tpl" "$1"
}

# sm_ebb_config - ebb_config for this Sendmail; extra lines as ebb_config
sm_ebb_config() {
	ebb_config '[general]' 'mta = sendmail' '[sendmail]' \
	    "config_file = $SM_CF" "sendmail_path = $SM_BIN" "$@"
}

# sm_cleanup - stop the daemon too when the test ends (chained to lib.sh's)
sm_cleanup() {
	if [ -n "${SM_DIR:-}" ] && [ -f "$SM_DIR/started" ]; then
		sm_stop >/dev/null 2>&1
	fi
	cleanup
}
trap sm_cleanup EXIT
