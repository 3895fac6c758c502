#!/usr/bin/env bash
# t0310-gateway-trust.sh - who the gateway uid speaks for, and who can
# reach it: a gateway made by 'admin gateway setup' behind a real sshd on
# a loopback port. The attack of issue 13 (a local user su's to the
# gateway account with a forged SSH_USER_AUTH) and the gateway uid run
# outside sshd are refused; only a proven key logs its user in; any other
# key gets an anonymous session where 'login' registers it (a squatter's
# pasted copy moves to its holder); no forwarding or sftp; map_host_users
# maps no system or gateway account; doctor checks what setup did.
# Needs no LXD: no container is made.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gateway.sh"

gw_init labctgt labctgtk 63310
userdel labctsys >/dev/null 2>&1
userdel labctnorm >/dev/null 2>&1
at_exit "userdel labctsys >/dev/null 2>&1"
at_exit "userdel labctnorm >/dev/null 2>&1"
userdel labctsh >/dev/null 2>&1
at_exit "userdel labctsh >/dev/null 2>&1"
write_conf "${GW_CONF[@]}" "map_host_users = yes"
start_labcd || exit 1

M=65431 D=65432	# host uids of mallory and dave (no passwd entries)
newkey alice
newkey bob
newkey carol
newkey dave
newkey evil
newkey stranger
labc admin user add alice --key "$(cat $TDIR/alice.pub)" </dev/null >/dev/null
for u in bob carol dave mallory; do
	printf '%s-pw-%s\n' $u $$ | labc admin user add $u --password-stdin >/dev/null
	secret "$u-pw-$$"
done
fp() { ssh-keygen -lf "$TDIR/$1.pub" | cut -d" " -f2 | sed "s/[+.]/\\\\&/g"; }	# as a regex
keyrows() { sqlite3 "$DB" "SELECT user_id, fingerprint, proven FROM keys ORDER BY id"; }
audits() { sqlite3 "$DB" "SELECT count(*) FROM audit"; }
GWUID=$(id -u $GW)

test_expect_success 'setup: password *, a home of root'"'"'s, a key-lookup account of its own' '
	out=$(gw_setup)
	contains "$out" "Made the account $GW"
	contains "$out" "Made the account $GWK"
	[ "$(getent shadow $GW | cut -d: -f2)" = "*" ] || { getent shadow $GW; false; }
	home=$(getent passwd $GW | cut -d: -f6)
	[ "$(stat -c %u:%a $home)" = 0:755 ] || { stat $home; false; }
	[ "$(getent passwd $GWK | cut -d: -f7)" = /usr/sbin/nologin ] || { getent passwd $GWK; false; }
	[ "$(id -u $GWK)" -lt 1000 ]
	d=$(cat $TDIR/sshd.d/50-labcontainers.conf)
	for l in "AuthorizedKeysCommandUser $GWK" "AuthenticationMethods publickey" \
	    "KbdInteractiveAuthentication no" "PermitEmptyPasswords no" \
	    "DisableForwarding yes" "AllowTcpForwarding no" \
	    "AllowStreamLocalForwarding no" "X11Forwarding no" "PermitTunnel no" \
	    "PermitUserRC no" "ExposeAuthInfo yes"; do
		contains "$d" "^	$l$"
	done
'
gw_start || exit 1

test_expect_success 'doctor: the gateway rows are ok' '
	out=$(labc admin doctor --dir $TDIR/sshd.d --sshd-config $TDIR/sshd_config 2>&1 || true)
	contains "$out" "gateway password +ok +$GW.s password is locked"
	contains "$out" "gateway key lookup +ok +sshd asks as $GWK"
	contains "$out" "gateway sshd +ok .*no sftp"
'

# The attack of the issue: alice's public key (public!) in a file of the
# attacker's, then su to the gateway account, which used to have no
# password.
printf 'publickey %s\n' "$(cut -d" " -f1,2 $TDIR/alice.pub)" >$TDIR/forged
chmod 644 $TDIR/forged
chmod 755 $TDIR
attack_su() {	# attack_su CMD: as nobody, su to the gateway account
	(cd / && SSH_USER_AUTH=$TDIR/forged SSH_ORIGINAL_COMMAND="$1" \
	    LABC_SOCKET=$SOCK setpriv --reuid=nobody --regid=nogroup \
	    --clear-groups su $GW -c "$LABC_GW --as alice" </dev/null 2>&1)
}

test_expect_success 'the attack: nobody cannot su to the gateway account (password *)' '
	before=$(keyrows) n=$(audits)
	rc=0; out=$(attack_su "key add $(cat $TDIR/evil.pub)") || rc=$?
	[ $rc -ne 0 ]
	contains "$out" "Authentication failure|must be run from a terminal"
	not_contains "$out" "registered"
	[ "$(keyrows)" = "$before" ] && [ "$(audits)" = "$n" ]
'

test_expect_success 'on an old install (empty password, old drop-in) su gets through, and labc and labcd still refuse' '
	passwd -d $GW >/dev/null
	chown $GW $(getent passwd $GW | cut -d: -f6)
	sed -i "s/PermitEmptyPasswords no/PermitEmptyPasswords yes/" $TDIR/sshd.d/50-labcontainers.conf
	before=$(keyrows)
	rc=0; out=$(attack_su "key add $(cat $TDIR/evil.pub)") || rc=$?
	[ $rc -eq 1 ]
	contains "$out" "SSH_USER_AUTH .* is not sshd.s: it must be a regular file of this account, mode 0600"
	[ "$(keyrows)" = "$before" ]
	out=$(labc admin doctor --dir $TDIR/sshd.d --sshd-config $TDIR/sshd_config 2>&1 || true)
	contains "$out" "gateway password +problem +$GW.s password is empty"
'

test_expect_success 'setup run again fixes the old install and says so' '
	out=$(gw_setup)
	contains "$out" "Locked the password of $GW"
	contains "$out" "Gave the home .* of $GW to root"
	contains "$out" "Updated $TDIR/sshd.d/50-labcontainers.conf .*no more empty-password login"
	[ "$(getent shadow $GW | cut -d: -f2)" = "*" ]
	contains "$(cat $TDIR/sshd.d/50-labcontainers.conf)" "PermitEmptyPasswords no"
	rc=0; attack_su whoami >/dev/null || rc=$?
	[ $rc -ne 0 ]
'

# The gateway uid itself, with an SSH_USER_AUTH file of its own, but not
# run by sshd (here setpriv; su, cron or a compromised session alike).
install -o $GW -m 600 $TDIR/forged $TDIR/forged-gw
as_gw() {	# as_gw FORCED CMD: labc as the gateway uid outside sshd
	(cd / && SSH_USER_AUTH=${AUTH:-$TDIR/forged-gw} SSH_ORIGINAL_COMMAND="$2" \
	    LABC_SOCKET=$SOCK setpriv --reuid=$GW --regid=$(id -g $GW) \
	    --clear-groups $LABC_GW -c "$LABC_GW $1" </dev/null 2>&1)
}

test_expect_success 'the gateway uid outside sshd: labcd refuses (parent is not sshd), audits, changes nothing' '
	before=$(keyrows) n=$(audits)
	rc=0; out=$(as_gw "--as alice" "key add $(cat $TDIR/evil.pub)") || rc=$?
	[ $rc -eq 1 ]
	contains "$out" "believed only from sshd, and this process.s parent is not sshd"
	rc=0; out=$(as_gw "--anon" "logout") || rc=$?
	[ $rc -eq 1 ]
	contains "$out" "believed only from sshd"
	[ "$(keyrows)" = "$before" ]
	[ "$(audits)" = $((n + 2)) ]
	rows=$(sqlite3 "$DB" "SELECT actor, command, result FROM audit ORDER BY id DESC LIMIT 2")
	contains "$rows" "^$GW \\(as alice\\)\\|key add\\|refused$"
	contains "$rows" "^$GW\\|logout\\|refused$"
'

test_expect_success 'a process named to look like a child of sshd in /proc/PID/stat is not one' '
	# comm, in parentheses in /proc/PID/stat, is the program'"'"'s name:
	# ") R SSHDPID" would make a parser that stops at the first ")" read
	# the sshd as its parent.
	sp=$(cat $TDIR/sshd.pid)
	fake="$GWBIN/) R $sp 1 1"
	cp $LABC_GW "$fake"
	before=$(keyrows)
	rc=0; out=$(cd / && SSH_USER_AUTH=$TDIR/forged-gw SSH_ORIGINAL_COMMAND="key add $(cat $TDIR/evil.pub)" \
	    LABC_SOCKET=$SOCK setpriv --reuid=$GW --regid=$(id -g $GW) --clear-groups \
	    "$fake" -c "$LABC_GW --as alice" </dev/null 2>&1) || rc=$?
	rm -f "$fake"
	[ $rc -eq 1 ]
	contains "$out" "believed only from sshd"
	[ "$(keyrows)" = "$before" ]
'

# Code that ever ran as the gateway uid could start an sshd of its own:
# its sessions are children of sshd, but of one that runs as the gateway
# account, which hands them a forged SSH_USER_AUTH (SetEnv) and any
# forced command. labcd wants the session's sshd to be root's child.
test_expect_success 'an sshd the gateway account started itself is not sshd'"'"'s word' '
	d=$TDIR/own-sshd; mkdir -p $d
	ssh-keygen -q -t ed25519 -N "" -f $d/hostkey
	printf "command=\"%s --as alice\" %s\n" "$LABC_GW" "$(cat $TDIR/evil.pub)" >$d/keys
	cat >$d/sshd_config <<CONF
Port $((SSHD_PORT + 1))
ListenAddress 127.0.0.1
HostKey $d/hostkey
PidFile $d/sshd.pid
UsePAM no
StrictModes no
AuthorizedKeysFile $d/keys
ExposeAuthInfo no
SetEnv SSH_USER_AUTH=$TDIR/forged-gw LABC_SOCKET=$SOCK
CONF
	chown -R $GW $d
	(cd / && setpriv --reuid=$GW --regid=$(id -g $GW) --clear-groups \
	    /usr/sbin/sshd -f $d/sshd_config -E $d/sshd.log)
	at_exit "kill \$(cat $d/sshd.pid) 2>/dev/null"
	for i in $(seq 50); do [ -s $d/sshd.pid ] && break; sleep 0.1; done
	before=$(keyrows)
	rc=0; out=$(ssh -i $TDIR/evil -p $((SSHD_PORT + 1)) -o StrictHostKeyChecking=no \
	    -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR \
	    -o IdentitiesOnly=yes -o ConnectTimeout=10 $GW@127.0.0.1 \
	    "key add $(cat $TDIR/evil.pub)" 2>&1) || rc=$?
	kill $(cat $d/sshd.pid)
	[ $rc -ne 0 ] || { echo "$out"; false; }
	contains "$out" "believed only from sshd" || { cat $d/sshd.log; false; }
	[ "$(keyrows)" = "$before" ]
'

test_expect_success 'labc takes SSH_USER_AUTH only from a regular 0600 file of its own uid' '
	ln -sf $TDIR/forged-gw $TDIR/forged-link
	out=$(AUTH=$TDIR/forged-link as_gw "--as alice" whoami || true)
	contains "$out" "cannot open SSH_USER_AUTH"
	out=$(AUTH=$TDIR/forged as_gw "--as alice" whoami || true)
	contains "$out" "is not sshd.s"
	install -o $GW -m 644 $TDIR/forged $TDIR/forged-644
	out=$(AUTH=$TDIR/forged-644 as_gw "--as alice" whoami || true)
	contains "$out" "is not sshd.s"
	not_contains "$out" "^alice$"
'

test_expect_success 'gateway authorized-keys: only root and the key-lookup account' '
	read -r t k _ < $TDIR/alice.pub
	for u in $GWUID $(id -u nobody) $M; do
		rc=0; out=$(as_uid $u $LABC_GW -S $SOCK --authorized-keys $GW $k $t 2>&1) || rc=$?
		[ $rc -eq 1 ]
		contains "$out" "for sshd only"
		not_contains "$out" "ssh-ed25519"
	done
	out=$(as_uid $(id -u $GWK) $LABC_GW -S $SOCK --authorized-keys $GW $k $t)
	[ "$out" = "restrict,pty,command=\"$LABC_GW --as alice\" $t $k" ]
'

test_expect_success 'through sshd: a proven key (the admin added it) logs its user in' '
	[ "$(gw alice $GW@127.0.0.1 whoami)" = alice ]
'

test_expect_success 'through sshd: an unknown key is anonymous, says which key and what to do' '
	out=$(printf "whoami\n" | gw carol -T $GW@127.0.0.1 2>&1)
	contains "$out" "You came in with the SSH key $(fp carol) \\(ssh-ed25519\\)"
	contains "$out" "login USER +log in with the password your admin gave you; this also"
	contains "$out" "registers this key as yours, so that it logs you in"
	contains "$out" "ssh -i ~/.ssh/KEY -o IdentitiesOnly=yes"
	contains "$out" "^not logged in \\(SSH key $(fp carol), which logs no lab user in\\)"
	out=$(gw carol $GW@127.0.0.1 key list 2>&1 || true)
	contains "$out" "you are not logged in"
'

test_expect_success 'login in the anonymous session registers its key; the next ssh logs in directly' '
	n=$(audits)
	out=$(printf "login carol\ncarol-pw-$$\ny\nwhoami\n" | gw carol -T $GW@127.0.0.1 2>&1)
	contains "$out" "Logged in as carol"
	contains "$out" "Key $(fp carol) registered: from now on"
	[ "$(gw carol $GW@127.0.0.1 whoami)" = carol ]
	contains "$(labc --as carol key list)" "$(fp carol) .* yes$"
	contains "$(sqlite3 "$DB" "SELECT user, result FROM audit WHERE id > $n")" "^carol\\|key $(fp carol) registered and proven"
'

test_expect_success 'a key the member pastes is unproven and logs no one in until used once' '
	printf "dave-pw-$$\n" | labc_as_uid $D login dave >/dev/null
	out=$(labc_as_uid $D key add < $TDIR/dave.pub)
	contains "$out" "not proven yet"
	contains "$(labc_as_uid $D key list)" "$(fp dave) .* no$"
	out=$(gw dave $GW@127.0.0.1 whoami 2>&1)
	contains "$out" "not logged in"
	out=$(printf "dave-pw-$$\n\n" | gw dave $GW@127.0.0.1 login dave 2>&1)
	contains "$out" "Key $(fp dave) is proven"
	[ "$(gw dave $GW@127.0.0.1 whoami)" = dave ]
'

test_expect_success 'a squatter who pastes bob'"'"'s key logs no one in; bob'"'"'s login takes it back' '
	printf "mallory-pw-$$\n" | labc_as_uid $M login mallory >/dev/null
	out=$(labc_as_uid $M key add < $TDIR/bob.pub)
	contains "$out" "not proven yet"
	out=$(gw bob $GW@127.0.0.1 whoami 2>&1)
	contains "$out" "not logged in"
	not_contains "$out" "mallory"
	n=$(audits)
	out=$(printf "login bob\nbob-pw-$$\ny\n" | gw bob -T $GW@127.0.0.1 2>&1)
	contains "$out" "Key $(fp bob) is yours now and proven \\(another lab user had pasted it"
	[ "$(gw bob $GW@127.0.0.1 whoami)" = bob ]
	not_contains "$(labc_as_uid $M key list)" "$(fp bob)"
	rows=$(sqlite3 "$DB" "SELECT user, result FROM audit WHERE id > $n AND result LIKE \"%moved from mallory to bob%\"")
	contains "$rows" "^bob\\|"
	contains "$rows" "^mallory\\|"
'

test_expect_success 'a registered key of someone else is not bob'"'"'s to add' '
	printf "bob-pw-$$\n" | labc_as_uid 65434 login bob >/dev/null
	before=$(keyrows)
	rc=0; out=$(labc_as_uid 65434 key add < $TDIR/carol.pub 2>&1) || rc=$?
	[ $rc -eq 1 ]
	contains "$out" "registered by another lab user.*ssh to the gateway with it and .login."
	[ "$(keyrows)" = "$before" ]
'

test_expect_success 'no forwarding of any kind and no sftp, for a user'"'"'s key or an anonymous one' '
	port=63395
	for k in alice stranger; do
		expect_status 255 gw $k -o ExitOnForwardFailure=yes -R 63398:127.0.0.1:22 -N $GW@127.0.0.1 2>/dev/null
		out=$(gw $k -W 127.0.0.1:$SSHD_PORT $GW@127.0.0.1 </dev/null 2>&1 || true)
		contains "$out" "prohibited|refused|failed"
		not_contains "$out" "SSH-2.0"
		port=$((port + 1))
		gw_bg $k -L $port:127.0.0.1:$SSHD_PORT -N $GW@127.0.0.1 2>$TDIR/L.err
		for i in $(seq 50); do ss -ltn | grep -q ":$port " && break; sleep 0.1; done
		ss -ltn | grep -q ":$port "	# ssh listens; sshd must refuse the channel
		banner=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; head -c 7 <&3" 2>/dev/null || true)
		sleep 0.3; kill $GW_BG_PID; wait $GW_BG_PID 2>/dev/null || true
		[ "$banner" != SSH-2.0 ]
		# The forced labc gets the subsystem as a command and refuses
		# it (exit 2: unknown command; sshd drops the stderr of a subsystem).
		expect_status 2 gw $k -s $GW@127.0.0.1 sftp </dev/null
		! sftp -i $TDIR/$k -P $SSHD_PORT -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
		    -o UserKnownHostsFile=/dev/null -o BatchMode=yes $GW@127.0.0.1 </dev/null >/dev/null 2>&1
	done
'

test_expect_success 'map_host_users maps no system account and not the gateway accounts' '
	useradd --system --no-create-home --shell /usr/sbin/nologin labctsys
	useradd --no-create-home --shell /usr/sbin/nologin labctnorm
	[ "$(id -u labctsys)" -lt 1000 ] && [ "$(id -u labctnorm)" -ge 1000 ]
	for u in labctsys labctnorm $GW $GWK; do
		labc admin user add $u </dev/null >/dev/null
	done
	[ "$(labc_as_uid $(id -u labctnorm) whoami)" = labctnorm ]
	contains "$(labc_as_uid $(id -u labctsys) whoami)" "not logged in"
	contains "$(labc_as_uid $(id -u $GWK) whoami)" "not logged in"
	out=$(gw stranger $GW@127.0.0.1 whoami 2>&1)
	contains "$out" "not logged in"
'

# labcd answers the key-lookup account every user's keys: an account that
# people or other daemons log in as must not become it.
test_expect_success 'setup refuses a key-lookup account that can log in or is not a system account' '
	useradd --system --no-create-home --shell /bin/sh labctsh
	d=$(cat $TDIR/sshd.d/50-labcontainers.conf)
	for u in labctnorm labctsh; do
		# a second labcd of this test, configured with that account
		sed "s/^gateway_keys_user = .*/gateway_keys_user = $u/" "$CONF" >$TDIR/conf2
		rm -f $TDIR/sock2
		$LABCD -f $TDIR/conf2 -S $TDIR/sock2 -d $TDIR/db2 -D >>$TDIR/labcd2.log 2>&1 </dev/null &
		pid2=$!
		for i in $(seq 100); do [ -S $TDIR/sock2 ] && break; sleep 0.1; done
		rc=0; out=$("$LABC" -S $TDIR/sock2 admin gateway setup --dir "$TDIR/sshd.d" \
		    --sshd-config "$TDIR/sshd_config" --labc "$LABC_GW" 2>&1) || rc=$?
		kill $pid2; wait $pid2 || true
		[ $rc -eq 1 ] || { echo "$out"; false; }
		contains "$out" "gateway_keys_user $u is an account that can log in or is not a system account"
		[ "$(cat $TDIR/sshd.d/50-labcontainers.conf)" = "$d" ]
	done
'

test_expect_success 'doctor sees a drop-in that lets user rc or forwarding through' '
	sed -i "s/PermitUserRC no/PermitUserRC yes/; s/AllowStreamLocalForwarding no/AllowStreamLocalForwarding yes/" \
	    $TDIR/sshd.d/50-labcontainers.conf
	out=$(labc admin doctor --dir $TDIR/sshd.d --sshd-config $TDIR/sshd_config 2>&1 || true)
	contains "$out" "gateway sshd +problem .*allowstreamlocalforwarding yes \\(want no\\), .*permituserrc yes \\(want no\\)"
	contains "$(gw_setup)" "Updated"
'

test_done
