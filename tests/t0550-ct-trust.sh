#!/usr/bin/env bash
# t0550-ct-trust.sh - nothing a container says about itself is trusted and
# LXD is a second wall (issue 13, F5 F7 F8 F9), on the real LXD, with the
# attacker a member acting from an unprivileged host uid:
# - nc reaches the container's own sshd (its host key) when the owner,
#   root inside, puts a false address ahead of the real one or moves it;
# - GPUs whose PCI address NVML cannot read, or reads wrong, are refused;
# - users' projects are restricted: a privileged or raw container made
#   with lxc in one is refused by LXD, labcd's launches work; a project
#   without the user's owner key is not taken over; reconciliation
#   adopts no privileged or raw instance;
# - locking a user closes the SSH ports of their containers (also after
#   a reconciliation), unlocking opens them again;
# - a password change ends the user's other sessions.
. "$(dirname "$0")/lib.sh"

STUB=$LABCT_BUILD/tests/nvml-stub/libnvidia-ml.so.1
P=${LABCT_PREFIX:-labct-nolxd-}t-
A=65551 B=65552 C=65553		# host uids without accounts: alice, bob, bob
export NVML_STUB_FILE=$TDIR/gpus.txt
# GPU 1: NVML cannot read its PCI address; 2 and 3: it reads garbage.
cat >"$NVML_STUB_FILE" <<GPUS
gpu NVIDIA-A100-SXM4-40GB 00000000:3B:00.0 GPU-0000aaaa 40960 0 0
gpu NVIDIA-A100-SXM4-40GB - GPU-1111bbbb 40960 0 0
gpu NVIDIA-A100-SXM4-40GB zz:not-a-bus GPU-2222cccc 40960 0 0
gpu NVIDIA-A100-SXM4-40GB 00010000:3B:00.0 GPU-3333dddd 40960 0 0
GPUS
write_conf "project_prefix = $P" "default_image = ${LABCT_IMAGE:-none}" \
    "profiles = ${LABCT_PROFILE:-default}" "ssh_listen = 127.0.0.1" \
    "ssh_ports = 62750-62799" "nvml_library = $STUB" \
    "reconcile_interval = 0" "reconcile_on_change = no"
start_labcd || exit 1

ALICE_PW=alice-pw-$RANDOM$RANDOM BOB_PW=bob-pw-$RANDOM$RANDOM
BOB_PW2=bob-new-$RANDOM$RANDOM BOB_PW3=bob-admin-$RANDOM$RANDOM
for s in "$ALICE_PW" "$BOB_PW" "$BOB_PW2" "$BOB_PW3"; do secret "$s"; done
printf '%s\n' "$ALICE_PW" | labc admin user add alice --password-stdin >/dev/null
printf '%s\n' "$BOB_PW" | labc admin user add bob --password-stdin >/dev/null
login_as() {	# login_as UID USER PW
	printf '%s\n' "$3" | labc_as_uid "$1" login "$2" >/dev/null
}
audit() {	# audit COMMAND: its audit rows, "user|target|result"
	sqlite3 "$DB" "SELECT user, target, result FROM audit WHERE command = '$1' ORDER BY id"
}

# ---- sessions (no LXD needed) -------------------------------------------

test_expect_success 'passwd ends bob'"'"'s other sessions and keeps the one that changed it' '
	login_as $B bob "$BOB_PW"
	login_as $C bob "$BOB_PW"
	[ "$(labc_as_uid $B whoami)" = bob ]
	[ "$(labc_as_uid $C whoami)" = bob ]
	printf "%s\n%s\n" "$BOB_PW" "$BOB_PW2" | labc_as_uid $B passwd
	[ "$(labc_as_uid $B whoami)" = bob ]
	out=$(labc_as_uid $C whoami 2>&1 || true)
	not_contains "$out" "^bob"
	expect_status 1 labc_as_uid $C key list >/dev/null 2>&1
	contains "$(audit passwd)" "^bob\|bob\|ok"
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.name = '"'bob'"'")" = 1 ]
'

test_expect_success 'admin passwd ends all of bob'"'"'s sessions' '
	printf "%s\n" "$BOB_PW3" | labc admin passwd bob --password-stdin >/dev/null
	out=$(labc_as_uid $B whoami 2>&1 || true)
	not_contains "$out" "^bob"
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.name = '"'bob'"'")" = 0 ]
	login_as $B bob "$BOB_PW3"
	[ "$(labc_as_uid $B whoami)" = bob ]
'

need_lxd

login_as $A alice "$ALICE_PW"
newkey alice1
labc --as alice key add "$(cat "$TDIR/alice1.pub")" >/dev/null
alice() { labc_as_uid $A "$@"; }	# alice, from her own host uid
in_box() {	# in_box NAME CMD...: as root in alice's container (her sudo)
	local n=$1
	shift
	lxc exec --project "${P}alice" "$n" -- "$@"
}
# Alice's own sshd, by its host key: known_hosts for ssh through nc.
hostkey_file() {
	in_box box cat /etc/ssh/ssh_host_ed25519_key.pub |
	    awk '{ print "box", $1, $2 }' >"$TDIR/known_box"
}
# ssh_nc: ssh to alice's box through 'labc nc box' run as alice's uid;
# the host key must be box's own.
ssh_nc() {
	ssh -i "$TDIR/alice1" -o HostKeyAlias=box -o StrictHostKeyChecking=yes \
	    -o UserKnownHostsFile="$TDIR/known_box" -o BatchMode=yes \
	    -o ConnectTimeout=20 -o LogLevel=ERROR \
	    -o ProxyCommand="env HOME=$TDIR/home-$A setpriv --reuid=$A --regid=$A --clear-groups $LABC -S $SOCK nc box" \
	    ubuntu@box "$@"
}

test_expect_success 'a labcd launch works in the restricted project' '
	out=$(alice launch box --memory 512MiB 2>/dev/null)
	contains "$out" "box is running"
	conf=$(lxc query "/1.0/projects/${P}alice" | jq -c .config)
	for kv in restricted=true features.profiles=true \
	    restricted.containers.privilege=unprivileged \
	    restricted.containers.nesting=block \
	    restricted.containers.lowlevel=block \
	    restricted.devices.proxy=allow restricted.devices.gpu=allow \
	    restricted.devices.disk=managed user.labc.owner=alice; do
		[ "$(printf "%s" "$conf" | jq -r --arg k "${kv%%=*}" ".[\$k]")" = "${kv#*=}" ]
	done
	[ "$(lxc query "/1.0/instances/box?project=${P}alice" | jq -r .config.\"limits.memory\")" = 512MiB ]
	port=$(port_of alice box)
	[ "$(ssh_in $TDIR/alice1 $port hostname)" = box ]
	hostkey_file
	[ "$(ssh_nc hostname)" = box ]
'

# The test bed's bridge is on whichever 10.N.0.0/24 was free (10.215 where
# setup.sh's took 10.214): the false address is .250 of it.
NET=${LABCT_GATEWAY%.*}
FALSE=$NET.250
test_expect_success 'nc reaches box itself when alice puts a false address ahead of the real one' '
	real=$(in_box box ip -4 -o addr show dev eth0 | awk "{ print \$4 }" | head -n1)
	contains "$real" "^${NET//./\\.}\."
	echo "$real" >"$TDIR/real"
	in_box box sh -c "ip addr flush dev eth0 && ip addr add $FALSE/32 dev eth0 && ip addr add $real dev eth0 && ip route add default via $LABCT_GATEWAY || true"
	[ "$(lxc query "/1.0/instances/box/state?project=${P}alice" | jq -r ".network.eth0.addresses[] | select(.family == \"inet\") | .address" | head -n1)" = $FALSE ]
	[ "$(ssh_nc hostname)" = box ]
	contains "$(audit nc)" "^alice\|box\|ok"
'

test_expect_success 'and when she moves the real one away: still box, nowhere else' '
	in_box box sh -c "ip addr flush dev eth0 && ip addr add $FALSE/32 dev eth0"
	[ "$(ssh_nc hostname)" = box ]
'

test_expect_success 'without its ssh device, nc dials LXD'"'"'s lease, never the false address' '
	real=$(cat "$TDIR/real")
	lxc config device remove box ssh --project "${P}alice" >/dev/null
	out=$(alice nc box </dev/null 2>&1 || true)
	contains "$out" "does not answer"
	# The lease is the real address again once she gives it back.
	in_box box sh -c "ip addr flush dev eth0 && ip addr add $FALSE/32 dev eth0 && ip addr add $real dev eth0"
	# The host may take a moment to find the address again (ARP).
	for i in 1 2 3 4 5; do ssh_nc true 2>/dev/null && break; sleep 2; done
	[ "$(ssh_nc hostname)" = box ]
	labc admin reconcile >/dev/null
	[ -n "$(lxc config device get box ssh listen --project "${P}alice")" ]
'

test_expect_success 'a GPU whose PCI address NVML cannot read is refused, nothing made' '
	for g in 1 2 3 all; do
		out=$(alice create g$g --gpu $g 2>&1) && exit 1
		contains "$out" "GPU [123] has no PCI address that labcd can use"
		! lxc info --project "${P}alice" g$g >/dev/null 2>&1
	done
	out=$(alice gpu attach box 1 2>&1) && exit 1
	contains "$out" "GPU 1 has no PCI address"
	[ -z "$(lxc query "/1.0/instances/box?project=${P}alice" | jq -r ".devices[] | select(.type == \"gpu\")")" ]
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM gpus")" = 0 ]
	contains "$(audit create)" "^alice\|g1\|.*no PCI address"
'

# LXD checks a project's restrictions before it applies a change; this
# host has no NVIDIA container tools, so nvidia.runtime then fails there.
test_expect_success 'a GPU with a good address still works; the restrictions let nvidia.runtime by' '
	alice create g0 --gpu 0 >/dev/null 2>&1
	[ "$(lxc query "/1.0/instances/g0?project=${P}alice" | jq -r .devices.gpu0.pci)" = 0000:3b:00.0 ]
	out=$(lxc config set g0 nvidia.runtime=true --project "${P}alice" 2>&1) || true
	if [ -n "$out" ]; then
		contains "$out" "NVIDIA container tools"
		not_contains "$out" "forbidden"
	fi
	alice delete g0 >/dev/null
'

test_expect_success 'LXD refuses privileged, nesting, raw and host-disk containers in the project' '
	for c in security.privileged=true security.nesting=true \
	    raw.lxc=lxc.apparmor.profile=unconfined; do
		out=$(lxc init "$LABCT_IMAGE" evil --project "${P}alice" -p "$LABCT_PROFILE" -c "$c" 2>&1) && exit 1
		contains "$out" "forbidden"
	done
	out=$(lxc config device add box hostroot disk source=/ path=/mnt/host --project "${P}alice" 2>&1) && exit 1
	contains "$out" "forbidden|not backed by a pool"
	! lxc info evil --project "${P}alice" >/dev/null 2>&1
	[ -z "$(lxc config device get box hostroot source --project "${P}alice" 2>/dev/null)" ]
'

test_expect_success 'a project that LXD has without the owner key is not taken over' '
	lxc project create "${P}carol" -c features.images=false >/dev/null
	lxc project create "${P}dave" -c features.images=false -c user.labc.owner=mallory >/dev/null
	for u in carol dave; do
		printf "%s-pw-12345\n" $u | labc admin user add $u --password-stdin >/dev/null
		out=$(labc --as $u create x 2>&1) && exit 1
		contains "$out" "LXD has a project ${P}$u already.*does not take it over"
		contains "$out" "lxc project set ${P}$u user.labc.owner $u"
		[ "$(lxc query "/1.0/projects/${P}$u" | jq -r ".config.restricted // \"none\"")" = none ]
		! lxc info x --project "${P}$u" >/dev/null 2>&1
	done
	out=$(labc admin reconcile --dry-run)
	contains "$out" "carol .*project ${P}carol.*not labcd"
'

test_expect_success 'reconcile adopts no privileged or raw instance in a member project' '
	# As an older labcd left it: unrestricted, with profiles of its own.
	lxc project set "${P}alice" restricted=false
	port=62798
	lxc init "$LABCT_IMAGE" evil --project "${P}alice" -p "$LABCT_PROFILE" -c security.privileged=true >/dev/null
	lxc config device add evil ssh proxy listen=tcp:127.0.0.1:$port connect=tcp:127.0.0.1:22 --project "${P}alice" >/dev/null
	lxc init "$LABCT_IMAGE" rawc --project "${P}alice" -p "$LABCT_PROFILE" -c raw.lxc=lxc.apparmor.profile=unconfined >/dev/null
	lxc config device add rawc ssh proxy listen=tcp:127.0.0.1:$((port - 1)) connect=tcp:127.0.0.1:22 --project "${P}alice" >/dev/null
	out=$(labc admin reconcile)
	contains "$out" "evil .*left alone: it has security.privileged=true.*lxc delete -f --project ${P}alice evil"
	contains "$out" "rawc .*left alone: it has the low-level key raw.lxc"
	contains "$out" "project ${P}alice.*left as it is: its container (evil|rawc) stands in the way"
	[ "$(lxc query "/1.0/projects/${P}alice" | jq -r .config.restricted)" = false ]
	not_contains "$(alice list)" "evil|rawc"
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM containers WHERE name IN ('"'evil'"', '"'rawc'"')")" = 0 ]
	lxc delete evil rawc --project "${P}alice"
	out=$(labc admin reconcile)
	contains "$out" "project ${P}alice.*restricted it"
	[ "$(lxc query "/1.0/projects/${P}alice" | jq -r .config.restricted)" = true ]
'

# LXD takes TRUE, On, 1 ... as true; a profile adds what the instance's
# own config does not show.
test_expect_success 'reconcile adopts no TRUE-privileged instance, none whose profile adds a host disk, none with another profile' '
	lxc project set "${P}alice" restricted=false
	lxc profile create hostdisk --project "${P}alice" >/dev/null
	lxc profile device add hostdisk hostroot disk source=/ path=/mnt/host --project "${P}alice" >/dev/null
	lxc profile create other --project "${P}alice" >/dev/null
	port=62795
	lxc init "$LABCT_IMAGE" evil2 --project "${P}alice" -p "$LABCT_PROFILE" -c security.privileged=TRUE >/dev/null
	lxc init "$LABCT_IMAGE" hostd --project "${P}alice" -p "$LABCT_PROFILE" -p hostdisk >/dev/null
	lxc init "$LABCT_IMAGE" otherp --project "${P}alice" -p "$LABCT_PROFILE" -p other >/dev/null
	for n in evil2 hostd otherp; do
		lxc config device add $n ssh proxy listen=tcp:127.0.0.1:$port connect=tcp:127.0.0.1:22 --project "${P}alice" >/dev/null
		port=$((port - 1))
	done
	[ "$(lxc query "/1.0/instances/hostd?project=${P}alice" | jq -r ".devices.hostroot // \"none\"")" = none ]
	out=$(labc admin reconcile)
	contains "$out" "evil2 .*left alone: it has security.privileged=TRUE"
	contains "$out" "hostd .*left alone: its device hostroot \(disk\), from a profile, is not one labcd makes"
	contains "$out" "otherp .*left alone: its profile other is not one of the configured profiles"
	contains "$out" "project ${P}alice.*left as it is: its container (evil2|hostd|otherp) stands in the way"
	[ "$(lxc query "/1.0/projects/${P}alice" | jq -r .config.restricted)" = false ]
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM containers WHERE name IN ('"'evil2'"', '"'hostd'"', '"'otherp'"')")" = 0 ]
	lxc delete evil2 hostd otherp --project "${P}alice"
	lxc profile delete hostdisk --project "${P}alice"
	lxc profile delete other --project "${P}alice"
	out=$(labc admin reconcile)
	contains "$out" "project ${P}alice.*restricted it"
	[ "$(lxc query "/1.0/projects/${P}alice" | jq -r .config.restricted)" = true ]
'

test_expect_success 'an older labcd'"'"'s projects: restricted where empty, reported where not' '
	for u in erin frank; do
		lxc project create "${P}$u" -c features.images=false \
		    -c features.profiles=false -c user.labc.owner=$u >/dev/null
	done
	# frank had a container made then; LXD adds profiles only to an empty project.
	lxc init "$LABCT_IMAGE" old --project "${P}frank" -p "$LABCT_PROFILE" >/dev/null
	for u in erin frank; do
		printf "%s-pw-12345\n" $u | labc admin user add $u --password-stdin >/dev/null
	done
	# erin: empty, taken over and restricted when she was added.
	[ "$(lxc query "/1.0/projects/${P}erin" | jq -r .config.restricted)" = true ]
	[ "$(lxc query "/1.0/projects/${P}erin" | jq -r .config.\"features.profiles\")" = true ]
	lxc profile show "$LABCT_PROFILE" --project "${P}erin" | grep -q "network: $LABCT_BRIDGE"
	[ "$(lxc query "/1.0/projects/${P}frank" | jq -r ".config.restricted // \"no\"")" = no ]
	out=$(labc admin reconcile --dry-run)
	contains "$out" "frank .*project ${P}frank .*unrestricted: an older labcd made it.*left unrestricted while it holds containers"
	not_contains "$out" "project ${P}erin"
	lxc delete old --project "${P}frank"
	out=$(labc admin reconcile)
	contains "$out" "frank .*project ${P}frank .*restricted it"
	[ "$(lxc query "/1.0/projects/${P}frank" | jq -r .config.restricted)" = true ]
'

boxport() { sqlite3 "$DB" "SELECT port FROM containers WHERE name = '"'box'"'"; }

test_expect_success 'locking alice closes the SSH port of her container and her nc' '
	port=$(boxport)
	[ "$(ssh_in $TDIR/alice1 $port hostname)" = box ]
	out=$(labc admin user lock alice)
	contains "$out" "no SSH port"
	! ssh_in $TDIR/alice1 $port true 2>/dev/null
	[ -z "$(lxc config device get box ssh listen --project "${P}alice" 2>/dev/null)" ]
	out=$(alice nc box </dev/null 2>&1) && exit 1
	contains "$out" "login has expired"
	! ssh_nc true 2>/dev/null
	last=$(sqlite3 "$DB" "SELECT actor, result FROM audit WHERE command = '"'nc'"' ORDER BY id DESC LIMIT 1")
	[ "${last##*|}" = refused ]
	contains "$(audit "admin user lock")" "alice\|ok"
'

test_expect_success 'reconcile while alice is locked does not give the port back' '
	port=$(boxport)
	out=$(labc admin reconcile)
	not_contains "$out" "box"
	lxc config device add box ssh proxy listen=tcp:127.0.0.1:$port connect=tcp:127.0.0.1:22 --project "${P}alice" >/dev/null
	out=$(labc admin reconcile)
	contains "$out" "box .*locked.*took the port away"
	! ssh_in $TDIR/alice1 $port true 2>/dev/null
	# A container of hers without a row is not adopted with its port.
	lxc init "$LABCT_IMAGE" stray1 --project "${P}alice" -p "$LABCT_PROFILE" >/dev/null
	lxc config device add stray1 ssh proxy listen=tcp:127.0.0.1:62790 connect=tcp:127.0.0.1:22 --project "${P}alice" >/dev/null
	out=$(labc admin reconcile)
	contains "$out" "stray1 .*left alone while its user is locked"
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM containers WHERE name = '"'stray1'"'")" = 0 ]
'

test_expect_success 'unlocking alice opens the port again' '
	port=$(boxport)
	contains "$(labc admin user unlock alice)" "unlocked"
	for i in $(seq 50); do ssh_in $TDIR/alice1 $port true 2>/dev/null && break; sleep 0.2; done
	[ "$(ssh_in $TDIR/alice1 $port hostname)" = box ]
	login_as $A alice "$ALICE_PW"
	[ "$(ssh_nc hostname)" = box ]
	out=$(labc admin reconcile)
	contains "$out" "stray1 .*adopted it with port 62790"
	alice delete stray1 >/dev/null
'

test_done
