#!/bin/sh
# ebbd-perms.sh - who owns what ebbd makes and uses: the control socket is
# root's alone (0600) without a [control] group and 0660 with one, made so
# before it appears at its path (a stale socket is replaced, no temporary
# directory is left); a state directory that is another user's, or
# writable by its group, or under a directory others may write to, is
# refused by "ebbd -n" and by the start alike, before anything is made in
# it; so is a proof key (the proof of a hold) that is not root's alone
# or not 32 bytes, and it is never replaced; a file where the socket goes
# is refused, not removed; a milter socket that cannot be bound is
# refused with the real reason; and a unix: milter socket is reachable by
# the MTA alone: made in a set-group-ID directory of the MTA's group, it
# is 0660 in that group from its bind, so the postfix user connects and
# nobody does not (an unknown socket_group is refused).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
require_root
require_cmd postfix jq perl useradd stat

tap_plan 23
ebb_user
pf_create
pf_start || bail_out "postfix did not start"

# perms FILE - "MODE USER GROUP" of FILE
perms() {
	stat -c '%a %U %G' "$1"
}

# refused NAME WANT - ebbd -n and ebbd -f both exit 1 with a line holding
# WANT (a fixed string), and the state directory holds no drain.lock
refused() {
	_name=$1
	_want=$2
	"$EBBD" -n -c "$EBB_CONF" >"$T/n.out" 2>&1
	_rn=$?
	timeout 20 "$EBBD" -f -c "$EBB_CONF" >"$T/f.out" 2>&1
	_rf=$?
	if [ $_rn -eq 1 ] && [ $_rf -eq 1 ] &&
	    grep -qF -- "$_want" "$T/n.out" && grep -qF -- "$_want" "$T/f.out" &&
	    [ ! -e "$STATE/drain.lock" ]; then
		ok "$_name"
	else
		not_ok "$_name" "ebbd -n: exit $_rn: $(cat "$T/n.out")" \
		    "ebbd -f: exit $_rf: $(tail -3 "$T/f.out")" \
		    "$(ls -la "$STATE" 2>&1 | tail -n +2)"
	fi
}

# 1-3: no [control] group: 0600 root root; a stale socket is replaced and
# no temporary directory is left beside it
ebbd_config
mkdir -p "$T/run"
perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Local => shift,
    Listen => 1) or die "$!\n"' "$EBBD_SOCK" || bail_out "no stale socket"
bg_start ebbd "$EBBD" -f -c "$EBB_CONF"
# the stale socket refuses connections: ebbctl answers once ebbd's is there
wait_for 20 ebbctl status ||
    bail_out "ebbd did not start: $(cat "$T/ebbd.out")"
is "$(perms "$EBBD_SOCK")" "600 root root" \
    "without [control] group the socket is root's alone (0600)"
check "ebbctl as root talks to it" ebbctl status
is "$(ls -A "$T/run")" "ebbd.sock" \
    "the stale socket is replaced, no temporary directory is left"
bg_stop ebbd

# 4: [control] group = ebb: 0660 root ebb
ebbd_config '[control]' 'group = ebb'
ebbd_start || bail_out "ebbd did not start: $(cat "$T/ebbd.out")"
is "$(perms "$EBBD_SOCK")" "660 root ebb" \
    "with [control] group the socket is 0660, root and the group"
bg_stop ebbd

# 5-8: the state directory and the directories above it
STATE=$T/state
ebbd_config
rm -rf "$STATE"
mkdir -m 0750 "$STATE"
chown nobody "$STATE"
refused "a state directory owned by another user is refused" \
    "state_directory: $STATE is owned by uid $(id -u nobody), not root"
chown root "$STATE"
chmod 0770 "$STATE"
refused "a state directory writable by its group is refused" \
    "state_directory: $STATE is writable by its group"
chmod 0750 "$STATE"
mkdir -m 0755 "$T/open"
chmod 0777 "$T/open"
mkdir -m 0750 "$T/open/state"
STATE=$T/open/state
ebbd_config '[general]' "state_directory = $STATE"
refused "a state directory under one anyone may write to is refused" \
    "state_directory: $T/open is writable by its group"
STATE=$T/state
ebbd_config
ebbd_start || bail_out "ebbd did not start: $(cat "$T/ebbd.out")"
check "a root-owned state directory is taken" test -e "$STATE/drain.lock"
bg_stop ebbd
rm -f "$STATE/drain.lock"

# 9-12: the key of the proof of a hold, made by that start: one anyone
# else could read, or of another size, is refused and left as it is
KEY=$STATE/proof.key
sum=$(sha256sum <"$KEY")
chmod 0644 "$KEY"
refused "a proof key readable by others is refused"     "$KEY: mode 644: must be 0600 or stricter"
chmod 0600 "$KEY"
chown nobody "$KEY"
refused "a proof key owned by another user is refused"     "$KEY: owned by uid $(id -u nobody), not 0"
chown root "$KEY"
cp "$KEY" "$T/key.bak"
head -c 31 "$T/key.bak" >"$KEY"
refused "a proof key of the wrong size is refused"     "$KEY: 31 bytes, not 32: damaged"
cat "$T/key.bak" >"$KEY"
is "$(sha256sum <"$KEY"):$(perms "$KEY")" "$sum:600 root root"     "the key is never replaced"

# 13: a file where the control socket goes is refused and left alone
echo "keep me" >"$T/run/notasocket"
ebb_config '[control]' "socket = $T/run/notasocket"
refused "a file at the control socket's path is refused" \
    "socket: $T/run/notasocket exists and is not a socket"
is "$(cat "$T/run/notasocket")" "keep me" "and it is left as it was"
ebbd_config

# 15-16: the milter socket: a bad address is named as such, at -n and at
# the start; a port in use is named as such
ebbd_config '[milter]' 'enable = yes' 'socket = inet:3240@127.0.'
refused "a milter socket address libmilter cannot bind is refused, named" \
    'socket: "127.0." is not an IPv4 address'
MPORT=$(free_port)
perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr =>
    "127.0.0.1", LocalPort => shift, Listen => 1, ReuseAddr => 1) or die;
    sleep 30' "$MPORT" &
HOLDER=$!
wait_for 5 port_in_use "$MPORT"
ebbd_config '[milter]' 'enable = yes' "socket = inet:$MPORT@127.0.0.1"
timeout 20 "$EBBD" -f -c "$EBB_CONF" >"$T/inuse.out" 2>&1
rc=$?
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
if [ $rc -eq 1 ] && grep -qF "milter: cannot listen on inet:$MPORT@127.0.0.1:"\
" Address already in use" "$T/inuse.out"; then
	ok "a milter port in use is named as such at the start"
else
	not_ok "a milter port in use is named as such at the start" "exit $rc" \
	    "$(grep -i milter "$T/inuse.out")"
fi

# 17-18: "ebbd -n" passes what starts, and runs beside a running ebbd
# without touching its socket
ebbd_config
ebbd_start || bail_out "ebbd did not start: $(cat "$T/ebbd.out")"
ino=$(stat -c %i "$EBBD_SOCK")
"$EBBD" -n -c "$EBB_CONF" >"$T/n.out" 2>&1
is "$?:$(cat "$T/n.out")" "0:$EBB_CONF: configuration is valid" \
    "ebbd -n passes a configuration that starts"
is "$(stat -c %i "$EBBD_SOCK"):$(perms "$EBBD_SOCK")" "$ino:600 root root" \
    "ebbd -n beside a running ebbd leaves its socket alone"

# 19-22: a unix: milter socket, in a directory ebbd makes: the MTA's
# group, set-group-ID; the socket 0660 ebb:postfix; nobody cannot connect
bg_stop ebbd
MSOCK=$T/msock/milter.sock
ebbd_config '[milter]' 'enable = yes' "socket = unix:$MSOCK"
ebbd_start || bail_out "ebbd did not start: $(cat "$T/ebbd.out")"
wait_for 10 test -S "$MSOCK" || bail_out "no milter socket"
is "$(perms "$T/msock")" "2750 ebb postfix" \
    "the socket's directory: ebb's, the MTA's group, set-group-ID"
is "$(perms "$MSOCK")" "660 ebb postfix" \
    "the milter socket is 0660, ebb and the MTA's group"
connect_as() {	# connect_as USER - USER can connect to the milter socket
	runuser -u "$1" -- perl -MIO::Socket::UNIX -e \
	    'IO::Socket::UNIX->new(Peer => shift) or exit 1' "$MSOCK" \
	    2>/dev/null
}
check "the MTA's user (postfix) connects" connect_as postfix
if ! connect_as nobody; then
	ok "another local user (nobody) cannot connect"
else
	not_ok "another local user (nobody) cannot connect" \
	    "$(ls -la "$T/msock")"
fi

# 23: a socket_group that does not exist is refused, named
bg_stop ebbd
rm -f "$STATE/drain.lock"
ebbd_config '[milter]' 'enable = yes' "socket = unix:$MSOCK" \
    'socket_group = no-such-group-ebb'
refused "an unknown milter socket_group is refused" \
    'group "no-such-group-ebb" does not exist'
