#!/usr/bin/env bash
# t0510-security.sh - password guessing and the files labcd and labc make.
# Many wrong passwords, one by one through labc and at once over the
# protocol: slowed down, then that place waits (the right password too,
# saying for how long) while the account stays usable from elsewhere, other
# users unaffected, the wait ends, the audit log has each failure and no
# log has a password (t0540 has the rest of the guessing rules). Then the mode and owner of the socket,
# its directory, the database (+ -wal, -shm) and its directory, labc's
# session files, and the gateway's sshd drop-in; things planted in their
# way are not written through.
. "$(dirname "$0")/lib.sh"

REQ=$LABCT_BUILD/tests/tools/labct-req
A=65511 B=65512 C=65513		# host uids without accounts
LOCK=6

write_conf "login_max_failures = 4" "login_lockout = $LOCK"
start_labcd || exit 1

CAROL_PW=carol-pw-$RANDOM$RANDOM DAVE_PW=dave-pw-$RANDOM$RANDOM
ERIN_PW=erin-pw-$RANDOM$RANDOM
for s in "$CAROL_PW" "$DAVE_PW" "$ERIN_PW"; do secret "$s"; done
printf '%s\n' "$CAROL_PW" | labc admin user add carol --password-stdin >/dev/null
printf '%s\n' "$DAVE_PW" | labc admin user add dave --password-stdin >/dev/null
printf '%s\n' "$ERIN_PW" | labc admin user add erin --password-stdin >/dev/null

# login_as UID USER PW: labc login as that host uid; output and status.
login_as() { printf '%s\n' "$3" | labc_as_uid "$1" login "$2" 2>&1; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

test_expect_success 'wrong passwords are answered slower and slower' '
	: >$TDIR/delays
	for i in 1 2 3; do
		pw=carol-wrong-$i; secret $pw
		t0=$(now)
		out=$(login_as $A carol $pw) && exit 1
		t1=$(now)
		[ "$out" = "login incorrect" ]
		echo "$(secs $t0 $t1)" >>$TDIR/delays
	done
	d=($(cat $TDIR/delays))
	# argon2id plus 1 s, 2 s, 3 s
	awk -v a=${d[0]} -v b=${d[1]} -v c=${d[2]} \
	    "BEGIN { exit !(a >= 1 && b >= 2 && c >= 3 && c > a) }"
	measured "wrong password delays: ${d[*]} s"
'

test_expect_success 'the fourth makes that place wait, and says for how long' '
	secret carol-wrong-4
	out=$(login_as $A carol carol-wrong-4) && exit 1
	contains "$out" "login incorrect; too many wrong passwords: wait $LOCK seconds before the next try from here"
'

test_expect_success 'while it waits, the right password is refused there too' '
	out=$(login_as $A carol "$CAROL_PW") && exit 1
	contains "$out" "too many wrong passwords from here: try again in [1-6] seconds"
	contains "$(labc_as_uid $A whoami)" "^not logged in"
'

test_expect_success 'the account is not locked: from another uid carol logs in' '
	# strangers together had their 4 tries: one more per LOCK/4 s
	sleep 1.6
	out=$(login_as $B carol "$CAROL_PW")
	contains "$out" "^Logged in as carol\.$"
	contains "$(labc admin user list --format csv)" "^carol,no,0,active"
	labc_as_uid $B logout >/dev/null
'

test_expect_success 'other users log in as usual meanwhile' '
	out=$(login_as $C dave "$DAVE_PW")
	contains "$out" "^Logged in as dave\.$"
	[ "$(labc_as_uid $C whoami)" = dave ]
	contains "$(labc admin user list --format csv)" "^dave,no,0,active"
'

test_expect_success 'the lock ends after login_lockout seconds' '
	sleep $LOCK
	out=$(login_as $A carol "$CAROL_PW")
	contains "$out" "^Logged in as carol\.$"
	[ "$(labc_as_uid $A whoami)" = carol ]
'

test_expect_success 'the audit log has every failure and the lockout' '
	out=$(sqlite3 "$DB" "SELECT result FROM audit WHERE command = '"'login'"'
	    AND target = '"'carol'"' ORDER BY id")
	[ "$(printf "%s\n" "$out" | grep -c "^failed: login incorrect$")" -eq 3 ]
	contains "$out" "^failed: login incorrect; too many wrong passwords"
	contains "$out" "^failed: login: too many wrong passwords from here"
	contains "$(printf "%s\n" "$out" | tail -n 1)" "^ok$"
'

# 32 guesses at once over the protocol, as a client that does not wait.
test_expect_success '32 guesses at once: no more than login_max_failures are checked' '
	for i in $(seq 32); do
		pw=erin-guess-$i; secret $pw
		(printf "%s\n" "$pw" | as_uid $B "$REQ" "$SOCK" -- login erin \
		    >$TDIR/guess.$i 2>&1 || true) &
	done
	wait
	checked=$(cat $TDIR/guess.* | grep -c "\"error\":\"login incorrect") || true
	locked=$(cat $TDIR/guess.* | grep -c "too many wrong passwords from here") || true
	capped=$(cat $TDIR/guess.* | grep -c "already holds 16 connections") || true
	measured "32 parallel wrong passwords for one user from one uid: $checked checked, $locked refused, $capped connections refused (16 per uid)"
	[ "$checked" -le 4 ]
	[ "$capped" -le 16 ]
	[ $((checked + locked + capped)) -eq 32 ]
	out=$(printf "%s\n" "$ERIN_PW" | as_uid $B "$REQ" "$SOCK" -- login erin) && exit 1
	contains "$out" "too many wrong passwords from here"
'

test_expect_success 'and over the protocol the right password waits out the lock' '
	sleep $LOCK
	out=$(printf "%s\n" "$ERIN_PW" | as_uid $B "$REQ" "$SOCK" -- login erin)
	contains "$out" "Logged in as erin"
	contains "$out" "\"session\":\"[^\"]+\""
'

test_expect_success 'no password reached labcd'"'"'s log or the audit table' '
	for s in "$CAROL_PW" "$DAVE_PW" "$ERIN_PW" carol-wrong erin-guess; do
		! grep -qF -- "$s" "$LABCD_LOG"
		[ -z "$(sqlite3 "$DB" "SELECT 1 FROM audit WHERE actor || user ||
		    command || coalesce(target, '"''"') || result LIKE '"'%$s%'"'")" ]
	done
'

# mode PATH: "MODE UID:GID TYPE"
mode() { stat -c '%a %u:%g %F' "$1" | sed 's/regular empty file/regular file/'; }

test_expect_success 'socket 0666, database and its -wal/-shm 0600, whatever the umask' '
	rm -rf $TDIR/run $TDIR/lib
	mkdir $TDIR/lib
	(umask 000; "$LABCD" -f "$CONF" -S $TDIR/run/labcd.sock -d $TDIR/lib/db/labc.db -D \
	    >>$TDIR/modes.log 2>&1 & echo $! >$TDIR/modes.pid)
	for i in $(seq 100); do [ -S $TDIR/run/labcd.sock ] && break; sleep 0.1; done
	printf "x-pw-123456\n" | "$LABC" -S $TDIR/run/labcd.sock admin user add frank --password-stdin >/dev/null
	# -wal and -shm live while a connection has the database open:
	# a login waiting for its password.
	(sleep 2; echo x-pw-123456) | labc_as_uid $C -S $TDIR/run/labcd.sock login frank >/dev/null &
	sleep 1
	[ "$(mode $TDIR/run/labcd.sock)" = "666 0:0 socket" ]
	[ "$(mode $TDIR/run)" = "755 0:0 directory" ]
	[ "$(mode $TDIR/lib/db)" = "755 0:0 directory" ]	# the gateway home is in it
	[ "$(mode $TDIR/lib/db/labc.db)" = "600 0:0 regular file" ]
	[ "$(mode $TDIR/lib/db/labc.db-wal)" = "600 0:0 regular file" ]
	[ "$(mode $TDIR/lib/db/labc.db-shm)" = "600 0:0 regular file" ]
	wait
	kill $(cat $TDIR/modes.pid)
'

test_expect_success 'socket_mode and socket_group are applied' '
	groupadd -f labct5sg
	gid=$(getent group labct5sg | cut -d: -f3)
	printf "socket_mode = 0660\nsocket_group = labct5sg\n" >$TDIR/g.conf
	"$LABCD" -f $TDIR/g.conf -S $TDIR/g.sock -d $TDIR/g.db -D >>$TDIR/modes.log 2>&1 &
	pid=$!
	for i in $(seq 100); do [ -S $TDIR/g.sock ] && break; sleep 0.1; done
	m=$(mode $TDIR/g.sock)
	kill $pid; wait $pid || true
	groupdel labct5sg
	[ "$m" = "660 0:$gid socket" ]
'

test_expect_success 'a database left with mode 0644 is made 0600 at start-up' '
	cp $TDIR/lib/db/labc.db $TDIR/loose.db
	chmod 644 $TDIR/loose.db
	"$LABCD" -f "$CONF" -S $TDIR/l.sock -d $TDIR/loose.db -D >$TDIR/loose.log 2>&1 &
	pid=$!
	for i in $(seq 100); do [ -S $TDIR/l.sock ] && break; sleep 0.1; done
	kill $pid; wait $pid || true
	[ "$(mode $TDIR/loose.db)" = "600 0:0 regular file" ]
	contains "$(cat $TDIR/loose.log)" "had mode 0644: now 0600"
'

test_expect_success 'a symbolic link at the -wal path is not written through' '
	echo "not labcd'"'"'s" >$TDIR/victim
	ln -s $TDIR/victim $TDIR/w.db-wal
	"$LABCD" -f "$CONF" -S $TDIR/w.sock -d $TDIR/w.db -D >$TDIR/w.log 2>&1 &
	pid=$!
	for i in $(seq 100); do [ -S $TDIR/w.sock ] && break; sleep 0.1; done
	printf "x-pw-123456\n" | "$LABC" -S $TDIR/w.sock admin user add gina --password-stdin >/dev/null 2>&1 || true
	kill $pid; wait $pid || true
	[ "$(cat $TDIR/victim)" = "not labcd'"'"'s" ]
'

test_expect_success 'labc keeps its session in a 0700 directory, file 0600' '
	login_as $A carol "$CAROL_PW" >/dev/null
	d=$TDIR/home-$A/.cache/labc
	[ "$(mode $d)" = "700 $A:$A directory" ]
	f=$(ls $d/session-*)
	[ "$(mode $f)" = "600 $A:$A regular file" ]
	# with XDG_RUNTIME_DIR, there
	mkdir -m 700 $TDIR/xdg && chown $A:$A $TDIR/xdg
	printf "%s\n" "$CAROL_PW" | HOME=$TDIR/home-$A XDG_RUNTIME_DIR=$TDIR/xdg \
	    as_uid $A "$LABC" -S "$SOCK" login carol >/dev/null
	[ "$(mode $TDIR/xdg/labc)" = "700 $A:$A directory" ]
	[ "$(mode $(ls $TDIR/xdg/labc/session-*))" = "600 $A:$A regular file" ]
'

test_expect_success 'a loose session directory is tightened; a planted link is not followed' '
	chmod 755 $TDIR/home-$A/.cache/labc
	login_as $A carol "$CAROL_PW" >/dev/null
	[ "$(mode $TDIR/home-$A/.cache/labc)" = "700 $A:$A directory" ]
	mkdir -p $TDIR/home-$B/.cache $TDIR/elsewhere
	chown -R $B:$B $TDIR/home-$B $TDIR/elsewhere
	ln -s $TDIR/elsewhere $TDIR/home-$B/.cache/labc
	login_as $B dave "$DAVE_PW" >/dev/null || true
	[ -z "$(ls -A $TDIR/elsewhere)" ]
'

GW=labct5gw$$
useradd --system --no-create-home --home-dir $TDIR/gwhome --shell /usr/sbin/nologin $GW
at_exit "userdel $GW"
at_exit "userdel ${GW}k"
stop_labcd
write_conf "gateway_user = $GW" "gateway_keys_user = ${GW}k"
start_labcd || exit 1

test_expect_success 'the gateway drop-in is 0644 root, a planted temp link not followed' '
	mkdir -p $TDIR/sshd.d
	ssh-keygen -q -t ed25519 -N "" -f $TDIR/hostkey
	printf "HostKey %s\nInclude %s/sshd.d/*.conf\n" $TDIR/hostkey $TDIR >$TDIR/sshd_config
	echo keep >$TDIR/victim2
	ln -s $TDIR/victim2 $TDIR/sshd.d/50-labcontainers.conf.labc-tmp
	out=$(labc admin gateway setup --dir $TDIR/sshd.d --sshd-config $TDIR/sshd_config --labc "$LABC"; echo rc=$?)
	contains "$out" "rc=0"
	[ "$(mode $TDIR/sshd.d/50-labcontainers.conf)" = "644 0:0 regular file" ]
	[ "$(cat $TDIR/victim2)" = keep ]
	[ ! -e $TDIR/sshd.d/50-labcontainers.conf.labc-tmp ]
'

test_done
