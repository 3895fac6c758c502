#!/bin/bash
# check-setup-then-tests.sh - the README's two commands, in order, on this machine, and proof
# that the second leaves what the first set up as it was: ./setup.sh, then a member with a
# running container (through the installed labc), then the tests, then the same LXD, labcd
# and sshd processes, the member's container still running, and its SSH port answering with
# the same host key; ssh lab@127.0.0.1 works before and after.  Prints one line per check
# ("ok: ..." / "FAILED: ...") and the durations; exits 1 if a check failed.
#
#   scripts/check-setup-then-tests.sh [--skip-setup] [--keep] [PATTERN...]
#
# PATTERNs go to tests/run (none: the whole suite, as make check).  --skip-setup: the
# machine is set up already (setup.sh is still run: it must then change nothing).  --keep:
# leave the member and their container (default: removed at the end).  Run as root.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LABC=/usr/local/bin/labc
MEMBER=labcheck$$
BOX=box
W=$(mktemp -d /tmp/labc-check.XXXXXX)
keep=0 skip_setup=0 failed=0
patterns=()
for a; do
	case $a in
	--keep) keep=1 ;;
	--skip-setup) skip_setup=1 ;;
	-h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) patterns+=("$a") ;;
	esac
done
[[ $EUID == 0 ]] || { echo "run it as root" >&2; exit 2; }

ok() { printf 'ok: %s\n' "$*"; }
bad() { printf 'FAILED: %s\n' "$*"; failed=1; }
check() {	# check TEXT CMD...
	local what=$1
	shift
	if "$@" >"$W/check.out" 2>&1; then ok "$what"; else bad "$what"; sed 's/^/    /' "$W/check.out" | tail -n 10; fi
}
lxd_pid() { ss -Hxlp src /var/lib/lxd/unix.socket 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p;T;q'; }
labcd_pid() {
	local p
	p=$(systemctl show -p MainPID --value labcd.service 2>/dev/null) && [[ $p != 0 ]] && { echo "$p"; return; }
	cat /run/labcontainers/labcd.pid 2>/dev/null
}
sshd_pid() {
	local p
	p=$(systemctl show -p MainPID --value ssh.service 2>/dev/null) && [[ $p != 0 ]] && { echo "$p"; return; }
	cat /run/sshd.pid 2>/dev/null
}
gw() { ssh -i "$W/key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
	-o IdentitiesOnly=yes -o LogLevel=ERROR -o ConnectTimeout=10 lab@127.0.0.1 "$@"; }
hostkey() { ssh-keyscan -T 10 -t ed25519 -p "$1" 127.0.0.1 2>/dev/null | awk '{ print $2, $3 }'; }
in_box() { ssh -i "$W/key" -p "$1" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	-o BatchMode=yes -o IdentitiesOnly=yes -o LogLevel=ERROR -o ConnectTimeout=10 ubuntu@127.0.0.1 hostname; }
cleanup() {
	if ((!keep)) && [[ -x $LABC ]]; then
		"$LABC" admin user del "$MEMBER" --purge </dev/null >/dev/null 2>&1 || true
	fi
	rm -rf "$W"
}
trap cleanup EXIT

# 1. setup.sh
t0=$SECONDS
(cd "$ROOT" && ./setup.sh --no-admin </dev/null) >"$W/setup.out" 2>&1
rc=$?
sed 's/^/    setup: /' "$W/setup.out"
if ((rc)); then bad "setup.sh exited $rc"; exit 1; fi
ok "setup.sh in $((SECONDS - t0)) s"
if ((skip_setup)); then
	check "setup.sh on a machine set up already changes nothing" grep -q '^labcontainers was set up already: nothing changed' "$W/setup.out"
fi

# 2. a member, their key at the gateway, their container
ssh-keygen -q -t ed25519 -N '' -C "$MEMBER" -f "$W/key"
"$LABC" admin user add "$MEMBER" --key "$(cat "$W/key.pub")" </dev/null >/dev/null || { bad "labc admin user add"; exit 1; }
check "ssh lab@127.0.0.1 with the member's key: labcd says who it is" test "$(gw whoami 2>&1)" = "$MEMBER"
t0=$SECONDS
"$LABC" --as "$MEMBER" launch "$BOX" </dev/null >"$W/launch.out" 2>&1 || { cat "$W/launch.out"; bad "launch"; exit 1; }
port=$("$LABC" --as "$MEMBER" list --format csv | awk -F, -v n="$BOX" '$1 == n { print $4 }')
for _ in {1..30}; do key0=$(hostkey "$port"); [[ -n $key0 ]] && break; sleep 1; done
ok "member $MEMBER's $BOX running in $((SECONDS - t0)) s, SSH port $port, host key ${key0:0:40}..."
check "ssh into $BOX on port $port" test "$(in_box "$port")" = "$BOX"
lxd0=$(lxd_pid) labcd0=$(labcd_pid) sshd0=$(sshd_pid)
ok "before the tests: LXD pid $lxd0, labcd pid $labcd0, sshd pid $sshd0"

# 3. the tests
t0=$SECONDS
(cd "$ROOT" && tests/run "${patterns[@]}") >"$W/tests.out" 2>&1
trc=$?
grep -E '^(not ok|[0-9]+ passed)' "$W/tests.out" | sed 's/^/    tests: /'
if ((trc == 0)); then ok "tests/run ${patterns[*]} passed in $((SECONDS - t0)) s"; else bad "tests/run ${patterns[*]} (status $trc) in $((SECONDS - t0)) s"; fi
cp "$W/tests.out" /tmp/check-setup-then-tests.log 2>/dev/null

# 4. as it was
check "LXD is the same process ($lxd0)" test "$(lxd_pid)" = "$lxd0"
check "labcd is the same process ($labcd0) and answers" bash -c "[ '$(labcd_pid)' = '$labcd0' ] && $LABC whoami </dev/null"
check "sshd is the same process ($sshd0)" test "$(sshd_pid)" = "$sshd0"
check "$BOX still running" bash -c "$LABC --as $MEMBER list --format csv </dev/null | grep -q '^$BOX,running,'"
check "port $port answers with the same host key" test "$(hostkey "$port")" = "$key0"
check "ssh into $BOX on port $port still works" test "$(in_box "$port")" = "$BOX"
check "ssh lab@127.0.0.1 still works" test "$(gw whoami 2>&1)" = "$MEMBER"
exit "$failed"
