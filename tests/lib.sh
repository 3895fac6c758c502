# tests/lib.sh - sourced by every tests/tNNNN-*.sh: test_expect_success,
# a private labcd (own socket, database and config) and helpers to run labc
# as root, as another host uid, or as a lab user. Everything started here
# is stopped at exit, also when a test fails.
set -u

: "${LABCT_BUILD:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/san}"
: "${LABCT_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
LABCD=$LABCT_BUILD/labcd
LABC=$LABCT_BUILD/labc
TDIR=$(mktemp -d /tmp/labct-t.XXXXXX)
chmod 755 "$TDIR"
SOCK=$TDIR/labcd.sock
DB=$TDIR/labc.db
CONF=$TDIR/labcd.conf
LABCD_LOG=$TDIR/labcd.log
LABCD_PID=
test_failed=0
_cleanups=()
exec 3>&1	# the test file's own stdout, for measured()

# measured TEXT: a figure for the notes, shown in the run's output.
measured() { echo "#   measured: $*" >&3; }

# Host accounts: tests/run runs two test files at once, and shadow's lock
# fails at once ("cannot lock /etc/passwd; try again later") rather than
# wait. Take turns on a lock of our own, and try again while shadow's is
# held by someone else (a labcd running useradd).
_account() {
	local i rc out
	for ((i = 0; i < 50; i++)); do
		out=$(flock /run/labct-accounts.lock "$@" 2>&1)
		rc=$?
		case $out in *"cannot lock"*|*"try again later"*)
			sleep 0.2
			continue ;;
		esac
		break
	done
	[ -z "$out" ] || printf '%s\n' "$out" >&2
	return $rc
}
useradd() { _account useradd "$@"; }
userdel() { _account userdel "$@"; }
usermod() { _account usermod "$@"; }
groupadd() { _account groupadd "$@"; }
groupdel() { _account groupdel "$@"; }

at_exit() { _cleanups+=("$1"); }
_run_cleanups() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_cleanups[$i]}" >/dev/null 2>&1 || true
	done
	stop_all_labcd
	# Keep the private daemon's log with the test logs for a post-mortem,
	# and its audit table: tests/run looks for secrets in both.
	if [ -n "${LABCT_LOGDIR:-}" ] && [ -f "$LABCD_LOG" ]; then
		cp "$LABCD_LOG" "$LABCT_LOGDIR/$(basename "$0" .sh).labcd.log"
	fi
	if [ -n "${LABCT_LOGDIR:-}" ] && [ -f "$DB" ]; then
		sqlite3 "$DB" "SELECT * FROM audit" \
		    >"$LABCT_LOGDIR/$(basename "$0" .sh).audit.log" 2>&1
	fi
	rm -rf "$TDIR"
}
trap _run_cleanups EXIT

# test_expect_success DESC BODY: run BODY (a string) with set -e in a
# subshell, so it cannot change the file's variables (a helper it calls
# cannot either); print "ok - DESC" or "not ok - DESC" with its output.
test_expect_success() {
	local desc=$1 body=$2 out rc
	out=$TDIR/out.$$
	local t0=$SECONDS
	# Not inside 'if': bash would ignore set -e in the whole subshell.
	(eval "set -e; $body") >"$out" 2>&1
	rc=$?
	# Where a run's time goes (tests/run reports the slowest).
	[ -z "${LABCT_LOGDIR:-}" ] || printf '%5d s  %s: %s\n' \
	    $((SECONDS - t0)) "$(basename "$0" .sh)" "$desc" \
	    >>"$LABCT_LOGDIR/test-times"
	if [ $rc -eq 0 ]; then
		echo "ok - $desc"
	else
		echo "not ok - $desc"
		sed 's/^/#   /' "$out" | tail -n 40
		test_failed=$((test_failed + 1))
	fi
	rm -f "$out"
}

# test_skip DESC WHY
test_skip() { echo "skip - $1 ($2)"; }

# test_skip_all WHY: skip the rest of the file, saying why, and end it; a
# test that failed before still fails the file.
test_skip_all() {
	echo "skip - $(basename "$0" .sh) ($1)"
	exit $((test_failed > 0))
}

# write_conf LINES...: the private daemon's configuration. Unless the
# lines say otherwise, its LXD projects carry this run's prefix (removed
# at the end of the run), without a test bed it has no LXD at all (a test
# never leaves anything in an LXD it did not make), and no background
# doctor.
write_conf() {
	local extra=()
	case "$*" in *project_prefix*) ;; *)
		extra+=("project_prefix = ${LABCT_PREFIX:-labct-nolxd-}$(basename "$0" .sh | cut -c1-5)-")
	esac
	# labcd's background doctor speaks to admins at their next command:
	# only in the tests that ask for it (t0620).
	case "$*" in *doctor_interval*) ;; *)
		extra+=("doctor_interval = 0")
	esac
	# No status page to look for, unless a test serves one (t0650): the
	# host's own labc-web may be on the default address.
	case "$*" in *web_listen*) ;; *)
		extra+=("web_listen =")
	esac
	# Members share the test bridge unless a test says otherwise (t0560).
	case "$*" in *isolate_members*) ;; *)
		extra+=("isolate_members = no")
	esac
	if [ -z "${LABCT_PREFIX:-}" ] || [ "${LABCT_NO_LXD:-}" = 1 ]; then
		case "$*" in *lxd_socket*) ;; *)
			extra+=("lxd_socket = $TDIR/no-lxd.sock")
		esac
	fi
	printf '%s\n' "# written by $(basename "$0")" "${extra[@]}" "$@" >"$CONF"
}

start_labcd() {
	[ -f "$CONF" ] || write_conf
	# LABCD may carry a wrapper (valgrind ...): split it on purpose.
	# shellcheck disable=SC2086
	$LABCD -f "$CONF" -S "$SOCK" -d "$DB" -D >>"$LABCD_LOG" 2>&1 </dev/null &
	LABCD_PID=$!
	# Also on file: a test body runs in a subshell, and the daemon it
	# starts must be found by the next body's stop_labcd and at the end.
	echo "$LABCD_PID" >"$TDIR/labcd.pid"
	echo "$LABCD_PID" >>"$TDIR/labcd.pids"
	local i
	# Up to 60 s: under valgrind on a busy machine it takes a while.
	for ((i = 0; i < 600; i++)); do
		[ -S "$SOCK" ] && return 0
		kill -0 "$LABCD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "labcd did not start:" >&2
	cat "$LABCD_LOG" >&2
	return 1
}

# ours PID: PID is a labcd this test started (its socket on the command
# line), not a process that took the number since.
ours() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF -- "-S $SOCK "; }

stop_labcd() {
	local pid i
	pid=$(cat "$TDIR/labcd.pid" 2>/dev/null || true)
	pid=${pid:-$LABCD_PID}
	[ -n "$pid" ] || return 0
	if ours "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null ||
		    for ((i = 0; i < 300; i++)); do ours "$pid" || break; sleep 0.1; done
	fi
	rm -f "$TDIR/labcd.pid"
	LABCD_PID=
}

# Every labcd this test started and left running (a body that died
# between a start and a stop): stopped at the end.
stop_all_labcd() {
	local pid
	stop_labcd
	for pid in $(cat "$TDIR/labcd.pids" 2>/dev/null); do
		ours "$pid" && kill -TERM "$pid" 2>/dev/null
	done
	for pid in $(cat "$TDIR/labcd.pids" 2>/dev/null); do
		for ((i = 0; i < 100; i++)); do ours "$pid" || break; sleep 0.1; done
	done
}

# labc ARGS...: as root.
labc() { "$LABC" -S "$SOCK" "$@"; }

# as_uid UID CMD...: run CMD as a host uid (no passwd entry needed).
as_uid() {
	local uid=$1
	shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"
}

# labc_as_uid UID ARGS...: labc as that host uid, with its own HOME.
labc_as_uid() {
	local uid=$1 home=$TDIR/home-$1
	shift
	mkdir -p "$home" && chown "$uid:$uid" "$home"
	HOME=$home as_uid "$uid" env -u XDG_RUNTIME_DIR "$LABC" -S "$SOCK" "$@"
}

# expect_status STATUS CMD...: CMD must exit with STATUS.
expect_status() {
	local want=$1 rc=0
	shift
	"$@" || rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "expected exit status $want, got $rc: $*" >&2
		return 1
	fi
}

# contains TEXT PATTERN: grep -E on a string, showing it on failure.
contains() {
	if ! printf '%s\n' "$1" | grep -Eq -- "$2"; then
		printf 'expected /%s/ in:\n%s\n' "$2" "$1" >&2
		return 1
	fi
}

not_contains() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		printf 'did not expect /%s/ in:\n%s\n' "$2" "$1" >&2
		return 1
	fi
}

test_done() {
	[ "$test_failed" -eq 0 ]
}

# need_lxd: skip the whole file when the run has no LXD test bed.
need_lxd() {
	if [ "${LABCT_NO_LXD:-}" = 1 ] || [ -z "${LABCT_PREFIX:-}" ]; then
		test_skip_all "needs the LXD test bed: run through tests/run"
	fi
}

# ssh_in KEY PORT CMD...: ssh into a test container on 127.0.0.1.
ssh_in() {
	local key=$1 port=$2
	shift 2
	ssh -i "$key" -p "$port" -o StrictHostKeyChecking=no \
	    -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
	    -o ConnectTimeout=10 -o LogLevel=ERROR "ubuntu@${SSH_HOST:-127.0.0.1}" "$@"
}

# secret VALUE: a password or private key the test uses. tests/run then
# checks that no log of the run (labcd's, the audit tables) holds it.
secret() {
	[ -n "${LABCT_LOGDIR:-}" ] && [ -n "$1" ] || return 0
	printf '%s\n' "$1" >>"$LABCT_LOGDIR/secrets.list"
}

# newkey NAME: an ed25519 key pair at $TDIR/NAME(.pub).
newkey() {
	rm -f "$TDIR/$1" "$TDIR/$1.pub"
	ssh-keygen -q -t ed25519 -N '' -C "$1" -f "$TDIR/$1"
	# Line 5 of the file holds the private seed (2-4: header, public key).
	secret "$(sed -n 5p "$TDIR/$1")"
}

# until_ms MS CMD...: run CMD every 20 ms until it succeeds, for up to MS
# ms; the ms it took in $TOOK either way (1 if it never did).
until_ms() {
	local limit=$1 t0
	shift
	t0=$(date +%s%3N)
	while ! "$@" 2>/dev/null; do
		TOOK=$(($(date +%s%3N) - t0))
		[ "$TOOK" -lt "$limit" ] || return 1
		sleep 0.02
	done
	TOOK=$(($(date +%s%3N) - t0))
}

# lxc_racing ARGS...: an lxc change that labcd's reconciler answers at the
# same moment (t0250). LXD 5.0.2's client was seen, once, on CI's loaded
# machine, to wait forever on LXD's socket for a device add that LXD had
# done (labcd had adopted the container with that very device): after 60
# s it is given up and the test checks the outcome itself.
lxc_racing() {
	local rc=0
	timeout 60 lxc "$@" || rc=$?
	if [ $rc -eq 124 ]; then
		echo "lxc $*: no answer within 60 s; checking the outcome" >&2
		return 0
	fi
	return $rc
}

# cluster_lxd HOSTBR: a two-member LXD cluster of this test
# (scripts/testbed.sh cluster) in $TDIR/cluster, its members on HOSTBR at
# 10.N.0.11 and .12 (N: the first of 190-199 no route touches), taken down
# at the end; the first member's LXD_DIR and LXD_SOCKET exported, so lxc
# talks to the cluster. Exits the test when it cannot be made.
cluster_lxd() {
	local t0 n net=
	CL=$TDIR/cluster
	mkdir -p "$CL"
	for n in $(seq 190 199); do
		ip -4 route show | grep -qE "^10\.$n\." || { net=10.$n.0; break; }
	done
	[ -n "$net" ] || { echo "not ok - no free 10.N.0.0/24 for a cluster"; exit 1; }
	at_exit "bash $LABCT_TESTBED cluster-down $CL"
	t0=$(date +%s)
	if ! bash "$LABCT_TESTBED" cluster "$CL" "$1" "$net" 2>"$TDIR/cluster.log"; then
		cat "$TDIR/cluster.log"
		echo "not ok - an LXD cluster of two members"
		exit 1
	fi
	measured "an LXD cluster of two members with its pool, bridge and image: $(($(date +%s) - t0)) s"
	# shellcheck disable=SC1091
	. "$CL/env"
	export LXD_DIR LXD_SOCKET
}

# private_lxd BRIDGE WHAT: a private LXD of this test (scripts/testbed.sh
# private) in $TDIR/lxd-private with its own bridge, pools and image, taken
# down at the end; its LXD_DIR and LXD_SOCKET exported, so lxc talks to it.
# Exits the test when it cannot be made.
private_lxd() {
	local t0
	PL=$TDIR/lxd-private
	mkdir -p "$PL"
	at_exit "bash $LABCT_TESTBED private-down $PL"
	t0=$(date +%s)
	if ! bash "$LABCT_TESTBED" private "$PL" "$1" 2>"$TDIR/private.log"; then
		cat "$TDIR/private.log"
		echo "not ok - a private LXD for $2"
		exit 1
	fi
	measured "private LXD with its bridge, pools and image: $(($(date +%s) - t0)) s"
	# shellcheck disable=SC1091
	. "$PL/env"
	export LXD_DIR LXD_SOCKET
}

# port_of USER NAME: the container's SSH port, from labc list.
port_of() {
	labc --as "$1" list --format csv | awk -F, -v n="$2" '$1 == n { print $4 }'
}
