#!/usr/bin/env bash
# t0700-setup.sh - setup.sh on a machine where labcontainers was never installed and LXD
# never initialised: it alone leads to a running labcd that answers its new admin, and a
# second run changes nothing and says so. The storage pool it makes by default is btrfs on
# a loop file sized as lxd init sizes one; --pool dir and --pool-device make the others.
#
# The machine's own LXD is the shared test bed, so the setup runs in a throwaway root: a
# private mount namespace (unshare) where a second, fresh LXD starts uninitialised in an
# empty directory of this test (LXD_DIR=/var/lib/lxd-t0700, and /var/lib/lxd is empty), and
# /etc, /usr/local, /var/lib, /var/log, /var/cache and /run are overlays whose writes land
# here: the gateway account, the admin, the config, the installed binaries exist in this
# view only.  The network namespace is the host's: the fresh LXD's bridge has its own name,
# and setup.sh must choose a subnet no route of the host uses (the test bed's
# 10.214.0.0/24 is the first it would try).  At the end everything
# started in the namespace is stopped, the bridge and its nftables chains are gone, and the
# test bed's bridge and firewall chains are as they were.
. "$(dirname "$0")/lib.sh"
need_lxd

# One bridge name per run (15 characters at most), should two runs meet; the namespace
# side gets it from the host side.
export T0700_BR=${T0700_BR:-labcts$$}
BR=$T0700_BR
ADMIN=labctadm
SSHD_PORT=$((62850 + $$ % 50))	# no other test's range
WEB_PORT=$((62800 + $$ % 50))	# the status page of the throwaway root (not 8640: the host's)
IMAGE=$(ls /var/cache/labcontainers-test/"$LABCT_IMAGE"-*.tar.gz 2>/dev/null | head -n 1)

# The processes in the mount namespace whose inode is in FILE (but this shell and its
# parents); kill_ns TERMs them, then KILLs what is left after 10 s.
ns_pids() { bash "$LABCT_TESTBED" ns-pids "$1"; }
kill_ns() { bash "$LABCT_TESTBED" kill-ns "$1"; }

# The nftables chains of bridge $1 in LXD's table, with their rules.
nft_chains_of() {
	local c
	for c in $(nft list table inet lxd 2>/dev/null | awk -v b="$1" '$1 == "chain" && $2 ~ "\\." b "$" { print $2 }'); do
		nft list chain inet lxd "$c"
	done
}

# ---- inside the namespace ---------------------------------------------------------------
if [ "${1:-}" = --in-namespace ]; then
	R=$2
	export LXD_DIR=/var/lib/lxd-t0700
	unset LXD_SOCKET	# tests/run's, the test bed's
	# A loop device a test attaches (--pool-device), let go after LXD has stopped.
	at_exit 'for d in $(cat $TDIR/loopdevs 2>/dev/null); do losetup -d $d; done'
	set -e
	# Overlays: the host's files show through, what this run writes stays in $R.
	for d in /etc /usr/local /var/lib /var/log /var/cache /run; do
		o=$R/ov/${d//\//_}
		mkdir -p "$o/up" "$o/work"
		mount -t overlay overlay -o "lowerdir=$d,upperdir=$o/up,workdir=$o/work" "$d"
	done
	# The fresh LXD's directories: empty, on a plain file system, and its socket at a path
	# of its own, so that nothing on the host that finds the test bed's LXD by its socket
	# path (ss in testbed.sh) can take one for the other.  The test bed's is hidden.
	mkdir -p "$LXD_DIR"
	mount --bind "$R/lxd" "$LXD_DIR"
	mount --bind "$R/empty" /var/lib/lxd
	mount --bind "$R/lxd-log" /var/log/lxd
	# What a machine set up for real (or another test) has is hidden in this view:
	# whiteouts in the overlays, the account removed from the overlay's /etc only.
	for d in /etc /usr/local /var/lib /var/log /var/cache /run; do
		[ "$(findmnt -n -o FSTYPE "$d")" = overlay ]
	done
	rm -rf /usr/local/sbin/labcd /usr/local/bin/labc /usr/local/share/man/man*/labc*.[158] \
	    /usr/local/share/bash-completion/completions/labc /usr/local/share/doc/labcontainers \
	    /usr/local/lib/systemd/system/labcd.service /etc/labcontainers \
	    /usr/local/sbin/labc-web /usr/local/lib/systemd/system/labc-web.service \
	    /run/labcontainers-web.pid \
	    /etc/ssh/sshd_config.d/50-labcontainers.conf /etc/sysctl.d/60-labcontainers.conf \
	    /var/lib/labcontainers /var/log/labcontainers /var/cache/labcontainers \
	    /run/labcontainers /run/labcontainers-sshd.loaded /run/sshd.pid /run/sshd
	for u in lab labc-keys labc-web; do
		if getent passwd $u >/dev/null; then userdel -f $u; fi
	done
	# The sshd of this root (setup.sh starts it: no systemd here) listens on a loopback
	# port of its own, not on the host's port 22; the host's sshd, whose pid is in the
	# host's /run/sshd.pid, is not in this view.
	printf '# t0700: the sshd of the throwaway root\nPort %s\nListenAddress 127.0.0.1\n' \
	    "$SSHD_PORT" >/etc/ssh/sshd_config.d/00-t0700.conf
	set +e
	readlink /proc/self/ns/mnt >"$R/mntns"
	# The fresh LXD must reach nothing but this machine (instance types, images).
	export http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9
	export HOME=$TDIR/home
	mkdir -p "$HOME"
	unset SUDO_USER
	LABC=/usr/local/bin/labc
	SOCK=/run/labcontainers/labcd.sock
	DBFILE=/var/lib/labcontainers/labc.db

	# Stop what setup.sh started, LXD's bridge first so LXD takes its own nft chains and
	# dnsmasq away; then whatever is left in the namespace.
	at_exit "kill_ns $R/mntns"
	at_exit "timeout 60 lxd shutdown --timeout 50"
	at_exit "lxc network delete $BR"
	at_exit "lxc profile device remove default eth0 --project default"
	at_exit 'kill -TERM $(cat /run/labcontainers/labcd.pid)'
	at_exit 'kill -TERM $(cat /run/labcontainers-web.pid)'

	test_expect_success 'the throwaway root is fresh: nothing installed, LXD never initialised' '
		[ ! -e /usr/local/sbin/labcd ] && [ ! -e /usr/local/bin/labc ]
		[ ! -e /usr/local/share/man/man8/labcd.8 ]
		[ ! -e /etc/labcontainers/labcd.conf ]
		[ -z "$(ls -A $LXD_DIR)" ] && [ -z "$(ls -A /var/lib/lxd)" ]
		! getent passwd lab
		! curl -sf --max-time 2 --unix-socket $LXD_DIR/unix.socket http://lxd/1.0
		! ip link show $BR 2>/dev/null
		[ ! -e /run/sshd.pid ] && [ ! -e /run/sshd ]
		! ss -Htln "sport = :$SSHD_PORT" | grep -q .
	'
	ip -4 route show table all >"$TDIR/routes-before"
	ip -4 -o addr show >>"$TDIR/routes-before"

	setup() {
		(cd "$LABCT_TOP" && ./setup.sh --no-deps --no-systemd --bridge "$BR" \
		    --image-from "$IMAGE" --admin "$ADMIN" --web-listen 127.0.0.1:$WEB_PORT \
		    "$@" </dev/null 2>&1)
	}
	t0=$(date +%s.%N)
	out1=$(setup)
	rc1=$?
	t1=$(date +%s.%N)
	printf '%s\n' "$out1" | sed 's/\(nowhere stored): \).*/\1(hidden)/; s/^/#   first run: /'
	measured "setup.sh first run (LXD init, image import from cache): $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"

	test_expect_success 'the first run succeeds and every step says ok or done' '
		[ $rc1 -eq 0 ]
		! printf "%s\n" "$out1" | sed "\$d" | grep -Ev "^(ok|done): "
		contains "$out1" "^labcontainers is set up: "
	'

	test_expect_success 'it initialised LXD: pool, bridge, default profile, image' '
		contains "$out1" "^done: started LXD$"
		contains "$out1" "^done: created LXD storage pool default \(btrfs on a "
		contains "$out1" "^done: created LXD bridge $BR 10\.[0-9]+\.0\.0/24"
		contains "$out1" "^done: default LXD profile: added root disk on default, eth0 on $BR$"
		contains "$out1" "^done: imported .* as image labc-base"
		[ "$(lxc network get $BR dns.mode)" = none ]
		[ "$(lxc network get $BR ipv4.nat)" = true ]
		[ "$(lxc network get $BR ipv6.address)" = none ]
		lxc profile show default | grep -q "pool: default"
	'

	test_expect_success 'the pool is btrfs on a loop file sized as lxd init does: 20% of the free space, 5 to 30 GiB' '
		line=$(printf "%s\n" "$out1" | grep "^done: created LXD storage pool default ")
		contains "$line" "\(btrfs on a [0-9]+GiB loop file, $LXD_DIR/disks/default.img: 20% of the [0-9]+ GiB free under $LXD_DIR, 5 to 30 GiB, as lxd init; grow it with lxc storage set default size=SIZE, or use a disk: --pool-device\)$"
		size=$(printf "%s\n" "$line" | sed -n "s/.*btrfs on a \([0-9]*\)GiB loop file.*/\1/p")
		free=$(printf "%s\n" "$line" | sed -n "s/.* of the \([0-9]*\) GiB free .*/\1/p")
		want=$((free / 5))
		[ $want -ge 5 ] || want=5
		[ $want -le 30 ] || want=30
		[ "$size" = $want ]
		# The free space it saw is what df sees (others write meanwhile: within 2 GiB).
		now=$(($(df --block-size=1 --output=avail $LXD_DIR | tail -n 1) / 1073741824))
		[ $((now - free)) -le 2 ] && [ $((free - now)) -le 2 ]
		[ "$(lxc query /1.0/storage-pools/default | jq -r ".driver, .config.size, .config.source" | paste -sd " ")" = \
		    "btrfs ${size}GiB $LXD_DIR/disks/default.img" ]
		[ "$(stat -c %s $LXD_DIR/disks/default.img)" = $((size * 1073741824)) ]
		echo "$size GiB from $free GiB free" >$TDIR/poolsize
	'
	measured "setup.sh default pool: btrfs on a loop file of $(cat $TDIR/poolsize 2>/dev/null)"

	test_expect_success 'the bridge subnet is one no route or address of the host used' '
		sub=$(lxc network get $BR ipv4.address)
		[ "$sub" != "$LABCT_GATEWAY/24" ]
		net=${sub%.1/24}
		! grep -F " $net." "$TDIR/routes-before"
		! grep -E "(^| )$net\.0/" "$TDIR/routes-before"
	'

	test_expect_success 'it installed, configured and started labcd, made the gateway and admin' '
		contains "$out1" "^done: installed /usr/local/bin/labc, /usr/local/lib/systemd/system/labc-web.service and [0-9]+ more files \(make install, PREFIX=/usr/local\)$"
		cmp /usr/local/sbin/labcd "$LABCT_TOP/build/labcd"
		cmp /usr/local/bin/labc "$LABCT_TOP/build/labc"
		[ -f /usr/local/share/man/man8/labcd.8 ]
		[ -f /usr/local/share/bash-completion/completions/labc ]
		grep -q "^ExecStart=/usr/local/sbin/labcd " /usr/local/lib/systemd/system/labcd.service
		contains "$out1" "^done: wrote /etc/labcontainers/labcd.conf \(every key commented out, with its default, but web_listen = 127.0.0.1:$WEB_PORT\)$"
		contains "$out1" "^done: started labcd in the background \(pid [0-9]+"
		contains "$out1" "^done: SSH gateway: made the account lab \(shell /usr/local/bin/labc, SSH keys only\); made the key-lookup account labc-keys; wrote /etc/ssh/sshd_config.d/50-labcontainers.conf \(sshd -t accepts it\)$"
		[ "$(getent shadow lab | cut -d: -f2)" = "*" ]
		contains "$out1" "^done: made /run/sshd; started sshd in the background \(pid $(cat /run/sshd.pid), /run/sshd.pid; no systemd\)$"
		[ "$(stat -c %a:%U /run/sshd)" = 755:root ]
		[ "$(readlink /proc/$(cat /run/sshd.pid)/exe)" = /usr/sbin/sshd ]
		ss -Htlnp "sport = :$SSHD_PORT" | grep -q "pid=$(cat /run/sshd.pid),"
		contains "$out1" "^done: made lab user $ADMIN the first admin; password"
		diff /etc/labcontainers/labcd.conf <(/usr/local/sbin/labcd -C) |
		    grep "^[<>]" | sort >$TDIR/confdiff || true
		[ "$(cat $TDIR/confdiff)" = "< web_listen = 127.0.0.1:$WEB_PORT
> #web_listen = 127.0.0.1:8640" ]
		contains "$out1" "^done: made system account labc-web for labc-web"
		contains "$out1" "^done: started labc-web as labc-web: the status page is http://127.0.0.1:$WEB_PORT/ \(pid [0-9]+, log /var/log/labcontainers/labc-web.log\)$"
		wpid=$(cat /run/labcontainers-web.pid)
		[ "$(readlink /proc/$wpid/exe)" = /usr/local/sbin/labc-web ]
		grep -q "^Uid:[[:space:]]*$(id -u labc-web)[[:space:]]" /proc/$wpid/status
		[ "$(curl -sf --noproxy "*" http://127.0.0.1:$WEB_PORT/api/status | jq -r .listen)" = 127.0.0.1:$WEB_PORT ]
		kill -0 $(cat /run/labcontainers/labcd.pid)
		[ "$(getent passwd lab | cut -d: -f7)" = /usr/local/bin/labc ]
		[ -f /etc/ssh/sshd_config.d/50-labcontainers.conf ]
	'

	snapshot() {
		find /usr/local -newer "$TDIR/routes-before" -type f -print0 | sort -z |
		    xargs -0 sha256sum
		sha256sum /etc/labcontainers/labcd.conf \
		    /etc/ssh/sshd_config.d/50-labcontainers.conf /etc/passwd /etc/shadow /etc/group
		ls -la --time-style=+%s.%N /etc/labcontainers /etc/sysctl.d
		# Every table but the audit log, which records that the admin asked.
		sqlite3 -readonly "$DBFILE" .dump | grep -v "^INSERT INTO audit "
		cat /run/labcontainers/labcd.pid /run/sshd.pid /run/labcontainers-web.pid
		lxc query /1.0 | jq -S .config
		lxc network show $BR
		lxc storage list --format csv
		lxc profile list --format csv
		lxc profile show default
		lxc image list --format csv -c lfs
		ip -4 route show table all
		nft_chains_of $BR
	}
	snapshot >"$TDIR/snap1" 2>&1

	t0=$(date +%s.%N)
	out2=$(setup)
	rc2=$?
	t1=$(date +%s.%N)
	measured "setup.sh second run (nothing to do): $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
	snapshot >"$TDIR/snap2" 2>&1

	test_expect_success 'the second run changes nothing and says so, step by step' '
		[ $rc2 -eq 0 ]
		! printf "%s\n" "$out2" | grep "^done: "
		[ "$(printf "%s\n" "$out2" | grep -c "^ok: ")" -ge 14 ]
		contains "$out2" "^labcontainers was set up already: nothing changed; "
		contains "$out2" "^ok: LXD already running$"
		contains "$out2" "^ok: LXD storage already right \(default profile.s root disk on pool default, btrfs\)$"
		contains "$out2" "^ok: labcd already running \(pid $(cat /run/labcontainers/labcd.pid)"
		contains "$out2" "^ok: labc-web already serving http://127.0.0.1:$WEB_PORT/ \(pid $(cat /run/labcontainers-web.pid)\)$"
		contains "$out2" "^ok: SSH gateway account and sshd drop-in already right$"
		contains "$out2" "^ok: sshd already running with the gateway.s drop-in \(pid $(cat /run/sshd.pid)\)$"
		contains "$out2" "^ok: lab user $ADMIN already an admin$"
	'

	test_expect_success 'files, database and LXD configuration are byte for byte the same' '
		diff "$TDIR/snap1" "$TDIR/snap2"
		grep -q "labc-base" "$TDIR/snap2"
	'

	test_expect_success 'the new admin logs in with the printed password; labcd knows labc-base' '
		pw=$(printf "%s\n" "$out1" | sed -n "s/.*password (shown once, nowhere stored): //p")
		[ -n "$pw" ]
		out=$(printf "%s\n" "$pw" | labc_as_uid 65470 login $ADMIN)
		contains "$out" "Logged in as $ADMIN"
		[ "$(labc_as_uid 65470 whoami)" = "$ADMIN (admin)" ]
		labc_as_uid 65470 admin user list | grep -q "^$ADMIN "
		contains "$(labc_as_uid 65470 images)" "labc-base"
	'

	if labc help admin doctor >/dev/null 2>&1; then
		# The network is the host's: where the machine runs labcontainers for real
		# (setup.sh, then make check), its members' ports of the default ssh_ports are
		# held, and doctor must say so, and only that.
		held=$(ss -Htln "sport >= :61000 and sport <= :61999" | awk '{ sub(/.*:/, "", $4); print $4 }' |
		    sort -un | paste -sd ' ')
		doctor=$(labc admin doctor 2>&1)
		doctor_rc=$?
		printf '%s\n' "$doctor" | sed 's/^/#   doctor: /'
		test_expect_success 'labc admin doctor reports no problem (but the host'"'"'s own members'"'"' ports)' '
			if [ -z "$held" ]; then
				[ $doctor_rc -eq 0 ]
			else
				echo "held on the host: $held"
				[ $doctor_rc -eq 1 ]
				[ "$(printf "%s\n" "$doctor" | grep -cE "^[a-z][a-z ]*[a-z] +problem ")" = 1 ]
				contains "$doctor" "^ssh ports +problem +[0-9]+ ports? of 61000-61999 .* held by something that is not a labcd container: ${held// /, }"
			fi
		'
	else
		test_skip 'labc admin doctor reports no problem' 'no admin doctor in this labcd yet'
	fi

	test_expect_success 'what is wrong is put right, and only that: a bridge with DNS, an old labcd' '
		lxc network set $BR dns.mode managed
		cp /usr/local/sbin/labcd /usr/local/sbin/labcd.old
		printf x >>/usr/local/sbin/labcd.old
		mv /usr/local/sbin/labcd.old /usr/local/sbin/labcd
		old=$(cat /run/labcontainers/labcd.pid)
		out=$(setup)
		[ "$(printf "%s\n" "$out" | grep "^done: ")" = "$(printf "%s\n" \
		    "done: installed /usr/local/sbin/labcd" \
		    "done: set dns.mode=none on LXD bridge $BR (members'"'"' containers may share names)" \
		    "done: restarted labcd (pid $(cat /run/labcontainers/labcd.pid), new binary or config)")" ]
		[ "$(cat /run/labcontainers/labcd.pid)" != "$old" ]
		! kill -0 $old 2>/dev/null
		[ "$(lxc network get $BR dns.mode)" = none ]
		cmp /usr/local/sbin/labcd "$LABCT_TOP/build/labcd"
		[ "$(labc_as_uid 65470 whoami)" = "$ADMIN (admin)" ]
	'

	# NVIDIA hardware is what these machines lack: its driver's tools are stood in for,
	# in the throwaway /usr/local/bin.
	gw_whoami() {
		ssh -i $TDIR/member -p $SSHD_PORT -o StrictHostKeyChecking=no \
		    -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o IdentitiesOnly=yes \
		    -o LogLevel=ERROR -o ConnectTimeout=10 lab@127.0.0.1 whoami 2>&1
	}

	test_expect_success 'a member reaches labcd through the sshd setup started, with its drop-in' '
		newkey member
		pw=$(printf "%s\n" "$out1" | sed -n "s/.*password (shown once, nowhere stored): //p")
		# The first time the key is unknown: login registers it.
		first=$(printf "login %s\n%s\ny\n" $ADMIN "$pw" | ssh -T -i $TDIR/member -p $SSHD_PORT \
		    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
		    -o IdentitiesOnly=yes -o LogLevel=ERROR -o ConnectTimeout=10 lab@127.0.0.1 2>&1)
		contains "$first" "Key SHA256:.* registered"
		out=$(gw_whoami)
		[ "$out" = "$ADMIN (admin)" ] || { echo "$out"; false; }
	'

	# As on a machine whose sshd ran before setup.sh: started without the drop-in.
	test_expect_success 'sshd running without the drop-in: a run writes it and reloads sshd (SIGHUP), only that' '
		old=$(cat /run/sshd.pid)
		kill $old
		for i in $(seq 50); do kill -0 $old 2>/dev/null || break; sleep 0.1; done
		rm /etc/ssh/sshd_config.d/50-labcontainers.conf /run/labcontainers-sshd.loaded
		/usr/sbin/sshd
		# Its parent returns before the daemon writes its pid (seen on a busy machine).
		for i in $(seq 50); do [ -s /run/sshd.pid ] && break; sleep 0.1; done
		pid=$(cat /run/sshd.pid)
		! gw_whoami >/dev/null
		out=$(setup)
		want=$(printf "%s\n" \
		    "done: SSH gateway: wrote /etc/ssh/sshd_config.d/50-labcontainers.conf (sshd -t accepts it)" \
		    "done: reloaded sshd (SIGHUP to pid $pid, from /run/sshd.pid) for the gateway'"'"'s drop-in")
		[ "$(printf "%s\n" "$out" | grep "^done: ")" = "$want" ] || { echo "$out"; false; }
		[ "$(cat /run/sshd.pid)" = $pid ]
		[ "$(gw_whoami)" = "$ADMIN (admin)" ]
		out=$(setup)
		contains "$out" "^ok: sshd already running with the gateway.s drop-in \(pid $pid\)$"
		! printf "%s\n" "$out" | grep "^done: "
	'

	test_expect_success 'a drop-in edited by hand is written back; sshd, which never read the edit, is left alone' '
		pid=$(cat /run/sshd.pid)
		echo "# edited" >>/etc/ssh/sshd_config.d/50-labcontainers.conf
		out=$(setup)
		[ "$(printf "%s\n" "$out" | grep "^done: ")" = \
		    "done: SSH gateway: updated /etc/ssh/sshd_config.d/50-labcontainers.conf (sshd -t accepts it)" ] ||
		    { echo "$out"; false; }
		contains "$out" "^ok: sshd already running with the gateway.s drop-in \(pid $pid\)$"
	'

	test_expect_success 'sshd stopped: a run starts it again, and only that' '
		old=$(cat /run/sshd.pid)
		kill $old
		for i in $(seq 50); do kill -0 $old 2>/dev/null || break; sleep 0.1; done
		! gw_whoami >/dev/null
		out=$(setup)
		[ "$(cat /run/sshd.pid)" != $old ]
		[ "$(printf "%s\n" "$out" | grep "^done: ")" = \
		    "done: started sshd in the background (pid $(cat /run/sshd.pid), /run/sshd.pid; no systemd)" ] ||
		    { echo "$out"; false; }
		[ "$(gw_whoami)" = "$ADMIN (admin)" ]
	'

	test_expect_success 'with an NVIDIA driver and the toolkit: no profile; labcd restarted once, nvidia_runtime = auto turns on' '
		printf "#!/bin/sh\necho stand-in\n" >/usr/local/bin/nvidia-smi
		cp /usr/local/bin/nvidia-smi /usr/local/bin/nvidia-container-cli
		chmod 755 /usr/local/bin/nvidia-smi /usr/local/bin/nvidia-container-cli
		out=$(setup)
		contains "$out" "^ok: NVIDIA driver and /usr/local/bin/nvidia-container-cli found: containers given GPUs get the host.s driver \(nvidia_runtime = auto\)$"
		[ "$(printf "%s\n" "$out" | grep "^done: ")" = \
		    "done: restarted labcd (pid $(cat /run/labcontainers/labcd.pid), /usr/local/bin/nvidia-container-cli is newer: nvidia_runtime = auto turns on)" ] ||
		    { echo "$out"; false; }
		grep -q "nvidia_runtime = auto: on, /usr/local/bin/nvidia-container-cli found" /var/log/labcontainers/labcd.log
		! lxc query "/1.0/profiles/labc-gpu" >/dev/null 2>&1
		out=$(setup)
		! printf "%s\n" "$out" | grep "^done: "
		rm -f /usr/local/bin/nvidia-container-cli
		out=$(setup)
		rm -f /usr/local/bin/nvidia-smi
		contains "$out" "^ok: NVIDIA driver found, no nvidia-container-cli: containers given GPUs get the devices, not the host.s driver; install NVIDIA.s container toolkit, then run setup.sh again$"
	'

	# Another pool: only here (a real server keeps its pool). No container was made on
	# this one, so nothing is on it but the root disks of profiles: the default
	# project's, and the admin's project's (labcd made it, as a copy).
	drop_pool() {
		local u name proj
		for u in $(lxc query /1.0/storage-pools/default | jq -r ".used_by[]"); do
			case $u in /1.0/profiles/*) ;; *) echo "pool used by $u"; return 1 ;; esac
			name=${u#/1.0/profiles/} proj=default
			case $name in *"?project="*) proj=${name#*\?project=} name=${name%%\?*} ;; esac
			lxc profile device remove "$name" root --project "$proj" >/dev/null
		done
		lxc storage delete default >/dev/null
	}

	test_expect_success '--pool dir makes a dir pool and says it enforces no disk size; a second run keeps it' '
		drop_pool
		out=$(setup --pool dir)
		[ "$(printf "%s\n" "$out" | grep "^done: ")" = "$(printf "%s\n" \
		    "done: created LXD storage pool default (dir, under $LXD_DIR/storage-pools; it enforces no disk size: --disk, default_disk and disk quotas are refused)" \
		    "done: default LXD profile: added root disk on default")" ] || { echo "$out"; false; }
		[ "$(lxc query /1.0/storage-pools/default | jq -r .driver)" = dir ]
		out=$(setup)
		contains "$out" "^ok: LXD storage already right \(default profile.s root disk on pool default, dir: it enforces no disk size\)$"
		! printf "%s\n" "$out" | grep "^done: "
	'

	test_expect_success '--pool-device: a disk holding a file system is refused (nothing changed) unless --yes; then btrfs on it' '
		drop_pool
		truncate -s 3G $TDIR/disk.img
		mkfs.ext4 -q $TDIR/disk.img
		dev=$(losetup -f --show $TDIR/disk.img)
		echo $dev >>$TDIR/loopdevs
		out=$(expect_status 1 setup --pool-device $dev)
		contains "$out" "^setup: error: --pool-device: $dev holds a file system \(ext4\); the pool would erase it. If nothing on it is needed: sudo ./setup.sh --pool-device $dev --yes$"
		[ "$(lxc query /1.0/storage-pools | jq length)" = 0 ]
		[ "$(blkid -p -s TYPE -o value $dev)" = ext4 ]
		out=$(expect_status 1 setup --pool dir --pool-device $dev)
		contains "$out" "--pool-device makes a btrfs pool: not with --pool dir"
		out=$(setup --pool-device $dev --yes)
		[ "$(printf "%s\n" "$out" | grep "^done: ")" = "$(printf "%s\n" \
		    "done: created LXD storage pool default (btrfs on $dev, 3G; erased a file system (ext4) (--yes))" \
		    "done: default LXD profile: added root disk on default")" ] || { echo "$out"; false; }
		[ "$(lxc query /1.0/storage-pools/default | jq -r .driver)" = btrfs ]
		[ "$(blkid -p -s TYPE -o value $dev)" = btrfs ]
		# LXD keeps the device, or the UUID of the file system it made there.
		src=$(lxc query /1.0/storage-pools/default | jq -r .config.source)
		[ "$src" = $dev ] || [ "$src" = "$(blkid -p -s UUID -o value $dev)" ]
		contains "$(setup)" "^ok: LXD storage already right \(default profile.s root disk on pool default, btrfs\)$"
	'

	# The host's driver delivered by a real LXD, this one: its PATH has the throwaway
	# /usr/local/bin, where NVIDIA's nvidia-container-cli is stood in for (the test
	# bed's LXD has no such directory, so it refuses every change to a container with
	# nvidia.runtime: t0400). GPUs come from the NVML stand-in; no container is
	# started with one (there is none), they are made and changed.
	drvconf() {
		lxc query "/1.0/instances/$1?project=lab-$ADMIN" |
		    jq -r '"\(.expanded_config["nvidia.runtime"]) \([.expanded_devices[] | select(.type == "gpu") | .pci] | join(","))"'
	}
	test_expect_success 'GPU driver: nvidia.runtime in LXD'"'"'s view when made, attached, and at the next start of an older one' '
		pid=$(lxc query /1.0 | jq -r .environment.server_pid)
		tr "\0" "\n" </proc/$pid/environ | grep -q "^PATH=.*:/usr/local/bin:"
		export NVML_STUB_FILE=$TDIR/gpus.txt
		printf "%s\n" "gpu NVIDIA-A100 00000000:3B:00.0 GPU-0000aaaa 40960 0 0" \
		    "gpu NVIDIA-A100 00000000:5E:00.0 GPU-1111bbbb 40960 0 0" >$NVML_STUB_FILE
		printf "%s\n" "nvml_library = $LABCT_BUILD/tests/nvml-stub/libnvidia-ml.so.1" \
		    "ssh_listen = 127.0.0.1" "ssh_ports = 63900-63999" "storage_pool = default" \
		    >>/etc/labcontainers/labcd.conf
		old=$(cat /run/labcontainers/labcd.pid)
		kill $old
		for i in $(seq 100); do kill -0 $old 2>/dev/null || break; sleep 0.1; done
		contains "$(setup)" "^done: started labcd in the background"
		grep "nvidia_runtime = auto" /var/log/labcontainers/labcd.log | tail -n 1 |
		    grep -q "auto: off, no nvidia-container-cli"
		labc --as $ADMIN create old --gpu 0 >/dev/null
		[ "$(drvconf old)" = "null 0000:3b:00.0" ]

		printf "#!/bin/sh\necho stand-in\n" >/usr/local/bin/nvidia-smi
		printf "#!/bin/sh\necho stand-in >&2; exit 1\n" >/usr/local/bin/nvidia-container-cli
		chmod 755 /usr/local/bin/nvidia-smi /usr/local/bin/nvidia-container-cli
		contains "$(setup)" "^done: restarted labcd \(pid [0-9]+, /usr/local/bin/nvidia-container-cli is newer: nvidia_runtime = auto turns on\)$"
		labc --as $ADMIN create new --gpu 1 >/dev/null
		[ "$(drvconf new)" = "true 0000:5e:00.0" ]
		labc --as $ADMIN create plain >/dev/null
		out=$(labc --as $ADMIN gpu attach plain 0,1)
		contains "$out" "^plain has GPU 0,1 \(GPU 0 and 1 inside: a container numbers its GPUs from 0"
		contains "$out" "^It has them from its next start \(.start plain.\)\.$"
		[ "$(drvconf plain)" = "true 0000:3b:00.0,0000:5e:00.0" ]
		row=$(labc admin doctor 2>&1 | grep "^gpu driver ")
		contains "$row" "^gpu driver +warn +1 container given GPUs \(of 3\) gets no driver from the host \(given GPUs before nvidia_runtime was on\): .*: $ADMIN/old +restart them"
		# Its start fails (LXD finds no such card), but labcd gave it the driver first.
		expect_status 1 labc --as $ADMIN start old >/dev/null 2>&1
		[ "$(drvconf old)" = "true 0000:3b:00.0" ]
		grep -q "lab-$ADMIN/old: nvidia.runtime set before its start" /var/log/labcontainers/labcd.log
		contains "$(labc admin doctor 2>&1 | grep "^gpu driver ")" "^gpu driver +ok +3 containers with GPUs, all given the host.s driver \(nvidia.runtime\) *$"
		labc --as $ADMIN delete old new plain >/dev/null
		rm /usr/local/bin/nvidia-smi /usr/local/bin/nvidia-container-cli
	'

	# The last: it takes the base image away. http_proxy points at a closed port, so no
	# image server answers; nor does the mirror given.
	test_expect_success 'without image server and mirror it tries debootstrap and says why it failed' '
		lxc image alias delete labc-base
		t0=$(date +%s)
		out=$(cd "$LABCT_TOP" && expect_status 1 ./setup.sh --no-deps --no-systemd \
		    --mirror http://127.0.0.1:9/debian </dev/null 2>&1)
		[ $(($(date +%s) - t0)) -lt 30 ]
		contains "$out" "building image .* with debootstrap"
		contains "$out" "setup: error: debootstrap failed"
		[ -z "$(ls /var/cache/labcontainers)" ]
	'

	test_expect_success 'without --help nothing is asked; --help and a wrong option say so' '
		out=$(cd "$LABCT_TOP" && ./setup.sh --help)
		contains "$out" "^usage: sudo ./setup.sh"
		out=$(cd "$LABCT_TOP" && expect_status 2 ./setup.sh --frobnicate 2>&1)
		contains "$out" "unknown option .--frobnicate."
	'
	test_done
	exit
fi

# ---- on the host ---------------------------------------------------------------------------
if [ -z "$IMAGE" ]; then
	test_skip_all "no cached test image under /var/cache/labcontainers-test"
fi
R=$TDIR/root
mkdir -p "$R"/lxd "$R"/lxd-log "$R"/empty
at_exit "kill_ns $R/mntns"
at_exit "ip link del $BR"
at_exit 'for c in $(nft list table inet lxd | awk -v b='$BR' '"'"'$1 == "chain" && $2 ~ "\\." b "$" { print $2 }'"'"'); do nft flush chain inet lxd $c; nft delete chain inet lxd $c; done'
# overlayfs leaves its work directories root-only: rm -rf in lib.sh copes.

# Its configuration and state, not used_by: other runs' containers come and go.
tb_show() { lxc query "/1.0/networks/$LABCT_BRIDGE" | jq -S 'del(.used_by)'; }
# Other runs' fault tests restart the test bed's LXD now and then: wait for it.
tb_wait() {
	local i
	for ((i = 0; i < 60; i++)); do
		lxc query /1.0 >/dev/null 2>&1 && return 0
		sleep 1
	done
}
# The test bed's dnsmasq serves its bridge (a restarted LXD starts a new one).
tb_dnsmasq_serves() {
	local pid
	pid=$(sed -n 's/^pid: //p' /var/lib/lxd/networks/"$LABCT_BRIDGE"/dnsmasq.pid) &&
	    [ -n "$pid" ] &&
	    tr '\0' ' ' </proc/"$pid"/cmdline | grep -q -- "--interface=$LABCT_BRIDGE "
}
tb_wait
tb_net=$(tb_show)
tb_nft=$(nft_chains_of "$LABCT_BRIDGE")

start=$(date +%s)
unshare --mount --propagation private -- bash "$0" --in-namespace "$R"
ns_rc=$?
measured "t0700 in the namespace, both runs and checks: $(($(date +%s) - start)) s"

test_expect_success 'the throwaway run ended and left no process behind' '
	[ $ns_rc -eq 0 ]
	left=$(ns_pids $R/mntns)
	[ -z "$left" ] || { ps -o pid,ppid,args -p "$left"; false; }
'

test_expect_success 'its bridge and firewall chains are gone from the host' '
	! ip link show $BR 2>/dev/null
	[ -z "$(nft_chains_of $BR)" ]
'

test_expect_success 'the test bed is as it was: bridge, firewall chains, dnsmasq' '
	tb_wait
	[ -n "$tb_net" ] && [ -n "$tb_nft" ]
	diff <(echo "$tb_net") <(tb_show)
	diff <(echo "$tb_nft") <(nft_chains_of $LABCT_BRIDGE)
	tb_dnsmasq_serves
	ip -4 addr show $LABCT_BRIDGE | grep -q "inet $LABCT_GATEWAY/"
'
test_done
