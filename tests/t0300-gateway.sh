#!/usr/bin/env bash
# t0300-gateway.sh - the SSH gateway with a real sshd on a loopback port,
# set up as 'admin gateway setup' does it, real ssh clients and real
# containers: first login with an unknown key, keys, launch, nc through
# the gateway, ssh-config, and everything the gateway must refuse.
. "$(dirname "$0")/lib.sh"
need_lxd

. "$(dirname "$0")/gateway.sh"
P=${LABCT_PREFIX}g-
userdel labct-laptop >/dev/null 2>&1
userdel labct-true >/dev/null 2>&1
at_exit "userdel labct-true"
at_exit "userdel labct-laptop"
GW_ALLOW=labct-true
gw_init labct3gw labct3gk 62322	# not t0100's labctgw: runs may overlap

write_conf "project_prefix = $P" "default_image = $LABCT_IMAGE" \
    "profiles = $LABCT_PROFILE" "ssh_listen = 127.0.0.1" \
    "ssh_ports = 62300-62399" "${GW_CONF[@]}"
start_labcd || exit 1
labc admin user add alice </dev/null >$TDIR/alice.pw
ALICE_PW=$(sed -n 's/^Password for alice: //p' $TDIR/alice.pw)
secret "$ALICE_PW"
labc admin user add bob </dev/null >/dev/null
newkey alice
newkey bob
newkey stranger
labc --as bob key add < $TDIR/bob.pub

# An empty password typed by no one: ssh asks this program.
printf '#!/bin/sh\necho\n' > $TDIR/askpass
chmod 755 $TDIR/askpass
nokey() {	# nokey ARGS...: ssh to the gateway with no key, empty password
	SSH_ASKPASS=$TDIR/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=none \
	    setsid -w ssh -p $SSHD_PORT -o StrictHostKeyChecking=no \
	    -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
	    -o PubkeyAuthentication=no -o ConnectTimeout=10 "$@"
}

test_expect_success 'admin gateway setup makes the accounts and the drop-in' '
	out=$(gw_setup)
	contains "$out" "Made the account $GW .*password .\*."
	contains "$out" "Made the account $GWK"
	contains "$out" "Wrote $TDIR/sshd.d/50-labcontainers.conf"
	contains "$out" "sshd -t accepts it"
	[ "$(getent passwd $GW | cut -d: -f7)" = "$LABC_GW" ]
	[ "$(getent shadow $GW | cut -d: -f2)" = "*" ]
	[ "$(getent passwd $GWK | cut -d: -f7)" = /usr/sbin/nologin ]
	contains "$(cat $TDIR/sshd.d/50-labcontainers.conf)" "^Match User $GW$"
'

test_expect_success 'running it again changes nothing and says so' '
	out=$(gw_setup)
	contains "$out" "The account $GW is right already"
	contains "$out" "The account $GWK is right already"
	contains "$out" "50-labcontainers.conf is right already"
'

test_expect_success 'the drop-in changes nothing for other accounts' '
	root=$(/usr/sbin/sshd -T -f $TDIR/sshd_config -C user=root,host=x,addr=127.0.0.1)
	gwc=$(/usr/sbin/sshd -T -f $TDIR/sshd_config -C user=$GW,host=x,addr=127.0.0.1)
	contains "$root" "^exposeauthinfo no$"
	contains "$root" "^authenticationmethods any$"
	contains "$gwc" "^authenticationmethods publickey$"
	contains "$gwc" "^permitemptypasswords no$"
	contains "$gwc" "^disableforwarding yes$"
	contains "$gwc" "^kbdinteractiveauthentication no$"
	contains "$gwc" "^passwordauthentication no$"
	contains "$gwc" "^permituserrc no$"
	contains "$gwc" "^authorizedkeyscommanduser $GWK$"
'

gw_start || exit 1

test_expect_success 'without a password or a key no one gets in' '
	expect_status 255 nokey $GW@127.0.0.1 whoami </dev/null 2>/dev/null
'

test_expect_success 'a member with a key no one knows gets in anonymous, logs in and registers it' '
	out=$(printf "whoami\nlogin alice\n%s\ny\nkey list\n" "$ALICE_PW" |
	    gw alice -T $GW@127.0.0.1 2>&1)
	fp=$(ssh-keygen -lf $TDIR/alice.pub | cut -d" " -f2 | sed "s/[+.]/\\\\&/g")
	contains "$out" "You came in with the SSH key $fp"
	contains "$out" "not logged in"
	contains "$out" "Logged in as alice"
	contains "$out" "Key $fp registered"
	contains "$out" "$fp .* yes"
'

test_expect_success 'from then on her key is enough: whoami says alice' '
	[ "$(gw alice $GW@127.0.0.1 whoami)" = alice ]
	[ "$(gw bob $GW@127.0.0.1 whoami)" = bob ]
'

test_expect_success 'labc --authorized-keys gives sshd forced commands, to the key account only' '
	out=$(as_uid $(id -u $GWK) $LABC_GW -S $SOCK --authorized-keys $GW)
	contains "$out" "^restrict,pty,command=\"$LABC_GW --as alice\" ssh-ed25519 "
	contains "$out" "^restrict,pty,command=\"$LABC_GW --as bob\" ssh-ed25519 "
	read -r t k _ < $TDIR/stranger.pub
	out=$(as_uid $(id -u $GWK) $LABC_GW -S $SOCK --authorized-keys $GW $k $t)
	[ "$out" = "restrict,pty,command=\"$LABC_GW --anon\" $(cut -d" " -f1,2 $TDIR/stranger.pub)" ]
	[ -z "$(as_uid $(id -u $GWK) $LABC -S $SOCK --authorized-keys root)" ]
	for u in $(id -u nobody) $(id -u $GW) 65401; do
		out=$(as_uid $u $LABC -S $SOCK --authorized-keys $GW 2>&1 || true)
		contains "$out" "for sshd only"
		not_contains "$out" "ssh-ed25519"
	done
'

test_expect_success 'ssh lab@server launch box runs one command, no prompt' '
	out=$(gw alice $GW@127.0.0.1 launch box </dev/null 2>&1)
	contains "$out" "box is running"
	expect_status 2 gw alice $GW@127.0.0.1 frobnicate </dev/null 2>/dev/null
'

test_expect_success 'nc through the gateway reaches box with no forwarded port' '
	out=$(gw alice -o ProxyCommand="ssh -i $TDIR/alice -p $SSHD_PORT -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR $GW@127.0.0.1 nc box" ubuntu@box hostname)
	[ "$out" = box ]
'

test_expect_success 'the ssh-config output works as a config file' '
	gw alice $GW@127.0.0.1 ssh-config > $TDIR/home-ssh-config
	contains "$(cat $TDIR/home-ssh-config)" "^Host \*\.lab$"
	contains "$(cat $TDIR/home-ssh-config)" "ProxyCommand ssh -p $SSHD_PORT $GW@127.0.0.1 nc %h$"
	# ssh reads ~/.ssh of the passwd entry: a laptop user of our own
	h=$TDIR/laptop
	useradd --no-create-home --home-dir $h --shell /bin/sh labct-laptop
	mkdir -p $h/.ssh; cp $TDIR/alice $h/.ssh/id_ed25519
	printf "StrictHostKeyChecking no\nUserKnownHostsFile /dev/null\nLogLevel ERROR\nBatchMode yes\n" > $h/.ssh/config
	cp $TDIR/home-ssh-config $h/ssh-config
	chown -R labct-laptop: $h; chmod 700 $h/.ssh
	out=$(setpriv --reuid=labct-laptop --regid=labct-laptop --init-groups env HOME=$h ssh -F $h/ssh-config -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR box.lab hostname)
	userdel labct-laptop
	[ "$out" = box ]
'

test_expect_success 'bob'"'"'s key cannot act as alice or reach her container' '
	out=$(gw bob $GW@127.0.0.1 "labc --as alice whoami" 2>&1 || true)
	contains "$out" "unknown command .labc."
	out=$(gw bob $GW@127.0.0.1 --as alice whoami 2>&1 || true)
	not_contains "$out" "^alice$"
	out=$(gw bob $GW@127.0.0.1 nc box 2>&1 </dev/null || true)
	contains "$out" "you have no container .box."
'

test_expect_success 'an anonymous session cannot claim a user' '
	out=$(gw stranger $GW@127.0.0.1 "$LABC_GW --as alice" </dev/null 2>&1 || true)
	contains "$out" "unknown command"
	not_contains "$out" "^alice$"
	out=$(gw stranger $GW@127.0.0.1 --as alice whoami </dev/null 2>&1 || true)
	not_contains "$out" "^alice$"
	out=$(gw stranger $GW@127.0.0.1 whoami </dev/null 2>&1 || true)
	contains "$out" "not logged in"
'

test_expect_success 'port forwarding, stdio forwarding and sftp are refused' '
	expect_status 255 gw alice -o ExitOnForwardFailure=yes -R 62398:127.0.0.1:22 -N $GW@127.0.0.1 2>/dev/null
	out=$(gw alice -W 127.0.0.1:22 $GW@127.0.0.1 </dev/null 2>&1 || true)
	contains "$out" "prohibited|refused|failed"
	# A global sftp subsystem (tests/gateway.sh): the forced labc gets
	# it as a command and refuses it (2; sshd drops its stderr).
	expect_status 2 gw alice -s $GW@127.0.0.1 sftp </dev/null
	! sftp -i $TDIR/alice -P $SSHD_PORT -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes $GW@127.0.0.1 </dev/null >/dev/null 2>&1
	out=$(gw alice -v -A $GW@127.0.0.1 whoami 2>&1)
	not_contains "$out" "key options:.*agent-forwarding"
'

test_expect_success 'hostile commands run nothing but labc'"'"'s own parsing' '
	rm -f /tmp/labct-pwned
	for cmd in "list; touch /tmp/labct-pwned" "\$(touch /tmp/labct-pwned)" \
	    "\`touch /tmp/labct-pwned\`" "list
touch /tmp/labct-pwned" "whoami | touch /tmp/labct-pwned" \
	    "$(head -c 100000 /dev/zero | tr "\0" a)"; do
		rc=0
		gw alice $GW@127.0.0.1 "$cmd" </dev/null >/dev/null 2>&1 || rc=$?
		[ $rc -eq 1 ] || [ $rc -eq 2 ] || { echo "rc $rc for ${cmd:0:40}"; exit 1; }
	done
	[ ! -e /tmp/labct-pwned ]
'

# The baseline for our cost on a login: the same sshd, a key whose
# forced command is /bin/true.
useradd --no-create-home --home-dir $TDIR/truehome --shell /bin/sh labct-true
mkdir -p $TDIR/truehome/.ssh
printf 'restrict,command="/bin/true" %s\n' "$(cat $TDIR/alice.pub)" > $TDIR/truehome/.ssh/authorized_keys

test_expect_success 'measured: ssh whoami through labc vs a forced /bin/true' '
	a="" b=""
	for i in 1 2 3 4 5 6 7 8 9 10 11; do
		t0=$(date +%s%N); gw alice $GW@127.0.0.1 whoami >/dev/null
		t1=$(date +%s%N); gw alice labct-true@127.0.0.1 >/dev/null
		t2=$(date +%s%N)
		a="$a $(( (t1 - t0) / 1000000 ))" b="$b $(( (t2 - t1) / 1000000 ))"
	done
	ma=$(echo $a | tr " " "\n" | sort -n | sed -n 6p)
	mb=$(echo $b | tr " " "\n" | sort -n | sed -n 6p)
	measured "ssh lab@127.0.0.1 whoami median $ma ms; forced /bin/true median $mb ms (ASan labc)"
	[ -n "$ma" ] && [ -n "$mb" ]
'

test_expect_success 'a locked user'"'"'s key lands anonymous from the next connection' '
	labc admin user lock bob
	out=$(gw bob $GW@127.0.0.1 whoami 2>&1)
	contains "$out" "not logged in"
	labc admin user unlock bob
	[ "$(gw bob $GW@127.0.0.1 whoami)" = bob ]
'

test_expect_success 'a deleted user'"'"'s key lands anonymous from the next connection' '
	labc admin user del bob
	out=$(gw bob $GW@127.0.0.1 whoami 2>&1)
	contains "$out" "not logged in"
	not_contains "$out" "^bob"
'

test_done
