#!/usr/bin/env bash
# t0210-quota.sh - quotas as LXD project limits and per-container limits on
# the btrfs pool: the root disk size is applied, CPU and memory limits hold,
# and going over a quota is refused with a message naming it.
. "$(dirname "$0")/lib.sh"
need_lxd
if [ -z "${LABCT_POOL_BT:-}" ]; then
	test_skip_all 'the test bed has no btrfs pool'
fi

P=${LABCT_PREFIX}q-
write_conf "project_prefix = $P" "default_image = $LABCT_IMAGE" \
    "profiles = $LABCT_PROFILE_BT" "ssh_listen = 127.0.0.1" \
    "ssh_ports = 62200-62299"
start_labcd || exit 1
newkey carol
labc admin user add carol --key "$(cat $TDIR/carol.pub)" </dev/null >/dev/null

test_expect_success '--disk sets the root disk size, and the pool enforces it' '
	labc --as carol launch small --disk 1GiB >/dev/null
	contains "$(labc --as carol details small)" "disk: +1GiB, used"
	p=$(port_of carol small)
	ssh_in $TDIR/carol $p "dd if=/dev/zero of=/home/ubuntu/ok bs=1M count=200 status=none && sync"
	out=$(ssh_in $TDIR/carol $p "dd if=/dev/zero of=/home/ubuntu/big bs=1M count=1500 status=none; sync; echo rc=\$?" 2>&1 || true)
	contains "$out" "Disk quota exceeded|No space left"
	# btrfs quota groups may let a write run past the size before they
	# stop it; LXD 5.0.2 then refuses to stop the container ("Invalid
	# value: 1.5 GiB" for the root size), as seen once in CI. What
	# follows needs small stopped and deleted: its usage back below.
	ssh_in $TDIR/carol $p "rm -f /home/ubuntu/big; sync"
'

test_expect_success 'cpu and memory limits are applied to the container' '
	labc --as carol launch tiny --cpu 1 --memory 512MiB >/dev/null
	out=$(labc --as carol details tiny)
	contains "$out" "cpu: +1, used"
	contains "$out" "memory: +512MiB, used"
	p=$(port_of carol tiny)
	[ "$(ssh_in $TDIR/carol $p nproc)" = 1 ]
	mem=$(ssh_in $TDIR/carol $p "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes")
	[ "$mem" = 536870912 ]
	labc --as carol delete -f tiny >/dev/null
'

test_expect_success 'a quota that containers made before it cannot meet is explained' '
	out=$(expect_status 1 labc admin quota set carol cpu=2 2>&1)
	contains "$out" "LXD refused the quota: .*no \"limits.cpu\" config"
	contains "$out" "set quotas before carol makes containers"
	labc --as carol delete -f small >/dev/null
'

test_expect_success 'a cpu/memory quota refuses a container that would pass it' '
	labc admin quota set carol cpu=2 memory=2GiB
	out=$(expect_status 1 labc --as carol launch greedy --cpu 4 2>&1)
	contains "$out" "quota: .*limits.cpu"
	out=$(expect_status 1 labc --as carol launch greedy --memory 4GiB 2>&1)
	contains "$out" "quota: .*limits.memory"
	not_contains "$(labc --as carol list --format csv)" "greedy"
	labc --as carol launch fits >/dev/null
	out=$(labc --as carol details fits)
	contains "$out" "cpu: +1,"
	contains "$out" "memory: +1GiB,"
	contains "$(labc --as carol quota --format csv)" "^carol,1/5,1/2,1GiB/2GiB,"
'

test_expect_success 'a disk quota counts the root disks' '
	labc admin user add erin </dev/null >/dev/null
	labc admin quota set erin disk=3GiB
	out=$(expect_status 1 labc --as erin create huge --disk 5GiB 2>&1)
	contains "$out" "quota: .*disk"
	labc --as erin create two --disk 2GiB >/dev/null
	out=$(expect_status 1 labc --as erin create more --disk 2GiB 2>&1)
	contains "$out" "quota: .*disk"
	[ "$(labc --as erin list --format csv | grep -c ,)" = 2 ]
	contains "$(labc admin quota show erin --format csv)" "^erin,1/5,0/-,0B/-,2GiB/3GiB,0/2,10$"
'

test_expect_success 'a quota below what is used is refused by LXD, clearly' '
	labc --as carol create another >/dev/null
	out=$(expect_status 1 labc admin quota set carol containers=1 2>&1)
	contains "$out" "LXD refused the quota: .*limits.containers.* is too low"
	out=$(expect_status 2 labc admin quota set carol cpu=lots 2>&1)
	contains "$out" "cpu=lots: give a number"
	out=$(expect_status 2 labc admin quota set carol gpus 2>&1)
	contains "$out" "expected KEY=VALUE"
'

test_done
