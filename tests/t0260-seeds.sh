#!/usr/bin/env bash
# t0260-seeds.sh - seed_containers: the first create of an image makes,
# in the background, a seed (a stopped container of the image on the
# pool, started once by LXD with /bin/true as its init) in labcd's own
# project; later creates are copies of it, which LXD does not remap at
# their first start. A copy is its own machine (hostname, host keys,
# machine id), a member sees no seed, a seed gone behind labcd's back
# costs a launch nothing but time, and each pool has its own.
. "$(dirname "$0")/lib.sh"
need_lxd
if [ -z "${LABCT_POOL_BT:-}" ]; then
	test_skip_all 'the test bed has no btrfs pool'
fi

P=${LABCT_PREFIX}sd-
SP=${P}0seeds
FP=$LABCT_IMAGE_FP
conf() {
	write_conf "project_prefix = $P" "default_image = $LABCT_IMAGE" \
	    "profiles = $LABCT_PROFILE_BT" "ssh_listen = 127.0.0.1" \
	    "ssh_ports = 64260-64279" "seed_containers = yes" "$@"
}
conf
start_labcd || exit 1
newkey alice1
newkey bob1
printf 'alice-pw-123\n' | labc admin user add alice --password-stdin \
    --key "$(cat $TDIR/alice1.pub)" >/dev/null
printf 'bob-pw-12345\n' | labc admin user add bob --password-stdin \
    --key "$(cat $TDIR/bob1.pub)" >/dev/null

# seeds: the names of the instances in labcd's project of seeds.
seeds() {
	lxc query "/1.0/instances?project=$SP&recursion=1" 2>/dev/null |
	    jq -r '.[] | "\(.name) \(.status)"' | sort
}
# seed_of POOL: the seed's name for the test image on POOL (seed.c).
seed_of() {
	local h
	h=$(printf '%s' "$1" | python3 -c 'import sys
h = 2166136261
for b in sys.stdin.buffer.read():
    h = ((h ^ b) * 16777619) & 0xffffffff
print("%08x" % h)')
	echo "seed-${FP:0:12}-$h"
}
# wait_seed NAME: until it is there and stopped (60 s).
wait_seed() {
	local i
	for i in $(seq 600); do
		seeds | grep -qx "$1 Stopped" && return 0
		sleep 0.1
	done
	echo "no seed $1; seeds: $(seeds | tr '\n' ' ')" >&2
	tail -20 "$LABCD_LOG" >&2
	return 1
}
cfg() {
	lxc query "/1.0/instances/$2?project=$1" | jq -r ".config[\"$3\"] // \"-\""
}
SEED=$(seed_of "$LABCT_POOL_BT")

test_expect_success 'the first launch makes a seed in the background: stopped, started once by LXD, nothing of the image ran' '
	[ -z "$(seeds)" ]
	t0=$(date +%s%N)
	labc --as alice launch one >/dev/null
	t1=$(date +%s%N)
	wait_seed $SEED
	contains "$(cat $LABCD_LOG)" "seed $SP/$SEED ready \(image ${FP:0:12}, pool $LABCT_POOL_BT\)"
	[ "$(cfg $SP $SEED raw.lxc)" = - ]
	[ "$(cfg $SP $SEED volatile.base_image)" = "$FP" ]
	idmap=$(cfg $SP $SEED volatile.last_state.idmap)
	contains "$idmap" "Hostid"
	# No boot: no host keys, no machine id.
	ls=$(lxc query "/1.0/instances/$SEED/files?path=/etc/ssh&project=$SP" | jq -r ".[]")
	not_contains "$ls" "ssh_host_"
	[ "$(lxc query "/1.0/instances/$SEED/files?path=/etc/machine-id&project=$SP" 2>/dev/null | tr -d "\n")" = "" ]
	# Only labcd.s own: no owner, no member.
	[ "$(lxc query /1.0/projects/$SP | jq -r ".config[\"user.labcontainers.owner\"] // \"-\"")" = - ]
	[ "$(lxc query /1.0/projects/$SP | jq -r ".config[\"user.labcontainers.seeds\"]")" = true ]
	measured "launch from the image (no seed yet): $(((t1 - t0) / 1000000)) ms"
'

test_expect_success 'a launch is then a copy of the seed: its own hostname, host keys and machine id, files owned right, no raw.lxc' '
	t0=$(date +%s%N)
	labc --as alice launch two >/dev/null
	t1=$(date +%s%N)
	contains "$(cat $LABCD_LOG)" "${P}alice/two: a copy of seed $SP/$SEED"
	not_contains "$(cat $LABCD_LOG)" "${P}alice/one: a copy of seed"
	p1=$(port_of alice one) p2=$(port_of alice two)
	[ "$(ssh_in $TDIR/alice1 $p2 hostname)" = two ]
	[ "$(ssh_in $TDIR/alice1 $p2 stat -c %U:%G /home/ubuntu)" = ubuntu:ubuntu ]
	[ "$(ssh_in $TDIR/alice1 $p2 sudo -n stat -c %U /etc/shadow)" = root ]
	k1=$(ssh_in $TDIR/alice1 $p1 cat /etc/ssh/ssh_host_ed25519_key.pub /etc/machine-id)
	k2=$(ssh_in $TDIR/alice1 $p2 cat /etc/ssh/ssh_host_ed25519_key.pub /etc/machine-id)
	[ -n "$k2" ] && [ "$(printf "%s\n" "$k1" "$k2" | sort | uniq -d)" = "" ]
	[ "$(cfg ${P}alice two raw.lxc)" = - ]
	[ "$(cfg ${P}alice two volatile.base_image)" = "$FP" ]
	[ "$(lxc query "/1.0/instances/two?project=${P}alice" | jq -r .devices.root.pool)" = "$LABCT_POOL_BT" ]
	[ "$(lxc query "/1.0/instances/two?project=${P}alice" | jq -r ".profiles | join(\",\")")" = "$LABCT_PROFILE_BT" ]
	contains "$(labc --as alice list --format csv)" "^two,running,"
	measured "launch as a copy of the seed: $(((t1 - t0) / 1000000)) ms"
'

test_expect_success 'bob.s launch is a copy of the same seed, in his own project; neither member sees a seed' '
	labc --as bob launch three >/dev/null
	contains "$(cat $LABCD_LOG)" "${P}bob/three: a copy of seed $SP/$SEED"
	[ "$(ssh_in $TDIR/bob1 $(port_of bob three) hostname)" = three ]
	not_contains "$(labc --as bob list 2>&1)" "seed"
	not_contains "$(labc --as alice list 2>&1)" "seed|three"
	out=$(expect_status 1 labc --as bob start $SEED 2>&1)
	contains "$out" "no container|not found|No such"
	expect_status 1 labc --as bob delete -f $SEED >/dev/null 2>&1
	seeds | grep -qx "$SEED Stopped"
	# Reconciliation and doctor leave labcd.s own project alone.
	labc admin reconcile >/dev/null 2>&1 || true
	seeds | grep -qx "$SEED Stopped"
	out=$(labc admin doctor 2>&1 || true)
	not_contains "$out" "0seeds|seed-"
	# The seeds project is no user.s: 0seeds is not a user name.
	out=$(expect_status 2 labc admin user add 0seeds 2>&1 </dev/null)
	contains "$out" "cannot be a user name: a user name is 1 to 32 lowercase letters, digits or .-., starting with a letter"
'

test_expect_success 'a seed deleted behind labcd.s back: the launch is made from the image, and the seed made again' '
	lxc delete $SEED --project $SP
	labc --as alice create four >/dev/null
	not_contains "$(cat $LABCD_LOG)" "alice/four: a copy"
	[ "$(cfg ${P}alice four volatile.base_image)" = "$FP" ]
	labc --as alice start four >/dev/null
	[ "$(ssh_in $TDIR/alice1 $(port_of alice four) hostname)" = four ]
	wait_seed $SEED
	labc --as alice create five >/dev/null
	contains "$(cat $LABCD_LOG)" "${P}alice/five: a copy of seed $SP/$SEED"
	labc --as alice delete -f four five >/dev/null
'

test_expect_success 'a seed started behind labcd.s back (its image booted in it) is never copied: labcd makes it again' '
	lxc start $SEED --project $SP
	lxc stop -f $SEED --project $SP
	labc --as alice create st1 >/dev/null
	not_contains "$(cat $LABCD_LOG)" "alice/st1: a copy"
	for i in $(seq 300); do
		grep -q "seed $SP/$SEED was started or changed since it was made: made again" $LABCD_LOG && break
		sleep 0.1
	done
	contains "$(cat $LABCD_LOG)" "seed $SP/$SEED was started or changed since it was made: made again"
	wait_seed $SEED
	for i in $(seq 100); do
		[ "$(lxc query "/1.0/instances/$SEED?project=$SP" | jq -r .description)" != null ] && break
		sleep 0.1
	done
	ls=$(lxc query "/1.0/instances/$SEED/files?path=/etc/ssh&project=$SP" | jq -r ".[]")
	not_contains "$ls" "ssh_host_"
	labc --as alice create st2 >/dev/null
	contains "$(cat $LABCD_LOG)" "${P}alice/st2: a copy of seed $SP/$SEED"
	labc --as alice delete -f st1 st2 >/dev/null
'

test_expect_success 'each pool its own seed; an unfinished build left in the project is removed by the next' '
	stop_labcd
	lxc init $LABCT_IMAGE_FP $SEED-b --project $SP -s $LABCT_POOL_BT -n none >/dev/null 2>&1 ||
	    lxc init $LABCT_IMAGE_FP $SEED-b --project $SP -s $LABCT_POOL_BT >/dev/null
	conf "storage_pool = $LABCT_POOL_DIR"
	start_labcd
	labc --as alice create six >/dev/null
	DSEED=$(seed_of "$LABCT_POOL_DIR")
	wait_seed $DSEED
	[ "$(seeds | tr "\n" " ")" = "$(printf "%s Stopped\n" $SEED $DSEED | sort | tr "\n" " ")" ]
	contains "$(cat $LABCD_LOG)" "seed $SP/$SEED-b removed: an unfinished build"
	labc --as alice create seven >/dev/null
	contains "$(cat $LABCD_LOG)" "${P}alice/seven: a copy of seed $SP/$DSEED"
	[ "$(lxc query "/1.0/instances/seven?project=${P}alice" | jq -r .devices.root.pool)" = "$LABCT_POOL_DIR" ]
	labc --as alice delete -f six seven >/dev/null
'

# An image with a template that LXD applies at a create only: a copy of a
# seed would keep what the seed.s start made of it.
TP=${P}tpl
TIMG=${P}tpl-img
at_exit "lxc image delete $TIMG; lxc delete -f tplsrc --project $TP; lxc project delete $TP"
test_expect_success 'an image whose template is not applied at a copy gets no seed: said in the log, its containers made from the image' '
	lxc project create $TP -c features.images=false -c features.profiles=false >/dev/null
	lxc init $FP tplsrc --project $TP -s $LABCT_POOL_BT >/dev/null
	lxc config metadata show tplsrc --project $TP |
	    sed "s|^templates:\$|templates:\n  /etc/labct-once:\n    when:\n    - create\n    template: once.tpl|" >$TDIR/meta.yaml
	grep -q "^  /etc/labct-once:" $TDIR/meta.yaml
	lxc config metadata edit tplsrc --project $TP <$TDIR/meta.yaml
	printf "made for {{ container.name }}\n" | lxc config template create tplsrc once.tpl --project $TP
	printf "made for {{ container.name }}\n" | lxc config template edit tplsrc once.tpl --project $TP
	lxc publish tplsrc --project $TP --alias $TIMG --compression none >/dev/null
	tfp=$(lxc image info $TIMG | sed -n "s/^Fingerprint: //p")
	TSEED=$(FP=$tfp; seed_of "$LABCT_POOL_DIR")
	labc --as alice create t1 --image $TIMG >/dev/null
	for i in $(seq 300); do
		grep -q "seed $SP/$TSEED (image ${tfp:0:12}, pool $LABCT_POOL_DIR) not made" $LABCD_LOG && break
		sleep 0.1
	done
	contains "$(cat $LABCD_LOG)" "seed $SP/$TSEED \(image ${tfp:0:12}, pool $LABCT_POOL_DIR\) not made: the image.s template for /etc/labct-once is not applied at a copy"
	! seeds | grep -q "^$TSEED"
	labc --as alice create t2 --image $TIMG >/dev/null
	not_contains "$(cat $LABCD_LOG)" "alice/t2: a copy"
	labc --as alice start t2 >/dev/null
	[ "$(ssh_in $TDIR/alice1 $(port_of alice t2) cat /etc/labct-once)" = "made for t2" ]
	labc --as alice delete -f t1 t2 >/dev/null
'

test_expect_success 'seed_containers = no (the default) makes none and copies none' '
	stop_labcd
	write_conf "project_prefix = $P" "default_image = $LABCT_IMAGE" \
	    "profiles = $LABCT_PROFILE_BT" "ssh_listen = 127.0.0.1" \
	    "ssh_ports = 64260-64279"
	start_labcd
	lxc delete $SEED --project $SP
	labc --as alice create eight >/dev/null
	not_contains "$(cat $LABCD_LOG)" "alice/eight: a copy"
	sleep 1
	! seeds | grep -q "^$SEED "
	labc --as alice delete -f eight >/dev/null
'

test_done
