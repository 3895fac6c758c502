# tests/gateway.sh - the SSH gateway for a test, sourced after lib.sh: its
# accounts and sshd drop-in made by 'admin gateway setup', behind the
# test's own sshd on a loopback port with its own config and host key (the
# host's sshd and /etc/ssh are not touched; the accounts are removed at
# the end).
#
#	gw_init GW KEYSUSER PORT	names; GW_CONF: lines for write_conf
#	start_labcd; gw_setup; gw_start	setup, then the sshd
#	gw KEY ARGS...			ssh as $GW@127.0.0.1 with $TDIR/KEY
#	gw_bg KEY ARGS...		the same in the background
#	gw_bg_in FILE KEY ARGS...	the same, reading FILE

gw_init() {
	GW=$1 GWK=$2 SSHD_PORT=$3
	userdel -r "$GW" >/dev/null 2>&1
	userdel "$GWK" >/dev/null 2>&1
	at_exit "userdel $GWK >/dev/null 2>&1"
	# A session sshd has not ended yet would keep userdel from working:
	# the account is this test's, so are its processes.
	at_exit "ps -u $GW -o pid= | xargs -r kill; sleep 0.5; userdel -r $GW >/dev/null 2>&1; rmdir /var/lib/labcontainers/$GW 2>/dev/null"
	# sshd runs AuthorizedKeysCommand only from a path whose every
	# directory is root's and not writable by others: not under /tmp.
	GWBIN=/run/labct-gw.$$.$GW
	mkdir -m 755 "$GWBIN" && cp "$LABC" "$GWBIN/labc"
	at_exit "rm -rf $GWBIN"
	LABC_GW=$GWBIN/labc
	GW_CONF=("gateway_user = $GW" "gateway_keys_user = $GWK"
	    "gateway_host = 127.0.0.1" "gateway_port = $SSHD_PORT")
	mkdir -p /run/sshd "$TDIR/sshd.d"
	ssh-keygen -q -t ed25519 -N '' -f "$TDIR/hostkey"
	# A global sftp subsystem, as Debian ships: the gateway must still
	# give no sftp (every key is forced to labc).
	cat >"$TDIR/sshd_config" <<CONF
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $TDIR/hostkey
PidFile $TDIR/sshd.pid
Include $TDIR/sshd.d/*.conf
UsePAM yes
AllowUsers $GW ${GW_ALLOW:-}
PasswordAuthentication no
KbdInteractiveAuthentication no
Subsystem sftp internal-sftp
CONF
}

# gw_setup: admin gateway setup for this test's sshd; prints its output.
gw_setup() {
	labc admin gateway setup --dir "$TDIR/sshd.d" \
	    --sshd-config "$TDIR/sshd_config" --labc "$LABC_GW"
}

gw_start() {
	# A port held by another sshd (a run killed before its clean-up)
	# would answer for this one with its own keys: say so, do not start.
	if ss -Hltn "sport = :$SSHD_PORT" 2>/dev/null | grep -q .; then
		echo "gw_start: port $SSHD_PORT is held already:" \
		    "$(ss -Hltnp "sport = :$SSHD_PORT" | tr -s ' ' | cut -c1-200)" >&2
		return 1
	fi
	/usr/sbin/sshd -f "$TDIR/sshd_config" -E "$TDIR/sshd.log"
	at_exit 'kill $(cat '"$TDIR"'/sshd.pid)'
	[ -n "${LABCT_LOGDIR:-}" ] &&
	    at_exit "cp $TDIR/sshd.log $LABCT_LOGDIR/$(basename "$0" .sh).sshd.log"
	local i
	for i in $(seq 50); do [ -s "$TDIR/sshd.pid" ] && break; sleep 0.1; done
}

gw() {	# gw KEY ARGS...: ssh to the gateway with that key only
	local key=$1
	shift
	ssh -i "$TDIR/$key" -p "$SSHD_PORT" -o StrictHostKeyChecking=no \
	    -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR \
	    -o IdentitiesOnly=yes -o ConnectTimeout=10 "$@"
}

gw_bg() {	# gw_bg KEY ARGS...: gw in the background; GW_BG_PID is ssh's
	gw_bg_in /dev/null "$@"
}

gw_bg_in() {	# gw_bg_in FILE KEY ARGS...: gw_bg reading FILE (not /dev/null)
	local in=$1 key=$2
	shift 2
	(exec ssh -i "$TDIR/$key" -p "$SSHD_PORT" -o StrictHostKeyChecking=no \
	    -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR \
	    -o IdentitiesOnly=yes -o ConnectTimeout=10 "$@") <"$in" &
	GW_BG_PID=$!
}

# gw_raw_start GW PORT: for tests that speak the protocol as the gateway
# uid themselves (labct-req, labct-slow), which labcd believes only from a
# child of sshd: the test's own sshd lets GW (login shell /bin/sh) in with
# the key $TDIR/gwraw; gw_raw ARGS... runs ARGS there with exec, so that
# sshd stays the parent.
gw_raw_start() {
	local gw=$1 port=$2 d=$TDIR/gwraw.d
	GW_RAW=$gw GW_RAW_PORT=$port
	mkdir -p /run/sshd "$d"
	ssh-keygen -q -t ed25519 -N '' -f "$d/hostkey"
	ssh-keygen -q -t ed25519 -N '' -f "$TDIR/gwraw"
	cp "$TDIR/gwraw.pub" "$d/keys"
	cat >"$d/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $d/hostkey
PidFile $d/sshd.pid
UsePAM yes
AllowUsers $gw
StrictModes no
AuthorizedKeysFile $d/keys
PasswordAuthentication no
KbdInteractiveAuthentication no
# floods of sessions at once (t0540): not dropped before labcd sees them
MaxStartups 100
CONF
	/usr/sbin/sshd -f "$d/sshd_config" -E "$d/sshd.log"
	at_exit "kill \$(cat $d/sshd.pid); ps -u $gw -o pid= | xargs -r kill"
	local i
	for i in $(seq 50); do [ -s "$d/sshd.pid" ] && break; sleep 0.1; done
}

gw_raw() {
	ssh -i "$TDIR/gwraw" -p "$GW_RAW_PORT" -o StrictHostKeyChecking=no \
	    -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR \
	    -o IdentitiesOnly=yes -o ConnectTimeout=10 "$GW_RAW@127.0.0.1" \
	    "exec $(printf '%q ' "$@")"
}
