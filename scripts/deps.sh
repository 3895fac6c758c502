#!/bin/bash
# Installs every package needed to build and test labcontainers on Debian 12.
# A machine that already has them all is left alone: no apt-get call at all.
#
#   deps.sh             build, run and test (what tests/run needs)
#   deps.sh --setup     build and run only (what setup.sh needs)
#   --dry-run           print the missing packages, one line, and install nothing
set -euo pipefail

BUILD=(gcc make pkg-config libcurl4-openssl-dev libjansson-dev libsqlite3-dev
	libsodium-dev libedit-dev libssl-dev libmicrohttpd-dev libgnutls28-dev zlib1g-dev)
# Real LXD (dnsmasq-base and nftables are only Recommends of lxd but its bridge needs
# them for DHCP and its firewall rules), the offline image build, a btrfs pool, the SSH
# gateway, what setup.sh calls, and the sqlite3 CLI of the backup runbook and doctor's
# database fix.
RUNTIME=(lxd dnsmasq-base nftables debootstrap btrfs-progs openssh-server curl jq
	ca-certificates iproute2 procps sqlite3)
TEST=(openssh-client valgrind tmux clang
	# the Debian package (tests/t0030-package.sh) and its manual pages
	debhelper dpkg-dev man-db groff-base
	# bench/ case 7's baseline: a plain relay on the host
	netcat-openbsd
	# t0235: an xz tarball, which import refuses
	xz-utils
	# the status page in a real browser, and /metrics through a real
	# Prometheus parser (promtool check metrics)
	chromium chromium-driver prometheus)

setup=0 dry=0
for arg; do
	case $arg in
	--setup) setup=1 ;;
	--dry-run) dry=1 ;;
	*) echo "usage: $0 [--setup] [--dry-run]" >&2; exit 2 ;;
	esac
done
PACKAGES=("${BUILD[@]}" "${RUNTIME[@]}")
((setup)) || PACKAGES+=("${TEST[@]}")

missing=()
declare -A installed=()
while IFS=' ' read -r pkg status; do
	if [[ $status == installed ]]; then installed[$pkg]=1; fi
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
for pkg in "${PACKAGES[@]}"; do
	[[ -n ${installed[$pkg]:-} ]] || missing+=("$pkg")
done
if ((dry)); then
	echo "${missing[*]}"
	exit 0
fi
((${#missing[@]} == 0)) && exit 0

echo "deps: installing ${missing[*]}" >&2
log=$(mktemp /tmp/labct-deps.XXXXXX)
export DEBIAN_FRONTEND=noninteractive
# prometheus is installed for its promtool, not for a server on :9090:
# no service starts while it installs (unless a policy-rc.d already says).
policy=
if [[ " ${missing[*]} " == *" prometheus "* && ! -e /usr/sbin/policy-rc.d ]]; then
	policy=/usr/sbin/policy-rc.d
	printf '#!/bin/sh\n# deps.sh: no service starts while it installs\nexit 101\n' \
		>"$policy"
	chmod 755 "$policy"
fi
trap 'rm -f "$log" ${policy:+"$policy"}' EXIT
if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
	</dev/null >"$log" 2>&1; then
	tail -n 30 "$log" >&2
	echo "deps: apt-get failed (last lines above)" >&2
	exit 1
fi
