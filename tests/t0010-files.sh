#!/usr/bin/env bash
# t0010-files.sh - what the project ships stays true: the example
# configuration documents every key labcd knows, with its default, and
# labcd starts on it; an unknown key stops labcd with file and line.
. "$(dirname "$0")/lib.sh"

test_expect_success 'etc/labcd.conf is what labcd -C prints' '
	diff -u "$LABCT_TOP/etc/labcd.conf" <("$LABCD" -C)
'

test_expect_success 'labcd starts on the shipped configuration' '
	cp "$LABCT_TOP/etc/labcd.conf" "$CONF"
	start_labcd
	contains "$(labc whoami)" "^root"
	stop_labcd
'

test_expect_success 'an unknown key stops start-up with the file and line' '
	printf "# x\nsession_ttl = 600\nno_such_key = 1\n" > "$TDIR/bad.conf"
	out=$(expect_status 1 "$LABCD" -f "$TDIR/bad.conf" -S "$TDIR/x.sock" -d "$TDIR/x.db" -D 2>&1)
	contains "$out" "$TDIR/bad.conf:3: unknown key .no_such_key."
	printf "session_ttl = soon\n" > "$TDIR/bad.conf"
	out=$(expect_status 1 "$LABCD" -f "$TDIR/bad.conf" -S "$TDIR/x.sock" -d "$TDIR/x.db" -D 2>&1)
	contains "$out" "bad.conf:1: session_ttl must be a number"
	[ ! -e "$TDIR/x.sock" ]
'

test_expect_success 'a symlink or FIFO at the database or socket path is refused' '
	ln -s /etc/passwd "$TDIR/link.db"
	out=$(expect_status 1 "$LABCD" -S "$TDIR/y.sock" -d "$TDIR/link.db" -D 2>&1)
	contains "$out" "not a regular file \(a symbolic link\)"
	mkfifo "$TDIR/fifo.sock"
	out=$(expect_status 1 "$LABCD" -S "$TDIR/fifo.sock" -d "$TDIR/y.db" -D 2>&1)
	contains "$out" "is not a socket \(a FIFO\)"
'

test_expect_success 'the systemd unit starts labcd in the foreground' '
	contains "$(cat "$LABCT_TOP/etc/labcd.service")" "^ExecStart=/usr/bin/labcd -D$"
'

test_done
