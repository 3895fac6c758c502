#!/usr/bin/env bash
# t0230-snapshots.sh - snapshots and copies of a member's own containers
# on a real LXD: snapshot, change a file, restore, the file is back (the
# container stopped and started again, and saying so); a restore keeps
# the SSH port, the GPUs held now, the schedule and the keys of now,
# whatever the snapshot had; --keep and schedules (one every minute
# here) that LXD takes and expires; the snapshot quota (a third refused
# at 2, a schedule that could pass it refused); copy to a new container with its own port,
# the files, and none of its source's GPUs; names that are not names, and
# other members, refused with nothing changed.
. "$(dirname "$0")/lib.sh"
need_lxd

P=${LABCT_PREFIX}sn-
PROFILE=${LABCT_PROFILE_BT:-$LABCT_PROFILE}
STUB=$LABCT_BUILD/tests/nvml-stub/libnvidia-ml.so.1
export NVML_STUB_FILE=$TDIR/gpus.txt
cat > $NVML_STUB_FILE <<GPUS
gpu NVIDIA-A100-SXM4-40GB 00000000:3B:00.0 GPU-0000aaaa 40960 0 0
gpu NVIDIA-A100-SXM4-40GB 00000000:5E:00.0 GPU-1111bbbb 40960 0 0
GPUS
write_conf "project_prefix = $P" "default_image = $LABCT_IMAGE" \
    "profiles = $PROFILE" "ssh_listen = 127.0.0.1" \
    "ssh_ports = 62950-62989" "nvml_library = $STUB" "quota_snapshots = 3"
start_labcd || exit 1
newkey alice1
newkey alice2
newkey bob1
for u in alice bob; do
	labc admin user add $u </dev/null >/dev/null
done
labc --as alice key add "$(cat $TDIR/alice1.pub)" >/dev/null
labc --as bob key add "$(cat $TDIR/bob1.pub)" >/dev/null

# snaps NAME [USER]: the snapshot names LXD has, sorted, on one line.
snaps() {
	lxc query "/1.0/instances/$1/snapshots?recursion=1&project=$P${2:-alice}" |
	    jq -r '[.[].name | split("/") | last] | sort | join(" ")'
}
# devs NAME: the container's own devices as "name:type", sorted.
devs() {
	lxc query "/1.0/instances/$1?project=${P}alice" |
	    jq -r '[.devices | to_entries[] | "\(.key):\(.value.type)"] | sort | join(" ")'
}

test_expect_success 'a new user has quota_snapshots; quota shows it' '
	contains "$(labc --as alice quota --format csv)" "^user,containers,cpu,memory,disk,gpus,snapshots$"
	contains "$(labc --as alice quota --format csv)" "^alice,.*,3$"
	labc admin quota set bob snapshots=none >/dev/null
	contains "$(labc admin quota show --format csv)" "^bob,.*,-$"
'

labc --as alice launch box >/dev/null 2>&1 || { echo "launch box failed"; exit 1; }
PORT=$(port_of alice box)

test_expect_success 'snapshot, change a file, restore: the file is back, and it runs again' '
	ssh_in $TDIR/alice1 $PORT "echo v1 > data" &&
	out=$(labc --as alice snapshot box s1) &&
	contains "$out" "^Snapshot s1 of box taken\.$" &&
	ssh_in $TDIR/alice1 $PORT "echo v2 > data; echo new > other" &&
	out=$(labc --as alice restore box s1 2>&1) &&
	contains "$out" "^box was running: stopped, restored to s1, and started again\.$" &&
	contains "$out" "^box is running" &&
	[ "$(ssh_in $TDIR/alice1 $PORT cat data)" = v1 ] &&
	expect_status 1 ssh_in $TDIR/alice1 $PORT test -e other &&
	[ "$(port_of alice box)" = $PORT ]
'

test_expect_success 'a restore keeps the keys of now: a key deleted since stays out' '
	labc --as alice key add "$(cat $TDIR/alice2.pub)" >/dev/null &&
	fp=$(ssh-keygen -lf $TDIR/alice1.pub | cut -d" " -f2) &&
	labc --as alice key del "$fp" >/dev/null &&
	until_ms 10000 expect_status 255 ssh_in $TDIR/alice1 $PORT true &&
	out=$(labc --as alice restore box s1 2>&1) &&
	contains "$out" "restored to s1" &&
	[ "$(ssh_in $TDIR/alice2 $PORT cat data)" = v1 ] &&
	expect_status 255 ssh_in $TDIR/alice1 $PORT true
'

test_expect_success 'a restore leaves a stopped container stopped, and says how to start it' '
	labc --as alice stop box >/dev/null &&
	out=$(labc --as alice restore box s1) &&
	contains "$out" "^box restored to s1\. It is stopped: .start box. starts it\.$" &&
	[ "$(lxc query "/1.0/instances/box?project=${P}alice" | jq -r .status)" = Stopped ] &&
	labc --as alice start box >/dev/null 2>&1
'

test_expect_success 'a restore gives back no GPU the snapshot had, and keeps those held now' '
	labc --as alice create gbox --gpu 0 >/dev/null &&
	[ "$(devs gbox)" = "gpu0:gpu ssh:proxy" ] &&
	labc --as alice snapshot gbox g1 >/dev/null &&
	labc --as alice gpu detach gbox all >/dev/null &&
	labc --as alice gpu attach gbox 1 >/dev/null &&
	[ "$(devs gbox)" = "gpu1:gpu ssh:proxy" ] &&
	labc --as alice restore gbox g1 >/dev/null &&
	[ "$(devs gbox)" = "gpu1:gpu ssh:proxy" ] &&
	[ "$(lxc query "/1.0/instances/gbox?project=${P}alice" | jq -r .devices.gpu1.pci)" = 0000:5e:00.0 ]
'

test_expect_success 'snapshots lists name, taken, expires; --keep makes LXD expire it' '
	out=$(labc --as alice snapshot box --keep 2h) &&
	contains "$out" "^Snapshot snap-[0-9]{8}-[0-9]{6} of box taken; LXD deletes it in 2h" &&
	csv=$(labc --as alice snapshots box --format csv) &&
	contains "$csv" "^name,taken,expires,size$" &&
	contains "$csv" "^s1,20[0-9-]+ [0-9:]+,-," &&
	contains "$csv" "^snap-[0-9-]+,20[0-9-]+ [0-9:]+,20[0-9-]+ [0-9:]+," &&
	exp=$(lxc query "/1.0/instances/box/snapshots?recursion=1&project=${P}alice" |
	    jq -r "[.[] | select(.name | test(\"snap-\")) | .expires_at][0]") &&
	left=$(( $(date -d "$exp" +%s) - $(date +%s) )) &&
	[ $left -gt 7000 ] && [ $left -le 7200 ] &&
	json=$(labc --as alice snapshots box --format json) &&
	[ "$(printf "%s" "$json" | jq ".count, .quota, (.snapshots | length)" | tr "\n" " ")" = "3 3 2 " ] &&
	contains "$(labc --as alice snapshots box)" "^You keep 3 of your 3 snapshots"
'

test_expect_success 'at the quota, a snapshot is refused and nothing is made' '
	before=$(snaps box) &&
	out=$(expect_status 1 labc --as alice snapshot box s9 2>&1) &&
	contains "$out" "quota: you may keep 3 snapshots over all your containers and have 3" &&
	[ "$(snaps box)" = "$before" ] &&
	labc admin quota set alice snapshots=2 >/dev/null &&
	out=$(expect_status 1 labc --as alice snapshot gbox s9 2>&1) &&
	contains "$out" "quota: you may keep 2 snapshots" &&
	[ "$(snaps gbox)" = g1 ]
'

test_expect_success 'snapshot del; deleting what is not there says so' '
	labc --as alice snapshot del gbox g1 >/dev/null &&
	[ -z "$(snaps gbox)" ] &&
	snap=$(snaps box | tr " " "\n" | grep snap-) &&
	out=$(labc --as alice snapshot del box $snap) &&
	contains "$out" "^Snapshot $snap of box deleted\.$" &&
	out=$(expect_status 1 labc --as alice snapshot del box nope 2>&1) &&
	contains "$out" "box has no snapshot nope \(see .snapshots box.\)" &&
	out=$(expect_status 1 labc --as alice restore box nope 2>&1) &&
	contains "$out" "box has no snapshot nope" &&
	[ "$(lxc query "/1.0/instances/box?project=${P}alice" | jq -r .status)" = Running ]
'

test_expect_success 'names that are not snapshot names, and auto- names, are refused' '
	before=$(snaps box) &&
	for bad in ../x a/b .x "a b" $(printf "s%.0s" $(seq 64)) "x;y"; do
		out=$(expect_status 2 labc --as alice snapshot box "$bad" 2>&1) &&
		contains "$out" "is not a snapshot name" || exit 1
	done &&
	out=$(expect_status 2 labc --as alice snapshot box auto-1 2>&1) &&
	contains "$out" "for scheduled snapshots" &&
	expect_status 2 labc --as alice snapshot box s2 --keep 10s >/dev/null 2>&1 &&
	expect_status 2 labc --as alice snapshot box s2 --keep soon >/dev/null 2>&1 &&
	[ "$(snaps box)" = "$before" ]
'

test_expect_success 'another member can neither see, take, restore nor delete them' '
	before=$(snaps box) &&
	for cmd in "snapshots box" "snapshot box x1" "restore box s1" "snapshot del box s1" \
	    "snapshot schedule box off" "copy box mine"; do
		out=$(expect_status 1 labc --as bob $cmd 2>&1) &&
		contains "$out" "you have no container .box." || exit 1
	done &&
	[ "$(snaps box)" = "$before" ] &&
	[ -z "$(snaps mine bob 2>/dev/null)" ] &&
	! lxc info --project ${P}bob mine >/dev/null 2>&1
'

test_expect_success 'a schedule that could keep more than the quota is refused' '
	out=$(expect_status 1 labc --as alice snapshot schedule box hourly --keep 7d 2>&1) &&
	contains "$out" "quota: hourly snapshots kept 7d0h would be up to 169 at once, and you may keep 2" &&
	out=$(expect_status 2 labc --as alice snapshot schedule box daily 2>&1) &&
	contains "$out" "a schedule needs --keep" &&
	out=$(expect_status 2 labc --as alice snapshot schedule box yearly --keep 1d 2>&1) &&
	contains "$out" "say minutely, hourly, daily, weekly or off" &&
	[ -z "$(lxc query "/1.0/instances/box?project=${P}alice" | jq -r ".config[\"snapshots.schedule\"] // empty")" ]
'

test_expect_success 'a schedule of every minute: LXD takes one, named auto-, and says when it goes' '
	labc admin quota set alice snapshots=5 >/dev/null &&
	out=$(labc --as alice snapshot schedule box minutely --keep 3m) &&
	contains "$out" "^LXD takes a snapshot of box minutely while it runs" &&
	contains "$(labc --as alice snapshots box)" "^Scheduled: minutely, kept 3 min\.$" &&
	until_ms 90000 eval "snaps box | grep -q auto-" &&
	measured "the first scheduled snapshot came after $((TOOK / 1000)) s" &&
	csv=$(labc --as alice snapshots box --format csv) &&
	contains "$csv" "^auto-[0-9]{8}-[0-9]{4},20[0-9-]+ [0-9:]+,20[0-9-]+ [0-9:]+," &&
	labc admin quota set alice snapshots=8 >/dev/null &&
	labc --as alice snapshot box withsched >/dev/null &&
	out=$(labc --as alice snapshot schedule box off) &&
	contains "$out" "^No more scheduled snapshots of box" &&
	not_contains "$(labc --as alice snapshots box)" "^Scheduled"
'

test_expect_success 'a restore keeps the schedule of now, not the one in the snapshot' '
	labc --as alice restore box withsched >/dev/null 2>&1 &&
	[ -z "$(lxc query "/1.0/instances/box?project=${P}alice" | jq -r ".config[\"snapshots.schedule\"] // empty")" ] &&
	not_contains "$(labc --as alice snapshots box)" "^Scheduled" &&
	labc --as alice snapshot del box withsched >/dev/null
'

test_expect_success 'copy: its own port, the files, no GPU of its source, none of its snapshots' '
	out=$(labc --as alice copy box box2) &&
	contains "$out" "^Copied box to box2 \(SSH port 629[5-8][0-9]\)" &&
	port2=$(port_of alice box2) &&
	[ -n "$port2" ] && [ "$port2" != $PORT ] &&
	[ -z "$(snaps box2)" ] &&
	labc --as alice start box2 >/dev/null 2>&1 &&
	[ "$(ssh_in $TDIR/alice2 $port2 cat data)" = v1 ] &&
	expect_status 255 ssh_in $TDIR/alice1 $port2 true &&
	out=$(labc --as alice copy gbox gbox2) &&
	[ "$(devs gbox2)" = "ssh:proxy" ] &&
	[ "$(devs gbox)" = "gpu1:gpu ssh:proxy" ] &&
	labc --as alice delete gbox2 >/dev/null
'

test_expect_success 'copy --from a snapshot, with a GPU asked for; a quota or a taken name refuses' '
	ssh_in $TDIR/alice2 $PORT "echo v3 > data" &&
	labc --as alice snapshot box s3 >/dev/null &&
	ssh_in $TDIR/alice2 $PORT "echo v4 > data" &&
	out=$(labc --as alice copy box box3 --from s3 --gpu 0) &&
	contains "$out" "^Copied box/s3 to box3 .*GPU" &&
	[ "$(devs box3)" = "gpu0:gpu ssh:proxy" ] &&
	labc --as alice delete box3 >/dev/null &&
	out=$(expect_status 1 labc --as alice copy box box2 2>&1) &&
	contains "$out" "you have a container named box2 already" &&
	out=$(expect_status 1 labc --as alice copy box box4 --from nope 2>&1) &&
	contains "$out" "box has no snapshot nope" &&
	labc admin quota set alice containers=3 >/dev/null &&
	out=$(expect_status 1 labc --as alice copy box box4 2>&1) &&
	contains "$out" "quota: you may have 3 containers and have 3" &&
	! lxc info --project ${P}alice box4 >/dev/null 2>&1 &&
	[ -z "$(labc --as alice list --format csv | grep ^box4,)" ]
'

test_expect_success 'the copy from s3 had the file of then' '
	labc admin quota set alice containers=none >/dev/null &&
	labc --as alice copy box box5 --from s3 >/dev/null &&
	labc --as alice start box5 >/dev/null 2>&1 &&
	[ "$(ssh_in $TDIR/alice2 $(port_of alice box5) cat data)" = v3 ]
'

test_done
