#!/usr/bin/env bash
# t0620-health.sh - welcoming a member and watching the server before
# members hit a problem: the welcome message of 'admin user add' (server,
# gateway, password only when generated, --key, first steps, the guide);
# the anonymous gateway session's greeting through a real sshd; labcd's
# background doctor (a port of ssh_ports held by another program is found
# within doctor_interval, told once to root, an admin-group member and a
# lab --admin user at their next command, on stderr only, never to a
# member, and no more once the port is free; a run stuck on an LXD that
# never answers keeps no client waiting); audit retention (rows older
# than audit_retention_days are announced, and go no sooner than an hour
# later, in batches, newer stay, the removal is audited once). On the LXD test bed when there is one (the doctor then
# checks the real LXD too); without, LXD's absence is one more problem.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gateway.sh"

PORTS=63300-63309
LISTEN=$LABCT_BUILD/tests/tools/labct-listen
M=65520				# the member's host uid (no account needed)
ADM=labct62a$$ GRP=labct62g$$	# a host account in admin_group
groupadd "$GRP"
useradd --no-create-home --shell /usr/sbin/nologin -G "$GRP" "$ADM"
at_exit "userdel $ADM; groupdel $GRP"
ADMUID=$(id -u "$ADM")
mkdir -p "$TDIR/home-$ADMUID" && chown "$ADM" "$TDIR/home-$ADMUID"
gw_init labct62gw labct62gk 63390

lxd_conf=()
if [ -n "${LABCT_PREFIX:-}" ] && [ "${LABCT_NO_LXD:-}" != 1 ]; then
	lxd_conf=("default_image = $LABCT_IMAGE" "profiles = $LABCT_PROFILE")
fi
conf() {	# conf LINE...: this file's settings, and LINEs
	write_conf "${lxd_conf[@]}" "ssh_listen = 127.0.0.1" \
	    "ssh_ports = $PORTS" "admin_group = $GRP" "$@"
}
restart_with() { stop_labcd; conf "$@"; start_labcd; }
# wait_log PATTERN [SECONDS]: until labcd's log has a line matching it.
wait_log() {
	local i
	for ((i = 0; i < ${2:-30} * 10; i++)); do
		grep -Eq -- "$1" "$LABCD_LOG" && return 0
		sleep 0.1
	done
	echo "no /$1/ in labcd's log:" >&2
	tail -n 20 "$LABCD_LOG" >&2
	return 1
}
NOTICE="^labcd: doctor found [0-9]+ problems? at [0-9]{2}:[0-9]{2} \(.*\): see 'labc admin doctor'$"

# ---- the welcome message ---------------------------------------------------

conf "gateway_host = GPU-Server.cs.uni.edu" "gateway_port = 2222"
start_labcd || exit 1

test_expect_success 'admin user add: a welcome message with the generated password, the gateway and the first steps' '
	out=$(labc admin user add alice </dev/null)
	pw=$(printf "%s\n" "$out" | sed -n "s/^Password for alice: //p")
	secret "$pw"
	[ -n "$pw" ]
	# between two 8< lines, after the rest
	msg=$(printf "%s\n" "$out" | sed -n "/8</,/8</p")
	[ "$(printf "%s\n" "$msg" | grep -c "8<")" = 2 ]
	contains "$out" "^Send alice this welcome message"
	contains "$msg" "^Hello alice,"
	contains "$msg" "GPU server GPU-Server.cs.uni.edu\.$"
	contains "$msg" "^       ssh-keygen -t ed25519$"
	contains "$msg" "^       ssh -p 2222 lab@GPU-Server.cs.uni.edu$"
	contains "$msg" "^       login alice$"
	contains "$msg" "with the password $pw, and answer Y to make the key"
	not_contains "$msg" "the password I gave you"
	contains "$msg" "^       guide "
	contains "$msg" "^       launch box --gpu 0 "
	contains "$msg" "^       ssh -p 2222 lab@GPU-Server.cs.uni.edu ssh-config >> ~/.ssh/config$"
	contains "$msg" "^       ssh box\.gpu-server$"
	contains "$msg" "^The member guide, any time: ssh -p 2222 lab@GPU-Server.cs.uni.edu guide$"
'

test_expect_success 'a password the admin chose is not in it: "the password I gave you"' '
	out=$(printf "bob-pw-%s\n" $$ | labc admin user add bob --password-stdin)
	msg=$(printf "%s\n" "$out" | sed -n "/8</,/8</p")
	contains "$msg" "^       login bob$"
	contains "$msg" "with the password I gave you, and answer Y"
	not_contains "$out" "bob-pw-"
	not_contains "$out" "^Password for"
'

test_expect_success 'with --key: the key logs them in, no ssh-keygen, no login step' '
	newkey carol
	out=$(labc admin user add carol --key "$(cat $TDIR/carol.pub)" </dev/null)
	pw=$(printf "%s\n" "$out" | sed -n "s/^Password for carol: //p")
	secret "$pw"
	msg=$(printf "%s\n" "$out" | sed -n "/8</,/8</p")
	contains "$msg" "Your SSH key is registered"
	contains "$msg" "logs you in as carol, no password needed"
	contains "$msg" "^   with .passwd.\): $pw$"
	not_contains "$msg" "ssh-keygen"
	not_contains "$msg" "login carol"
	contains "$msg" "^2\. First steps"
'

restart_with
test_expect_success 'without gateway_host: the host name, port 22 left out' '
	out=$(labc admin user add dave </dev/null)
	secret "$(printf "%s\n" "$out" | sed -n "s/^Password for dave: //p")"
	h=$(hostname)
	contains "$out" "GPU server $h\.$"
	contains "$out" "^       ssh lab@$h$"
	contains "$out" "^       ssh box\.$(printf "%s" "${h%%.*}" | tr A-Z a-z)$"
'

# ---- the gateway's greeting -----------------------------------------------

restart_with "${GW_CONF[@]}"
gw_setup >/dev/null
gw_start || exit 1
newkey stranger

test_expect_success 'an address as gateway_host: ssh box.lab in the welcome message' '
	labc admin user add erin </dev/null >$TDIR/erin.out
	secret "$(sed -n "s/^Password for erin: //p" $TDIR/erin.out)"
	contains "$(cat $TDIR/erin.out)" "^       ssh -p 63390 $GW@127\.0\.0\.1$"
	contains "$(cat $TDIR/erin.out)" "^       ssh box\.lab$"
'

# gw_as KEY "ssh ARGS": the ssh command of the message, with the test's
# own key and none of the laptop's known hosts.
gw_as() { local k=$1 cmd=$2; shift 2; gw "$k" ${cmd#ssh } "$@"; }
test_expect_success 'following the message: a new key, the ssh line, login with the password, then the key alone' '
	newkey erin
	pw=$(sed -n "s/^Password for erin: //p" $TDIR/erin.out)
	line=$(sed -n "/8</,/8</s/^       \(ssh -p [0-9]* [^ ]*\)$/\1/p" $TDIR/erin.out | head -1)
	login=$(sed -n "/8</,/8</s/^       \(login erin\)$/\1/p" $TDIR/erin.out)
	[ "$line" = "ssh -p 63390 $GW@127.0.0.1" ] && [ "$login" = "login erin" ]
	out=$(printf "%s\n%s\ny\n" "$login" "$pw" | gw_as erin "$line" -T 2>&1)
	contains "$out" "Logged in as erin"
	[ "$(gw_as erin "$line" whoami)" = erin ]
'

test_expect_success 'the anonymous gateway session greets and says what to do, through the real sshd' '
	out=$(gw stranger -T $GW@127.0.0.1 </dev/null 2>&1)
	fp=$(ssh-keygen -lf $TDIR/stranger.pub | cut -d" " -f2 | sed "s/[+.]/\\\\&/g")
	contains "$out" "^Welcome to the lab.s GPU containers"
	contains "$out" "You came in with the SSH key $fp"
	contains "$out" "^  login USER   log in with the password your admin gave you"
	contains "$out" "^  guide        the member guide"
	contains "$out" "^  help "
	contains "$out" "No account yet\? Ask your lab.s admin"
'

test_expect_success 'a command given to ssh gets no greeting' '
	out=$(gw stranger $GW@127.0.0.1 whoami 2>&1 || true)
	not_contains "$out" "Welcome"
'

# ---- the background doctor -------------------------------------------------

# frank: a lab admin, at the gateway with his key; alice: a member, logged
# in from host uid $M.
newkey frank
labc admin user add frank --admin --key "$(cat $TDIR/frank.pub)" </dev/null >/dev/null
printf "alice-pw-%s\n" $$ | labc admin passwd alice --password-stdin >/dev/null
printf "alice-pw-%s\n" $$ | labc_as_uid $M login alice >/dev/null
restart_with "${GW_CONF[@]}" "doctor_interval = 2"

as_admin() { labc_as_uid "$ADMUID" "$@"; }
member() { labc_as_uid $M "$@"; }
frank() { gw frank $GW@127.0.0.1 "$@"; }
# err_of CMD...: its stderr (stdout dropped)
err_of() { "$@" 2>&1 >/dev/null; }

test_expect_success 'the first background run comes within doctor_interval of start-up' '
	wait_log "doctor: [0-9]+ problems?, [0-9]+ warnings? \([0-9]+ ms\)" 30
	measured "background doctor run: $(sed -n "s/.*doctor: .*(\([0-9]*\) ms).*/\1/p" $LABCD_LOG | head -1) ms"
	# what the setup lacks anyway (no LXD, the test gateway not in
	# /etc/ssh) is told once; nobody is told it twice
	err_of labc whoami >/dev/null
	err_of as_admin whoami >/dev/null
	err_of frank whoami >/dev/null
	[ -z "$(err_of labc whoami)" ]
	[ -z "$(err_of as_admin whoami)" ]
	[ -z "$(err_of frank whoami)" ]
	[ -z "$(err_of member whoami)" ]
'

at_exit '[ -n "${lpid:-}" ] && kill $lpid'
$LISTEN 300 63305 >/dev/null & lpid=$!

test_expect_success 'a port of ssh_ports held by another program: found by the next run, logged with its fix' '
	wait_log "warning: doctor: ssh ports: 1 port of $PORTS on 127.0.0.1 held by .*63305.*\(fix: see what holds them" 30
'

test_expect_success 'root is told at the next command, on stderr, once; --format json stays clean' '
	err=$(labc admin user list --format json 2>&1 >$TDIR/json)
	contains "$err" "$NOTICE"
	contains "$err" "\(.*ssh ports.*\)"
	jq -e ".users | length >= 5" $TDIR/json >/dev/null
	[ -z "$(err_of labc admin user list --format csv)" ]
'

test_expect_success 'an admin-group member is told once' '
	contains "$(err_of as_admin whoami)" "$NOTICE"
	[ -z "$(err_of as_admin whoami)" ]
'

test_expect_success 'a lab --admin user is told once, through the gateway' '
	contains "$(err_of frank whoami)" "$NOTICE"
	[ -z "$(err_of frank whoami)" ]
'

test_expect_success 'a member is never told, nor a caller who is no one' '
	for c in "member whoami" "member key list" "labc_as_uid 65519 whoami" \
	    "gw stranger $GW@127.0.0.1 whoami"; do
		err=$(err_of $c)
		not_contains "$err" "doctor"
	done
'

test_expect_success 'the same problem in later runs is not told again' '
	n=$(grep -c "doctor: [0-9]* problem" $LABCD_LOG)
	for i in $(seq 50); do
		[ "$(grep -c "doctor: [0-9]* problem" $LABCD_LOG)" -ge $((n + 2)) ] && break
		sleep 0.2
	done
	[ -z "$(err_of labc whoami)" ]
	[ -z "$(err_of as_admin whoami)" ]
	[ "$(grep -c "warning: doctor: ssh ports" $LABCD_LOG)" = 1 ]
'

kill $lpid; wait $lpid 2>/dev/null; lpid=

test_expect_success 'the port freed: the next run says so, and nobody is told anything' '
	wait_log "info: doctor: no longer found: ssh ports: 1 port" 30
	[ -z "$(err_of labc whoami)" ]
	[ -z "$(err_of as_admin whoami)" ]
	[ -z "$(err_of frank whoami)" ]
'

$LISTEN 300 63305 >/dev/null & lpid=$!
# In labc's interactive shell (on a terminal: script), the prompt's own
# whoami is asked quietly and must not use the notice up unseen.
test_expect_success 'held again: a new finding, told again, also in the interactive shell' '
	for i in $(seq 150); do
		[ "$(grep -c "warning: doctor: ssh ports" $LABCD_LOG)" = 2 ] && break
		sleep 0.2
	done
	out=$(printf "whoami\nexit\n" | timeout 20 script -qec "$LABC -S $SOCK" /dev/null | tr -d "\r")
	contains "$out" "$NOTICE"
	contains "$out" "^root.*> whoami"
	[ -z "$(err_of labc whoami)" ]
'
kill $lpid; wait $lpid 2>/dev/null; lpid=

# On the test bed: a default_image that LXD does not have.
if [ ${#lxd_conf[@]} -gt 0 ]; then
	stop_labcd
	write_conf "default_image = labct-no-such-image" \
	    "profiles = $LABCT_PROFILE" "ssh_listen = 127.0.0.1" \
	    "ssh_ports = $PORTS" "doctor_interval = 2"
	start_labcd
	test_expect_success 'a default_image LXD does not have: found, logged with its fix, told to root' '
		wait_log "warning: doctor: default image: default_image labct-no-such-image: .*\(fix: lxc image alias create labct-no-such-image" 30
		err=$(err_of labc whoami)
		contains "$err" "$NOTICE"
		contains "$err" "\(.*default image.*\)"
		[ -z "$(err_of member whoami)" ]
	'
fi

# An LXD that takes connections and never answers: the background doctor
# waits on it (30 s per call), and clients must not.
MUTE=$LABCT_BUILD/tests/tools/labct-mute
$MUTE 120 $TDIR/mute.sock >$TDIR/mute.out & mpid=$!
at_exit '[ -n "${mpid:-}" ] && kill $mpid'
for i in $(seq 50); do [ -S $TDIR/mute.sock ] && break; sleep 0.1; done
n0=$(wc -l <$LABCD_LOG)
restart_with "lxd_socket = $TDIR/mute.sock" "doctor_interval = 1"
test_expect_success 'a doctor run stuck on a mute LXD keeps no client waiting' '
	for i in $(seq 100); do
		grep -q "accepted 2" $TDIR/mute.out && break
		sleep 0.1
	done
	grep -q "accepted 2" $TDIR/mute.out
	sleep 1
	t0=$(date +%s%N)
	[ "$(labc whoami | cut -d" " -f1)" = root ]
	labc admin user list >/dev/null
	[ "$(member whoami)" = alice ]
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	measured "3 commands while the background doctor waits on LXD: $ms ms"
	[ $ms -lt 5000 ]
	# and the doctor was still in its run all along
	! tail -n +$((n0 + 1)) $LABCD_LOG | grep -q "doctor: [0-9]* problem"
'
kill $mpid; wait $mpid 2>/dev/null; mpid=
test_expect_success 'once LXD hangs up, the run ends with its problem' '
	wait_log "warning: doctor: lxd: LXD is not reachable at $TDIR/mute.sock" 40
'

# ---- audit retention -------------------------------------------------------

q() { printf "'%s'" "$1"; }	# an SQL string

# Restarts happen here, not in a test's subshell: lib.sh keeps the pid.
stop_labcd
now=$(date +%s)
sqlite3 "$DB" "INSERT INTO audit (time, actor, command, result) VALUES
    ($now - 40 * 86400, 'old-1', 'key add', 'ok'),
    ($now - 31 * 86400, 'old-2', 'key add', 'ok'),
    ($now - 29 * 86400, 'new-1', 'key add', 'ok'),
    ($now - 86400, 'new-2', 'key add', 'ok')"
total=$(sqlite3 "$DB" "SELECT count(*) FROM audit")
conf "audit_retention_days = 30"
start_labcd

test_expect_success 'audit_retention_days: the first removal is announced an hour ahead, nothing goes yet' '
	wait_log "warning: audit retention: 2 rows older than 30 days go at [0-9-]+ [0-9:]+ \(audit_retention_days; back the database up first, or set 0 to keep them\)" 30
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE actor LIKE $(q old-%)")" = 2 ]
	# labcd logs the announcement, then writes its audit row.
	for i in $(seq 50); do
		row=$(sqlite3 "$DB" "SELECT actor || $(q "|") || result FROM audit WHERE command = $(q "audit retention")")
		[ -n "$row" ] && break
		sleep 0.1
	done
	contains "$row" "^labcd\|2 rows older than 30 days go at "
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM audit")" = "$((total + 1))" ]
'

stop_labcd
: >"$LABCD_LOG"
start_labcd
labc whoami >/dev/null
sleep 1
test_expect_success 'a restart within that hour removes nothing and announces nothing again' '
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE actor LIKE $(q old-%)")" = 2 ]
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE command = $(q "audit retention")")" = 1 ]
	not_contains "$(cat $LABCD_LOG)" "audit retention"
'

# The hour gone by (the announcement an hour older), and more than one
# batch of old rows: a start-up removes them all, in batches, while
# requests go on.
stop_labcd
sqlite3 "$DB" "UPDATE audit SET time = time - 3601 WHERE command = 'audit retention';
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12000)
    INSERT INTO audit (time, actor, command, result)
    SELECT $now - 100 * 86400, 'old-bulk', 'key add', 'ok' FROM n"
start_labcd

test_expect_success 'audit_retention_days: after the hour, rows older go, newer stay, the removal is audited once' '
	fails=0
	for i in $(seq 20); do labc whoami >/dev/null 2>&1 || fails=$((fails + 1)); done
	wait_log "audit retention .*removed 12002 rows older than 30 days" 60
	measured "audit retention: 12002 rows removed in batches; $fails of 20 requests meanwhile failed"
	[ $fails -eq 0 ]
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE actor LIKE $(q old-%)")" = 0 ]
	[ "$(sqlite3 "$DB" "SELECT group_concat(actor) FROM audit WHERE actor LIKE $(q new-%)")" = new-1,new-2 ]
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE command != $(q whoami)")" = "$((total - 2 + 2))" ]
	row=$(sqlite3 "$DB" "SELECT actor || $(q "|") || command || $(q "|") || result FROM audit WHERE command = $(q "audit retention") ORDER BY id DESC LIMIT 1")
	contains "$row" "^labcd\|audit retention\|removed 12002 rows older than 30 days \(before [0-9-]+ [0-9:]+; audit_retention_days\)$"
	contains "$(labc admin log)" "audit retention .*removed 12002 rows"
'

stop_labcd
sqlite3 "$DB" "INSERT INTO audit (time, actor, command, result) VALUES
    ($now - 3000 * 86400, 'ancient', 'key add', 'ok')"
conf "audit_retention_days = 0"
start_labcd
labc whoami >/dev/null
sleep 1
test_expect_success 'audit_retention_days = 0 keeps everything' '
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE actor = $(q ancient)")" = 1 ]
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE command = $(q "audit retention")")" = 2 ]
'

stop_labcd
sqlite3 "$DB" "DELETE FROM audit WHERE actor = 'ancient'"
conf "audit_retention_days = 30"
start_labcd
labc whoami >/dev/null
sleep 1
test_expect_success 'nothing older: no removal, no second audit row' '
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE command = $(q "audit retention")")" = 2 ]
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE actor LIKE $(q new-%)")" = 2 ]
'

test_done
