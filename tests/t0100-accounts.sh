#!/usr/bin/env bash
# t0100-accounts.sh - lab accounts on a private labcd: adding users, login
# with lockout, passwd, admin-only commands, the audit log, identity from
# the socket (root, other uids, --as, the gateway uid, mapped host users).
. "$(dirname "$0")/lib.sh"

GW=labctgw$$
useradd --system --no-create-home --shell /usr/sbin/nologin "$GW" 2>/dev/null
at_exit "userdel $GW"
HOSTU=labct-dave$$
# Not a system account: those are never mapped (t0310).
useradd --no-create-home --shell /usr/sbin/nologin "$HOSTU" 2>/dev/null
at_exit "userdel $HOSTU"
GWUID=$(id -u "$GW")
DAVEUID=$(id -u "$HOSTU")
A=65101 B=65102 C=65103		# host uids without accounts

write_conf "login_max_failures = 3" "login_lockout = 3" "gateway_user = $GW"
for s in alice-pw-1 alice-pw-2 bad-pw-1 bad-pw-2 bad-pw-3 bob-pw-123 \
    carol-pw-77 dave-pw-123 new-pw-999 wrong-pw-1 x-pw-12345 not-it-123; do
	secret "$s"	# tests/run looks for them in every log
done
start_labcd || exit 1

test_expect_success 'root is an admin without a lab user' '
	out=$(labc whoami)
	contains "$out" "^root \(admin, no lab user"
'

test_expect_success 'the admin adds alice and bob' '
	printf "alice-pw-1\n" | labc admin user add alice --password-stdin
	printf "bob-pw-123\n" | labc admin user add bob --password-stdin
	out=$(labc admin user list --format csv)
	contains "$out" "^name,admin,keys,state,created$"
	contains "$out" "^alice,no,0,active,"
	contains "$out" "^bob,no,0,active,"
'

test_expect_success 'in JSON a count is a number, a word a string' '
	[ "$(labc admin user list --format json | jq -c ".users[] | select(.name == \"alice\") | [.keys, .admin, .state]")" = "[0,\"no\",\"active\"]" ]
'

test_expect_success 'without a terminal, a password is generated and shown' '
	out=$(labc admin user add carol </dev/null)
	contains "$out" "^Password for carol: [A-Za-z0-9]{16}$"
'

test_expect_success 'a user that exists is not added twice' '
	out=$(printf "x-pw-12345\n" | expect_status 1 labc admin user add alice --password-stdin 2>&1)
	contains "$out" "exists already"
'

test_expect_success 'bad user names are refused with the rule, nothing added' '
	before=$(labc admin user list --format csv)
	for n in Alice 1abc a_b "a b" "../x" "" -x "$(printf "a%.0s" $(seq 33))"; do
		out=$(expect_status 2 labc admin user add "$n" </dev/null 2>&1)
		contains "$out" "lowercase letters, digits or .-., starting with a letter|usage: admin user add|unknown option"
	done
	after=$(labc admin user list --format csv)
	[ "$before" = "$after" ]
'

test_expect_success 'weak passwords are refused' '
	out=$(printf "short\n" | expect_status 1 labc admin user add erin --password-stdin 2>&1)
	contains "$out" "at least 8 characters"
	expect_status 1 labc admin passwd nobody </dev/null 2>/dev/null
'

test_expect_success 'a host uid without login gets nothing' '
	out=$(labc_as_uid $C whoami)
	contains "$out" "^not logged in \(host user uid $C\)"
	out=$(expect_status 1 labc_as_uid $C log 2>&1)
	contains "$out" "not logged in"
	out=$(expect_status 1 labc_as_uid $C admin user list 2>&1)
	contains "$out" "for admins only"
'

test_expect_success 'alice logs in with the right password' '
	out=$(printf "alice-pw-1\n" | labc_as_uid $A login alice)
	contains "$out" "^Logged in as alice\.$"
	out=$(labc_as_uid $A whoami)
	[ "$out" = alice ]
'

test_expect_success 'a wrong password or an unknown user is refused alike' '
	out=$(printf "wrong-pw-1\n" | expect_status 1 labc_as_uid $B login alice 2>&1)
	[ "$out" = "login incorrect" ]
	out=$(printf "wrong-pw-1\n" | expect_status 1 labc_as_uid $B login nosuchuser 2>&1)
	[ "$out" = "login incorrect" ]
'

test_expect_success 'a session token works only for the uid that logged in' '
	mkdir -p "$TDIR/home-$C"
	cp -r "$TDIR/home-$A/." "$TDIR/home-$C/"
	chown -R $C:$C "$TDIR/home-$C"
	out=$(labc_as_uid $C whoami)
	contains "$out" "^not logged in"
'

test_expect_success 'the lockout of a place kicks in, holds, and expires' '
	printf "bad-pw-1\n" | expect_status 1 labc_as_uid $B login bob 2>/dev/null
	printf "bad-pw-2\n" | expect_status 1 labc_as_uid $B login bob 2>/dev/null
	out=$(printf "bad-pw-3\n" | expect_status 1 labc_as_uid $B login bob 2>&1)
	contains "$out" "wait 3 seconds before the next try from here"
	out=$(printf "bob-pw-123\n" | expect_status 1 labc_as_uid $B login bob 2>&1)
	contains "$out" "too many wrong passwords from here: try again in [0-9]+ seconds"
	# guessing locks the place, not the account
	out=$(labc admin user list --format csv)
	contains "$out" "^bob,no,0,active"
	sleep 3.2
	out=$(printf "bob-pw-123\n" | labc_as_uid $B login bob)
	contains "$out" "Logged in as bob"
'

test_expect_success 'the audit log says who was locked out' '
	out=$(labc admin log bob --format csv 2>/dev/null; labc admin log --format csv)
	contains "$out" ",login,bob,failed: login incorrect; too many wrong passwords"
	contains "$out" ",login,bob,failed: login: too many wrong passwords from here"
'

test_expect_success 'passwd changes alice'"'"'s password' '
	printf "alice-pw-1\nalice-pw-2\n" | labc_as_uid $A passwd
	printf "alice-pw-1\n" | expect_status 1 labc_as_uid $A login alice 2>/dev/null
	out=$(printf "alice-pw-2\n" | labc_as_uid $A login alice)
	contains "$out" "Logged in as alice"
'

test_expect_success 'passwd needs the current password' '
	out=$(printf "not-it-123\nnew-pw-999\n" | expect_status 1 labc_as_uid $A passwd 2>&1)
	contains "$out" "current password is wrong"
	printf "alice-pw-2\n" | labc_as_uid $A login alice >/dev/null
'

test_expect_success 'bob cannot run admin commands' '
	for cmd in "admin user list" "admin log" "admin user add zed" "admin user del alice" "admin passwd alice"; do
		out=$(expect_status 1 labc_as_uid $B $cmd </dev/null 2>&1)
		contains "$out" "for admins only; you are bob"
	done
	labc admin user list --format csv | grep -q "^alice,"
'

test_expect_success 'alice'"'"'s log shows her actions only' '
	out=$(labc_as_uid $A log --format csv)
	contains "$out" ",alice,alice,login,alice,ok$"
	contains "$out" ",alice,alice,passwd,alice,ok$"
	not_contains "$out" "bob"
	out=$(labc admin log --format csv)
	contains "$out" "bob"
'

test_expect_success 'a uid other than root or the gateway cannot assert a user' '
	out=$(expect_status 1 labc_as_uid $C --as alice whoami 2>&1)
	contains "$out" "--as is only for root and the SSH gateway account"
	out=$(expect_status 1 labc_as_uid $A --as bob whoami 2>&1)
	contains "$out" "--as is only for root"
'

test_expect_success 'the gateway uid outside sshd asserts no one, even with her key' '
	ssh-keygen -q -t ed25519 -N "" -C gw-alice -f $TDIR/gwkey
	labc --as alice key add "$(cat $TDIR/gwkey.pub)" >/dev/null
	out=$(expect_status 1 labc_as_uid $GWUID --as alice whoami 2>&1)
	contains "$out" "believed only from sshd, and this process.s parent is not sshd"
	# The forced command and the key, as sshd would give them (t0310
	# goes through a real sshd): labc wants sshd'"'"'s own 0600 file...
	printf "publickey %s\n" "$(cut -d" " -f1,2 $TDIR/gwkey.pub)" > $TDIR/userauth
	chmod 644 $TDIR/userauth
	out=$(SSH_USER_AUTH=$TDIR/userauth SSH_ORIGINAL_COMMAND=whoami labc_as_uid $GWUID -c "$LABC --as alice" 2>&1 || true)
	contains "$out" "is not sshd.s: it must be a regular file of this account, mode 0600"
	# ...and labcd a parent that is sshd.
	chown $GWUID $TDIR/userauth && chmod 600 $TDIR/userauth
	out=$(SSH_USER_AUTH=$TDIR/userauth SSH_ORIGINAL_COMMAND=whoami labc_as_uid $GWUID -c "$LABC --as alice" 2>&1 || true)
	contains "$out" "believed only from sshd"
	not_contains "$out" "^alice$"
'

test_expect_success 'root acting for alice is audited as such' '
	labc --as alice logout >/dev/null
	out=$(labc admin log alice --format csv)
	contains "$out" ",root as alice,alice,logout,"
'

test_expect_success 'logout ends the session' '
	out=$(labc_as_uid $A logout)
	contains "$out" "Logged out"
	out=$(labc_as_uid $A whoami)
	contains "$out" "^not logged in"
'

test_expect_success 'admin passwd sets a password and unlocks' '
	printf "carol-pw-77\n" | labc admin passwd carol --password-stdin
	out=$(printf "carol-pw-77\n" | labc_as_uid $C login carol)
	contains "$out" "Logged in as carol"
'

test_expect_success 'admin user del removes a user and their sessions' '
	labc admin user del carol
	out=$(labc_as_uid $C whoami)
	contains "$out" "^not logged in"
	out=$(expect_status 1 labc admin user del carol 2>&1)
	contains "$out" "no lab user .carol."
'

test_expect_success 'unknown commands and options are usage errors' '
	out=$(expect_status 2 labc frobnicate 2>&1)
	contains "$out" "unknown command .frobnicate."
	out=$(expect_status 2 labc whoami --bogus 2>&1)
	contains "$out" "unknown option .--bogus."
	out=$(expect_status 2 labc admin 2>&1)
	contains "$out" "admin user add"
	out=$(expect_status 2 labc admin user list --format yaml 2>&1)
	contains "$out" "--format must be table, json or csv"
'

test_expect_success 'help comes from the command table' '
	out=$(labc help)
	contains "$out" "admin user add +add a lab user"
	out=$(labc_as_uid $C help)
	not_contains "$out" "admin user add"
	out=$(labc help admin user add)
	contains "$out" "^usage: admin user add USER \[--admin\]"
	out=$(labc help --names)
	contains "$out" "^admin user add$"
	contains "$out" "^key add$"
	out=$(labc_as_uid $C help --names)
	contains "$out" "^launch$"
	not_contains "$out" "^admin"
'

test_expect_success 'every command takes --help and -h: the text of help CMD, unaudited' '
	rows=$(sqlite3 "$DB" "SELECT count(*) FROM audit")
	n=0
	while read -r cmd; do
		# shellcheck disable=SC2086
		want=$(labc help $cmd)
		# shellcheck disable=SC2086
		[ "$(labc $cmd --help)" = "$want" ] || { echo "$cmd --help:"; labc $cmd --help; exit 1; }
		# shellcheck disable=SC2086
		[ "$(labc $cmd -h)" = "$want" ] || { echo "$cmd -h:"; labc $cmd -h; exit 1; }
		n=$((n + 1))
	done < <(labc help --names)
	[ "$n" -gt 30 ]
	contains "$(labc launch --help)" "^usage: launch NAME \[--image IMAGE\]"
	contains "$(labc admin doctor -h)" "^usage: admin doctor \[--dir DIR\] \[--sshd-config FILE\] \[--format table\|json\|csv\]$"
	contains "$(labc gpus --help)" "^usage: gpus \[--format table\|json\]$"
	contains "$(labc list --all --format yaml --help)" "^usage: list \[--all\] \[--format table\|json\|csv\]$"
	# No login, no admin needed: as help. A hidden command has it too.
	contains "$(labc_as_uid $C stop -h)" "^usage: stop NAME\.\.\. \[-f\]$"
	contains "$(labc gateway authorized-keys --help)" "^usage: gateway authorized-keys ACCOUNT"
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM audit")" = "$rows" ]
	# Still a usage error: an unknown option before it, a value after it.
	out=$(expect_status 2 labc whoami --bogus --help 2>&1)
	contains "$out" "unknown option .--bogus."
	out=$(expect_status 2 labc whoami --help=yes 2>&1)
	contains "$out" "option --help takes no value"
'

# Mapped host users: restart the daemon with the switch on.
stop_labcd
write_conf "gateway_user = $GW" "map_host_users = yes"
start_labcd || exit 1

test_expect_success 'a host user with a lab user'"'"'s name is that user' '
	printf "dave-pw-123\n" | labc admin user add $HOSTU --password-stdin >/dev/null
	out=$(labc_as_uid $DAVEUID whoami)
	[ "$out" = "$HOSTU" ]
	out=$(labc_as_uid $C whoami)
	contains "$out" "^not logged in"
'

test_expect_success 'a table fits the terminal it is shown in; a pipe gets whole lines' '
	TERM=dumb script -qec "stty cols 50; $LABC -S $SOCK admin log" /dev/null |
	    tr -d "\r" > $TDIR/narrow
	labc admin log > $TDIR/whole
	[ "$(LC_ALL=C.UTF-8 wc -L < $TDIR/narrow)" -le 50 ]
	[ "$(LC_ALL=C.UTF-8 wc -L < $TDIR/whole)" -gt 50 ]
	contains "$(cat $TDIR/narrow)" "^time +actor +user +command"
	# Each row still starts on a line of its own, its cells wrapped.
	[ "$(grep -c "^20[0-9][0-9]-" $TDIR/narrow)" = "$(grep -c "^20[0-9][0-9]-" $TDIR/whole)" ]
	[ "$(wc -l < $TDIR/narrow)" -gt "$(wc -l < $TDIR/whole)" ]
'

kill -TERM "$LABCD_PID"
wait "$LABCD_PID"
term_rc=$?
LABCD_PID=
test_expect_success 'SIGTERM ends labcd cleanly and removes its socket' '
	[ "$term_rc" -eq 0 ]
	[ ! -e "$SOCK" ]
	grep -q "labcd stopped" "$LABCD_LOG"
'

test_expect_success 'no password ever reached the log' '
	not_contains "$(cat "$LABCD_LOG")" "alice-pw|bob-pw|carol-pw|dave-pw|bad-pw"
'

test_done
