#!/usr/bin/env bash
# t0530-admin-not-root.sh - an admin is not root, output is inert, and the
# shipped defaults share the server. As a member of admin_group (a real
# host account, not root): admin doctor's --sshd-config/--dir, admin
# import and admin gateway setup are refused, change nothing, leave an
# audit row, and never show a root-only file. As a member: a container
# name carrying terminal escapes reaches neither admin log nor log raw
# (table, CSV, labc on a terminal), CSV cells cannot start a formula,
# --cpu takes digits only, and under the defaults --exclusive is refused
# and the 6th container and the 3rd GPU are refused (these on LXD).
. "$(dirname "$0")/lib.sh"

REQ=$LABCT_BUILD/tests/tools/labct-req
STUB=$LABCT_BUILD/tests/nvml-stub/libnvidia-ml.so.1
A=65531				# a member's host uid (no account needed)
ADM=labct53a$$ GRP=labct53g$$	# a host account in admin_group
groupadd "$GRP"
useradd --no-create-home --shell /usr/sbin/nologin -G "$GRP" "$ADM"
at_exit "userdel $ADM; groupdel $GRP"
ADMUID=$(id -u "$ADM")
mkdir -p "$TDIR/home-$ADMUID" && chown "$ADM" "$TDIR/home-$ADMUID"

export NVML_STUB_FILE=$TDIR/gpus.txt
cat >"$NVML_STUB_FILE" <<GPUS
gpu NVIDIA-A100-SXM4-40GB 00000000:3B:00.0 GPU-0000aaaa 40960 0 0
gpu NVIDIA-A100-SXM4-40GB 00000000:5E:00.0 GPU-1111bbbb 40960 0 0
gpu NVIDIA-A100-SXM4-40GB 00000000:86:00.0 GPU-2222cccc 40960 0 0
GPUS
# Nothing about quotas or --exclusive: the shipped defaults are tested.
conf() {	# conf [LINE...]: this file's settings, and LINEs
	if [ -n "${LABCT_PREFIX:-}" ] && [ "${LABCT_NO_LXD:-}" != 1 ]; then
		write_conf "admin_group = $GRP" "nvml_library = $STUB" \
		    "default_image = $LABCT_IMAGE" "profiles = $LABCT_PROFILE" \
		    "ssh_listen = 127.0.0.1" "ssh_ports = 62700-62719" "$@"
	else
		write_conf "admin_group = $GRP" "nvml_library = $STUB" "$@"
	fi
}
conf
start_labcd || exit 1

ALICE_PW=alice-pw-$RANDOM$RANDOM
secret "$ALICE_PW"
printf '%s\n' "$ALICE_PW" | labc admin user add alice --password-stdin >/dev/null
printf '%s\n' "$ALICE_PW" | labc_as_uid $A login alice >/dev/null

# as_admin ARGS...: labc as the admin-group member (not root).
as_admin() { labc_as_uid "$ADMUID" "$@"; }
# audit_since N: the audit rows after id N, "command: result" (the
# result's first word: ok, refused, failed).
audit_max() { sqlite3 "$DB" "SELECT coalesce(max(id), 0) FROM audit"; }
audit_since() {
	sqlite3 "$DB" "SELECT command || ': ' || CASE WHEN instr(result, ':')
	    THEN substr(result, 1, instr(result, ':') - 1) ELSE result END
	    FROM audit WHERE id > $1 ORDER BY id"
}
state() {	# what a refused admin command must not change
	sqlite3 "$DB" "SELECT name, is_admin, disabled, gpu_quota FROM users;
	    SELECT * FROM containers"
	getent passwd | cut -d: -f1 | sort | md5sum
	ls -la "$TDIR/sshd.d"
}

# A stand-in for /etc/shadow: root's only, with a secret line 1.
SECRET="root:\$y\$j9T\$labct53-$RANDOM$RANDOM:19000:0:99999:7:::"
secret "$SECRET"
printf '%s\n' "$SECRET" >"$TDIR/shadow"
chmod 600 "$TDIR/shadow"
mkdir -p "$TDIR/d" "$TDIR/sshd.d"
touch "$TDIR/d/50-labcontainers.conf"
chmod 755 "$TDIR/d"

test_expect_success 'the stand-in shadow file is root'"'"'s only' '
	! as_uid "$ADMUID" cat "$TDIR/shadow" 2>/dev/null
	contains "$(as_admin whoami)" "admin"
'

test_expect_success 'admin doctor --sshd-config FILE as an admin-group member: refused, no secret, audited' '
	before=$(state) n=$(audit_max)
	out=$(expect_status 1 as_admin admin doctor --dir "$TDIR/d" \
	    --sshd-config "$TDIR/shadow" 2>&1)
	contains "$out" "admin doctor --(dir|sshd-config) is for root only: with it root reads or changes what you name on the host"
	! printf "%s\n" "$out" | grep -qF "labct53-"
	out=$(expect_status 1 as_admin admin doctor --dir "$TDIR/d" 2>&1)
	contains "$out" "admin doctor --dir is for root only"
	[ "$(state)" = "$before" ]
	[ "$(audit_since $n)" = "admin doctor: refused
admin doctor: refused" ]
	! grep -qF "labct53-" "$LABCD_LOG"
'

test_expect_success 'admin import as an admin-group member: refused, nothing imported, audited' '
	sqlite3 "$TDIR/old.db" "CREATE TABLE lab_users (username TEXT);
	    INSERT INTO lab_users VALUES (\"mallory\")"
	before=$(state) n=$(audit_max)
	out=$(expect_status 1 as_admin admin import "$TDIR/old.db" 2>&1)
	contains "$out" "'"'"'admin import'"'"' is for root only: it works on the host as root, and an admin is not root; you are $ADM"
	[ "$(state)" = "$before" ]
	[ "$(audit_since $n)" = "admin import: refused" ]
'

test_expect_success 'admin gateway setup as an admin-group member: refused, no account, no drop-in, audited' '
	before=$(state) n=$(audit_max)
	out=$(expect_status 1 as_admin admin gateway setup --dir "$TDIR/sshd.d" \
	    --sshd-config "$TDIR/shadow" --labc "$LABC" 2>&1)
	contains "$out" "is for root only"
	! printf "%s\n" "$out" | grep -qF "labct53-"
	[ "$(state)" = "$before" ]
	[ ! -e "$TDIR/sshd.d/50-labcontainers.conf" ]
	[ "$(audit_since $n)" = "admin gateway setup: refused" ]
'

test_expect_success 'help says which commands and options are for root only' '
	contains "$(labc help admin doctor)" "^For root only: --dir, --sshd-config\.$"
	contains "$(labc help admin import)" "^For root only: it works on the host as root"
	contains "$(labc help list)" "^For admins only: --all\.$"
'

test_expect_success 'root may still use them' '
	out=$(labc admin doctor --dir "$TDIR/d" --sshd-config "$TDIR/d/50-labcontainers.conf" 2>&1) || true
	! contains "$out" "is for root only" 2>/dev/null
	contains "$out" "sshd drop-in"
'

ESC=$(printf '\033') BEL=$(printf '\a') CSI=$(printf '\302\233')
BAD=$(printf 'box\033]0;PWNED\a\033[2J\302\2332J')
has_raw() { printf '%s' "$1" | grep -qF -e "$ESC" -e "$BEL" -e "$CSI"; }

test_expect_success 'a member stops a container named with escapes: nothing raw in admin log or log' '
	expect_status 1 labc_as_uid $A stop "$BAD" >/dev/null 2>&1 ||
	    expect_status 2 labc_as_uid $A stop "$BAD" >/dev/null 2>&1
	for f in table csv; do
		out=$(labc admin log --format $f)
		! has_raw "$out"
		contains "$out" "box\\\\x1b\\]0;PWNED\\\\x07\\\\x1b\\[2J\\\\u009b2J"
		out=$(labc_as_uid $A log --format $f)
		! has_raw "$out"
		contains "$out" "box\\\\x1b\\]0;PWNED"
	done
	# Stored inert: the database has no control character either.
	! has_raw "$(sqlite3 "$DB" "SELECT target, result FROM audit")"
	# JSON stays JSON: the stored text, exactly.
	labc admin log --format json | jq -e --arg t \
	    "box\\x1b]0;PWNED\\x07\\x1b[2J\\u009b2J" \
	    "[.log[] | select(.target == \$t)] | length == 1" >/dev/null
'

test_expect_success 'labc on a terminal shows what labcd says with no raw escape' '
	out=$(HOME=$TDIR/home-$A script -qec "setpriv --reuid=$A --regid=$A \
	    --clear-groups env -u XDG_RUNTIME_DIR $LABC -S $SOCK stop \
	    $(printf "%q" "$BAD")" /dev/null 2>&1) || true
	contains "$out" "box"
	! has_raw "$out"
'

test_expect_success 'CSV cells cannot start a formula; JSON keeps the text' '
	for name in "=HYPERLINK(1)" "+1+1" "-1+1" "@SUM(1)"; do
		labc_as_uid $A stop -- "$name" >/dev/null 2>&1 || true
	done
	out=$(labc admin log --format csv)
	for p in "=HYPERLINK" "\\+1\\+1" "-1\\+1" "@SUM"; do
		contains "$out" ",'"'"'$p"
		! printf "%s\n" "$out" | grep -Eq ",$p"
	done
	labc admin log --format json | grep -qF "\"=HYPERLINK(1)\""
'

test_expect_success '--cpu takes digits only: " 4" and "+4" are refused with the rule' '
	for v in " 4" "+4" "4 " "0x4"; do
		out=$(expect_status 2 labc_as_uid $A create box --cpu "$v" 2>&1)
		contains "$out" "--cpu needs a number of CPUs from 1 to 1024, in digits only"
	done
	[ -z "$(sqlite3 "$DB" "SELECT name FROM containers")" ]
'

test_expect_success 'under the defaults a member may not use --exclusive, and is told why' '
	n=$(audit_max)
	out=$(expect_status 1 labc_as_uid $A create box --gpu 0 --exclusive 2>&1)
	contains "$out" "--exclusive is not yours to use here: on this server only admins may hold GPUs"
	contains "$out" "Leave out --exclusive to share the GPUs"
	out=$(expect_status 1 labc_as_uid $A gpu attach box 0 --exclusive 2>&1)
	contains "$out" "--exclusive is not yours to use here"
	[ -z "$(sqlite3 "$DB" "SELECT name FROM containers")" ]
	[ "$(audit_since $n)" = "create: failed
gpu attach: failed" ]
'

stop_labcd
conf "gpu_exclusive = bob,alice"
start_labcd || exit 1
test_expect_success 'gpu_exclusive = bob,alice: alice passes that rule' '
	out=$(labc_as_uid $A gpu attach nosuch 0 --exclusive 2>&1) && exit 1
	! contains "$out" "not yours" 2>/dev/null
	contains "$out" "you have no container .nosuch."
'
stop_labcd
conf "gpu_exclusive = Alice!"
test_expect_success 'a gpu_exclusive that is not a list of names stops start-up, saying the rule' '
	out=$("$LABCD" -f "$CONF" -S "$TDIR/x.sock" -d "$TDIR/x.db" -D 2>&1) && exit 1
	contains "$out" "labcd.conf:[0-9]+: gpu_exclusive must be admins, everyone, or lab user names separated by commas"
'
conf
start_labcd || exit 1

test_expect_success 'the shipped defaults: containers=5 and gpus=2 per new user' '
	contains "$("$LABCD" -C)" "^#quota_containers = 5$"
	contains "$("$LABCD" -C)" "^#quota_gpus = 2$"
	contains "$("$LABCD" -C)" "^#gpu_exclusive = admins$"
	[ "$(sqlite3 "$DB" "SELECT gpu_quota FROM users WHERE name = \"alice\"")" = 2 ]
'

if [ -z "${LABCT_PREFIX:-}" ] || [ "${LABCT_NO_LXD:-}" = 1 ]; then
	test_skip 'the default quotas on LXD' 'needs the LXD test bed'
	test_done
	exit
fi

test_expect_success 'the default quota stops the 6th container, and the 3rd GPU' '
	for i in 1 2 3 4 5; do labc_as_uid $A create c$i >/dev/null; done
	before=$(state)
	out=$(expect_status 1 labc_as_uid $A create c6 2>&1)
	contains "$out" "quota: you may have 5 containers and have 5"
	out=$(expect_status 1 labc_as_uid $A gpu attach c1 0,1,2 2>&1)
	contains "$out" "quota: you may use 2 GPUs and this would make it 3"
	[ "$(state)" = "$before" ]
	labc_as_uid $A gpu attach c1 0,1 >/dev/null
	out=$(expect_status 1 labc_as_uid $A gpu attach c2 2 2>&1)
	contains "$out" "quota: you may use 2 GPUs and this would make it 3"
'

test_expect_success 'an admin may hold a GPU exclusively for a member (root acting)' '
	labc_as_uid $A gpu detach c1 1 >/dev/null
	labc --as alice gpu attach c3 2 --exclusive >/dev/null
	contains "$(labc --as alice details c3)" "gpus: +2 \(exclusive\)$"
'

test_done
