#!/usr/bin/env bash
# t0800-faults.sh - what a shared server does to labcd, on the real LXD:
# a container deleted with lxc behind labcd's back, one made behind its
# back, LXD stopped in the middle of a launch, labcd killed with SIGKILL
# in the middle of launches and deletes (20 times), and a database on a
# file system that fills up or turns read-only. After each, reconciliation
# must bring the database and LXD to agree without losing anything.
#
# The LXD it stops and kills is a private one (scripts/testbed.sh private): a
# daemon of this test, in a mount namespace of its own, with its own LXD_DIR,
# bridge, pools and copy of the test image. The machine's LXD, the test bed
# and every member's container and port are never signalled.
. "$(dirname "$0")/lib.sh"
need_lxd

private_lxd "labctf$$" "the fault tests"
PORTS=63800-63899
[ -n "$LABCT_PROFILE_BT" ] || test_skip_all "no btrfs pool"

P=${LABCT_PREFIX}f-
# No container quota: killed launches may leave a user more than the default 5.
write_conf "project_prefix = $P" "default_image = $LABCT_IMAGE" \
    "profiles = $LABCT_PROFILE_BT" "ssh_listen = 127.0.0.1" \
    "ssh_ports = $PORTS" "reconcile_interval = 0" "reconcile_on_change = no" "quota_containers = " \
    "lxd_socket = $LXD_SOCKET"
start_labcd || exit 1
for u in alice bob; do
	labc admin user add $u </dev/null >/dev/null
done

# The database's containers and LXD's instances of this test's projects,
# as "user/name port", sorted; they must be the same lines.
db_view() {
	sqlite3 "$DB" "SELECT u.name || '/' || c.name || ' ' || c.port || ' ' ||
	    c.state FROM containers c JOIN users u ON u.id = c.user_id" | sort
}
lxd_view() {
	lxc query "/1.0/instances?all-projects=true&recursion=1" |
	    jq -r --arg p "$P" '.[] | select(.project | startswith($p)) |
	    "\(.project | ltrimstr($p))/\(.name) \(.devices.ssh.listen // "none" |
	    split(":") | last) ready"' | sort
}
agree() {
	local d l
	d=$(db_view) l=$(lxd_view)
	if [ "$d" != "$l" ]; then
		echo "database:"; echo "$d"; echo "LXD:"; echo "$l"
		return 1
	fi
	# no port twice
	[ -z "$(sqlite3 "$DB" "SELECT port FROM containers GROUP BY port
	    HAVING count(*) > 1")" ]
}
# Wait until labcd's own reconciliation leaves nothing to do. A launch
# killed before its first start gets its ssh device from the background
# pass without a finding (no drift): wait for the two views to agree too.
settled() {
	local i
	for ((i = 0; i < 60; i++)); do
		[ "$(labc admin reconcile --dry-run --format json |
		    jq '.findings | length')" = 0 ] &&
		    [ "$(db_view)" = "$(lxd_view)" ] && return 0
		sleep 1
	done
	labc admin reconcile --dry-run
	return 1
}
restart_labcd() {
	stop_labcd
	rm -f "$SOCK"
	start_labcd
}

test_expect_success 'a container deleted with lxc: list says missing, reconcile releases its port' '
	labc --as alice create gone >/dev/null
	port=$(port_of alice gone)
	lxc delete -f --project ${P}alice gone
	contains "$(labc --as alice list --format csv)" "^gone,missing,-,$port,"
	contains "$(labc --as alice details gone 2>&1)" "missing|deleted outside"
	out=$(labc admin reconcile --dry-run)
	contains "$out" "alice +gone +deleted outside labcontainers +would release port $port"
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM containers WHERE port = $port")" = 1 ]
	out=$(labc admin reconcile)
	contains "$out" "released port $port"
	not_contains "$(labc --as alice list --format csv)" "^gone,"
	contains "$(labc admin log -n 5)" "reconcile.*alice/gone.*released port $port"
	contains "$(labc --as alice log -n 5)" "reconcile.*gone.*released port $port"
	agree
'

test_expect_success 'a container made with lxc in a user project is adopted, not deleted' '
	lxc init "$LABCT_IMAGE" --project ${P}bob -p $LABCT_PROFILE_BT stray >/dev/null
	lxc config device add --project ${P}bob stray ssh proxy \
	    listen=tcp:127.0.0.1:63890 connect=tcp:127.0.0.1:22 >/dev/null
	lxc init "$LABCT_IMAGE" --project ${P}bob -p $LABCT_PROFILE_BT noport >/dev/null
	out=$(labc admin reconcile)
	contains "$out" "bob +stray +not in the database +adopted it with port 63890"
	contains "$out" "bob +noport +not in the database +left alone: it has no SSH port device"
	contains "$(labc --as bob list --format csv)" "^stray,stopped,-,63890,"
	lxc info --project ${P}bob noport >/dev/null
	labc --as bob start stray >/dev/null
	contains "$(labc --as bob list --format csv)" "^stray,running,"
	lxc delete -f --project ${P}bob noport
	labc --as bob delete -f stray >/dev/null
	agree
'

test_expect_success 'a port device changed behind labcd is put back' '
	labc --as bob create moved >/dev/null
	port=$(port_of bob moved)
	lxc config device set --project ${P}bob moved ssh listen=tcp:127.0.0.1:63891
	out=$(labc admin reconcile)
	contains "$out" "bob +moved +its SSH port device has port 63891, the database $port +set the device to port $port"
	[ "$(lxc config device get --project ${P}bob moved ssh listen)" = "tcp:127.0.0.1:$port" ]
	labc --as bob delete moved >/dev/null
	agree
'

# On the dir pool a create takes seconds: time to stop LXD within it.
write_conf "project_prefix = $P" "default_image = $LABCT_IMAGE" \
    "profiles = $LABCT_PROFILE" "ssh_listen = 127.0.0.1" \
    "ssh_ports = $PORTS" "reconcile_interval = 0" "reconcile_on_change = no" "quota_containers = " \
    "lxd_socket = $LXD_SOCKET"
restart_labcd || exit 1

test_expect_success 'LXD killed in the middle of a launch: clear error, then nothing left; LXD back: launch works without restarting labcd' '
	labc --as alice launch slow >$TDIR/slow.out 2>&1 &
	lpid=$!
	for i in $(seq 200); do
		[ "$(sqlite3 "$DB" "SELECT state FROM containers WHERE name = '\''slow'\''")" = creating ] && break
		sleep 0.05
	done
	sleep 0.5
	# As if LXD crashed: no chance to finish the operation. Then its
	# forkproxy helpers, which would keep every running container'\''s
	# port from its restarted self, as a restart of its whole service
	# would; only this test'\''s LXD and its own helpers.
	bash "$LABCT_TESTBED" private-kill "$PL" 2>/dev/null
	rc=0; wait $lpid || rc=$?
	cat $TDIR/slow.out
	[ $rc = 1 ]
	contains "$(cat $TDIR/slow.out)" "failed:.*LXD"
	# The port stays reserved, and the half-made container is not used.
	[ "$(sqlite3 "$DB" "SELECT state FROM containers WHERE name = '\''slow'\''")" = creating ]
	out=$(expect_status 1 labc --as alice launch slow 2>&1)
	contains "$out" "slow is still being created, or its creation failed"
	bash "$LABCT_TESTBED" private-start "$PL" 2>/dev/null
	settled
	agree
	contains "$(labc --as alice log -n 3)" "reconcile.*slow.*(removed the half-made container|nothing was made); released port"
	labc --as alice launch slow >/dev/null
	contains "$(labc --as alice list --format csv)" "^slow,running,"
	labc --as alice delete -f slow >/dev/null
	agree
	measured "LXD killed mid-launch: labc said: $(grep -m1 failed $TDIR/slow.out)"
'

# The rest runs on btrfs, where creates are quick.
write_conf "project_prefix = $P" "default_image = $LABCT_IMAGE" \
    "profiles = $LABCT_PROFILE_BT" "ssh_listen = 127.0.0.1" \
    "ssh_ports = $PORTS" "reconcile_interval = 0" "reconcile_on_change = no" "quota_containers = " \
    "lxd_socket = $LXD_SOCKET"
restart_labcd || exit 1
test_expect_success 'LXD stopped and started again (SIGTERM, as a package upgrade does): the port stays, ssh works, labcd'"'"'s view recovers by itself' '
	newkey alice1
	labc --as alice key add "$(cat $TDIR/alice1.pub)" >/dev/null
	labc --as alice launch box >/dev/null
	port=$(port_of alice box)
	[ "$(ssh_in $TDIR/alice1 $port hostname)" = box ]
	bash "$LABCT_TESTBED" private-stop "$PL" 2>/dev/null
	out=$(expect_status 1 labc --as alice list 2>&1)
	contains "$out" "LXD is not running"
	bash "$LABCT_TESTBED" private-start "$PL" 2>/dev/null
	[ "$(port_of alice box)" = "$port" ]
	for i in $(seq 20); do ssh_in $TDIR/alice1 $port true 2>/dev/null && break; sleep 1; done
	[ "$(ssh_in $TDIR/alice1 $port hostname)" = box ]
	# labcd'"'"'s view of LXD saw its event stream end, and loaded
	# everything again by itself once LXD was back.
	until_ms 15000 grep -q "view: loaded again" "$LABCD_LOG"
	measured "LXD back: labcd'"'"'s view loaded again $TOOK ms after private-start returned"
	contains "$(cat $LABCD_LOG)" "view: LXD.s event stream ended"
	lxc stop -f --project ${P}alice box
	until_ms 1000 eval "labc --as alice list --format csv | grep -q \"^box,stopped,\""
	measured "after LXD restarted: a stop with lxc in list after $TOOK ms"
	labc --as alice delete -f box >/dev/null
	agree
'

# The kill test restarts labcd in its subshell: it leaves the pid here.
echo $LABCD_PID >$TDIR/labcd.pid
at_exit 'kill -9 $(cat $TDIR/labcd.pid)'

test_expect_success 'labcd killed with SIGKILL during launch and delete, 20 times: after each restart the database and LXD agree' '
	kills=0 repaired=0 midway=0
	for round in $(seq 20); do
		user=$([ $((round % 2)) = 0 ] && echo alice || echo bob)
		labc --as $user launch k$round >/dev/null 2>&1 &
		lp=$! dp=
		if [ $round -gt 2 ]; then
			labc --as $user delete -f k$((round - 2)) >/dev/null 2>&1 &
			dp=$!
		fi
		# Somewhere in the first 2 s: reserving, creating, starting,
		# making the user, deleting.
		sleep "$(awk -v r=$RANDOM "BEGIN { printf \"%.2f\", r % 200 / 100 }")"
		kill -9 $LABCD_PID
		wait $LABCD_PID $lp $dp 2>/dev/null || true
		kills=$((kills + 1))
		midway=$((midway + $(sqlite3 "$DB" "SELECT count(*) FROM containers WHERE state != '\''ready'\''")))
		LABCD_PID=
		rm -f "$SOCK"
		start_labcd
		echo $LABCD_PID >$TDIR/labcd.pid
		settled
		agree
		repaired=$((repaired + $(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE command = '\''reconcile'\''")))
		sqlite3 "$DB" "DELETE FROM audit WHERE command = '\''reconcile'\''"
	done
	[ "$(sqlite3 "$DB" "PRAGMA integrity_check")" = ok ]
	# Kills landed in the middle of changes, and reconciliation mended them.
	[ $midway -gt 0 ] && [ $repaired -gt 0 ]
	# Everything still works after all that.
	labc --as alice launch after >/dev/null
	contains "$(labc --as alice list --format csv)" "^after,running,"
	measured "SIGKILL during launch/delete: $kills kills, $midway found a create or delete half done, $repaired repairs by reconciliation, database and LXD agreed after every restart"
'
LABCD_PID=$(cat $TDIR/labcd.pid)

test_expect_success 'the containers left are all whole: they start and have their user' '
	# Some are left (after, at least): none would check nothing.
	[ -n "$(db_view)" ]
	for row in $(db_view | tr " " ":"); do
		user=${row%%/*} rest=${row#*/} name=${rest%%:*}
		labc --as $user start $name >/dev/null
		lxc exec --project $P$user $name -- id -u ubuntu >/dev/null
	done
'

# A database on a small file system of its own, filled up, then read-only.
FS=$TDIR/fs
mkdir -p $FS
mount -t tmpfs -o size=3m tmpfs $FS
at_exit "umount -l $FS"

stop_labcd
cp "$DB" $FS/labc.db
DB=$FS/labc.db
rm -f "$SOCK"
start_labcd || exit 1

test_expect_success 'database on a full disk: changes fail clearly, reads work, nothing is lost' '
	newkey fk1
	newkey fk2
	labc --as alice key add < $TDIR/fk1.pub >/dev/null
	before=$(labc --as alice key list --format csv)
	# Fill the file system: SQLite can no longer grow its files.
	dd if=/dev/zero of=$FS/fill bs=64k 2>/dev/null || true
	sync
	out=$(expect_status 1 labc --as alice key add < $TDIR/fk2.pub 2>&1)
	contains "$out" "(full|disk|space|database)"
	out2=$(expect_status 1 labc admin user add carol </dev/null 2>&1)
	contains "$out2" "full"
	[ "$(labc --as alice key list --format csv)" = "$before" ]
	labc --as alice list >/dev/null
	labc whoami >/dev/null
	rm -f $FS/fill
	labc --as alice key add < $TDIR/fk2.pub >/dev/null
	contains "$(labc --as alice key list)" "fk2"
	[ "$(sqlite3 "$DB" "PRAGMA integrity_check")" = ok ]
	measured "disk full: key add said: $(echo "$out" | head -n1)"
'

# A file system that turns read-only (as ext4 does on errors); labcd
# started on it must still answer what only reads.
stop_labcd
mount -o remount,ro $FS
rm -f "$SOCK"
start_labcd || exit 1

test_expect_success 'database on a read-only file system: changes fail clearly, reads work, nothing is lost' '
	before=$(labc --as alice key list --format csv)
	out=$(expect_status 1 labc --as alice key del fk2 2>&1)
	contains "$out" "read-?only"
	[ "$(labc --as alice key list --format csv)" = "$before" ]
	labc --as alice list >/dev/null
	contains "$(labc --as alice whoami)" alice
	contains "$(cat $LABCD_LOG)" "read-only file system"
	measured "read-only database: key del said: $(echo "$out" | head -n1)"
'
stop_labcd
mount -o remount,rw $FS
rm -f "$SOCK"
start_labcd || exit 1

test_expect_success 'writable again: the change goes through, integrity ok' '
	labc --as alice key del fk2 >/dev/null
	not_contains "$(labc --as alice key list)" "fk2"
	[ "$(sqlite3 "$DB" "PRAGMA integrity_check")" = ok ]
'

test_done
