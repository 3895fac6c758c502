#!/usr/bin/env bash
# t0540-dos.sh - nobody starves labcd (issue 13, part 3), each attack made
# by unprivileged uids against a private labcd: 256 slow clients (a frame
# dribbled a byte at a time) from nobody and from 16 uids at once; root
# still answers (latency measured), the 17th connection of a uid is
# refused, the dribbled frames are cut at the frame deadline; anonymous
# gateway sessions that never answer the login prompt, per SSH key; 64
# wrong logins at once (labcd's peak memory measured); throwaway gateway
# keys hold a quarter of the gateway's connections and one argon2 slot;
# strangers guessing
# a member's password do not keep her out; passwd guesses are counted;
# an unknown user gets the same answer as a known one; with LXD, nc
# streams per member.
. "$(dirname "$0")/lib.sh"

SLOW=$LABCT_BUILD/tests/tools/labct-slow
REQ=$LABCT_BUILD/tests/tools/labct-req
NOBODY=$(id -u nobody)
FT=8			# frame_timeout of this labcd, s
LOCK=30			# login_lockout
GW=labct54gw$$
# labcd believes the gateway uid only from a child of sshd: its requests
# go through the test's own sshd (tests/gateway.sh: gw_raw).
useradd --system --no-create-home --shell /bin/sh "$GW" 2>/dev/null
at_exit "userdel $GW"
GWUID=$(id -u "$GW")
. "$(dirname "$0")/gateway.sh"
ADMG=labct54g$$ ADM=labct54a$$
groupadd "$ADMG" && at_exit "groupdel $ADMG"
useradd --system --no-create-home --shell /usr/sbin/nologin -G "$ADMG" "$ADM"
at_exit "userdel $ADM"
ADMUID=$(id -u "$ADM")

write_conf "frame_timeout = $FT" "gateway_user = $GW" "admin_group = $ADMG" \
    "login_max_failures = 3" "login_lockout = $LOCK"
start_labcd || exit 1
gw_raw_start "$GW" 63540

ALICE_PW=alice-pw-$RANDOM$RANDOM BOB_PW=bob-pw-$RANDOM$RANDOM
for s in "$ALICE_PW" "$BOB_PW" new-bob-pw-99; do secret "$s"; done
printf '%s\n' "$ALICE_PW" | labc admin user add alice --password-stdin >/dev/null
printf '%s\n' "$BOB_PW" | labc admin user add bob --password-stdin >/dev/null

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# count FILE... PATTERN: lines matching
count() { local pat=${*: -1}; cat "${@:1:$#-1}" | grep -cE -- "$pat" || true; }
vmhwm() { awk '/^VmHWM/ { print int($2 / 1024) }' /proc/$LABCD_PID/status; }
login_as() { printf '%s\n' "$3" | labc_as_uid "$1" login "$2" 2>&1; }
# settle: after a flood, until labcd has let go of its connections.
settle() {
	local i
	for ((i = 0; i < 100; i++)); do
		labc_as_uid 65398 whoami >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

test_expect_success '256 slow clients from nobody: 16 held, the rest refused, root and another uid still answered' '
	contains "$(labc_as_uid $NOBODY whoami 2>&1)" "^not logged in"
	as_uid $NOBODY "$SLOW" "$SOCK" dribble 256 $((FT * 3)) >$TDIR/nobody.out &
	pid=$!
	sleep 2
	t0=$(now); out=$(labc whoami); t1=$(now)
	contains "$out" "^root \(admin"
	contains "$(labc_as_uid 65400 whoami 2>&1)" "^not logged in"
	wait $pid
	cat $TDIR/nobody.out | sort | uniq -c | sort -rn | head -5
	[ "$(count $TDIR/nobody.out "closed after .*: nobody already holds 16 connections to labcd \(at most 16 at once per account\): close some")" -eq 240 ]
	[ "$(count $TDIR/nobody.out "closed after .*: a message was not complete within $FT s: closing the connection")" -eq 16 ]
	[ "$(count $TDIR/nobody.out " open after ")" -eq 0 ]
	# the admin can see it, without a line per refusal
	n=$(grep -c "refusing connections (nobody): nobody already holds 16 connections" "$LABCD_LOG")
	[ "$n" -ge 1 ] && [ "$n" -le 5 ]
	measured "root whoami while nobody held 16 slow connections (240 refused): $(secs $t0 $t1) s"
'

test_expect_success 'a frame dribbled a byte every 2 s is cut at the deadline, not after' '
	cuts=$(grep "not complete within" $TDIR/nobody.out | sed "s/.*after \([0-9.]*\) s.*/\1/" | sort -n)
	first=$(echo "$cuts" | head -1) last=$(echo "$cuts" | tail -1)
	# Without the deadline each byte bought 60 s more: they would stay
	# until the client gave up at 3 x the deadline.
	awk -v a=$first -v b=$last -v ft=$FT "BEGIN { exit !(a >= ft - 0.5 && b < 2 * ft) }"
	measured "16 frames dribbled 1 byte / 2 s, frame_timeout $FT s: cut after $first .. $last s"
'

test_expect_success 'an idle connection is closed after frame_timeout and says so' '
	out=$(as_uid $NOBODY "$SLOW" "$SOCK" idle 1 $((FT * 3)))
	contains "$out" "^0 closed after [0-9.]+ s: idle for $FT s: closing the connection$"
	t=$(echo "$out" | sed "s/.*after \([0-9.]*\) s.*/\1/")
	awk -v t=$t -v ft=$FT "BEGIN { exit !(t >= ft - 0.5 && t < 2 * ft) }"
	measured "idle connection, frame_timeout $FT s: closed after $t s"
'

test_expect_success '16 uids x 16 slow clients: the unreserved slots fill, root and an admin still get in' '
	settle
	for u in $(seq 65401 65416); do
		as_uid $u "$SLOW" "$SOCK" dribble 16 $((FT * 2)) >$TDIR/many.$u &
	done
	# all 256 decided once 16 were refused
	for i in $(seq 50); do
		[ "$(count $TDIR/many.* "serving too many clients")" -ge 16 ] && break
		sleep 0.2
	done
	t0=$(now); out=$(labc whoami); t1=$(now)
	contains "$out" "^root \(admin"
	contains "$(labc_as_uid $ADMUID whoami 2>&1)" "\(admin"
	contains "$(labc_as_uid 65399 whoami 2>&1)" "labcd is serving too many clients; try again in a moment"
	wait
	refused=$(count $TDIR/many.* "serving too many clients")
	cut=$(count $TDIR/many.* "not complete within")
	[ "$cut" -eq 240 ]
	[ "$refused" -eq 16 ]
	measured "root whoami while 16 uids held $cut slow connections ($refused refused: all unreserved slots taken): $(secs $t0 $t1) s"
'

KEY1=$(ssh-keygen -q -t ed25519 -N "" -f $TDIR/k1 && cut -d" " -f1,2 $TDIR/k1.pub)
KEY2=$(ssh-keygen -q -t ed25519 -N "" -f $TDIR/k2 && cut -d" " -f1,2 $TDIR/k2.pub)

test_expect_success 'gateway: one SSH key holds at most 16 unanswered login prompts, another key still gets one, cut at 30 s' '
	settle
	gw_raw "$SLOW" "$SOCK" prompt 20 45 "$KEY1" >$TDIR/gw1.out &
	pid=$!
	sleep 2
	out=$(gw_raw "$REQ" "$SOCK" -k "$KEY2" -- login bob </dev/null) && exit 1
	contains "$out" "login: no password given"
	wait $pid
	[ "$(count $TDIR/gw1.out "^[0-9]+ prompted")" -eq 16 ]
	[ "$(count $TDIR/gw1.out "this SSH key already holds 16 connections to labcd \(at most 16 at once\)")" -eq 4 ]
	t=$(grep "closed after.*no message" $TDIR/gw1.out | sed "s/.*after \([0-9.]*\) s.*/\1/" | sort -n | tail -1)
	[ "$(count $TDIR/gw1.out "closed after.*no message")" -eq 16 ]
	awk -v t=$t "BEGIN { exit !(t >= 29 && t < 44) }"
	measured "anonymous gateway login prompts left unanswered: closed after $t s"
'

# Keys are free to make: sessions of keys no lab user has proven hold at
# most a quarter of max_clients_gateway (128) together, so members' keys
# and nc ProxyCommands still get in.
KEYP=$(ssh-keygen -q -t ed25519 -N "" -f $TDIR/kp && cut -d" " -f1,2 $TDIR/kp.pub)
labc --as alice key add "$KEYP" >/dev/null
for k in 3 4 5; do ssh-keygen -q -t ed25519 -N "" -f $TDIR/k$k; done
test_expect_success 'gateway: throwaway keys fill at most 32 of the 128 gateway slots; a proven key still gets in' '
	settle
	for k in 3 4 5; do
		gw_raw "$SLOW" "$SOCK" prompt 16 12 "$(cut -d" " -f1,2 $TDIR/k$k.pub)" >$TDIR/anon.$k &
	done
	for i in $(seq 100); do
		[ $(cat $TDIR/anon.* | grep -cE "prompted|closed after") -ge 48 ] && break
		sleep 0.2
	done
	t0=$(now); out=$(gw_raw "$REQ" "$SOCK" -a alice -k "$KEYP" -- whoami </dev/null); t1=$(now)
	contains "$out" "\"user\":\"alice\""
	out=$(gw_raw "$REQ" "$SOCK" -k "$KEY2" -- login bob </dev/null) && exit 1
	contains "$out" "the gateway is serving 32 sessions of SSH keys no lab user has proven \(at most 32 at once; members.* keys still get in\): try again in a moment"
	wait
	cat $TDIR/anon.* | sed "s/after [0-9.]* s/after T s/" | sort | uniq -c | sort -rn | head -5
	[ "$(count $TDIR/anon.* "^[0-9]+ prompted")" -eq 32 ]
	[ "$(count $TDIR/anon.* "closed after .*the gateway is serving 32 sessions of SSH keys no lab user has proven")" -eq 16 ]
	measured "3 throwaway keys x 16 unanswered prompts: 32 held, 16 refused; alice'"'"'s proven key answered in $(secs $t0 $t1) s"
'

# 48 throwaway keys, each a wrong login for a random name at once: they
# share one of the two argon2id slots, the other stays for members.
for k in $(seq 10 57); do ssh-keygen -q -t ed25519 -N "" -f $TDIR/k$k; done
secret alice-guess-anon
test_expect_success 'gateway: wrong logins from 48 throwaway keys at once take one argon2 slot; members log in, an admin adds a user' '
	settle
	ta=$(now)
	for k in $(seq 10 57); do
		(echo alice-guess-anon | gw_raw "$REQ" "$SOCK" -k "$(cut -d" " -f1,2 $TDIR/k$k.pub)" \
		    -- login anon$RANDOM$k >$TDIR/slot.$k 2>&1 || true; now >$TDIR/slot-end.$k) &
	done
	sleep 1
	tw=$(now); labc_as_uid 65461 whoami >/dev/null 2>&1; t0=$(now)
	out=$(login_as 65460 alice "$ALICE_PW"); t1=$(now)
	contains "$out" "^Logged in as alice\.$"
	out=$(printf "%s\n" "$BOB_PW" | labc_as_uid $ADMUID admin user add carol54 --password-stdin 2>&1)
	t2=$(now)
	contains "$(labc admin user list --format csv)" "^carol54,"
	wait
	tb=$(cat $TDIR/slot-end.* | sort -n | tail -1)
	incorrect=$(count $TDIR/slot.* "login incorrect")
	busy=$(count $TDIR/slot.* "busy checking other passwords")
	# past 32 at once, the share of connections refuses them first
	full=$(count $TDIR/slot.* "the gateway is serving 32 sessions of SSH keys no lab user has proven")
	cat $TDIR/slot.* | sort | uniq -c | sort -rn | head -5
	[ $((incorrect + busy + full)) -eq 48 ]
	[ "$incorrect" -ge 16 ]
	awk -v a=$t0 -v b=$t1 "BEGIN { exit !(b - a < 10) }"
	measured "48 anonymous wrong logins at once ($incorrect incorrect, $busy busy, $full refused at the gateway share, the last done $(secs $ta $tb) s after the first began): a whoami took $(secs $tw $t0) s, alice logged in in $(secs $t0 $t1) s, admin user add in $(secs $t1 $t2) s"
'

# 64 wrong logins at once, 8 from each of 8 uids (16 unknown users and
# alice), each password sent with the request: without a bound each is a
# 64 MiB argon2id at once. Measured on the plain build (ASan keeps freed
# memory in quarantine), as the 78 -> 869 MB figure before the fix was.
stop_labcd
LABCD=${LABCT_BUILD%/san}/labcd start_labcd || exit 1
test_expect_success '64 parallel wrong logins: labcd'"'"'s peak memory stays bounded' '
	labc whoami >/dev/null
	before=$(vmhwm)
	t0=$(now)
	for u in $(seq 65421 65428); do
		for i in 1 2 3 4 5 6 7 8; do
			name=nosuchuser$u$i; [ $i -le 2 ] && name=alice
			(echo wrong-pw-$u$i | as_uid $u "$REQ" "$SOCK" -- login $name \
			    >$TDIR/par.$u.$i 2>&1 || true) &
		done
	done
	wait
	t1=$(now)
	after=$(vmhwm)
	incorrect=$(count $TDIR/par.* "\"login incorrect")
	busy=$(count $TDIR/par.* "busy checking other passwords")
	held=$(count $TDIR/par.* "too many wrong passwords lately")
	[ $((incorrect + busy + held)) -eq 64 ]
	[ "$incorrect" -ge 16 ]
	[ $((after - before)) -lt 400 ]
	measured "64 parallel wrong logins (8 uids, 48 unknown users and alice): labcd VmHWM $before MB -> $after MB; $incorrect login incorrect, $busy busy, $held held off for alice, in $(secs $t0 $t1) s"
'
stop_labcd
start_labcd || exit 1

for s in alice-guess-g1 alice-guess-g2 alice-guess-g3 alice-guess-g4 bob-guess-1 \
    bob-guess-2 bob-guess-3 not-bobs-pw-1 wrong-pw-99; do secret $s; done
test_expect_success 'strangers guessing alice'"'"'s password: their places wait, alice logs in from her own uid' '
	# alice logged in from uid 65430 before
	contains "$(login_as 65430 alice "$ALICE_PW")" "^Logged in as alice\.$"
	labc_as_uid 65430 logout >/dev/null
	# a stranger, three wrong: that place waits, even with the right one
	for g in 1 2 3; do
		out=$(login_as 65431 alice alice-guess-g$g) && exit 1
	done
	contains "$out" "login incorrect; too many wrong passwords: wait [0-9]+ seconds before the next try from here"
	out=$(login_as 65431 alice "$ALICE_PW") && exit 1
	contains "$out" "too many wrong passwords from here: try again in [0-9]+ seconds"
	# strangers together have spent their tries: a new place waits too
	out=$(login_as 65432 alice alice-guess-g4) && exit 1
	contains "$out" "too many wrong passwords lately from places this user never logged in from: try again in [0-9]+ seconds"
	# alice from her own uid: not affected
	contains "$(login_as 65430 alice "$ALICE_PW")" "^Logged in as alice\.$"
	[ "$(labc_as_uid 65430 whoami)" = alice ]
	contains "$(labc admin user list --format csv)" "^alice,no,[0-9]+,active"
	measured "after 3 wrong passwords from a stranger: alice from her uid logged in; a new place was told: ${out#*: }"
'

test_expect_success 'gateway: guesses from one SSH key do not keep out another key'"'"'s login' '
	for g in 1 2 3; do
		out=$(echo bob-guess-$g | gw_raw "$REQ" "$SOCK" -k "$KEY1" -- login bob) && exit 1
	done
	contains "$out" "too many wrong passwords: wait"
	out=$(echo "$BOB_PW" | gw_raw "$REQ" "$SOCK" -k "$KEY1" -- login bob) && exit 1
	contains "$out" "too many wrong passwords from here"
	# The budget of strangers for bob is spent; bob from a new key waits
	# a while (at most login_lockout / login_max_failures s), then is in.
	out=$(echo "$BOB_PW" | gw_raw "$REQ" "$SOCK" -k "$KEY2" -- login bob) || {
		contains "$out" "try again in [0-9]+ seconds"
		w=$(echo "$out" | sed -n "s/.*try again in \([0-9]*\) seconds.*/\1/p")
		[ "$w" -le $((LOCK / 3)) ]
		sleep "$w"
		out=$(echo "$BOB_PW" | gw_raw "$REQ" "$SOCK" -k "$KEY2" -- login bob)
	}
	contains "$out" "Logged in as bob"
'

test_expect_success 'an unknown user gets the same answer, after as long, as a wrong password' '
	t0=$(now); a=$(login_as 65440 bob not-bobs-pw-1) && exit 1; t1=$(now)
	b=$(login_as 65441 nosuchuser not-bobs-pw-1) && exit 1; t2=$(now)
	[ "$a" = "login incorrect" ]
	[ "$b" = "login incorrect" ]
	measured "wrong password for bob: $(secs $t0 $t1) s; unknown user: $(secs $t1 $t2) s"
	# and a user locked by an admin says so only after the right password
	labc admin user lock bob >/dev/null
	out=$(login_as 65442 bob wrong-pw-99) && exit 1
	[ "$out" = "login incorrect" ]
	out=$(login_as 65443 bob "$BOB_PW") && exit 1
	contains "$out" "bob is locked by an admin"
	labc admin user unlock bob >/dev/null
'

test_expect_success 'passwd: wrong current passwords are counted, then that place waits' '
	contains "$(login_as 65450 bob "$BOB_PW")" "^Logged in as bob\.$"
	for g in 1 2; do
		out=$(printf "guess-%s\nnew-bob-pw-99\n" $g | labc_as_uid 65450 passwd 2>&1) && exit 1
		contains "$out" "the current password is wrong: nothing changed"
	done
	out=$(printf "guess-3\nnew-bob-pw-99\n" | labc_as_uid 65450 passwd 2>&1) && exit 1
	contains "$out" "too many wrong passwords: wait [0-9]+ seconds"
	out=$(printf "%s\nnew-bob-pw-99\n" "$BOB_PW" | labc_as_uid 65450 passwd 2>&1) && exit 1
	contains "$out" "passwd: too many wrong passwords from here: try again in [0-9]+ seconds; nothing changed"
	# nothing changed: the old password still logs in elsewhere
	contains "$(login_as 65451 bob "$BOB_PW")" "^Logged in as bob\.$"
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE command = '"'passwd'"' AND result LIKE '"'failed: passwd: the current password is wrong%'"'")" -ge 3 ]
'

# After a restart the throttle has forgotten everything; a host uid that
# still holds a session of alice is her own place again, not a stranger.
stop_labcd
start_labcd || exit 1
for s in alice-guess-r1 alice-guess-r2 alice-guess-r3 alice-guess-r4; do secret $s; done
test_expect_success 'after a restart: strangers spend their budget, alice from her uid (a session there) still logs in' '
	[ "$(labc_as_uid 65430 whoami)" = alice ]
	for g in 1 2 3; do
		out=$(login_as 65435 alice alice-guess-r$g) && exit 1
	done
	out=$(login_as 65436 alice alice-guess-r4) && exit 1
	contains "$out" "too many wrong passwords lately from places this user never logged in from"
	t0=$(now); out=$(login_as 65430 alice "$ALICE_PW"); t1=$(now)
	contains "$out" "^Logged in as alice\.$"
	measured "after a restart and 3 strangers'"'"' wrong passwords: alice from her uid logged in in $(secs $t0 $t1) s"
'

test_expect_success 'no password reached labcd'"'"'s log' '
	for s in "$ALICE_PW" "$BOB_PW" alice-guess wrong-pw-6542; do
		! grep -qF -- "$s" "$LABCD_LOG"
	done
	kill -0 $LABCD_PID
'

# nc streams per lab user: needs a container, so LXD.
if [ -n "${LABCT_PREFIX:-}" ] && [ "${LABCT_NO_LXD:-}" != 1 ]; then
	stop_labcd
	write_conf "project_prefix = ${LABCT_PREFIX}dos-" \
	    "default_image = $LABCT_IMAGE" "profiles = $LABCT_PROFILE" \
	    "ssh_listen = 127.0.0.1" "ssh_ports = 63610-63619" \
	    "frame_timeout = $FT" "max_nc_per_user = 3"
	start_labcd || exit 1
	test_expect_success 'nc: a member holds at most max_nc_per_user streams; closing one frees it' '
		labc --as alice launch box >/dev/null
		mkfifo $TDIR/hold
		exec 7<>$TDIR/hold
		for i in 1 2 3; do
			labc --as alice nc box <$TDIR/hold >$TDIR/nc.$i 2>&1 &
		done
		for i in $(seq 300); do
			[ "$(cat $TDIR/nc.1 $TDIR/nc.2 $TDIR/nc.3 | grep -c ^SSH-2.0)" -eq 3 ] && break
			sleep 0.2
		done
		[ "$(cat $TDIR/nc.1 $TDIR/nc.2 $TDIR/nc.3 | grep -c ^SSH-2.0)" -eq 3 ]
		out=$(labc --as alice nc box </dev/null 2>&1) && exit 1
		contains "$out" "you have 3 nc streams open already \(at most 3 at once\): close some ssh sessions and try again"
		exec 7>&-
		wait
		# stdin open until the banner is in: LXD'"'"'s proxy, which nc
		# goes through, ends both ways at the first end of file.
		out=$(sleep 2 | labc --as alice nc box 2>&1)
		contains "$out" "^SSH-2.0"
		labc --as alice delete -f box >/dev/null
	'
fi

test_done
