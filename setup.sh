#!/bin/bash
# setup.sh - the one command that sets labcontainers up on a Debian 12 machine, as root:
# packages, labcd and labc, LXD (only what is not set up yet: a storage pool that
# enforces disk sizes, as lxd init makes one), the base image, the configuration, the
# GPU driver check, labcd running, labc-web (the status page) running as an account of
# its own, the SSH gateway account, sshd running with the
# gateway's drop-in, and the first admin.  Every step prints one line, "ok: ...
# already right" or "done: <what changed>"; a second run changes nothing and says so.
# Non-interactive.  See --help.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PREFIX=/usr/local
SBIN=$PREFIX/sbin
BIN=$PREFIX/bin
CONF_DIR=/etc/labcontainers
CONF=$CONF_DIR/labcd.conf
LOG_DIR=/var/log/labcontainers
RUN_DIR=/run/labcontainers
PID_FILE=$RUN_DIR/labcd.pid
CACHE_DIR=/var/cache/labcontainers
UNIT=$PREFIX/lib/systemd/system/labcd.service	# where make install puts it
WEB_UNIT=$PREFIX/lib/systemd/system/labc-web.service
WEB_PID_FILE=/run/labcontainers-web.pid	# not in $RUN_DIR (systemd empties it)
SYSCTL_FILE=/etc/sysctl.d/60-labcontainers.conf
SSHD=/usr/sbin/sshd
SSHD_PID_FILE=/run/sshd.pid	# Debian's sshd_config: PidFile's default
SSHD_PRIVSEP=/run/sshd
DROPIN=/etc/ssh/sshd_config.d/50-labcontainers.conf
# "PID SHA256": setup.sh gave sshd PID that drop-in. Not in $RUN_DIR, which systemd
# removes whenever labcd.service stops.
SSHD_LOADED=/run/labcontainers-sshd.loaded
# As lxc and lxd take them (and labcd started from here): LXD_SOCKET, else LXD_DIR's.
: "${LXD_DIR:=/var/lib/lxd}"
: "${LXD_SOCKET:=$LXD_DIR/unix.socket}"
export LXD_DIR LXD_SOCKET
LXD_LOG_DIR=/var/log/lxd

# Options.
admin=${SUDO_USER:-}
bridge=labcbr0
pool_driver=btrfs
pool_size=	# empty: from the free space, as lxd init (step_pool)
pool_device=
yes=0
deps=1
image_from=
image_server=ubuntu:22.04
use_server=1
use_systemd=auto
web_listen=-	# -: as labcd.conf says (default 127.0.0.1:8640)

log() { printf '%s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }
ok() { printf 'ok: %s\n' "$*"; }
done_() { printf 'done: %s\n' "$*"; changes=$((changes + 1)); }
changes=0

usage() {
	cat <<-EOF
	usage: sudo ./setup.sh [OPTION]...

	Sets labcontainers up on this Debian 12 machine, or checks that it is: installs
	the packages, builds and installs labcd ($SBIN), labc ($BIN), the manual pages,
	completion and systemd unit (make install, PREFIX=$PREFIX), initialises
	LXD if it is not yet (storage pool, bridge on a free 10.N.0.0/24, default
	profile), provides the base image, writes $CONF if absent, checks
	that containers given GPUs will get the host's NVIDIA driver, starts labcd, starts
	labc-web (the status page, web_listen) as web_user, makes the SSH gateway account, starts sshd or reloads it (systemd's ssh.service, else
	$SSHD found by /run/sshd.pid) and makes the first admin. Each step prints "ok: ..." when
	it was right already or "done: ..." with what it changed.

	Storage, as lxd init: a new LXD gets a btrfs pool, which enforces each container's
	disk size and the disk quotas, on a loop file under \$LXD_DIR/disks sized 20% of the
	free space there (at least 5, at most 30 GiB; --pool-size sets it), or on a disk
	or partition of its own (--pool-device). A dir pool enforces no disk size: only
	with --pool dir. LXD's existing pool is left as it is.

	  --admin NAME         the first admin lab user (default: \$SUDO_USER, here '${SUDO_USER:-}')
	  --no-admin           make no admin
	  --bridge NAME        bridge to make if LXD has none in its default profile (default $bridge)
	  --pool btrfs|dir     storage pool to make if LXD has none (default btrfs)
	  --pool-size SIZE     size of the btrfs loop file, e.g. 200GiB (default: 20% of
	                       the free space, 5 to 30 GiB)
	  --pool-device DEV    make the btrfs pool on this disk or partition instead of a
	                       loop file; one that holds a file system or partitions is
	                       refused unless --yes is given too (it erases them)
	  --yes                with --pool-device: erase what the device holds
	  --image-server R:I   image to copy as labc-base when the server answers (default $image_server)
	  --offline            never ask an image server: build the image with debootstrap
	  --mirror URL         Debian mirror for debootstrap (default http://deb.debian.org/debian)
	  --image-from FILE    import this LXD image tarball as labc-base instead
	  --no-deps            install no packages (they must be there)
	  --no-systemd         start LXD, labcd, labc-web and sshd as plain background processes
	                       even under systemd
	  --web-listen A:P     where the status page listens (web_listen in labcd.conf; default
	                       127.0.0.1:8640; '' for no status page)
	  -h, --help           this text
	EOF
	exit "${1:-0}"
}

while (($#)); do
	case $1 in
	--admin) admin=${2:?--admin needs a NAME}; shift ;;
	--no-admin) admin= ;;
	--bridge) bridge=${2:?--bridge needs a NAME}; shift ;;
	--pool) pool_driver=${2:?--pool needs dir or btrfs}; shift ;;
	--pool-size) pool_size=${2:?--pool-size needs a SIZE}; shift ;;
	--pool-device) pool_device=${2:?--pool-device needs a DEVICE such as /dev/sdb}; shift ;;
	--yes) yes=1 ;;
	--image-server) image_server=${2:?--image-server needs REMOTE:IMAGE}; shift ;;
	--offline) use_server=0 ;;
	--mirror) export MIRROR=${2:?--mirror needs a URL}; shift ;;
	--image-from) image_from=${2:?--image-from needs a FILE}; shift ;;
	--no-deps) deps=0 ;;
	--no-systemd) use_systemd=0 ;;
	--web-listen) web_listen=${2?--web-listen needs ADDRESS:PORT, or '' for no status page}; shift ;;
	-h | --help) usage 0 ;;
	*) echo "setup.sh: unknown option '$1'" >&2; usage 2 >&2 ;;
	esac
	shift
done
case $pool_driver in dir | btrfs) ;; *) die "--pool: btrfs or dir, not '$pool_driver'" ;; esac
[[ -z $pool_size || $pool_size =~ ^[1-9][0-9]*(MiB|GiB|TiB|MB|GB|TB)$ ]] ||
	die "--pool-size: a size such as 100GiB, not '$pool_size'"
if [[ -n $pool_device ]]; then
	[[ $pool_driver == btrfs ]] || die "--pool-device makes a btrfs pool: not with --pool dir"
	[[ -z $pool_size ]] || die "--pool-device uses the whole device: not with --pool-size"
	[[ -b $pool_device ]] || die "--pool-device: $pool_device is not a block device (a disk such as /dev/sdb, or a partition)"
fi
((!yes)) || [[ -n $pool_device ]] || die "--yes goes with --pool-device (it allows erasing the device)"
[[ $bridge =~ ^[a-z][a-z0-9-]{0,14}$ ]] || die "--bridge: 1 to 15 of a-z, 0-9, '-' (not '$bridge')"
[[ -z $image_from || -r $image_from ]] || die "--image-from: cannot read $image_from"
[[ $admin != root ]] || admin=
[[ $EUID == 0 ]] || die "run it as root: sudo $0"

if [[ $use_systemd == auto ]]; then
	use_systemd=0
	if [[ -d /run/systemd/system && $(ps -p 1 -o comm= 2>/dev/null) == systemd ]]; then
		use_systemd=1
	fi
fi

# ---- packages, build, install ----------------------------------------------------------

step_packages() {
	local missing out
	missing=$(bash "$ROOT/scripts/deps.sh" --setup --dry-run)
	if [[ -z $missing ]]; then
		ok "packages already installed"
	elif ((!deps)); then
		die "--no-deps, but these packages are missing: $missing"
	else
		out=$(bash "$ROOT/scripts/deps.sh" --setup </dev/null 2>&1) ||
			die "installing packages failed:"$'\n'"$out"
		done_ "installed $missing"
	fi
}

step_build() {
	local out
	if make -C "$ROOT" -q build/labcd build/labc build/labc-web >/dev/null 2>&1; then
		ok "labcd, labc and labc-web already built"
		return
	fi
	out=$(make -C "$ROOT" -s -j"$(nproc)" build/labcd build/labc build/labc-web 2>&1 </dev/null) ||
		die "the build failed:"$'\n'"$out"
	done_ "built labcd, labc and labc-web in $ROOT/build"
}

binaries_changed=0
unit_changed=0
web_changed=0
# 'make install' into a staging directory, then only the files that differ are copied, so
# that a run says what it changed. The configuration is step_config's (only where absent).
step_install() {
	local stage f dest mode n=0 changed=() out
	stage=$(mktemp -d /tmp/labc-setup.XXXXXX)
	if ! out=$(make -C "$ROOT" -s install DESTDIR="$stage" PREFIX="$PREFIX" 2>&1 </dev/null); then
		rm -rf "$stage"
		die "make install failed:"$'\n'"$out"
	fi
	while IFS= read -r -d '' f; do
		dest=${f#"$stage"}
		[[ $dest != "$CONF" ]] || continue
		n=$((n + 1))
		mode=$(stat -c %a "$f")
		if ! cmp -s "$f" "$dest" || [[ $(stat -c %a "$dest") != "$mode" ]]; then
			install -D -m "$mode" "$f" "$dest"
			changed+=("$dest")
			case $dest in
			"$SBIN/labcd") binaries_changed=1 ;;
			"$UNIT") unit_changed=1 ;;
			"$SBIN/labc-web" | "$WEB_UNIT") web_changed=1 ;;
			esac
		fi
	done < <(find "$stage" -type f -print0 | sort -z)
	rm -rf "$stage"
	if ((${#changed[@]} == 0)); then
		ok "labcd, labc, manual pages, completion, unit already installed ($n files under $PREFIX)"
	elif ((${#changed[@]} <= 3)); then
		done_ "installed $(IFS=,; echo "${changed[*]}" | sed 's/,/, /g')"
	else
		done_ "installed ${changed[0]}, ${changed[1]} and $((${#changed[@]} - 2)) more files" \
			"(make install, PREFIX=$PREFIX)"
	fi
}

# ---- the kernel and LXD --------------------------------------------------------------------

# LXD's production kernel limits (as scripts/testbed.sh raises them): every container's
# systemd takes inotify instances from the one host uid all unprivileged roots map to.
step_limits() {
	local kv key want have text="" raised=()
	for kv in fs.inotify.max_user_instances=1024 kernel.keys.maxkeys=2000 \
		kernel.keys.maxbytes=2000000; do
		key=${kv%%=*} want=${kv#*=}
		have=$(sysctl -n "$key" 2>/dev/null) || continue
		if ((have < want)); then
			sysctl -qw "$key=$want" 2>/dev/null && raised+=("$key=$want")
		else
			want=$have
		fi
		text+="$key = $want"$'\n'
	done
	# Kept for the next boot, with the values now in force.
	if [[ ! -f $SYSCTL_FILE ]]; then
		mkdir -p "${SYSCTL_FILE%/*}"
		printf '# LXD needs these (labcontainers setup.sh)\n%s' "$text" >"$SYSCTL_FILE"
		raised+=("$SYSCTL_FILE")
	fi
	if ((${#raised[@]})); then
		done_ "kernel limits for LXD: ${raised[*]}"
	else
		ok "kernel limits for LXD already right"
	fi
}

lxd_answers() {
	curl -sf --max-time 5 --unix-socket "$LXD_SOCKET" http://lxd/1.0 >/dev/null 2>&1
}

step_lxd_running() {
	local group=root
	if lxd_answers; then
		ok "LXD already running"
		return
	fi
	if ((use_systemd)); then
		systemctl enable --now lxd.socket lxd.service >/dev/null 2>&1 ||
			die "systemctl could not start lxd: see journalctl -u lxd"
	else
		getent group lxd >/dev/null && group=lxd
		mkdir -p "$LXD_LOG_DIR"
		# Detached: own session, cwd /, no descriptor of ours (a caller's pipe would
		# otherwise stay open as long as LXD runs).
		(
			cd /
			for fd in "/proc/$BASHPID/fd"/*; do
				fd=${fd##*/}
				if ((fd > 2)); then exec {fd}>&-; fi
			done
			# Appended to: a crash's last words stay after the next start.
			echo "== lxd started by setup.sh, $(date -u '+%F %T UTC')" \
				>>"$LXD_LOG_DIR/daemon.out"
			exec setsid lxd --group "$group" --logfile "$LXD_LOG_DIR/lxd.log" \
				</dev/null >>"$LXD_LOG_DIR/daemon.out" 2>&1
		) &
	fi
	lxd waitready --timeout 60 >/dev/null 2>&1 ||
		die "LXD did not become ready in 60 s; see $LXD_LOG_DIR/lxd.log"
	done_ "started LXD"
}

# The first lxc call of a user prints a welcome ("you should also run: lxd init"): not
# here, where setup.sh is the init.
lxc_quiet_welcome() { lxc remote list >/dev/null 2>&1 || true; }

exists() { lxc query "$1" >/dev/null 2>&1; }

# The device of the default profile whose KEY is VALUE (e.g. path /), as "name pool-or-network".
profile_device() {
	lxc query "/1.0/profiles/default?project=default" |
		jq -r --arg k "$1" --arg v "$2" \
			'.devices | to_entries[] | select(.value[$k] == $v) |
			"\(.key) \(.value.pool // .value.network // .value.parent // "")"' | head -n 1
}

# The loop file lxd init would make (LXD's documented default for a pool without a
# size): 20% of the free space of the file system of $LXD_DIR, where LXD keeps it
# (disks/POOL.img, sparse), at least 5 GiB, at most 30 GiB; whole GiB. Prints "SIZE
# FREE_GIB"; fails when less than 5 GiB is free.
loop_size() {
	local free gib size
	free=$(df --block-size=1 --output=avail "$LXD_DIR" | tail -n 1) || return 1
	gib=$((free / 1073741824))
	((gib >= 5)) || return 1
	size=$((gib / 5))
	((size >= 5)) || size=5
	((size <= 30)) || size=30
	echo "${size}GiB $gib"
}

# --pool-device DEV: nothing may use it (mounted, part of LVM or RAID) and, without
# --yes, it may hold no file system and no partitions. Prints what --yes erases, if any.
device_check() {
	local dev=$1 real name what mnt holders parts
	real=$(readlink -f "$dev")
	name=${real##*/}
	mnt=$(lsblk -nro MOUNTPOINT "$real" 2>/dev/null | grep -v '^$' | paste -sd ' ' || true)
	[[ -z $mnt ]] || die "--pool-device: $dev (or a partition of it) is mounted on $mnt: give a disk or partition nothing uses"
	holders=$(find "/sys/class/block/$name/holders" -mindepth 1 -printf '%f ' 2>/dev/null || true)
	holders=${holders% }
	[[ -z $holders ]] || die "--pool-device: $dev is in use by $holders (LVM, RAID or dm): give a disk or partition nothing uses"
	what=$(blkid -p -o export "$real" 2>/dev/null |
		sed -n 's/^TYPE=\(.*\)/a file system (\1)/p; s/^PTTYPE=\(.*\)/a partition table (\1)/p' |
		paste -sd ',' | sed 's/,/ and /g' || true)
	parts=$(lsblk -nro NAME "$real" 2>/dev/null | tail -n +2 | paste -sd ' ' || true)
	[[ -z $parts ]] || what="${what:+$what, }partitions $parts"
	if [[ -n $what && $yes == 0 ]]; then
		die "--pool-device: $dev holds $what; the pool would erase it. If nothing on it is needed: sudo $0 --pool-device $dev --yes"
	fi
	echo "$what"
}

pool=
step_pool() {
	local dev pools driver size free what
	dev=$(profile_device path /)
	if [[ -n $dev ]]; then
		pool=${dev#* }
		driver=$(lxc query "/1.0/storage-pools/$pool" | jq -r .driver)
		ok "LXD storage already right (default profile's root disk on pool $pool, $driver$(
			[[ $driver != dir ]] || echo ": it enforces no disk size"))"
		return
	fi
	pools=$(lxc query /1.0/storage-pools | jq -r '.[] | sub(".*/"; "")')
	if [[ -n $pools ]]; then
		pool=$(head -n 1 <<<"$pools")
		ok "LXD storage pool $pool already there"
		return
	fi
	pool=default
	if [[ $pool_driver == dir ]]; then
		lxc storage create "$pool" dir >/dev/null
		done_ "created LXD storage pool $pool (dir, under $LXD_DIR/storage-pools; it enforces" \
			"no disk size: --disk, default_disk and disk quotas are refused)"
		return
	fi
	command -v mkfs.btrfs >/dev/null || die "a btrfs pool needs btrfs-progs (or: --pool dir)"
	if [[ -n $pool_device ]]; then
		what=$(device_check "$pool_device")
		if [[ -n $what ]]; then
			wipefs -a "$(readlink -f "$pool_device")" >/dev/null ||
				die "could not erase $pool_device (wipefs -a)"
			# The kernel forgets the partitions it knew on it.
			blockdev --rereadpt "$(readlink -f "$pool_device")" 2>/dev/null || true
		fi
		lxc storage create "$pool" btrfs "source=$pool_device" >/dev/null ||
			die "LXD could not make a btrfs pool on $pool_device (above)"
		done_ "created LXD storage pool $pool (btrfs on $pool_device," \
			"$(lsblk -ndo SIZE "$(readlink -f "$pool_device")" | tr -d ' ')${what:+; erased $what (--yes)})"
		return
	fi
	if [[ -n $pool_size ]]; then
		size=$pool_size
		free="--pool-size"
	else
		read -r size free < <(loop_size) ||
			die "less than 5 GiB free under $LXD_DIR for the pool's loop file: free some," \
				"or give a disk (--pool-device /dev/sdX), or --pool dir (no disk sizes enforced)"
		free="20% of the $free GiB free under $LXD_DIR, 5 to 30 GiB, as lxd init"
	fi
	lxc storage create "$pool" btrfs "size=$size" >/dev/null ||
		die "could not make the btrfs pool (loop devices and the btrfs module?); or --pool dir"
	done_ "created LXD storage pool $pool (btrfs on a $size loop file, $LXD_DIR/disks/$pool.img: $free;" \
		"grow it with lxc storage set $pool size=SIZE, or use a disk: --pool-device)"
}

# Prints the routes and addresses of this host that overlap the subnet $1.
in_use() {
	{
		ip -4 route show table all to root "$1"
		ip -4 route show table all to match "$1" | grep -vw default || true
		ip -4 -o addr show to "$1"
	} 2>/dev/null
}

# Prints the first 10.N.0.0/24, N from 214 (the range LXD users rarely take), that no route
# or address of this host touches.
free_subnet() {
	local n
	for n in {214..254} {100..213}; do
		if [[ -z $(in_use "10.$n.0.0/24") ]]; then
			echo "10.$n.0"
			return 0
		fi
	done
	return 1
}

net=
step_bridge() {
	local dev sub mode
	dev=$(profile_device type nic)
	net=${dev#* }
	[[ -n $dev ]] || net=$bridge
	if exists "/1.0/networks/$net"; then
		# LXD 5.0 refuses two running instances of one name, in different projects, on a
		# bridge that registers names in DNS; every member may call a container "box".
		mode=$(lxc query "/1.0/networks/$net" | jq -r '.managed, (.config["dns.mode"] // "managed")' |
			paste -sd ' ')
		if [[ $mode == "true none" || $mode == false* ]]; then
			ok "LXD bridge $net already right"
		else
			lxc network set "$net" dns.mode none >/dev/null
			done_ "set dns.mode=none on LXD bridge $net (members' containers may share names)"
		fi
		return
	fi
	[[ -z $dev ]] || die "the default profile's nic uses network $net, which LXD does not have"
	sub=$(free_subnet) || die "no free 10.N.0.0/24: every one is routed on this host"
	lxc network create "$net" "ipv4.address=$sub.1/24" ipv4.nat=true ipv6.address=none \
		dns.mode=none >/dev/null
	done_ "created LXD bridge $net $sub.0/24 (free on this host; NAT out, no IPv6, no DNS)"
}

step_default_profile() {
	local added=()
	if [[ -z $(profile_device path /) ]]; then
		lxc profile device add default root disk path=/ "pool=$pool" --project default >/dev/null
		added+=("root disk on $pool")
	fi
	if [[ -z $(profile_device type nic) ]]; then
		lxc profile device add default eth0 nic "network=$net" name=eth0 \
			--project default >/dev/null
		added+=("eth0 on $net")
	fi
	if ((${#added[@]})); then
		done_ "default LXD profile: added $(IFS=,; echo "${added[*]}" | sed 's/,/, /g')"
	else
		ok "default LXD profile already right"
	fi
}

# ---- the base image ------------------------------------------------------------------------

# The value of key $1 in the config, else its default. A key set to nothing is "", as
# labcd reads it (web_listen = : no status page).
conf_value() {
	local line=
	if [[ -f $CONF ]]; then
		line=$(grep -E "^[[:space:]]*$1[[:space:]]*=" "$CONF" | tail -n 1 || true)
	fi
	if [[ -n $line ]]; then
		sed 's/^[^=]*=[[:space:]]*//; s/[[:space:]]*$//' <<<"$line"
		return
	fi
	"$SBIN/labcd" -C | sed -n "s/^#$1 = //p"
}

# The image labcd launches when a member gives none: the config's default_image.
default_image() { conf_value default_image; }

# 0 when the image server of REMOTE answers within 5 s.
server_answers() {
	local remote=${image_server%%:*} url
	url=$(lxc remote list --format csv 2>/dev/null | awk -F, -v r="$remote" \
		'$1 == r || $1 == r " (current)" { print $2 }')
	[[ -n $url ]] || return 1
	curl -sf --max-time 5 -o /dev/null "$url/streams/v1/index.json"
}

step_image() {
	local alias key tarball start=$SECONDS
	alias=$(default_image)
	if exists "/1.0/images/aliases/$alias" || exists "/1.0/images/$alias"; then
		ok "base image $alias already there"
		return
	fi
	if [[ -n $image_from ]]; then
		lxc image import "$image_from" --alias "$alias" >/dev/null
		done_ "imported $image_from as image $alias in $((SECONDS - start)) s"
		return
	fi
	if ((use_server)) && server_answers; then
		if lxc image copy "$image_server" local: --alias "$alias" --auto-update \
			>/dev/null 2>&1; then
			done_ "copied $image_server as image $alias in $((SECONDS - start)) s"
			return
		fi
		log "setup: copying $image_server failed; building the image with debootstrap"
	fi
	# No image server: build it as the test bed builds its image (scripts/image.sh).
	# shellcheck source=scripts/image.sh
	. "$ROOT/scripts/image.sh"
	key=$(recipe_key)
	tarball=$CACHE_DIR/labc-base-$key.tar.gz
	[[ -f $tarball ]] || build_image "$tarball" "$key" "labcontainers base image" >&2
	lxc image import "$tarball" --alias "$alias" >/dev/null
	done_ "built image $alias offline with debootstrap (recipe $key) in $((SECONDS - start)) s"
}

# ---- GPUs ----------------------------------------------------------------------------------

# labcd gives containers their GPUs (by PCI address, 'launch --gpu') and the host's
# driver with them: nvidia.runtime on each container given GPUs, where nvidia_runtime
# is yes, or auto (the default) and labcd finds nvidia-container-cli as it starts. That
# is the one mechanism; no LXD profile, which would put NVIDIA's hook into every
# container, GPU or not, and make each one's start depend on the toolkit. This step
# only says what containers will get; a toolkit newer than the running labcd makes
# step_labcd restart it, as labcd decides 'auto' when it starts.
nvidia_cli=
step_gpu() {
	local mode
	if ! command -v nvidia-smi >/dev/null && [[ ! -e /proc/driver/nvidia/version ]]; then
		ok "no NVIDIA driver on this host (no nvidia-smi): nothing to give containers"
		return
	fi
	mode=$(conf_value nvidia_runtime)
	case $mode in yes | true | on | 1) mode=yes ;; no | false | off | 0) mode=no ;; esac
	nvidia_cli=$(command -v nvidia-container-cli || true)
	case $mode:${nvidia_cli:+cli} in
	no:*)
		ok "NVIDIA driver found; nvidia_runtime = no: containers given GPUs get the devices," \
			"not the host's driver (their image needs its own)" ;;
	*:cli)
		ok "NVIDIA driver and $nvidia_cli found: containers given GPUs get the host's driver" \
			"(nvidia_runtime = $mode)" ;;
	yes:)
		ok "NVIDIA driver found, but no nvidia-container-cli though nvidia_runtime = yes:" \
			"containers given GPUs will not start; install NVIDIA's container toolkit" ;;
	*)
		ok "NVIDIA driver found, no nvidia-container-cli: containers given GPUs get the devices," \
			"not the host's driver; install NVIDIA's container toolkit, then run setup.sh again" ;;
	esac
	[[ $mode == auto ]] || nvidia_cli=
}

# ---- configuration and labcd ---------------------------------------------------------------

config_changed=0
# --web-listen A:P: the one key setup.sh sets in labcd.conf (the line web_listen =).
set_web_listen() {
	local f=$1
	if grep -q '^[#[:space:]]*web_listen[[:space:]]*=' "$f"; then
		sed -i "s|^[#[:space:]]*web_listen[[:space:]]*=.*|web_listen = $web_listen|" "$f"
	else
		printf '\nweb_listen = %s\n' "$web_listen" >>"$f"
	fi
}

step_config() {
	if [[ -f $CONF ]]; then
		if [[ $web_listen != - && $(conf_value web_listen) != "$web_listen" ]]; then
			set_web_listen "$CONF"
			config_changed=1
			done_ "set web_listen = $web_listen in $CONF (--web-listen)"
			return
		fi
		ok "$CONF already there (left as it is)"
		return
	fi
	mkdir -p "$CONF_DIR"
	"$SBIN/labcd" -C >"$CONF.tmp"
	[[ $web_listen == - ]] || set_web_listen "$CONF.tmp"
	chmod 644 "$CONF.tmp"
	mv "$CONF.tmp" "$CONF"
	config_changed=1
	done_ "wrote $CONF (every key commented out, with its default$([[ $web_listen == - ]] ||
		echo ", but web_listen = $web_listen"))"
}

socket_path() {
	local v
	v=$(sed -n 's/^[[:space:]]*socket[[:space:]]*=[[:space:]]*//p' "$CONF" | tail -n 1 |
		sed 's/[[:space:]]*$//')
	echo "${v:-$RUN_DIR/labcd.sock}"
}

labc() { "$BIN/labc" -S "$(socket_path)" "$@" </dev/null; }
labcd_answers() { labc whoami >/dev/null 2>&1; }

start_plain() {
	local pid
	mkdir -p "$LOG_DIR" "$RUN_DIR"
	(
		cd /
		for fd in "/proc/$BASHPID/fd"/*; do
			fd=${fd##*/}
			if ((fd > 2)); then exec {fd}>&-; fi
		done
		exec setsid "$SBIN/labcd" -D </dev/null >>"$LOG_DIR/labcd.log" 2>&1
	) &
	pid=$!
	echo "$pid" >"$PID_FILE"
	for _ in {1..100}; do
		labcd_answers && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 5 "$LOG_DIR/labcd.log" >&2 || true
	die "labcd did not start; see $LOG_DIR/labcd.log"
}

stop_plain() {
	local pid
	pid=$(cat "$PID_FILE" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in {1..400}; do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	die "labcd (pid $pid) did not stop within 40 s"
}

# 0 when labcd (pid $1) started before nvidia-container-cli came (its inode's change
# time: dpkg keeps a packaged file's mtime): nvidia_runtime = auto, decided at labcd's
# start, found none then.
cli_newer_than() {
	local start
	[[ -n $nvidia_cli && -n $1 ]] || return 1
	start=$(proc_start "$1") || return 1
	[[ -n $start && -n $(find -L "$nvidia_cli" -newerct "@$start" 2>/dev/null) ]]
}

step_labcd() {
	local restart=$((binaries_changed || config_changed)) running=0 pid
	local why="new binary or config"
	if ((use_systemd)); then
		if ((unit_changed)); then
			systemctl daemon-reload
			restart=1
		fi
		if ! systemctl is-enabled --quiet labcd.service 2>/dev/null; then
			systemctl enable --quiet labcd.service
			restart=1
		fi
		systemctl is-active --quiet labcd.service && running=1
		if ((running && !restart)) &&
			cli_newer_than "$(systemctl show -p MainPID --value labcd.service)"; then
			restart=1
			why="$nvidia_cli is newer: nvidia_runtime = auto turns on"
		fi
		if ((running && !restart)); then
			ok "labcd already running (systemd unit labcd.service)"
		elif ((running)); then
			systemctl restart labcd.service
			done_ "restarted labcd (systemd unit labcd.service, $why)"
		else
			systemctl start labcd.service
			done_ "started labcd (systemd unit labcd.service, enabled at boot)"
		fi
		for _ in {1..100}; do labcd_answers && return 0; sleep 0.1; done
		die "labcd does not answer; see journalctl -u labcd"
	fi
	pid=$(cat "$PID_FILE" 2>/dev/null || true)
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && labcd_answers && running=1
	if ((running && !restart)) && cli_newer_than "$pid"; then
		restart=1
		why="$nvidia_cli is newer: nvidia_runtime = auto turns on"
	fi
	if ((running && !restart)); then
		ok "labcd already running (pid $pid, log $LOG_DIR/labcd.log)"
	elif ((running)); then
		stop_plain
		start_plain
		done_ "restarted labcd (pid $(cat "$PID_FILE"), $why)"
	else
		labcd_answers && die "a labcd not started by setup.sh answers on $(socket_path): stop it first"
		start_plain
		done_ "started labcd in the background (pid $(cat "$PID_FILE"), log $LOG_DIR/labcd.log;" \
			"no systemd)"
	fi
}

# labc-web, the status page: as web_user (an account of its own), never root; asks labcd
# where to listen (web_listen). An empty web_listen: not run.
web_pid() {
	local pid
	pid=$(cat "$WEB_PID_FILE" 2>/dev/null) || return 1
	# " (deleted)": a binary make install has replaced since it started.
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null &&
		[[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$SBIN/labc-web"?(" (deleted)") ]] &&
		echo "$pid"
}

# Not through a proxy the environment names: the page is on this host.
web_answers() { curl -s --noproxy "*" -o /dev/null -m 2 "http://$1/healthz"; }

step_web() {
	local user listen pid restart=$((web_changed || config_changed))
	listen=$(conf_value web_listen)
	if [[ -z $listen ]]; then
		ok "no status page (web_listen is empty in $CONF)"
		return
	fi
	user=$(conf_value web_user)
	case $user in root | nobody | "$(conf_value gateway_user)" | "$(conf_value gateway_keys_user)")
		die "web_user = $user: labc-web needs an account of its own (default labc-web)" ;;
	esac
	if ! id -u "$user" >/dev/null 2>&1; then
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin --comment "labcontainers status page" "$user"
		done_ "made system account $user for labc-web (it may read the lab's status, nothing else)"
	fi
	if ((use_systemd)); then
		# The unit says User=labc-web; another web_user gets a drop-in.
		local dropin=/etc/systemd/system/labc-web.service.d/50-web-user.conf
		local want=
		[[ $user == labc-web ]] ||
			want=$'[Service]\n'"User=$user"$'\n'"Group=$(id -gn "$user")"
		if [[ $want != "$(cat "$dropin" 2>/dev/null)" ]]; then
			if [[ -n $want ]]; then
				mkdir -p "${dropin%/*}"
				printf '%s\n' "$want" >"$dropin"
			else
				rm -f "$dropin"
			fi
			web_changed=1
			restart=1
		fi
		((web_changed)) && systemctl daemon-reload
		systemctl is-enabled --quiet labc-web.service 2>/dev/null ||
			{ systemctl enable --quiet labc-web.service; restart=1; }
		if systemctl is-active --quiet labc-web.service && ((!restart)); then
			ok "labc-web already serving http://$listen/ (systemd unit labc-web.service)"
			return
		fi
		systemctl restart labc-web.service
	else
		if pid=$(web_pid) && ((!restart)); then
			ok "labc-web already serving http://$listen/ (pid $pid)"
			return
		fi
		[[ -n ${pid:-} ]] && kill -TERM "$pid" 2>/dev/null && sleep 0.5
		mkdir -p "$LOG_DIR"
		(
			cd /
			for fd in "/proc/$BASHPID/fd"/*; do
				fd=${fd##*/}
				if ((fd > 2)); then exec {fd}>&-; fi
			done
			exec setsid setpriv --reuid="$user" --regid="$user" --init-groups \
				"$SBIN/labc-web" -S "$(socket_path)" </dev/null >>"$LOG_DIR/labc-web.log" 2>&1
		) &
		echo "$!" >"$WEB_PID_FILE"
	fi
	for _ in {1..50}; do
		if web_answers "$listen" && { ((use_systemd)) || web_pid >/dev/null; }; then
			done_ "started labc-web as $user: the status page is http://$listen/" \
				"($( ((use_systemd)) && echo "systemd unit labc-web.service" ||
					echo "pid $(cat "$WEB_PID_FILE"), log $LOG_DIR/labc-web.log"))"
			return
		fi
		sleep 0.2
	done
	if ((use_systemd)); then
		die "labc-web does not answer on $listen; see journalctl -u labc-web"
	fi
	die "labc-web does not answer on $listen; the end of $LOG_DIR/labc-web.log:"$'\n'"$(
		tail -n 5 "$LOG_DIR/labc-web.log" 2>/dev/null)"
}

step_gateway() {
	local out what=() user
	sshd_prepare
	out=$(labc admin gateway setup --labc "$BIN/labc" 2>&1) ||
		die "labc admin gateway setup failed: $out"
	if ! grep -qv 'right already' <<<"$out"; then
		ok "SSH gateway account and sshd drop-in already right"
		return
	fi
	user=$(sed -n 's/^Made the account \([^ ]*\) (shell.*/\1/p; s/^Set the login shell of \([^ ]*\) .*/\1/p' \
		<<<"$out")
	grep -q '^Made the account [^ ]* (shell' <<<"$out" &&
		what+=("made the account $user (shell $BIN/labc, SSH keys only)")
	grep -q '^Set the login shell' <<<"$out" && what+=("set $user's login shell to $BIN/labc")
	grep -q '^Locked the password' <<<"$out" && what+=("locked the gateway account's password ('*': keys only)")
	grep -q '^Made the account [^ ]* (sshd asks' <<<"$out" &&
		what+=("made the key-lookup account $(sed -n 's/^Made the account \([^ ]*\) (sshd asks.*/\1/p' <<<"$out")")
	if grep -q '^Wrote\|^Updated' <<<"$out"; then
		what+=("$(sed -n 's/^\(Wrote\|Updated\) \([^ ]*\) .*/\L\1\E \2/p' <<<"$out") (sshd -t accepts it)")
	fi
	done_ "SSH gateway: $(IFS=';'; echo "${what[*]}" | sed 's/;/; /g')"
}

# ---- sshd ----------------------------------------------------------------------------------

# What sshd needs before 'sshd -t' (the gateway step's check) or a start accepts anything:
# its privilege separation directory, which systemd's ssh.service (RuntimeDirectory) and
# Debian's init script make and nothing else does, and host keys. step_sshd reports it.
sshd_made=()
sshd_prepare() {
	if [[ ! -d $SSHD_PRIVSEP ]]; then
		install -d -m 0755 -o root -g root "$SSHD_PRIVSEP"
		sshd_made+=("made $SSHD_PRIVSEP")
	fi
	if ! compgen -G '/etc/ssh/ssh_host_*_key' >/dev/null; then
		ssh-keygen -A >/dev/null
		sshd_made+=("made host keys (ssh-keygen -A)")
	fi
}

# The system's sshd: the process whose pid is in its PidFile (/run/sshd.pid, Debian's),
# if that process runs $SSHD; other sshds (a test's, on another port) are not it.
sshd_pid() {
	local pid exe
	if ((use_systemd)); then
		pid=$(systemctl show -p MainPID --value ssh.service 2>/dev/null) || return 1
	else
		pid=$(cat "$SSHD_PID_FILE" 2>/dev/null) || return 1
	fi
	[[ $pid =~ ^[1-9][0-9]*$ ]] || return 1
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
	[[ $exe == "$SSHD" || $exe == "$SSHD (deleted)" ]] || return 1
	echo "$pid"
}

# What step_sshd leaves in $SSHD_LOADED: sshd's pid and the drop-in it loaded.
sshd_loaded_line() { echo "$1 $(sha256sum <"$DROPIN" 2>/dev/null | cut -d' ' -f1)"; }

# When process $1 started, in seconds since the epoch: boot time plus field 22 of
# /proc/PID/stat (clock ticks). The boot time from now and /proc/uptime, to 10 ms:
# /proc/stat's btime is cut to the second.
proc_start() {
	awk -v ticks="$(getconf CLK_TCK)" -v now="$(date +%s.%N)" \
		-v up="$(cut -d' ' -f1 /proc/uptime)" \
		'{ sub(/^.*\) /, ""); printf "%.2f", now - up + $20 / ticks }' "/proc/$1/stat" 2>/dev/null
}

# 0 when sshd $1 runs with the drop-in as it is now: this script started or reloaded it
# since the drop-in last changed, or it started after that (a boot, the admin).
sshd_has_dropin() {
	local pid=$1 start
	[[ -e $DROPIN ]] || return 0
	[[ $(cat "$SSHD_LOADED" 2>/dev/null) == "$(sshd_loaded_line "$pid")" ]] && return 0
	start=$(proc_start "$pid") || return 1
	[[ -n $start && -z $(find "$DROPIN" -newermt "@$start" 2>/dev/null) ]]
}

# 0 once sshd $1 listens (after a start, or the re-exec a SIGHUP makes it do).
sshd_listens() {
	local pid=$1
	for _ in {1..50}; do
		[[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$SSHD"* ]] &&
			ss -Htlnp 2>/dev/null | grep -q "pid=$pid," && return 0
		sleep 0.1
	done
	return 1
}

# sshd running, with the gateway's drop-in loaded: with systemd its unit ssh.service,
# enabled and reloaded; without, $SSHD started in the background (it writes
# $SSHD_PID_FILE) or sent SIGHUP, which makes it read its configuration again.
step_sshd() {
	local pid out what=("${sshd_made[@]}")
	command -v "$SSHD" >/dev/null || die "no $SSHD: install openssh-server (or drop --no-deps)"
	if ((use_systemd)); then
		if ! systemctl is-enabled --quiet ssh.service 2>/dev/null; then
			out=$(systemctl enable ssh.service 2>&1) || die "systemctl enable ssh failed: $out"
			what+=("enabled ssh.service at boot")
		fi
		if ! systemctl is-active --quiet ssh.service; then
			out=$(systemctl start ssh.service 2>&1) ||
				die "systemctl could not start sshd: $out (see journalctl -u ssh)"
			pid=$(sshd_pid) || die "ssh.service runs no $SSHD; see journalctl -u ssh"
			what+=("started sshd (systemd unit ssh.service, pid $pid)")
		else
			pid=$(sshd_pid) || die "ssh.service runs no $SSHD; see journalctl -u ssh"
			if ! sshd_has_dropin "$pid"; then
				out=$(systemctl reload ssh.service 2>&1) ||
					die "systemctl reload ssh failed: $out (see journalctl -u ssh)"
				pid=$(sshd_pid) || die "ssh.service runs no $SSHD after reload"
				what+=("reloaded sshd (systemd unit ssh.service, pid $pid) for the gateway's drop-in")
			fi
		fi
	elif pid=$(sshd_pid); then
		if ! sshd_has_dropin "$pid"; then
			out=$("$SSHD" -t 2>&1) || die "sshd -t refuses the configuration, so sshd was not reloaded: $out"
			kill -HUP "$pid"
			sshd_listens "$pid" || die "sshd (pid $pid) does not listen after SIGHUP; see /var/log/auth.log"
			what+=("reloaded sshd (SIGHUP to pid $pid, from $SSHD_PID_FILE) for the gateway's drop-in")
		fi
	else
		out=$("$SSHD" -t 2>&1) || die "sshd -t refuses the configuration, so sshd was not started: $out"
		# Detached as labcd is; sshd goes to the background by itself once it listens.
		out=$(
			cd /
			for fd in "/proc/$BASHPID/fd"/*; do
				fd=${fd##*/}
				if ((fd > 2)); then exec {fd}>&-; fi
			done
			setsid "$SSHD" </dev/null 2>&1
		) || die "$SSHD did not start: $out"
		for _ in {1..50}; do pid=$(sshd_pid) && break; sleep 0.1; done
		[[ -n $pid ]] && sshd_listens "$pid" ||
			die "$SSHD started, but no sshd pid is in $SSHD_PID_FILE or it does not listen"
		what+=("started sshd in the background (pid $pid, $SSHD_PID_FILE; no systemd)")
	fi
	sshd_loaded_line "$pid" >"$SSHD_LOADED"
	if ((${#what[@]})); then
		out=$(printf '%s; ' "${what[@]}")
		done_ "${out%; }"
	else
		ok "sshd already running with the gateway's drop-in (pid $pid)"
	fi
}

step_admin() {
	local row out pw
	if [[ -z $admin ]]; then
		ok "no first admin to make (root is always one; --admin NAME makes one)"
		return
	fi
	row=$(labc admin user list --format csv | awk -F, -v n="$admin" '$1 == n')
	if [[ $row == "$admin,yes,"* ]]; then
		ok "lab user $admin already an admin"
		return
	elif [[ -n $row ]]; then
		ok "lab user $admin already there, not an admin (left as it is)"
		return
	fi
	out=$(labc admin user add "$admin" --admin 2>&1) || die "labc admin user add failed: $out"
	pw=$(sed -n "s/^Password for $admin: //p" <<<"$out")
	done_ "made lab user $admin the first admin; password (shown once, nowhere stored): $pw"
}

start=$SECONDS
step_packages
step_build
step_install
step_limits
step_lxd_running
lxc_quiet_welcome
step_pool
step_bridge
step_default_profile
step_config
step_image
step_gpu
step_labcd
step_web
step_gateway
step_sshd
step_admin
next="log in with: labc login${admin:+ $admin}"
labc help admin doctor >/dev/null 2>&1 && next="check it with: labc admin doctor"
if ((changes)); then
	echo "labcontainers is set up: $changes changes in $((SECONDS - start)) s; $next"
else
	echo "labcontainers was set up already: nothing changed; $next"
fi
