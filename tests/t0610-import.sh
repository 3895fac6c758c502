#!/usr/bin/env bash
# t0610-import.sh - admin import from the original tool: its SQLite file
# in the original schema (lab_users with salted SHA-256 hashes,
# lab_containers with belongs_to_username), built with sqlite3, and real
# containers made with lxc in a project of this run that stands for the
# original tool's default project. Dry run, the import, a second import
# that changes nothing, running containers listed with the commands (which
# work) or moved with --stop, old ports kept or replaced, hostile names
# skipped, and an adopted container reached by ssh.
. "$(dirname "$0")/lib.sh"
need_lxd

P=${LABCT_PREFIX}i-
OLD=${LABCT_PREFIX}old
PORT0=64700
LISTEN=$LABCT_BUILD/tests/tools/labct-listen
write_conf "project_prefix = $P" "default_image = $LABCT_IMAGE" \
    "profiles = $LABCT_PROFILE_BT" "ssh_listen = 127.0.0.1" \
    "ssh_ports = $PORT0-64999" "reconcile_interval = 0" "reconcile_on_change = no"
start_labcd || exit 1
labc admin user add carol </dev/null >/dev/null

# The original tool's containers, in the project that stands for its
# default one: names as it made them, USER-lxc-NAME.
lxc project create $OLD -c features.images=false -c features.profiles=false >/dev/null
# Removed with the run's other projects (its name has the run's prefix).
for c in alice-lxc-box1 bob-lxc-data; do
	lxc init $LABCT_IMAGE $c --project $OLD -p $LABCT_PROFILE_BT >/dev/null
done
for c in alice-lxc-web alice-lxc-train alice-lxc-busy; do
	lxc launch $LABCT_IMAGE $c --project $OLD -p $LABCT_PROFILE_BT >/dev/null
done
ip_of() {	# ip_of PROJECT NAME: its eth0 IPv4 address, waiting for DHCP
	local i ip
	for i in $(seq 60); do
		ip=$(lxc list --project "$1" "^$2\$" -f csv -c 4 | sed -n 's/ (eth0).*//p')
		[ -n "$ip" ] && { echo "$ip"; return; }
		sleep 0.5
	done
	return 1
}
# The original tool's port: 64700 + (address - .2 of the test bed's /24),
# whichever 10.N.0.0/24 it has (10.215 where setup.sh's bridge took 10.214).
IP_START=${LABCT_GATEWAY%.*}.2/24
old_port() { echo $((PORT0 + ${1##*.} - 2)); }
TRAIN_PORT=$(old_port "$(ip_of $OLD alice-lxc-train)")
BUSY_PORT=$(old_port "$(ip_of $OLD alice-lxc-busy)")

# The original tool's database, in its own schema (_init_lab_db).
OLDDB=$TDIR/lab.db
sqlite3 $OLDDB <<'SQL'
CREATE TABLE lab_users(uid INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE, password TEXT NOT NULL, salt TEXT NOT NULL);
CREATE TABLE lab_containers(container_name TEXT NOT NULL PRIMARY KEY UNIQUE,
    belongs_to_username TEXT NOT NULL,
    FOREIGN KEY(belongs_to_username) REFERENCES lab_users(username));
INSERT INTO lab_users(username, password, salt) VALUES
    ('alice', '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', 'c2FsdHNhbHQ='),
    ('bob', '60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752', 'cGVwcGVy'),
    ('carol', 'aaaa', 'bbbb'),
    ('Eve_Admin', 'aaaa', 'bbbb'),
    ('x' || char(27) || '[31mred', 'aaaa', 'bbbb'),
    ('averyveryverylongusernamethatgoesonandon', 'aaaa', 'bbbb');
INSERT INTO lab_containers VALUES
    ('alice-lxc-box1', 'alice'), ('bob-lxc-data', 'bob'),
    ('alice-lxc-web', 'alice'), ('alice-lxc-train', 'alice'),
    ('alice-lxc-busy', 'alice'), ('Alice_Box', 'alice'),
    ('alice-lxc-gone', 'alice'), ('eve-lxc-x', 'Eve_Admin');
SQL

state() {	# what labcd and LXD hold, to compare before and after
	labc admin user list --format csv | cut -d, -f1,2,3
	for u in alice bob; do labc --as $u list --format csv 2>&1 | cut -d, -f1,4; done
	for p in $OLD ${P}alice ${P}bob; do lxc list --project $p -f csv -c n 2>&1; done
}

test_expect_success '--dry-run says what would happen and changes nothing' '
	before=$(state)
	out=$(labc admin import $OLDDB --dry-run --from $OLD --port-start $PORT0 --ip-start $IP_START)
	contains "$out" "^Dry run: nothing is changed"
	contains "$out" "^user alice: would be imported with no usable password"
	contains "$out" "^container alice/alice-lxc-box1: would be moved from $OLD"
	contains "$out" "^container alice/alice-lxc-web: not moved: it is running"
	[ "$(state)" = "$before" ]
'

test_expect_success 'the import: users with a forced password reset, stopped containers moved into their owners'"'"' projects' '
	cd $TDIR	# a relative FILE is the caller'"'"'s
	start=$(date +%s%N)
	out=$(labc admin import lab.db --from $OLD --port-start $PORT0 --ip-start $IP_START)
	measured "admin import of 6 users and 8 containers (2 moved): $(( ($(date +%s%N) - start) / 1000000 )) ms"
	contains "$out" "^user alice: imported with no usable password \(the old salted SHA-256 hash is not kept\): give one with .labc admin passwd alice."
	contains "$out" "^user bob: imported"
	contains "$out" "^user carol: in labcd already, unchanged"
	contains "$out" "^container alice/alice-lxc-box1: moved from $OLD into ${P}alice, new port [0-9]+ \(its old port is not known\)"
	contains "$out" "^container bob/bob-lxc-data: moved from $OLD into ${P}bob"
	[ "$(sqlite3 $DB "SELECT count(*) FROM users WHERE name IN ('"'alice'"', '"'bob'"') AND pwhash IS NULL")" = 2 ]
	[ "$(lxc list --project ${P}alice -f csv -c n)" = alice-lxc-box1 ]
	[ "$(lxc list --project ${P}bob -f csv -c n)" = bob-lxc-data ]
	port=$(port_of alice alice-lxc-box1)
	[ "$(lxc config device get alice-lxc-box1 ssh listen --project ${P}alice)" = "tcp:127.0.0.1:$port" ]
	[ "$(lxc config get alice-lxc-box1 user.labc.owner --project ${P}alice)" = alice ]
'

test_expect_success 'hostile and unknown names are reported and skipped, never changed' '
	out=$(labc admin import $OLDDB --from $OLD --port-start $PORT0 --ip-start $IP_START)
	contains "$out" "^user Eve_Admin: skipped: a user name is 1 to 32 lowercase"
	contains "$out" "^user x\?\[31mred: skipped"
	contains "$out" "^user averyveryverylongusernamethatgoesonandon: skipped"
	not_contains "$out" $(printf "\033")
	contains "$out" "^container alice/Alice_Box: skipped: a container name is"
	contains "$out" "^container alice/alice-lxc-gone: skipped: LXD has no such instance"
	contains "$out" "^container Eve_Admin/eve-lxc-x: skipped: its owner Eve_Admin is not a lab user"
	not_contains "$(labc admin user list --format csv)" "^(eve|x|avery)"
'

test_expect_success 'a running container is listed with the exact commands; they work, and a second import adopts it' '
	out=$(labc admin import $OLDDB --from $OLD --port-start $PORT0 --ip-start $IP_START)
	contains "$out" "^container alice/alice-lxc-web: not moved: it is running"
	contains "$out" "^  lxc stop alice-lxc-web --project $OLD$"
	contains "$out" "^  lxc move alice-lxc-web alice-lxc-web --project $OLD --target-project ${P}alice$"
	printf "%s\n" "$out" | sed -n "/alice-lxc-web: not moved/,/labc admin import/p" |
	    grep "^  lxc " | while read -r cmd; do eval "$cmd" || exit 1; done
	out=$(labc admin import $OLDDB --from $OLD --port-start $PORT0 --ip-start $IP_START)
	contains "$out" "^container alice/alice-lxc-web: adopted where it is, in ${P}alice, new port"
	contains "$(labc --as alice list --format csv)" "^alice-lxc-web,"
'

test_expect_success 'importing again changes nothing' '
	before=$(state)
	out=$(labc admin import $OLDDB --from $OLD --port-start $PORT0 --ip-start $IP_START)
	contains "$out" "^Users: 0 imported, 3 unchanged, 3 skipped. Containers: 0 adopted, 3 unchanged, 2 left for you, 3 skipped."
	[ "$(state)" = "$before" ]
'

test_expect_success '--stop: stopped, moved, started again; the old port kept where free, a new one where another program holds it' '
	$LISTEN 120 $BUSY_PORT >/dev/null & holder=$!
	sleep 0.3
	out=$(labc admin import $OLDDB --stop --from $OLD --port-start $PORT0 --ip-start $IP_START)
	kill $holder
	contains "$out" "^container alice/alice-lxc-train: moved from $OLD into ${P}alice, port $TRAIN_PORT, its old port"
	contains "$out" "^container alice/alice-lxc-busy: moved from $OLD into ${P}alice, new port [0-9]+: its old port $BUSY_PORT is held by another program \(labct-listen, pid $holder\)"
	[ "$(port_of alice alice-lxc-train)" = $TRAIN_PORT ]
	[ "$(lxc list --project ${P}alice alice-lxc-train -f csv -c s)" = RUNNING ]
	[ -z "$(lxc list --project $OLD -f csv -c n)" ]
'

newkey alice
test_expect_success 'an adopted container works as labcd'"'"'s own: start makes the user, her key gets her in' '
	labc --as alice key add "$(cat $TDIR/alice.pub)" >/dev/null
	out=$(labc --as alice start alice-lxc-box1)
	contains "$out" "alice-lxc-box1 is running"
	port=$(port_of alice alice-lxc-box1)
	[ "$(ssh_in $TDIR/alice $port hostname)" = alice-lxc-box1 ]
	labc --as alice start alice-lxc-train >/dev/null
	[ "$(ssh_in $TDIR/alice $TRAIN_PORT hostname)" = alice-lxc-train ]
'

lxc init $LABCT_IMAGE carol-lxc-p1 --project $OLD -p $LABCT_PROFILE_BT >/dev/null
test_expect_success 'a variant of the schema (user_name, name, owner, a port column): the old port is kept' '
	sqlite3 $TDIR/variant.db "CREATE TABLE lab_users(id INTEGER PRIMARY KEY, user_name TEXT, password TEXT);
	    CREATE TABLE lab_containers(name TEXT, owner TEXT, port INTEGER);
	    INSERT INTO lab_users(user_name, password) VALUES ('"'dave'"', '"'x'"');
	    INSERT INTO lab_containers VALUES ('"'carol-lxc-p1'"', '"'carol'"', 64990)"
	out=$(labc admin import $TDIR/variant.db --from $OLD)
	contains "$out" "^user dave: imported"
	contains "$out" "^container carol/carol-lxc-p1: moved from $OLD into ${P}carol, port 64990, its old port"
	[ "$(port_of carol carol-lxc-p1)" = 64990 ]
'

test_expect_success 'a file that is not the original tool'"'"'s database is refused' '
	echo "not sqlite" > $TDIR/junk
	out=$(expect_status 1 labc admin import $TDIR/junk 2>&1)
	contains "$out" "cannot read $TDIR/junk as an SQLite database"
	sqlite3 $TDIR/other.db "CREATE TABLE t(x)"
	out=$(expect_status 1 labc admin import $TDIR/other.db 2>&1)
	contains "$out" "has no table lab_users"
'

test_expect_success 'admin import is audited and for root only' '
	contains "$(labc admin log)" "admin import .*lab.db"
	out=$(expect_status 1 labc_as_uid 65433 admin import $OLDDB 2>&1)
	contains "$out" "for admins only"
'

test_done
