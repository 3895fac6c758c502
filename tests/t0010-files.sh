#!/usr/bin/env bash
# t0010-files.sh - what the project ships stays true: the example
# configuration documents every key labcd knows, with its default, and
# labcd starts on it; an unknown key stops labcd with file and line.
. "$(dirname "$0")/lib.sh"

test_expect_success 'etc/labcd.conf is what labcd -C prints' '
	diff -u "$LABCT_TOP/etc/labcd.conf" <("$LABCD" -C)
'

# Found when t0800's ports (lane two) held t0650's chromedriver port
# (lane one) on CI: chromedriver answered once, then exited.
test_expect_success 'no two test files share a host port' '
	cd "$LABCT_TOP" &&
	awk -f tests/tools/ports.awk tests/t[0-9]*.sh tests/lib.sh tests/gateway.sh
'

# The LXD project prefixes the test files name: each file its own. Two
# files with one prefix see each other's containers (t0400 found t0820's
# box and bbox in "its" projects in the CI run of December 3: both said n-).
shared_prefixes() {
	grep -o "LABCT_PREFIX}[a-z0-9]*-" "$LABCT_TOP"/tests/t[0-9]*.sh |
	    sort -u | cut -d: -f2 | sort | uniq -d
}
test_expect_success 'no two test files share an LXD project prefix' '
	[ -n "$(grep -o "LABCT_PREFIX}[a-z0-9]*-" "$LABCT_TOP"/tests/t[0-9]*.sh)" ]
	dup=$(shared_prefixes)
	[ -z "$dup" ] || { echo "shared by two test files: $dup"; false; }
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

# Found by tests/fuzz/fuzz-config: with 32 characters, prefix + a 32-character
# user name was cut to 63, so two users could share one LXD project.
test_expect_success 'project_prefix: at most 31 characters, no underscore' '
	for p in abcdefghijklmnopqrstuvwxyz012345 lab_; do
		printf "project_prefix = %s\n" "$p" > "$TDIR/bad.conf"
		out=$(expect_status 1 "$LABCD" -f "$TDIR/bad.conf" -S "$TDIR/x.sock" -d "$TDIR/x.db" -D 2>&1)
		contains "$out" "bad.conf:1: project_prefix must be 1 to 31 lowercase"
	done
	write_conf "project_prefix = abcdefghijklmnopqrstuvwxyz01234"
	start_labcd
	contains "$(labc whoami)" "^root"
	stop_labcd
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
	contains "$(cat "$LABCT_TOP/etc/labcd.service")" "^ExecStart=/usr/sbin/labcd -D$"
'

# systemd need not run: verify only reads the unit (with labcd where the
# build has it, since ExecStart must exist).
if command -v systemd-analyze >/dev/null; then
	test_expect_success 'systemd-analyze verify accepts the unit' '
		mkdir -p "$TDIR/unit"
		sed "s|/usr/sbin/labcd|$LABCD|" "$LABCT_TOP/etc/labcd.service" \
		    >"$TDIR/unit/labcd.service"
		systemd-analyze verify --man=no "$TDIR/unit/labcd.service"
		sed "s|/usr/sbin/labc-web|$LABCT_BUILD/labc-web|" \
		    "$LABCT_TOP/etc/labc-web.service" >"$TDIR/unit/labc-web.service"
		out=$(systemd-analyze verify --man=no "$TDIR/unit/labc-web.service" 2>&1)
		[ -z "$out" ] || { echo "$out"; exit 1; }
		sed "s|/usr/sbin/labcd|$LABCD|" "$LABCT_TOP/etc/labcd-node.service" \
		    >"$TDIR/unit/labcd-node.service"
		out=$(systemd-analyze verify --man=no "$TDIR/unit/labcd-node.service" 2>&1)
		[ -z "$out" ] || { echo "$out"; exit 1; }
	'
else
	test_skip 'systemd-analyze verify accepts the unit' 'no systemd-analyze'
fi

test_expect_success 'labcd.conf(5) documents every key with its default' '
	page=$(sed "s/\\\\-/-/g" "$LABCT_TOP/man/labcd.conf.5")
	n=0
	while IFS= read -r line; do
		case $line in "#"[a-z]*" = "*) ;; *) continue ;; esac
		key=${line%% = *}; key=${key#\#}; def=${line#* = }
		if [ -n "$def" ]; then
			printf "%s\n" "$page" | grep -qxF ".BI \"$key = \" \"$def\"" ||
			    { echo "labcd.conf.5 lacks $key = $def"; exit 1; }
		else
			printf "%s\n" "$page" | grep -qxF ".B $key =" ||
			    { echo "labcd.conf.5 lacks $key (empty default)"; exit 1; }
		fi
		n=$((n + 1))
	done < <("$LABCD" -C)
	[ "$n" -gt 30 ]
'

test_expect_success 'labc(1) documents every command labcd has' '
	cp "$LABCT_TOP/etc/labcd.conf" "$CONF"
	start_labcd
	page=$(sed "s/\\\\-/-/g" "$LABCT_TOP/man/labc.1")
	n=0
	while IFS= read -r name; do
		printf "%s\n" "$page" | grep -qE "^\.B $name( |$)" ||
		    { echo "labc.1 lacks the command $name"; exit 1; }
		n=$((n + 1))
	done < <(labc help --names)
	stop_labcd
	[ "$n" -gt 30 ]
'

test_expect_success 'the manual pages format without a warning' '
	for p in labc.1 labcd.8 labcd.conf.5 labc-web.8; do
		out=$(groff -man -ww -z "$LABCT_TOP/man/$p" 2>&1)
		[ -z "$out" ] || { echo "$p: $out"; exit 1; }
	done
'

test_expect_success 'one version: labc, labcd and debian/changelog agree' '
	v=$("$LABC" --version)
	[ "$v" = "labc $(make -s -C "$LABCT_TOP" version)" ]
	[ "$("$LABCD" --version)" = "labcd ${v#labc }" ]
	[ "$("$LABCT_BUILD/labc-web" --version)" = "labc-web ${v#labc }" ]
	contains "$(head -n 1 "$LABCT_TOP/debian/changelog")" "^labcontainers \(${v#labc }(-[0-9]+)?\) "
'

test_done
