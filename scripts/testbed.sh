#!/bin/bash
# Prepares the real LXD that the tests use, on a fresh machine or again on a prepared one:
# installs packages, starts the daemon detached, creates the test bridge, storage pools and
# profiles, builds (once, cached) and imports the Debian test image, and writes the facts to
# /run/labct-testbed.env.  Only creates what is missing and never changes what it did not
# create, except that the default profile gets a root disk and an eth0 nic if it has none.
# Progress goes to stderr; stdout stays empty.
#
#   testbed.sh [up]           everything above (the default)
#   testbed.sh start-lxd      start the daemon if it does not answer, wait until ready
#   testbed.sh stop-lxd       stop the daemon (SIGTERM: running containers stay up)
#   testbed.sh cleanup PFX-   force-delete every project named PFX-* and all that is in it
#
# A test that stops or kills LXD does it to a private LXD of its own, never to this one
# (members' containers run on the machine's LXD where setup.sh set it up):
#
#   testbed.sh private DIR [BRIDGE]  start one: a mount namespace of its own (held by a
#                             sleep, DIR/holder.pid; its inode in DIR/mntns), LXD_DIR=DIR/lxd;
#                             with BRIDGE also that bridge, the pools, profiles and image as
#                             above; writes DIR/env (LABCT_* and LXD_DIR, LXD_SOCKET)
#   testbed.sh private-start DIR     start its daemon again, in its namespace
#   testbed.sh private-stop DIR      SIGTERM its daemon (its containers stay up)
#   testbed.sh private-kill DIR      SIGKILL its daemon, then its forkproxy helpers (children
#                             of that pid, in its namespace): a crash and a service restart
#   testbed.sh private-down DIR      stop it all: containers, daemon, every process in its
#                             namespace, its bridge and firewall chains
#   testbed.sh kill-ns FILE          TERM, then KILL, every process in the mount namespace
#                             whose inode is in FILE, but the caller and its parents
#   testbed.sh ns-pids FILE          print those processes
set -euo pipefail
shopt -s inherit_errexit

LXD_DIR=/var/lib/lxd
LXD_SOCKET=$LXD_DIR/unix.socket
LXD_LOG_DIR=/var/log/lxd
LXD_LOG=$LXD_LOG_DIR/lxd.log
LXD_OUT=$LXD_LOG_DIR/daemon.out
NSENTER=()	# a private LXD: nsenter into its mount namespace
NO_PROXY=	# a cluster member: its cluster's subnet, reached without the proxy
ENV_FILE=/run/labct-testbed.env
LOCK_FILE=/run/labct-testbed.lock
CACHE_DIR=/var/cache/labcontainers-test

BRIDGE=labctbr0
POOL_DIR=labct-dir
POOL_BT=labct-bt
PROFILE=labct
PROFILE_BT=labct-bt
IMAGE_ALIAS=labct-debian
BT_SIZE=8GiB

export LXD_DIR
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The image recipe (customize_image, recipe_key, build_image), shared with setup.sh.
# shellcheck source=scripts/image.sh
. "$ROOT/scripts/image.sh"

log() { printf 'testbed: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
	echo "usage: $0 [up | start-lxd | stop-lxd | cleanup PREFIX- | private DIR [BRIDGE] |" \
		"private-start DIR | private-stop DIR | private-kill DIR | private-down DIR |" \
		"kill-ns FILE | ns-pids FILE | cluster DIR HOSTBR NET | cluster-down DIR]" >&2
	exit 2
}

# ---- the daemon -------------------------------------------------------------------------

lxd_answers() {
	curl -sf --max-time 5 --unix-socket "$LXD_SOCKET" http://lxd/1.0 >/dev/null 2>&1
}

# PID of the process listening on the socket: the daemon itself, not its forkproxy helpers.
lxd_pid() {
	# ss sees the sockets of its own network namespace: a cluster member's is another.
	"${NSENTER[@]}" ss -Hxlp src "$LXD_SOCKET" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p;T;q'
}

# LXD's production kernel limits, where the machine's are lower: every
# Debian container's systemd takes inotify instances from the one host uid
# all unprivileged roots map to, and at the default 128 the 25th or so
# container dies at boot ("Failed to create control group inotify object").
raise_limits() {
	local kv key want have
	for kv in fs.inotify.max_user_instances=1024 kernel.keys.maxkeys=2000 \
	    kernel.keys.maxbytes=2000000; do
		key=${kv%%=*} want=${kv#*=}
		have=$(sysctl -n "$key" 2>/dev/null) || continue
		if ((have < want)); then
			log "raising $key $have -> $want (LXD's production value)"
			sysctl -qw "$key=$want" || true
		fi
	done
}

start_lxd() {
	raise_limits
	lxd_answers && return 0
	log "starting lxd${NSENTER[*]:+ (private, $LXD_DIR)}"
	mkdir -p "${LXD_LOG%/*}"
	# Fully detached: own session, cwd /, clean environment, and no descriptor inherited
	# from the caller (a test runner's pipe or our lock), so nobody ends up waiting on it.
	# The proxy variables point at a closed loopback port: lxd fetches instance types from
	# the internet at start-up and daily, and must reach nothing but this machine.
	# A stale socket file left by a killed daemon is removed by lxd itself.
	# Appended to: a crash's last words stay after the next start.
	echo "== lxd started by testbed.sh, $(date -u '+%F %T UTC')" >>"$LXD_OUT"
	(
		cd /
		for fd in "/proc/$BASHPID/fd"/*; do
			fd=${fd##*/}
			if ((fd > 2)); then exec {fd}>&-; fi
		done
		exec setsid "${NSENTER[@]}" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
			LXD_DIR="$LXD_DIR" http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 \
			no_proxy="$NO_PROXY" \
			lxd --group root --logfile "$LXD_LOG" </dev/null >>"$LXD_OUT" 2>&1
	) &
	lxd waitready --timeout 60 >/dev/null 2>&1 ||
		die "lxd did not become ready in 60 s; see $LXD_LOG and $LXD_OUT"
}

stop_lxd() {
	local pid
	pid=$(lxd_pid)
	if [[ -z $pid ]]; then
		log "lxd is not running"
		return 0
	fi
	log "stopping lxd (pid $pid)"
	kill -TERM "$pid"
	for _ in {1..600}; do
		if ! kill -0 "$pid" 2>/dev/null && ! lxd_answers; then
			return 0
		fi
		sleep 0.1
	done
	die "lxd (pid $pid) did not stop within 60 s"
}

# ---- network, pools, profiles -------------------------------------------------------------

exists() { lxc query "$1" >/dev/null 2>&1; }

# Prints the routes that overlap 10.N.0.0/24, ignoring default routes.
routes_overlapping() {
	ip -4 route show table all to root "$1"
	ip -4 route show table all to match "$1" | grep -vw default || true
}

# Prints N for the first 10.N.0.0/24, N >= 214, that no route touches.
free_subnet() {
	local n
	for n in {214..254}; do
		if [[ -z $(routes_overlapping "10.$n.0.0/24") ]]; then
			echo "$n"
			return 0
		fi
	done
	return 1
}

# dns.mode=none: lab users name containers freely ("box" in every
# project); LXD refuses two running instances of one name on a bridge
# that registers names in DNS.
ensure_network() {
	local n
	if exists "/1.0/networks/$BRIDGE"; then
		[ "$(lxc network get "$BRIDGE" dns.mode)" = none ] ||
			lxc network set "$BRIDGE" dns.mode none
		return 0
	fi
	# Private LXDs of parallel tests choose too: one at a time (the test bed's own lock).
	if ((${#NSENTER[@]})); then
		exec 8>"$LOCK_FILE"
		flock 8
	fi
	n=$(free_subnet) || die "no free subnet for $BRIDGE: 10.214.0.0/24 .. 10.254.0.0/24 all routed"
	log "creating bridge $BRIDGE 10.$n.0.1/24"
	lxc network create "$BRIDGE" "ipv4.address=10.$n.0.1/24" ipv4.nat=false \
		ipv6.address=none dns.mode=none >/dev/null
	if ((${#NSENTER[@]})); then exec 8>&-; fi
}

ensure_pools() {
	if ! exists "/1.0/storage-pools/$POOL_DIR"; then
		log "creating storage pool $POOL_DIR (dir)"
		lxc storage create "$POOL_DIR" dir >/dev/null
	fi
	if ! exists "/1.0/storage-pools/$POOL_BT"; then
		# The pool lives on a loop file: make sure loop devices and btrfs are there.
		if ! losetup -f >/dev/null 2>&1 && command -v modprobe >/dev/null; then
			modprobe loop || true
		fi
		if ! grep -qw btrfs /proc/filesystems && command -v modprobe >/dev/null; then
			modprobe btrfs || true
		fi
		log "creating storage pool $POOL_BT (btrfs, $BT_SIZE loop file)"
		lxc storage create "$POOL_BT" btrfs "size=$BT_SIZE" >/dev/null ||
			log "warning: no btrfs pool; tests that need $POOL_BT will skip"
	fi
	# btrfs marks its quota accounting inconsistent after some crashes (LXD killed
	# mid-operation, as t0800 does), and, since Linux 6.8, whenever a subvolume
	# whose tree is 3 levels or more deep is deleted (a container with a few
	# hundred MiB: qgroups/drop_subtree_threshold defaults to 3); it then
	# enforces no size limit. 8 (the deepest tree) makes deletes account in full;
	# a rescan mends what is already inconsistent.
	local mp=$LXD_DIR/storage-pools/$POOL_BT uuid
	if mountpoint -q "$mp" 2>/dev/null; then
		uuid=$(btrfs filesystem show "$mp" 2>/dev/null | sed -n 's/.*uuid: *//p' | head -n 1)
		if [ -n "$uuid" ] && [ -w "/sys/fs/btrfs/$uuid/qgroups/drop_subtree_threshold" ]; then
			echo 8 >"/sys/fs/btrfs/$uuid/qgroups/drop_subtree_threshold" 2>/dev/null || true
		fi
		# Subvolumes deleted before a restart are dropped after the mount,
		# and such a drop can mark the accounting inconsistent: wait for them.
		timeout 300 btrfs subvolume sync "$mp" >/dev/null 2>&1 || true
		if btrfs qgroup show "$mp" 2>&1 | grep -q inconsistent; then
			log "btrfs quota accounting of $POOL_BT is inconsistent: rescanning"
			btrfs quota rescan -w "$mp" >/dev/null 2>&1 || true
		fi
	fi
	# A pool whose loop file could not be mounted at start-up exists but is unusable.
	if exists "/1.0/storage-pools/$POOL_BT" &&
		! exists "/1.0/storage-pools/$POOL_BT/resources"; then
		log "warning: storage pool $POOL_BT is unavailable; tests that need it will skip"
	fi
}

bt_usable() { exists "/1.0/storage-pools/$POOL_BT/resources"; }

# ensure_profile NAME POOL: root disk on POOL, eth0 on the test bridge, created in one call.
ensure_profile() {
	exists "/1.0/profiles/$1?project=default" && return 0
	log "creating profile $1"
	lxc query -X POST "/1.0/profiles?project=default" -d "{
		\"name\": \"$1\",
		\"description\": \"labcontainers tests: root on $2, eth0 on $BRIDGE\",
		\"devices\": {
			\"root\": {\"type\": \"disk\", \"path\": \"/\", \"pool\": \"$2\"},
			\"eth0\": {\"type\": \"nic\", \"network\": \"$BRIDGE\", \"name\": \"eth0\"}
		}}" >/dev/null
}

# The default profile only gets what it lacks: a root disk, an eth0 nic.
ensure_default_profile() {
	local yaml
	yaml=$(lxc profile show default --project default)
	if ! grep -qE '^ +path: /$' <<<"$yaml"; then
		log "default profile: adding root disk on $POOL_DIR"
		lxc profile device add default root disk path=/ "pool=$POOL_DIR" --project default >/dev/null
	fi
	if ! grep -qE '^  eth0:$|^ +name: eth0$' <<<"$yaml"; then
		log "default profile: adding eth0 on $BRIDGE"
		lxc profile device add default eth0 nic "network=$BRIDGE" name=eth0 \
			--project default >/dev/null
	fi
}

# ---- the test image -----------------------------------------------------------------------

alias_target() {
	{ lxc query "/1.0/images/aliases/$IMAGE_ALIAS" 2>/dev/null || true; } |
		sed -n 's/.*"target": *"\([0-9a-f]*\)".*/\1/p'
}

# Prints the fingerprint of the image the alias points to, after making sure it is the
# current recipe's.  A unified tarball's fingerprint is the sha256 of the file.
ensure_image() {
	local key tarball fp old start
	key=$(recipe_key)
	tarball=$CACHE_DIR/$IMAGE_ALIAS-$key.tar.gz
	[[ -f $tarball ]] || build_image "$tarball" "$key"
	fp=$(sha256sum "$tarball" | cut -d' ' -f1)
	old=$(alias_target)
	if [[ $old != "$fp" ]]; then
		if ! exists "/1.0/images/$fp"; then
			log "importing $tarball"
			start=$SECONDS
			lxc image import "$tarball" >/dev/null
			log "imported in $((SECONDS - start)) s"
		fi
		if [[ -z $old ]]; then
			lxc image alias create "$IMAGE_ALIAS" "$fp" >/dev/null
		else
			log "moving alias $IMAGE_ALIAS from ${old:0:12} to ${fp:0:12}"
			lxc query -X PUT "/1.0/images/aliases/$IMAGE_ALIAS" \
				-d "{\"target\": \"$fp\", \"description\": \"\"}" >/dev/null
			# The image it left is ours if it carries our recipe property.
			if [[ -n $(lxc image get-property "$old" labct.recipe 2>/dev/null) ]]; then
				lxc image delete "$old" >/dev/null
			fi
		fi
	fi
	echo "$fp"
}

# ---- subcommands ----------------------------------------------------------------------------

up() {
	bash "$ROOT/scripts/deps.sh"    # instant when everything is installed
	start_lxd
	prepare
}

# The bridge, pools, profiles and image, in the LXD of LXD_DIR; the env file.
prepare() {
	local fp bt="" profile_bt=""
	ensure_network
	ensure_pools
	ensure_profile "$PROFILE" "$POOL_DIR"
	if bt_usable; then
		bt=$POOL_BT
		profile_bt=$PROFILE_BT
		ensure_profile "$PROFILE_BT" "$POOL_BT"
	fi
	ensure_default_profile
	fp=$(ensure_image)

	write_env "$ENV_FILE" "$fp" "$bt" "$profile_bt"
	log "ready (lxd $(lxd --version), bridge $BRIDGE $(lxc network get "$BRIDGE" ipv4.address)," \
		"pools $POOL_DIR${bt:+, $bt}, image $IMAGE_ALIAS ${fp:0:12})"
}

# write_env FILE FINGERPRINT BTRFS-POOL BTRFS-PROFILE: the facts tests read.
write_env() {
	local gateway_cidr gateway subnet a b c d len net
	gateway_cidr=$(lxc network get "$BRIDGE" ipv4.address)
	gateway=${gateway_cidr%/*}
	len=${gateway_cidr#*/}
	IFS=. read -r a b c d <<<"$gateway"
	net=$(((a << 24 | b << 16 | c << 8 | d) & (0xffffffff << (32 - len))))
	subnet=$((net >> 24 & 255)).$((net >> 16 & 255)).$((net >> 8 & 255)).$((net & 255))/$len

	cat >"$1.tmp" <<-EOF
	LABCT_BRIDGE=$BRIDGE
	LABCT_SUBNET=$subnet
	LABCT_GATEWAY=$gateway
	LABCT_POOL_DIR=$POOL_DIR
	LABCT_POOL_BT=$3
	LABCT_IMAGE=$IMAGE_ALIAS
	LABCT_IMAGE_FP=$2
	LABCT_PROFILE=$PROFILE
	LABCT_PROFILE_BT=$4
	LXD_SOCKET=$LXD_SOCKET
	LXD_DIR=$LXD_DIR
	EOF
	mv "$1.tmp" "$1"
}

# cleanup PREFIX: force-delete every project whose name starts with PREFIX, with its
# instances, and its own images and profiles where the project has them.
cleanup() {
	local prefix=$1 project failed=0
	[[ ${#prefix} -ge 4 && $prefix == *- ]] ||
		die "cleanup: PREFIX must be at least 4 characters and end in '-' (got '$prefix')"
	start_lxd
	for project in $(lxc query /1.0/projects | sed -n 's|.*"/1.0/projects/\([^"?]*\)".*|\1|p'); do
		[[ $project == "$prefix"* && $project != default ]] || continue
		log "cleanup: deleting project $project"
		# Called in a condition, so a failing step does not stop the rest; the final
		# project delete reports whether everything went.
		delete_project "$project" || { log "cleanup: could not delete $project"; failed=1; }
	done
	return "$failed"
}

delete_project() {
	local p=$1 name
	for name in $(lxc list --project "$p" --format csv -c n); do
		lxc delete -f --project "$p" "$name" >/dev/null
	done
	if [[ $(lxc project get "$p" features.images) == true ]]; then
		for name in $(lxc image list --project "$p" --format csv -c F); do
			lxc image delete --project "$p" "$name" >/dev/null
		done
	fi
	if [[ $(lxc project get "$p" features.profiles) == true ]]; then
		for name in $(lxc profile list --project "$p" --format csv | cut -d, -f1); do
			[[ $name == default ]] || lxc profile delete --project "$p" "$name" >/dev/null
		done
	fi
	lxc project delete "$p" >/dev/null
	# Its own bridge and network ACL (isolate_members), marked with its name.
	for name in $(lxc query "/1.0/networks?recursion=1" |
	    jq -r --arg p "$p" '.[] | select(.config["user.labc.owner"] == $p) | .name'); do
		lxc network delete "$name" >/dev/null
		lxc network acl delete "$name" >/dev/null 2>&1 || true
	done
	# An ACL whose bridge was never made (labcd stopped in between).
	for name in $(lxc query "/1.0/network-acls?recursion=1" |
	    jq -r --arg p "$p" '.[] | select(.config["user.labc.owner"] == $p) | .name'); do
		lxc network acl delete "$name" >/dev/null 2>&1 || true
	done
}

# ---- a private LXD -----------------------------------------------------------------------

# ns_pids FILE: every process in the mount namespace whose inode is in FILE, but this
# script and its parents (a test in that namespace calls kill-ns on the rest).
ns_pids() {
	local ns p mine=" " q=$BASHPID
	ns=$(cat "$1" 2>/dev/null) || return 0
	[[ -n $ns ]] || return 0
	while [[ $q =~ ^[0-9]+$ ]] && ((q > 1)); do
		mine+="$q "
		q=$(awk '{ sub(/^.*\) /, ""); print $2 }' "/proc/$q/stat" 2>/dev/null) || break
	done
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[[ $mine != *" $p "* ]] || continue
		[[ $(readlink "/proc/$p/ns/mnt" 2>/dev/null) == "$ns" ]] && echo "$p"
	done
	return 0
}

# kill_ns FILE: TERM everything in the namespace, KILL what is left after 10 s.
kill_ns() {
	local pids
	pids=$(ns_pids "$1")
	[[ -n $pids ]] || return 0
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null || true
	for _ in {1..100}; do
		pids=$(ns_pids "$1")
		[[ -n $pids ]] || return 0
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null || true
	sleep 0.5
}

# The private LXD of DIR: its paths, and nsenter into its namespace (held by DIR/holder.pid).
private_env() {
	local dir=$1 holder
	[[ $dir == /* && -d $dir ]] || die "private: DIR must be an existing absolute path (got '$dir')"
	PDIR=$dir
	LXD_DIR=$dir/lxd
	LXD_SOCKET=$LXD_DIR/unix.socket
	LXD_LOG=$dir/lxd.log
	LXD_OUT=$dir/lxd.out
	ENV_FILE=$dir/env
	BT_SIZE=3GiB
	NO_PROXY=$(cat "$dir/no_proxy" 2>/dev/null || true)
	export LXD_DIR LXD_SOCKET
	holder=$(cat "$dir/holder.pid" 2>/dev/null || true)
	if [[ -n $holder && $(readlink "/proc/$holder/ns/mnt" 2>/dev/null) == "$(cat "$dir/mntns")" ]]; then
		NSENTER=(nsenter -t "$holder" -m --)
		if [[ -f $dir/netns ]]; then NSENTER=(nsenter -t "$holder" -m -n --); fi
	fi
}

# in_ns PID: 0 when PID is in the private LXD's mount namespace.
in_ns() { [[ $(readlink "/proc/$1/ns/mnt" 2>/dev/null) == "$(cat "$PDIR/mntns")" ]]; }

private() {
	local dir=$1 bridge=${2:-} holder unshare=(unshare --mount)
	private_env "$dir"
	# A cluster member: a network namespace of its own too (DIR/netns).
	if [[ -f $dir/netns ]]; then unshare+=(--net); fi
	if ((${#NSENTER[@]} == 0)); then
		# The namespace: a copy of this one where LXD's mounts (its storage pools, shmounts)
		# stay, held by a sleep of its own session so that it outlives LXD restarts.
		# Containers' roots (uid 1000000 and up) must get through DIR to LXD_DIR.
		chmod o+x "$dir"
		setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$dir" ||
			die "private: $dir is not reachable by other users: chmod o+x on every directory above it"
		mkdir -p "$LXD_DIR"
		(
			cd /
			for fd in "/proc/$BASHPID/fd"/*; do
				fd=${fd##*/}
				if ((fd > 2)); then exec {fd}>&-; fi
			done
			exec setsid "${unshare[@]}" --propagation private sleep infinity \
				</dev/null >/dev/null 2>&1
		) &
		holder=$!
		for _ in {1..50}; do
			[[ $(readlink "/proc/$holder/ns/mnt") != "$(readlink /proc/self/ns/mnt)" ]] && break
			sleep 0.1
		done
		readlink "/proc/$holder/ns/mnt" >"$dir/mntns"
		[[ $(cat "$dir/mntns") != "$(readlink /proc/self/ns/mnt)" ]] ||
			die "private: no mount namespace of its own (unshare --mount)"
		echo "$holder" >"$dir/holder.pid"
		NSENTER=(nsenter -t "$holder" -m --)
		if [[ -f $dir/netns ]]; then
			NSENTER=(nsenter -t "$holder" -m -n --)
			# sysfs shows the network devices of the namespace that mounted it: LXD
			# must see its own bridge there, and still the host's cgroups under /sys.
			# Its database in memory: the cluster's dqlite commits
			# with fsync, and a loaded test machine's disk made it miss
			# its deadlines ("no available dqlite leader server").
			mkdir -p "$dir/sys" "$LXD_DIR/database"
			"${NSENTER[@]}" sh -ec "mount -t sysfs sysfs '$dir/sys'
				mount --bind '$dir/sys/class/net' /sys/class/net
				mount --bind '$dir/sys/devices/virtual/net' /sys/devices/virtual/net
				mount -t tmpfs -o mode=0700,size=256m labct-db '$LXD_DIR/database'"
		fi
	fi
	start_lxd
	if [[ -n $bridge ]]; then
		# Its own bridge, never the test bed's: private-down deletes it from the host.
		[[ $bridge != "$BRIDGE" ]] && { [[ $(cat "$dir/bridge" 2>/dev/null) == "$bridge" ]] ||
			! ip link show "$bridge" >/dev/null 2>&1; } ||
			die "private: bridge $bridge exists already: give a name of its own"
		echo "$bridge" >"$dir/bridge"
		BRIDGE=$bridge
		prepare
	else
		printf 'LXD_SOCKET=%s\nLXD_DIR=%s\n' "$LXD_SOCKET" "$LXD_DIR" >"$ENV_FILE"
	fi
}

private_start() {
	private_env "$1"
	((${#NSENTER[@]})) || die "private-start: no private LXD in $1 (testbed.sh private first)"
	start_lxd
}

private_stop() {
	private_env "$1"
	stop_lxd
}

# As if LXD crashed and its service were restarted, on a unit that ends its whole cgroup:
# the daemon dies first, with no chance to finish anything; then its forkproxy helpers,
# which would otherwise keep the ports of running containers from the restarted daemon.
# Only processes of this LXD: its pid (the listener on its own socket) and that pid's
# children, all in its mount namespace.
private_kill() {
	local pid c proxies=()
	private_env "$1"
	pid=$(lxd_pid)
	[[ -n $pid ]] && in_ns "$pid" || die "private-kill: no private LXD runs in $1"
	for c in $(ps -o pid= --ppid "$pid"); do
		[[ $(tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null) == *" forkproxy "* ]] && proxies+=("$c")
	done
	log "killing lxd (pid $pid) and its ${#proxies[@]} forkproxy helpers"
	kill -KILL "$pid"
	for _ in {1..50}; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	for c in "${proxies[@]}"; do
		in_ns "$c" && [[ $(tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null) == *" forkproxy "* ]] &&
			kill -KILL "$c" 2>/dev/null || true
	done
}

# nft_chains_of BRIDGE: LXD's firewall chains for that bridge.
nft_chains_of() {
	nft list table inet lxd 2>/dev/null |
		awk -v b="$1" '$1 == "chain" && $2 ~ "\\." b "$" { print $2 }'
}

private_down() {
	local br c
	private_env "$1"
	# The bridge private made (DIR/bridge), nothing else.
	br=$(cat "$PDIR/bridge" 2>/dev/null || true)
	[[ $br != "$BRIDGE" ]] || die "private-down: $PDIR/bridge names the test bed's bridge $BRIDGE"
	if ((${#NSENTER[@]})); then
		# Its containers stop with it (a killed daemon is started again to stop them).
		if lxd_answers || start_lxd 2>/dev/null; then
			timeout 60 lxd shutdown --timeout 50 >/dev/null 2>&1 || true
		fi
		kill_ns "$PDIR/mntns"
	fi
	if [[ -n $br ]]; then
		ip link del "$br" 2>/dev/null || true
		for c in $(nft_chains_of "$br"); do
			nft flush chain inet lxd "$c" && nft delete chain inet lxd "$c" || true
		done
	fi
	rm -f "$PDIR/holder.pid" "$PDIR/bridge"
}

# ---- a cluster of private LXDs ---------------------------------------------------------------

# As on separate servers: each member a private LXD in a mount and network namespace of its
# own, reached from this host through a veth on the test's bridge HOSTBR (NET.1 here, member
# N at NET.1N); inside each, the cluster's bridge $CL_BRIDGE with the same subnet, as a
# cluster's managed bridge has on every member. Nothing of it touches the machine's LXD.
CL_BRIDGE=labcclbr
CL_SUBNET=10.99.0.1/24
CL_MEMBERS=(m1 m2)

# cl_lxc MEMBER ARGS...: lxc against that member's daemon. Both variables:
# lxc and lxd take LXD_SOCKET before LXD_DIR, and a caller's LXD_SOCKET
# (a test's: the machine's LXD) must never be the one told to cluster.
cl_lxc() { LXD_DIR=$CL_DIR/$1/lxd LXD_SOCKET=$CL_DIR/$1/lxd/unix.socket lxc "${@:2}"; }

# cl_member DIR NAME IP HOSTBR: the member's private LXD, its namespaces and its veth.
cl_member() {
	local dir=$1/$2 ip=$3 hostbr=$4 holder veth
	# Named from DIR, so that two test beds at once never share one.
	veth=labcv$2$(printf '%s' "$1" | md5sum | cut -c1-6)
	mkdir -p "$dir"
	touch "$dir/netns"
	echo "${ip%.*}.0/24" >"$dir/no_proxy"
	( private "$dir" )
	holder=$(cat "$dir/holder.pid")
	if ! nsenter -t "$holder" -n ip link show eth0 >/dev/null 2>&1; then
		ip link del "$veth" 2>/dev/null || true
		ip link add "$veth" type veth peer name eth0 netns "$holder"
		ip link set "$veth" master "$hostbr" up
		nsenter -t "$holder" -n sh -ec "ip link set lo up; ip addr add $ip/24 dev eth0;
			ip link set eth0 up; ip route add default via ${ip%.*}.1"
		echo "$veth" >"$dir/veth"
	fi
}

# cluster DIR HOSTBR NET: the cluster (idempotent); writes DIR/env.
cluster() {
	local dir=$1 hostbr=$2 net=$3 m i token fp
	[[ $dir == /* && -d $dir ]] || die "cluster: DIR must be an existing absolute path"
	[[ $net =~ ^10\.[0-9]+\.[0-9]+$ ]] || die "cluster: NET is 10.A.B (got '$net')"
	[[ ${#hostbr} -le 15 && $hostbr != "$BRIDGE" ]] || die "cluster: bad bridge name $hostbr"
	CL_DIR=$dir
	unset LXD_SOCKET
	# A bridge of its own only: cluster-down deletes it.
	if ip link show "$hostbr" >/dev/null 2>&1 &&
		[[ $(cat "$dir/hostbr" 2>/dev/null) != "$hostbr" ]]; then
		die "cluster: bridge $hostbr exists already: give a name of its own"
	fi
	if ! ip link show "$hostbr" >/dev/null 2>&1; then
		[[ -z $(routes_overlapping "$net.0/24") ]] || die "cluster: $net.0/24 is routed already"
		ip link add "$hostbr" type bridge
		ip addr add "$net.1/24" dev "$hostbr"
		ip link set "$hostbr" up
	fi
	echo "$hostbr" >"$dir/hostbr"
	for i in "${!CL_MEMBERS[@]}"; do
		cl_member "$dir" "${CL_MEMBERS[i]}" "$net.1$((i + 1))" "$hostbr"
	done
	# Each member's socket is its own daemon (never the machine's LXD): the
	# certificate it serves is the one in its LXD_DIR.
	for m in "${CL_MEMBERS[@]}"; do
		[[ $(cl_lxc "$m" query /1.0 | jq -r .environment.certificate) == "$(cat "$dir/$m/lxd/server.crt")" ]] ||
			die "cluster: the socket of $m is not its own daemon's"
	done
	# The first member makes the cluster, the others join it with a token.
	if [[ $(cl_lxc m1 query /1.0/cluster | jq -r .enabled) != true ]]; then
		log "cluster: enabling on m1 ($net.11)"
		cl_lxc m1 config set core.https_address "$net.11:8443"
		cl_lxc m1 cluster enable m1 >/dev/null
		cl_lxc m1 config set cluster.offline_threshold 11 >/dev/null
	fi
	for i in "${!CL_MEMBERS[@]}"; do
		m=${CL_MEMBERS[i]}
		((i > 0)) || continue
		[[ $(cl_lxc "$m" query /1.0/cluster | jq -r .enabled) == true ]] && continue
		log "cluster: $m joins"
		token=$(cl_lxc m1 cluster add "$m" | tail -n 1)
		printf 'cluster:\n  enabled: true\n  server_name: %s\n  server_address: %s\n  cluster_token: %s\n' \
			"$m" "$net.1$((i + 1)):8443" "$token" |
			LXD_DIR=$dir/$m/lxd LXD_SOCKET=$dir/$m/lxd/unix.socket lxd init --preseed >/dev/null ||
			die "cluster: $m could not join"
	done
	# A pool and a bridge: made on each member first (pending), then for the cluster.
	export LXD_DIR=$dir/m1/lxd LXD_SOCKET=$dir/m1/lxd/unix.socket
	if ! exists "/1.0/storage-pools/$POOL_DIR"; then
		for m in "${CL_MEMBERS[@]}"; do lxc storage create "$POOL_DIR" dir --target "$m" >/dev/null; done
		lxc storage create "$POOL_DIR" dir >/dev/null
	fi
	if ! exists "/1.0/networks/$CL_BRIDGE"; then
		for m in "${CL_MEMBERS[@]}"; do lxc network create "$CL_BRIDGE" --target "$m" >/dev/null; done
		lxc network create "$CL_BRIDGE" "ipv4.address=$CL_SUBNET" ipv4.nat=false \
			ipv6.address=none dns.mode=none >/dev/null
	fi
	BRIDGE=$CL_BRIDGE
	ensure_profile "$PROFILE" "$POOL_DIR"
	ensure_default_profile
	fp=$(ensure_image)
	write_env "$dir/env" "$fp" "" ""
	{
		echo "LABCT_CLUSTER_MEMBERS='${CL_MEMBERS[*]}'"
		for i in "${!CL_MEMBERS[@]}"; do
			echo "LABCT_CLUSTER_${CL_MEMBERS[i]}=$net.1$((i + 1))"
			echo "LABCT_CLUSTER_${CL_MEMBERS[i]}_DIR=$dir/${CL_MEMBERS[i]}"
		done
		echo "LABCT_CLUSTER_HOSTBR=$hostbr"
	} >>"$dir/env"
	log "cluster ready: ${CL_MEMBERS[*]} on $hostbr $net.0/24, bridge $CL_BRIDGE, image ${fp:0:12}"
}

# cluster-down DIR: every member down, their namespaces gone, the host bridge deleted.
cluster_down() {
	local dir=$1 m br
	for m in "${CL_MEMBERS[@]}"; do
		[[ -d $dir/$m ]] || continue
		( exec 9>"$dir/$m/lock"; flock 9; private_down "$dir/$m" )
		if [[ -f $dir/$m/veth ]]; then ip link del "$(cat "$dir/$m/veth")" 2>/dev/null || true; fi
	done
	br=$(cat "$dir/hostbr" 2>/dev/null || true)
	if [[ -n $br && $br != "$BRIDGE" ]]; then ip link del "$br" 2>/dev/null || true; fi
	rm -f "$dir/hostbr"
}

[[ $EUID == 0 ]] || die "must run as root"
case ${1:-up} in
private*)
	(($# >= 2)) || usage
	exec 9>"$2/lock" || die "private: cannot lock $2/lock"
	flock 9
	;;
kill-ns | ns-pids | cluster | cluster-down) ;;
*)
	exec 9>"$LOCK_FILE"
	flock 9
	;;
esac
case ${1:-up} in
up) (($# <= 1)) || usage; up ;;
start-lxd) (($# == 1)) || usage; start_lxd ;;
stop-lxd) (($# == 1)) || usage; stop_lxd ;;
cleanup) (($# == 2)) || usage; cleanup "$2" ;;
private) (($# == 2 || $# == 3)) || usage; private "$2" "${3:-}" ;;
private-start) (($# == 2)) || usage; private_start "$2" ;;
private-stop) (($# == 2)) || usage; private_stop "$2" ;;
private-kill) (($# == 2)) || usage; private_kill "$2" ;;
private-down) (($# == 2)) || usage; private_down "$2" ;;
kill-ns) (($# == 2)) || usage; kill_ns "$2" ;;
cluster) (($# == 4)) || usage; exec 9>"$2/lock"; flock 9; cluster "$2" "$3" "$4" ;;
cluster-down) (($# == 2)) || usage; exec 9>"$2/lock"; flock 9; cluster_down "$2" ;;
ns-pids) (($# == 2)) || usage; ns_pids "$2" ;;
*) usage ;;
esac
