#!/usr/bin/env bash
# t0130-valgrind.sh - labcd and labc (the plain build) under valgrind
# through a representative session: accounts, logins, the audit log,
# protocol abuse, SIGTERM. No invalid access, no definite leak.
. "$(dirname "$0")/lib.sh"

if ! command -v valgrind >/dev/null; then
	test_skip_all 'valgrind is not installed'
fi
PLAIN=$LABCT_TOP/build
VG="valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 --track-fds=no"
LABCD=$PLAIN/labcd
WIRE=$PLAIN/tests/tools/labct-wire
A=65301
write_conf "login_max_failures = 2" "login_lockout = 2"
LABCD="$VG --log-file=$TDIR/vg-labcd.log $PLAIN/labcd"
start_labcd || exit 1
vlabc() { $VG --log-file="$TDIR/vg-labc.%p.log" "$PLAIN/labc" -S "$SOCK" "$@"; }

test_expect_success 'a session of commands under valgrind' '
	printf "alice-pw-1\n" | vlabc admin user add alice --password-stdin
	vlabc admin user add bob </dev/null >/dev/null
	printf "alice-pw-1\n" | labc_as_uid $A login alice
	printf "bad-pw-123\n" | expect_status 1 labc_as_uid $A login alice 2>/dev/null
	labc_as_uid $A whoami
	labc_as_uid $A log --format json >/dev/null
	vlabc admin log --format csv >/dev/null
	vlabc admin user list >/dev/null
	vlabc help admin user add >/dev/null
	expect_status 2 vlabc frobnicate 2>/dev/null
	expect_status 1 labc_as_uid $A admin user list 2>/dev/null
	vlabc admin user del bob
	for c in oversized badjson version nul "manyargs 10000" truncated-body; do
		"$WIRE" "$SOCK" $c >/dev/null
	done
	"$WIRE" "$SOCK" idle 20 >/dev/null
'

kill -TERM "$LABCD_PID"
wait "$LABCD_PID"
vg_rc=$?
LABCD_PID=

test_expect_success 'labcd: no errors and no definite leaks' '
	cat "$TDIR/vg-labcd.log" >&2
	[ "$vg_rc" -eq 0 ]
	grep -q "ERROR SUMMARY: 0 errors" "$TDIR/vg-labcd.log"
	grep -Eq "definitely lost: 0 bytes|no leaks are possible" "$TDIR/vg-labcd.log"
'

test_expect_success 'labc: no errors and no definite leaks' '
	n=0
	for f in "$TDIR"/vg-labc.*.log; do
		grep -q "ERROR SUMMARY: 0 errors" "$f" || { cat "$f" >&2; exit 1; }
		n=$((n + 1))
	done
	[ $n -ge 6 ]
'

test_done
