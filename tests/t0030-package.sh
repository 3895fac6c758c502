#!/usr/bin/env bash
# t0030-package.sh - the Debian package: dpkg-buildpackage builds it from a
# copy of the tree (under $TDIR: the tree itself stays clean), dpkg installs
# it on this machine, where systemd is not PID 1, the installed programs,
# manual pages, completion and unit work from their installed paths, and
# dpkg -r and dpkg -P take it all away again.
#
# The machine is shared (other tests make a gateway account whose home is
# in /var/lib/labcontainers, which a purge removes) and a failed run must
# not leave a half-installed package. So the test runs in a mount namespace
# of its own where /usr, /etc and /var are the machine's own seen through
# an overlay: dpkg, its database, the maintainer scripts, man-db and
# deb-systemd-helper all work on the real files, and every change they make
# is gone when the test ends, whatever happens.
if [ -z "${LABCT_PKG_NS:-}" ]; then
	if [ "$(id -u)" = 0 ] && unshare --mount --propagation private true 2>/dev/null; then
		LABCT_PKG_NS=1 exec unshare --mount --propagation private "$0" "$@"
	fi
	. "$(dirname "$0")/lib.sh"
	test_skip_all "needs root and mount namespaces"
fi
. "$(dirname "$0")/lib.sh"

command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null ||
    test_skip_all "no dpkg-buildpackage or debhelper: run scripts/deps.sh"
OV=$TDIR/overlay
mkdir -p "$OV"
mount -t tmpfs labct-pkg "$OV" || test_skip_all "cannot mount a tmpfs"
at_exit "umount -l $OV"
for d in /usr /etc /var; do
	mkdir -p "$OV/upper$d" "$OV/work$d"
	mount -t overlay labct-pkg -o "lowerdir=$d,upperdir=$OV/upper$d,workdir=$OV/work$d" "$d" ||
	    test_skip_all "no overlayfs over $d"
done
# Inside the overlay this machine may have no labcontainers yet: a test
# leaves nothing outside, but someone's make install might have.
if dpkg-query -W -f='${db:Status-Status}' labcontainers 2>/dev/null |
    grep -qv '^not-installed$'; then
	test_skip_all "a labcontainers package is installed on this machine"
fi
for f in /usr/sbin/labcd /usr/bin/labc; do
	[ ! -e "$f" ] || test_skip_all "$f exists on this machine"
done
# As on a machine that never had labcontainers (in the overlay only): one
# that setup.sh set up has labcd and labc in /usr/local (whose manual
# pages man would find first), a running labcd (its socket and pid in
# /run/labcontainers, hidden under a tmpfs of this namespace), its
# configuration, database and the gateway's accounts.
rm -rf /etc/labcontainers /var/lib/labcontainers /usr/local/sbin/labcd \
    /usr/local/bin/labc /usr/local/share/man/man*/labc*.[158] \
    /usr/local/share/bash-completion/completions/labc \
    /usr/local/lib/systemd/system/labcd.service /usr/local/sbin/labc-web \
    /usr/local/lib/systemd/system/labc-web.service \
    /usr/local/lib/systemd/system/labcd-node.service
if [ -d /run/labcontainers ]; then
	mount -t tmpfs -o mode=755 labct-pkg /run/labcontainers ||
	    test_skip_all "cannot hide /run/labcontainers"
fi
for u in lab labc-keys labc-web; do
	if getent passwd $u >/dev/null; then userdel -f $u; fi
done

# The installed labcd the tests below start, also when one of them fails.
at_exit '[ ! -s "$TDIR/i.pid" ] || kill "$(cat "$TDIR/i.pid")"'

VERSION=$(make -s -C "$LABCT_TOP" version)
DEB=$TDIR/pkg/labcontainers_${VERSION}_$(dpkg --print-architecture).deb

# secs START: seconds since START (date +%s%N), one decimal.
secs() {
	local d=$((($(date +%s%N) - $1) / 100000000))
	echo "$((d / 10)).$((d % 10))"
}

test_expect_success 'make install and uninstall with DESTDIR and PREFIX' '
	dest=$TDIR/dest
	make -s -C "$LABCT_TOP" install DESTDIR="$dest" >/dev/null
	for f in usr/local/bin/labc usr/local/sbin/labcd usr/local/sbin/labc-web \
	    usr/local/share/man/man8/labc-web.8 \
	    usr/local/lib/systemd/system/labc-web.service \
	    usr/local/share/man/man1/labc.1 usr/local/share/man/man8/labcd.8 \
	    usr/local/share/man/man5/labcd.conf.5 \
	    usr/local/share/bash-completion/completions/labc \
	    usr/local/lib/systemd/system/labcd.service etc/labcontainers/labcd.conf; do
		[ -f "$dest/$f" ] || { echo "no $f"; exit 1; }
	done
	[ -x "$dest/usr/local/sbin/labcd" ]
	contains "$(cat "$dest/usr/local/lib/systemd/system/labcd.service")" \
	    "^ExecStart=/usr/local/sbin/labcd -D$"
	# The admin'"'"'s configuration is never overwritten.
	echo "default_image = mine" >"$dest/etc/labcontainers/labcd.conf"
	make -s -C "$LABCT_TOP" install DESTDIR="$dest" PREFIX=/opt/lc >/dev/null
	[ "$(cat "$dest/etc/labcontainers/labcd.conf")" = "default_image = mine" ]
	[ -x "$dest/opt/lc/bin/labc" ]
	make -s -C "$LABCT_TOP" uninstall DESTDIR="$dest" >/dev/null
	make -s -C "$LABCT_TOP" uninstall DESTDIR="$dest" PREFIX=/opt/lc >/dev/null
	left=$(find "$dest" -type f)
	[ "$left" = "$dest/etc/labcontainers/labcd.conf" ] || { echo "left: $left"; exit 1; }
'

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
	    ./usr/sbin/labc-web ./lib/systemd/system/labc-web.service \
	    ./usr/share/man/man8/labc-web.8.gz ./usr/share/doc/labcontainers/status-api.md \
	    ./usr/share/man/man8/labcd.8.gz ./usr/share/man/man5/labcd.conf.5.gz \
	    ./usr/share/bash-completion/completions/labc \
	    ./lib/systemd/system/labcd.service ./etc/labcontainers/labcd.conf \
	    ./lib/systemd/system/labcd-node.service; do
		contains "$list" " $f\$"
	done
	[ "$(dpkg-deb -f "$DEB" Version)" = "$VERSION" ]
	contains "$(dpkg-deb -f "$DEB" Depends)" "libsodium"
	contains "$(dpkg-deb -f "$DEB" Depends)" "libmicrohttpd"
	contains "$(dpkg-deb -I "$DEB" conffiles)" "^/etc/labcontainers/labcd.conf$"
'

test_expect_success 'dpkg -i installs it where systemd is not PID 1' '
	[ -f "$DEB" ]
	[ ! -d /run/systemd/system ] || echo "(systemd runs here)"
	t0=$(date +%s%N)
	dpkg -i "$DEB" >"$TDIR/pkg/install.log" || { cat "$TDIR/pkg/install.log"; exit 1; }
	measured "dpkg -i labcontainers: $(secs $t0) s"
	[ "$(dpkg-query -W -f="\${db:Status-Abbrev}" labcontainers)" = "ii " ]
	dpkg -L labcontainers >"$TDIR/pkg/files"
	[ -d /var/lib/labcontainers ]
	# Enabled for the next boot with systemd; not started here.
	[ -L /etc/systemd/system/multi-user.target.wants/labcd.service ]
	[ -L /etc/systemd/system/multi-user.target.wants/labc-web.service ]
	[ ! -e /run/labcontainers/labcd.sock ]
	# labc-web'"'"'s account, of its own (web_user).
	[ "$(getent passwd labc-web | cut -d: -f7)" = /usr/sbin/nologin ]
'

test_expect_success 'the installed programs, pages, completion and unit work' '
	[ "$(/usr/bin/labc --version)" = "labc $VERSION" ]
	[ "$(/usr/sbin/labcd --version)" = "labcd $VERSION" ]
	[ "$(/usr/sbin/labc-web --version)" = "labc-web $VERSION" ]
	contains "$(cat /lib/systemd/system/labc-web.service)" "^ExecStart=/usr/sbin/labc-web$"
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
	echo $pid >"$TDIR/i.pid"
	for ((i = 0; i < 100; i++)); do [ -S "$TDIR/i.sock" ] && break; sleep 0.1; done
	out=$(/usr/bin/labc -S "$TDIR/i.sock" whoami)
	contains "$out" "^root"
	# The installed completion, asking the installed labc.
	out=$(PATH=/usr/bin:/bin bash -c ". /usr/share/bash-completion/completions/labc
	    COMP_WORDS=(labc -S $TDIR/i.sock adm); COMP_CWORD=3; _labc
	    echo \${COMPREPLY[*]}")
	[ "$out" = admin ]
	# The gateway account gets the installed labc as its shell (in the
	# overlay: useradd writes only there).
	out=$(/usr/bin/labc -S "$TDIR/i.sock" admin gateway setup 2>&1) || { echo "$out"; exit 1; }
	contains "$out" "/usr/bin/labc"
	[ "$(getent passwd lab | cut -d: -f7)" = /usr/bin/labc ]
	[ -d /var/lib/labcontainers/lab ]
	kill $pid; wait $pid || true
'

test_expect_success 'dpkg -r removes the programs and keeps configuration and state' '
	t0=$(date +%s%N)
	dpkg -r labcontainers >"$TDIR/pkg/remove.log" || { cat "$TDIR/pkg/remove.log"; exit 1; }
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
	dpkg -P labcontainers >"$TDIR/pkg/purge.log" || { cat "$TDIR/pkg/purge.log"; exit 1; }
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
	[ ! -e /etc/systemd/system/multi-user.target.wants/labc-web.service ]
'
test_done
