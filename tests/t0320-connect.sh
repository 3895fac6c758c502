#!/usr/bin/env bash
# t0320-connect.sh - one way to connect, on the real LXD, a real sshd as
# the gateway on loopback and real ssh: the ssh-config block a laptop user
# pastes once reaches a container made after it; launch, create and
# details show that route (and the direct port only when ssh_listen is not
# loopback); nc takes NAME.ANYTHING and refuses another member's and
# hostile names; a changed ssh_listen moves every container's device at
# reconciliation; the member's own authorized_keys lines survive key
# changes, a deleted key goes, and what the container holds (a symlink, a
# huge file, odd bytes) neither misleads nor stops labcd.
. "$(dirname "$0")/lib.sh"
need_lxd

. "$(dirname "$0")/gateway.sh"
P=${LABCT_PREFIX}o-
LAPTOP=labct-laptop32
userdel "$LAPTOP" >/dev/null 2>&1
at_exit "userdel $LAPTOP"
gw_init labct32gw labct32gk 63190

conf() {	# conf SSH_LISTEN: this test's labcd configuration
	write_conf "project_prefix = $P" "default_image = $LABCT_IMAGE" \
	    "profiles = $LABCT_PROFILE" "ssh_listen = $1" \
	    "ssh_ports = 63100-63199" "reconcile_interval = 0" "reconcile_on_change = no" "${GW_CONF[@]}"
}
conf 127.0.0.1
start_labcd || exit 1
for u in alice bob; do
	labc admin user add $u </dev/null >/dev/null
	newkey $u
	labc --as $u key add < $TDIR/$u.pub
done
newkey alice2
newkey hand
newkey stale
gw_setup >/dev/null
gw_start || exit 1

# as_laptop CMD...: as a laptop user of our own, HOME=$TDIR/laptop (ssh
# reads ~/.ssh of the passwd entry), holding alice's key.
H=$TDIR/laptop
useradd --no-create-home --home-dir $H --shell /bin/sh $LAPTOP
as_laptop() {
	setpriv --reuid=$LAPTOP --regid=$LAPTOP --init-groups env HOME=$H \
	    "$@"
}

# in_ct KEY ADDR PORT CMD...: ssh into a container by its own port.
in_ct() {
	local key=$1 addr=$2 port=$3
	shift 3
	ssh -i "$key" -p "$port" -o StrictHostKeyChecking=no \
	    -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
	    -o IdentitiesOnly=yes -o ConnectTimeout=10 -o LogLevel=ERROR \
	    "ubuntu@$addr" "$@"
}

# the device LXD has: its listen address
lxd_listen() {
	lxc query "/1.0/instances/$2?project=${P}$1" |
	    sed -n 's/.*"listen": *"\([^"]*\)".*/\1/p' | head -n 1
}

BLOCK="# labcontainers on 127.0.0.1: container NAME is NAME.lab (paste once; new containers need nothing)
Host *.lab
    User ubuntu
    ProxyCommand ssh -p $SSHD_PORT $GW@127.0.0.1 nc %h"

test_expect_success 'ssh-config is one block, the same for every member, every time' '
	a=$(gw alice $GW@127.0.0.1 ssh-config)
	b=$(gw bob $GW@127.0.0.1 ssh-config)
	[ "$a" = "$BLOCK" ] || { printf "%s\n---\n%s\n" "$a" "$BLOCK"; exit 1; }
	[ "$b" = "$a" ]
	[ "$(gw alice $GW@127.0.0.1 ssh-config)" = "$a" ]
'

test_expect_success 'help ssh-config gives the one-liners for Linux, macOS and PowerShell' '
	out=$(labc --as alice help ssh-config)
	contains "$out" "mkdir -p ~/.ssh && ssh lab@SERVER ssh-config >> ~/.ssh/config"
	contains "$out" "mkdir -Force \\\$HOME\\\\.ssh; ssh lab@SERVER ssh-config \|"
	contains "$out" "Out-File -Append -Encoding ascii \\\$HOME\\\\.ssh\\\\config"
	contains "$out" "UTF-16"
	contains "$out" "once"
'

test_expect_success 'the laptop pastes it once, with the line launch shows' '
	mkdir -p $H/.ssh
	cp $TDIR/alice $H/.ssh/id_ed25519
	printf "Host *\n    StrictHostKeyChecking no\n    UserKnownHostsFile /dev/null\n    LogLevel ERROR\n    BatchMode yes\n\n" > $H/.ssh/config
	chown -R $LAPTOP: $H; chmod 700 $H/.ssh
	# the one-liner launch and help show, run as the member would
	as_laptop sh -c "mkdir -p ~/.ssh && ssh -p $SSHD_PORT $GW@127.0.0.1 ssh-config >> ~/.ssh/config"
	contains "$(cat $H/.ssh/config)" "^Host \*\.lab$"
'

test_expect_success 'launch afterwards: the route through the gateway, no direct port on loopback' '
	t0=$(date +%s%N)
	out=$(gw alice $GW@127.0.0.1 launch box </dev/null 2>/dev/null)
	t1=$(date +%s%N)
	measured "launch box through the gateway: $(( (t1 - t0) / 1000000 )) ms"
	contains "$out" "^box is running"
	contains "$out" "^Connect with: ssh box\.lab +\(once: ssh -p $SSHD_PORT $GW@127\.0\.0\.1 ssh-config >> ~/\.ssh/config, see .help ssh-config.\)$"
	not_contains "$out" "ssh -p [0-9]+ ubuntu@|Or by its own port"
'

test_expect_success 'the block pasted before box existed reaches it: ssh box.lab, scp' '
	t0=$(date +%s%N)
	out=$(as_laptop ssh box.lab hostname)
	t1=$(date +%s%N)
	measured "ssh box.lab hostname through the real sshd gateway: $(( (t1 - t0) / 1000000 )) ms"
	[ "$out" = box ]
	echo hello > $H/f; chown $LAPTOP: $H/f
	as_laptop scp -q $H/f box.lab:f
	[ "$(as_laptop ssh box.lab cat f)" = hello ]
'

test_expect_success 'create and details print the same route' '
	out=$(labc --as alice create other 2>/dev/null)
	contains "$out" "^Created other \(SSH port 631[0-9][0-9]\)"
	contains "$out" "^Connect with: ssh other\.lab "
	not_contains "$out" "Or by its own port"
	out=$(labc --as alice details box)
	contains "$out" "connect: +ssh box\.lab "
	contains "$out" "ssh port: +631[0-9][0-9]"
	not_contains "$out" "direct:"
	labc --as alice delete other >/dev/null
'

test_expect_success 'nc takes box.anything, ignoring all from the first dot' '
	px="ssh -i $TDIR/alice -p $SSHD_PORT -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR -o IdentitiesOnly=yes $GW@127.0.0.1 nc"
	[ "$(gw alice -o ProxyCommand="$px box.anything.at.all" ubuntu@x hostname)" = box ]
	[ "$(gw alice -o ProxyCommand="$px box" ubuntu@x hostname)" = box ]
	[ "$(gw alice -o ProxyCommand="$px box." ubuntu@x hostname)" = box ]
'

test_expect_success 'bob'"'"'s nc of box.x or box.lab is refused: he has no box' '
	for n in box.x box.lab box; do
		out=$(gw bob $GW@127.0.0.1 nc $n </dev/null 2>&1 || true)
		contains "$out" "you have no container .box."
		not_contains "$out" "SSH-"
	done
'

test_expect_success 'hostile names: a clear refusal, nothing echoed, nothing dialled' '
	long=$(printf "a%.0s" $(seq 300))
	for n in ".lab" "box;id" "box.x;id" "box/../x" "$(printf "box.\033[2J")" "$long" "box.$long" "Box"; do
		out=$(expect_status 1 labc --as alice nc "$n" </dev/null 2>&1)
		contains "$out" "nc takes NAME or NAME\.SUFFIX|is not a container name"
		not_contains "$out" "$(printf "\033")"
		not_contains "$out" "SSH-"
	done
	out=$(labc --as alice nc "$long" </dev/null 2>&1 || true)
	contains "$out" "longer than a host name"
	[ "$(labc --as alice whoami)" = alice ]
'

# ---- ssh_listen follows ----------------------------------------------------

# moved_to ADDR: wait (30 s at most) until LXD's device of box is on ADDR.
moved_to() {
	local i
	for i in $(seq 300); do
		[ "$(lxd_listen alice box)" = "tcp:$1:$PORT" ] && return 0
		sleep 0.1
	done
	echo "LXD says box listens on $(lxd_listen alice box), not tcp:$1:$PORT"
	return 1
}
PORT=$(port_of alice box)

test_expect_success 'box listens on ssh_listen, 127.0.0.1' '
	[ "$(lxd_listen alice box)" = "tcp:127.0.0.1:$PORT" ]
'

# labcd restarted with another ssh_listen (its start-up reconciliation;
# reconcile_interval = 0: no other pass)
stop_labcd; conf 127.0.0.2; start_labcd || exit 1
T0=$(date +%s%N)

test_expect_success 'a labcd restarted with another ssh_listen moves box at reconciliation' '
	moved_to 127.0.0.2
	measured "the start-up reconciliation moved the device within $(( ($(date +%s%N) - T0) / 1000000 )) ms of labcd starting"
	# LXD has the device before labcd writes the pass to its log
	for i in $(seq 50); do
		grep -q "box.*listens on tcp:127\.0\.0\.1:$PORT, ssh_listen says tcp:127\.0\.0\.2:$PORT.*moved the device" $LABCD_LOG && break
		sleep 0.1
	done
	contains "$(cat $LABCD_LOG)" "box.*listens on tcp:127\.0\.0\.1:$PORT, ssh_listen says tcp:127\.0\.0\.2:$PORT.*moved the device"
'

test_expect_success 'the port answers on the new address only' '
	for i in $(seq 50); do in_ct $TDIR/alice 127.0.0.2 $PORT true 2>/dev/null && break; sleep 0.2; done
	[ "$(in_ct $TDIR/alice 127.0.0.2 $PORT hostname)" = box ]
	! timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null
	# the gateway route follows too
	[ "$(as_laptop ssh box.lab hostname)" = box ]
	out=$(labc admin reconcile 2>&1)
	not_contains "$out" "box"
'

stop_labcd; conf $LABCT_GATEWAY; start_labcd || exit 1

test_expect_success 'ssh_listen not loopback: box follows, and launch and details add the direct port' '
	moved_to $LABCT_GATEWAY
	out=$(labc --as alice launch box 2>/dev/null)
	contains "$out" "^box is running already"
	contains "$out" "^Connect with: ssh box\.lab "
	contains "$out" "^Or by its own port: ssh -p $PORT ubuntu@$LABCT_GATEWAY$"
	out=$(labc --as alice details box)
	contains "$out" "direct: +ssh -p $PORT ubuntu@$LABCT_GATEWAY$"
	for i in $(seq 50); do in_ct $TDIR/alice $LABCT_GATEWAY $PORT true 2>/dev/null && break; sleep 0.2; done
	[ "$(in_ct $TDIR/alice $LABCT_GATEWAY $PORT hostname)" = box ]
	! timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.2/$PORT" 2>/dev/null
'

stop_labcd; conf 127.0.0.1; start_labcd || exit 1

test_expect_success 'and back on 127.0.0.1' '
	moved_to 127.0.0.1
	for i in $(seq 50); do in_ct $TDIR/alice 127.0.0.1 $PORT true 2>/dev/null && break; sleep 0.2; done
	[ "$(in_ct $TDIR/alice 127.0.0.1 $PORT hostname)" = box ]
'

# ---- authorized_keys: the member's own lines -----------------------------

ak() { in_ct $TDIR/alice 127.0.0.1 $(port_of alice box) "$@"; }

test_expect_success 'authorized_keys holds labcd'"'"'s keys in a marked block' '
	out=$(ak cat .ssh/authorized_keys)
	contains "$(printf "%s\n" "$out" | head -n 1)" "^# labcontainers: keys of alice "
	contains "$out" "^ssh-ed25519 [^ ]+ alice$"
	contains "$(printf "%s\n" "$out" | tail -n 1)" "^# labcontainers: end"
'

test_expect_success 'a line added by hand inside survives key add and key del' '
	port=$(port_of alice box)
	ak "printf \"# my second laptop\n%s\n\" \"$(cat $TDIR/hand.pub)\" >> .ssh/authorized_keys"
	[ "$(in_ct $TDIR/hand 127.0.0.1 $port hostname)" = box ]
	t0=$(date +%s%N)
	labc --as alice key add < $TDIR/alice2.pub >/dev/null
	measured "key add into 1 container (read, merge, write the block): $(( ($(date +%s%N) - t0) / 1000000 )) ms"
	[ "$(in_ct $TDIR/alice2 127.0.0.1 $port hostname)" = box ]
	[ "$(in_ct $TDIR/hand 127.0.0.1 $port hostname)" = box ]
	out=$(ak cat .ssh/authorized_keys)
	[ "$(printf "%s\n" "$out" | grep -c "^# my second laptop$")" = 1 ]
	[ "$(printf "%s\n" "$out" | grep -c " hand$")" = 1 ]
	fp=$(ssh-keygen -lf $TDIR/alice2.pub | cut -d" " -f2)
	labc --as alice key del "$fp" >/dev/null
	! in_ct $TDIR/alice2 127.0.0.1 $port true 2>/dev/null
	[ "$(in_ct $TDIR/hand 127.0.0.1 $port hostname)" = box ]
	out=$(ak cat .ssh/authorized_keys)
	not_contains "$out" " alice2$"
	contains "$out" "^# my second laptop$"
'

test_expect_success 'the old format (no markers, only labcd'"'"'s lines): rewritten whole, a stale key goes' '
	port=$(port_of alice box)
	# as an older labcd left it: the keys registered then, stale included
	ak "printf \"%s\n%s\n\" \"$(cat $TDIR/alice.pub)\" \"$(cat $TDIR/stale.pub)\" > .ssh/authorized_keys"
	[ "$(in_ct $TDIR/stale 127.0.0.1 $port hostname)" = box ]
	labc --as alice key add < $TDIR/alice2.pub >/dev/null
	! in_ct $TDIR/stale 127.0.0.1 $port true 2>/dev/null
	out=$(ak cat .ssh/authorized_keys)
	contains "$(printf "%s\n" "$out" | head -n 1)" "^# labcontainers: keys of alice "
	not_contains "$out" " stale$"
	[ "$(printf "%s\n" "$out" | grep -c " alice$")" = 1 ]
'

test_expect_success 'odd bytes outside the block are kept as they are' '
	ak "printf \"# caf\\\\351 \\\\001 x\n\" >> .ssh/authorized_keys; cat .ssh/authorized_keys" > $TDIR/before
	labc --as alice key del "$(ssh-keygen -lf $TDIR/alice2.pub | cut -d" " -f2)" >/dev/null
	ak cat .ssh/authorized_keys > $TDIR/after
	grep -a "^# caf" $TDIR/before | od -c > $TDIR/odd.before
	grep -a "^# caf" $TDIR/after | od -c > $TDIR/odd.after
	[ -s $TDIR/odd.before ]
	cmp $TDIR/odd.before $TDIR/odd.after
'

test_expect_success 'a symlinked authorized_keys: labcd writes no file elsewhere' '
	port=$(port_of alice box)
	ak "echo untouched | sudo tee /etc/labc-target >/dev/null; ln -sf /etc/labc-target .ssh/authorized_keys"
	! in_ct $TDIR/alice 127.0.0.1 $port true 2>/dev/null
	labc --as alice key add < $TDIR/alice2.pub >/dev/null
	[ "$(ak cat /etc/labc-target)" = untouched ]
	[ "$(ak stat -c %F .ssh/authorized_keys)" = "regular file" ]
	contains "$(cat $LABCD_LOG)" "authorized_keys is a symlink: replaced"
	labc --as alice key del "$(ssh-keygen -lf $TDIR/alice2.pub | cut -d" " -f2)" >/dev/null
'

test_expect_success 'a FIFO as authorized_keys: key add returns at once, a file with the block replaces it' '
	port=$(port_of alice box)
	ak "rm -f .ssh/authorized_keys; mkfifo .ssh/authorized_keys"
	# (sshd refuses a FIFO: alice cannot log in to look, LXD can)
	[ "$(lxc exec --project ${P}alice box -- stat -c %F /home/ubuntu/.ssh/authorized_keys)" = fifo ]
	t0=$(date +%s%N)
	out=$(labc --as alice key add < $TDIR/alice2.pub)
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	measured "key add with a FIFO as authorized_keys: $ms ms"
	[ $ms -lt 5000 ]
	not_contains "$out" "could not be updated"
	[ "$(ak stat -c %F .ssh/authorized_keys)" = "regular file" ]
	contains "$(ak cat .ssh/authorized_keys)" "^# labcontainers: keys of alice "
	contains "$(cat $LABCD_LOG)" "authorized_keys is a FIFO: replaced"
	[ "$(in_ct $TDIR/alice2 127.0.0.1 $port hostname)" = box ]
	labc --as alice key del "$(ssh-keygen -lf $TDIR/alice2.pub | cut -d" " -f2)" >/dev/null
'

test_expect_success 'a huge authorized_keys is not read whole: the block alone, labcd stays up' '
	port=$(port_of alice box)
	ak "cat .ssh/authorized_keys > k; head -c 400000 /dev/zero | tr \"\\\\0\" x >> k; echo >> k; cat k >> .ssh/authorized_keys; rm k"
	[ "$(ak stat -c %s .ssh/authorized_keys)" -gt 400000 ]
	labc --as alice key add < $TDIR/alice2.pub >/dev/null
	[ "$(labc --as alice whoami)" = alice ]
	[ "$(ak stat -c %s .ssh/authorized_keys)" -lt 4096 ]
	contains "$(cat $LABCD_LOG)" "authorized_keys is larger than [0-9]+ bytes: replaced"
	[ "$(in_ct $TDIR/alice2 127.0.0.1 $port hostname)" = box ]
'

test_expect_success 'help key del says a copy outside the block stays' '
	contains "$(labc --as alice help key del)" "copy you put outside that block yourself stays"
'

test_expect_success 'bob'"'"'s key changes never touch alice'"'"'s file' '
	before=$(ak md5sum .ssh/authorized_keys)
	labc --as bob key add < $TDIR/stale.pub >/dev/null
	[ "$(ak md5sum .ssh/authorized_keys)" = "$before" ]
	! in_ct $TDIR/stale 127.0.0.1 $(port_of alice box) true 2>/dev/null
'

labc --as alice delete box >/dev/null 2>&1
test_done
