#!/usr/bin/env bash
# t0030-package.sh - the Debian package: dpkg-buildpackage builds it from a
# copy of the tree (under $TDIR: the tree itself stays clean), dpkg installs
# it on this machine, where systemd is not PID 1, the installed programs,
# manual pages, completion and unit work from their installed paths, and
# dpkg -r and dpkg -P take it all away again.
#
# It installs into the real /usr and /etc, so it refuses to run where that
# would disturb anything: a labcontainers already installed (package or
# files), a running labcd at the default socket, or a database in
# /var/lib/labcontainers.
. "$(dirname "$0")/lib.sh"

skip_all() { echo "skip - $(basename "$0" .sh) ($1)"; exit 0; }

command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null ||
    skip_all "no dpkg-buildpackage or debhelper: run scripts/deps.sh"
if dpkg-query -W -f='${db:Status-Status}' labcontainers 2>/dev/null |
    grep -qv '^not-installed$'; then
	skip_all "a labcontainers package is on this machine already"
fi
for f in /usr/sbin/labcd /usr/bin/labc /etc/labcontainers \
    /run/labcontainers/labcd.sock; do
	[ ! -e "$f" ] || skip_all "$f exists: the package would replace it"
done
# An empty /var/lib/labcontainers (made by hand or a test) is put back
# after the purge; one with anything in it is someone's database.
state_was=
if [ -d /var/lib/labcontainers ]; then
	[ -z "$(ls -A /var/lib/labcontainers)" ] ||
	    skip_all "/var/lib/labcontainers holds files: the purge would remove them"
	state_was=$(stat -c %a /var/lib/labcontainers)
fi
restore_state() {
	if [ -n "$state_was" ] && [ ! -d /var/lib/labcontainers ]; then
		mkdir -p /var/lib/labcontainers
		chmod "$state_was" /var/lib/labcontainers
	fi
}
# Whatever happens, the machine is left as it was found.
at_exit 'dpkg -P labcontainers; restore_state'

VERSION=$(make -s -C "$LABCT_TOP" version)
DEB=$TDIR/pkg/labcontainers_${VERSION}_$(dpkg --print-architecture).deb

# dpkg_wait ARGS...: dpkg, waiting up to 2 minutes for the lock that
# another apt or dpkg on this shared machine may hold.
dpkg_wait() {
	local i out rc
	for ((i = 0; i < 60; i++)); do
		rc=0
		out=$(dpkg "$@" 2>&1) || rc=$?
		if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q 'lock'; then
			sleep 2
			continue
		fi
		printf '%s\n' "$out"
		return $rc
	done
	echo "dpkg: the lock stayed taken" >&2
	return 1
}

# secs START: seconds since START (date +%s%N), one decimal.
secs() {
	local d=$((($(date +%s%N) - $1) / 100000000))
	echo "$((d / 10)).$((d % 10))"
}

test_expect_success 'dpkg-buildpackage -us -uc -b builds the .deb in a copy' '
	mkdir -p "$TDIR/pkg/src"
	tar -C "$LABCT_TOP" --exclude=./build --exclude=./.git \
	    --exclude=./debian/labcontainers --exclude=./debian/.debhelper \
	    -cf - . | tar -C "$TDIR/pkg/src" -xf -
	t0=$(date +%s%N)
	(cd "$TDIR/pkg/src" && dpkg-buildpackage -us -uc -b) \
	    >"$TDIR/pkg/build.log" 2>&1 || { tail -n 30 "$TDIR/pkg/build.log"; exit 1; }
	measured "dpkg-buildpackage -us -uc -b: $(secs $t0) s, .deb $(stat -c %s "$DEB") bytes"
	[ -f "$DEB" ]
	list=$(dpkg-deb -c "$DEB")
	for f in ./usr/sbin/labcd ./usr/bin/labc ./usr/share/man/man1/labc.1.gz \
	    ./usr/share/man/man8/labcd.8.gz ./usr/share/man/man5/labcd.conf.5.gz \
	    ./usr/share/bash-completion/completions/labc \
	    ./lib/systemd/system/labcd.service ./etc/labcontainers/labcd.conf; do
		contains "$list" " $f\$"
	done
	[ "$(dpkg-deb -f "$DEB" Version)" = "$VERSION" ]
	contains "$(dpkg-deb -f "$DEB" Depends)" "libsodium"
	contains "$(dpkg-deb -I "$DEB" conffiles)" "^/etc/labcontainers/labcd.conf$"
'

test_expect_success 'dpkg -i installs it where systemd is not PID 1' '
	[ -f "$DEB" ]
	[ ! -d /run/systemd/system ] || echo "(systemd runs here)"
	t0=$(date +%s%N)
	dpkg_wait -i "$DEB" >"$TDIR/pkg/install.log" || { cat "$TDIR/pkg/install.log"; exit 1; }
	measured "dpkg -i labcontainers: $(secs $t0) s"
	[ "$(dpkg-query -W -f="\${db:Status-Abbrev}" labcontainers)" = "ii " ]
	dpkg -L labcontainers >"$TDIR/pkg/files"
	[ -d /var/lib/labcontainers ]
	# Enabled for the next boot with systemd; not started here.
	[ -L /etc/systemd/system/multi-user.target.wants/labcd.service ]
	[ ! -e /run/labcontainers/labcd.sock ]
'

test_expect_success 'the installed programs, pages, completion and unit work' '
	[ "$(/usr/bin/labc --version)" = "labc $VERSION" ]
	[ "$(/usr/sbin/labcd --version)" = "labcd $VERSION" ]
	diff -u "$LABCT_TOP/etc/labcd.conf" <(/usr/sbin/labcd -C)
	cmp "$LABCT_TOP/etc/labcd.conf" /etc/labcontainers/labcd.conf
	[ "$(man -w labc)" = /usr/share/man/man1/labc.1.gz ]
	[ "$(man -w 8 labcd)" = /usr/share/man/man8/labcd.8.gz ]
	[ "$(man -w 5 labcd.conf)" = /usr/share/man/man5/labcd.conf.5.gz ]
	contains "$(MANWIDTH=80 man 5 labcd.conf 2>/dev/null)" "default_image = labc-base"
	contains "$(cat /lib/systemd/system/labcd.service)" "^ExecStart=/usr/sbin/labcd -D$"
	# The installed labcd and labc, on a private socket and database.
	write_conf
	/usr/sbin/labcd -f "$CONF" -S "$TDIR/i.sock" -d "$TDIR/i.db" -D \
	    >"$TDIR/i.log" 2>&1 </dev/null &
	pid=$!
	for ((i = 0; i < 100; i++)); do [ -S "$TDIR/i.sock" ] && break; sleep 0.1; done
	out=$(/usr/bin/labc -S "$TDIR/i.sock" whoami)
	contains "$out" "^root"
	# The installed completion, asking the installed labc.
	out=$(PATH=/usr/bin:/bin bash -c ". /usr/share/bash-completion/completions/labc
	    COMP_WORDS=(labc -S $TDIR/i.sock adm); COMP_CWORD=3; _labc
	    echo \${COMPREPLY[*]}")
	kill $pid; wait $pid || true
	[ "$out" = admin ]
'

test_expect_success 'dpkg -r removes the programs and keeps configuration and state' '
	t0=$(date +%s%N)
	dpkg_wait -r labcontainers >"$TDIR/pkg/remove.log" || { cat "$TDIR/pkg/remove.log"; exit 1; }
	measured "dpkg -r labcontainers: $(secs $t0) s"
	[ "$(dpkg-query -W -f="\${db:Status-Abbrev}" labcontainers)" = "rc " ]
	for f in /usr/sbin/labcd /usr/bin/labc /usr/share/man/man1/labc.1.gz \
	    /lib/systemd/system/labcd.service /usr/share/bash-completion/completions/labc; do
		[ ! -e "$f" ] || { echo "$f is left"; exit 1; }
	done
	[ -f /etc/labcontainers/labcd.conf ]
	[ -d /var/lib/labcontainers ]
'

test_expect_success 'dpkg -P purges: no file of the package is left' '
	t0=$(date +%s%N)
	dpkg_wait -P labcontainers >"$TDIR/pkg/purge.log" || { cat "$TDIR/pkg/purge.log"; exit 1; }
	measured "dpkg -P labcontainers: $(secs $t0) s"
	st=$(dpkg-query -W -f="\${db:Status-Status}" labcontainers 2>/dev/null || true)
	[ -z "$st" ] || [ "$st" = not-installed ]
	[ -z "$(dpkg -L labcontainers 2>/dev/null)" ]
	n=0
	while IFS= read -r f; do
		# Directories such as /usr/share/man are shared; files are not.
		if [ -e "$f" ] && [ ! -d "$f" ]; then echo "$f is left"; exit 1; fi
		n=$((n + 1))
	done <"$TDIR/pkg/files"
	[ "$n" -gt 10 ]
	for d in /etc/labcontainers /var/lib/labcontainers /usr/share/doc/labcontainers; do
		[ ! -e "$d" ] || { echo "$d is left"; exit 1; }
	done
	[ ! -e /etc/systemd/system/multi-user.target.wants/labcd.service ]
'
restore_state

test_done
