# bench/lib.sh - sourced by bench/run: messages, timing, figures and their
# statistics, the table and the JSON file, private labcd instances, and the
# clean-up that removes every LXD project named labcb-* at the end.
#
# Conventions: every timed sample is in milliseconds (ms, 3 decimals), every
# memory figure in KiB; the table converts for reading.  Samples of figure ID
# are lines of $W/s/ID.

# ---- messages -----------------------------------------------------------------------

say() { printf 'bench: %s\n' "$*" >&2; }
die() {
	say "error: $*"
	exit 1
}

# ---- timing -------------------------------------------------------------------------

# EPOCHREALTIME is a bash builtin variable (microseconds, no fork): the
# clock read costs nothing next to what is measured, unlike $(date +%s%N).
now_us() { printf -v "$1" '%s' "${EPOCHREALTIME/./}"; }

# ms_between T0 T1 VAR: the milliseconds (3 decimals) between two now_us.
ms_between() {
	local d=$(($2 - $1))
	printf -v "$3" '%d.%03d' $((d / 1000)) $((d % 1000))
}

# tm CMD...: run CMD with its output in $W/last.out; the wall time in ms is
# left in TM.  The output is appended to the command log afterwards, outside
# the timed part.  Returns CMD's status.
TM='' TM_T0='' TM_T1=''
tm() {
	local rc=0
	now_us TM_T0
	"$@" >"$W/last.out" 2>&1 || rc=$?
	now_us TM_T1
	ms_between "$TM_T0" "$TM_T1" TM
	{
		printf '## %s (rc %d, %s ms)\n' "$*" "$rc" "$TM"
		cat "$W/last.out"
	} >>"$CMDLOG"
	return "$rc"
}

# tm_stamped CMD...: like tm, but each line CMD writes on stderr (labc's
# progress) is also kept in $W/last.err with the microsecond it arrived.
tm_stamped() {
	local rc=0
	now_us TM_T0
	{ "$@" 2>&1 >"$W/last.out" | stamp >"$W/last.err"; } || rc=$?
	now_us TM_T1
	ms_between "$TM_T0" "$TM_T1" TM
	{
		printf '## %s (rc %d, %s ms)\n' "$*" "$rc" "$TM"
		cat "$W/last.out" "$W/last.err"
	} >>"$CMDLOG"
	return "$rc"
}

stamp() {
	local line
	while IFS= read -r line; do printf '%s %s\n' "${EPOCHREALTIME/./}" "$line"; done
}

# must CMD...: tm, and stop the benchmark if CMD fails twice - once is
# forgiven after LXD answers again (a concurrent test run may restart it).
# Only for commands that may run twice (the read-only ones).
must() {
	tm "$@" && return 0
	say "warning: failed, once more when LXD answers: $*"
	sleep 3
	lxd waitready --timeout 180 >/dev/null 2>&1 || true
	tm "$@" || {
		tail -n 20 "$W/last.out" >&2
		die "failed: $*"
	}
}

# run_logged CMD...: untimed, output to the command log; stops on failure.
run_logged() {
	printf '## %s\n' "$*" >>"$CMDLOG"
	"$@" >>"$CMDLOG" 2>&1 || {
		tail -n 20 "$CMDLOG" >&2
		die "failed: $*"
	}
}

# ---- figures --------------------------------------------------------------------------
#
# figure ID CASE KIND UNIT LABEL [key=value...]
#   KIND   time (samples in ms), mem (one value in KiB), count (one number),
#          ratio (NUM/DEN medians)
#   UNIT   how the table shows it: ms, s, MiB, KiB, req
#   keys   base=ID      the baseline: the table shows this figure's ratio to it
#          num=ID den=ID for KIND ratio
#          target=EXPR  "ratio <= 0.25", "median <= 5", "value <= 8192" (same
#                       unit as stored: ms or KiB); PASS/MISS is printed
#          goal=TEXT    how the target reads in the table
#          note=TEXT    a remark printed under the table

FIGS=()
declare -A F_CASE F_KIND F_UNIT F_LABEL F_BASE F_NUM F_DEN F_TARGET F_GOAL F_NOTE F_VALUE

figure() {
	local id=$1 kv
	[[ -n ${F_KIND[$id]+x} ]] || FIGS+=("$id")
	F_CASE[$id]=$2 F_KIND[$id]=$3 F_UNIT[$id]=$4 F_LABEL[$id]=$5
	shift 5
	for kv in "$@"; do
		case $kv in
		base=*) F_BASE[$id]=${kv#base=} ;;
		num=*) F_NUM[$id]=${kv#num=} ;;
		den=*) F_DEN[$id]=${kv#den=} ;;
		target=*) F_TARGET[$id]=${kv#target=} ;;
		goal=*) F_GOAL[$id]=${kv#goal=} ;;
		note=*) F_NOTE[$id]=${kv#note=} ;;
		*) die "figure $id: bad key $kv" ;;
		esac
	done
}

# sample ID MS: one more sample of a time figure.
sample() { echo "$2" >>"$W/s/$1"; }

# value ID KIB: the one value of a memory figure.
value() { F_VALUE[$1]=$2; }

# note ID TEXT: set or replace a figure's remark.
note() { F_NOTE[$1]=$2; }

# is_base ID: is ID another figure's baseline?
is_base() {
	local b
	for b in "${F_BASE[@]}"; do [[ $b != "$1" ]] || return 0; done
	return 1
}

# stats ID: "median min max n" of a time figure's samples (empty if none).
stats() {
	[[ -s $W/s/$1 ]] || return 0
	sort -g "$W/s/$1" | awk '
		{ v[NR] = $1 }
		END {
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.3f %.3f %.3f %d\n", m, v[1], v[NR], NR
		}'
}

median_of() {
	local s
	case ${F_KIND[$1]:-time} in
	mem | count) echo "${F_VALUE[$1]:-}"; return 0 ;;
	esac
	s=$(stats "$1")
	echo "${s%% *}"
}

# ratio_of NUM DEN: the ratio of two figures' medians (empty if either is missing).
ratio_of() {
	local a b
	a=$(median_of "$1")
	b=$(median_of "$2")
	[[ -n $a && -n $b ]] || return 0
	awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.3f\n", a / b }'
}

# verdict ID: PASS, MISS, or nothing when the figure has no target or no data.
verdict() {
	local id=$1 t=${F_TARGET[$1]:-} what op lim x=
	[[ -n $t ]] || return 0
	read -r what op lim <<<"$t"
	case $what in
	ratio) x=$(fig_ratio "$id") ;;
	median) x=$(median_of "$id") ;;
	value) x=${F_VALUE[$id]:-} ;;
	esac
	[[ -n $x ]] || return 0
	awk -v x="$x" -v op="$op" -v l="$lim" 'BEGIN {
		ok = op == "<=" ? x <= l : op == ">=" ? x >= l : op == "<" ? x < l : x > l
		print ok ? "PASS" : "MISS"
	}'
}

# fig_ratio ID: the ratio the table shows for ID (to its base, or num/den).
fig_ratio() {
	local id=$1
	if [[ ${F_KIND[$id]} == ratio ]]; then
		ratio_of "${F_NUM[$id]}" "${F_DEN[$id]}"
	elif [[ -n ${F_BASE[$id]:-} ]]; then
		ratio_of "$id" "${F_BASE[$id]}"
	fi
}

# fmt UNIT X: a stored value (ms or KiB) for reading in UNIT.
fmt() {
	awk -v u="$1" -v x="$2" 'BEGIN {
		if (u == "s") x /= 1000
		if (u == "MiB") x /= 1024
		if (u == "KiB" || u == "req" || u == "MiB" && x >= 100) { printf "%.0f", x; exit }
		a = x < 0 ? -x : x
		f = a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : "%.2f"
		printf f, x
	}'
}

# ---- the table ----------------------------------------------------------------------

# row CELL...: one line of the table, each cell padded to its column's width
# in characters (UTF-8: the dashes and signs are one column each).
COLW=(4 56 26 7 17 4)
row() {
	local LC_ALL=C.UTF-8 s line='' i=0 w
	for s in "$@"; do
		w=${COLW[i]}
		i=$((i + 1))
		line+=$s
		if ((${#s} < w)); then printf -v line '%s%*s' "$line" $((w - ${#s})) ''; fi
		line+=' '
	done
	line=${line%"${line##*[! ]}"}
	printf '%s\n' "$line"
}

print_table() {
	local id c last='' label cell ratio v s med min max n
	row case figure 'median (min–max)' ratio target ''
	printf '%s\n' "$(printf '%.0s-' {1..118})"
	for id in "${FIGS[@]}"; do
		c=${F_CASE[$id]}
		[[ $c == "$last" ]] || { [[ -z $last ]] || echo; }
		last=$c
		label=${F_LABEL[$id]}
		cell='' ratio=''
		case ${F_KIND[$id]} in
		time)
			s=$(stats "$id")
			if [[ -z $s ]]; then
				cell='(not measured)'
			else
				read -r med min max n <<<"$s"
				cell="$(fmt "${F_UNIT[$id]}" "$med") ${F_UNIT[$id]} ($(fmt "${F_UNIT[$id]}" "$min")–$(fmt "${F_UNIT[$id]}" "$max"))"
				[[ $n -gt 1 ]] || cell="$(fmt "${F_UNIT[$id]}" "$med") ${F_UNIT[$id]} (1 run)"
			fi
			ratio=$(fig_ratio "$id")
			[[ -n ${F_BASE[$id]:-} ]] || ! is_base "$id" || ratio=base
			;;
		mem | count)
			v=${F_VALUE[$id]:-}
			if [[ -n $v ]]; then cell="$(fmt "${F_UNIT[$id]}" "$v") ${F_UNIT[$id]}"; else cell='(not measured)'; fi
			if [[ ${F_KIND[$id]} == count ]]; then
				ratio=$(fig_ratio "$id")
				[[ -n ${F_BASE[$id]:-} ]] || ! is_base "$id" || ratio=base
			fi
			;;
		ratio)
			ratio=$(fig_ratio "$id")
			cell='-'
			;;
		esac
		[[ $ratio == base || -z $ratio ]] || ratio=$(awk -v r="$ratio" 'BEGIN { printf "%.2f", r }')
		row "$c" "$label" "$cell" "${ratio:--}" "${F_GOAL[$id]:-}" "$(verdict "$id")"
	done
	echo
	for id in "${FIGS[@]}"; do
		[[ -z ${F_NOTE[$id]:-} ]] || printf '* %s: %s\n' "${F_LABEL[$id]}" "${F_NOTE[$id]}"
	done
	for id in "${FIGS[@]}"; do
		[[ ${F_KIND[$id]} == count && -s $W/req/$id ]] || continue
		printf '\nLXD requests of "%s" (%s):\n' "${F_LABEL[$id]# }" "${F_VALUE[$id]}"
		sort "$W/req/$id" | uniq -c | sort -rn | sed 's/^/  /'
	done
}

# ---- the JSON file --------------------------------------------------------------------

# js TEXT: TEXT as a JSON string.
js() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\t'/\\t}
	s=${s//$'\n'/\\n}
	printf '"%s"' "$s"
}

# jnum X: X as a JSON number, or null when empty.
jnum() { if [[ -n $1 ]]; then printf '%s' "$1"; else printf null; fi; }

write_json() {
	local id first=1 s med min max n samples k sep
	{
		printf '{\n  "schema": "labcontainers-bench/1",\n'
		printf '  "date": %s,\n' "$(js "$RUN_DATE")"
		printf '  "command": %s,\n' "$(js "$RUN_CMD")"
		printf '  "wall_s": %s,\n' "$((SECONDS))"
		printf '  "options": {'
		sep=
		for k in "${!OPT[@]}"; do
			printf '%s%s: %s' "$sep" "$(js "$k")" "$(js "${OPT[$k]}")"
			sep=', '
		done
		printf '},\n  "machine": {\n'
		sep=
		for k in "${MACHINE_KEYS[@]}"; do
			printf '%s    %s: %s' "$sep" "$(js "$k")" "${MACHINE[$k]}"
			sep=$',\n'
		done
		printf '\n  },\n  "results": [\n'
		for id in "${FIGS[@]}"; do
			[[ $first == 1 ]] || printf ',\n'
			first=0
			printf '    {"id": %s, "case": %s, "kind": %s, "label": %s' "$(js "$id")" \
				"${F_CASE[$id]}" "$(js "${F_KIND[$id]}")" "$(js "${F_LABEL[$id]}")"
			case ${F_KIND[$id]} in
			time)
				s=$(stats "$id")
				med='' min='' max='' n=0 samples=''
				[[ -z $s ]] || read -r med min max n <<<"$s"
				[[ ! -s $W/s/$id ]] || samples=$(paste -sd, "$W/s/$id")
				printf ', "unit": "ms", "median": %s, "min": %s, "max": %s, "n": %s, "samples": [%s]' \
					"$(jnum "$med")" "$(jnum "$min")" "$(jnum "$max")" "$n" "$samples"
				;;
			mem)
				printf ', "unit": "KiB", "value": %s' "$(jnum "${F_VALUE[$id]:-}")"
				;;
			count)
				printf ', "unit": %s, "value": %s' "$(js "${F_UNIT[$id]}")" "$(jnum "${F_VALUE[$id]:-}")"
				if [[ -s $W/req/$id ]]; then
					printf ', "requests": ['
					sep=''
					while IFS= read -r k; do printf '%s%s' "$sep" "$(js "$k")"; sep=', '; done <"$W/req/$id"
					printf ']'
				fi
				;;
			ratio)
				printf ', "numerator": %s, "denominator": %s' "$(js "${F_NUM[$id]}")" \
					"$(js "${F_DEN[$id]}")"
				;;
			esac
			[[ -z ${F_BASE[$id]:-} ]] || printf ', "baseline": %s' "$(js "${F_BASE[$id]}")"
			[[ ${F_KIND[$id]} != ratio && -z ${F_BASE[$id]:-} ]] ||
				printf ', "ratio": %s' "$(jnum "$(fig_ratio "$id")")"
			if [[ -n ${F_TARGET[$id]:-} ]]; then
				printf ', "target": %s, "verdict": %s' "$(js "${F_TARGET[$id]}")" \
					"$(js "$(verdict "$id")")"
			fi
			[[ -z ${F_NOTE[$id]:-} ]] || printf ', "note": %s' "$(js "${F_NOTE[$id]}")"
			printf '}'
		done
		printf '\n  ]\n}\n'
	} >"$1"
}

# ---- the machine ------------------------------------------------------------------------

MACHINE_KEYS=()
declare -A MACHINE
machine() {
	MACHINE_KEYS+=("$1")
	MACHINE[$1]=$2
}

# pool_driver POOL: the storage driver of an LXD pool.
pool_driver() { lxc storage show "$1" 2>/dev/null | awk '$1 == "driver:" { print $2 }'; }

describe_machine() {
	local commit dirty
	commit=$(git -C "$TOP" rev-parse HEAD 2>/dev/null || echo unknown)
	dirty=false
	[[ -z $(git -C "$TOP" status --porcelain -- src Makefile 2>/dev/null) ]] || dirty=true
	machine nproc "$(nproc)"
	machine cpu "$(js "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)")"
	machine mem_total_kib "$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
	machine kernel "$(js "$(uname -r)")"
	machine os "$(js "$(. /etc/os-release && echo "$PRETTY_NAME")")"
	machine lxd_version "$(js "$(lxd --version 2>/dev/null || echo unknown)")"
	machine lxc_version "$(js "$(lxc version 2>/dev/null | tr '\n' ';' | sed 's/;$//')")"
	machine pools "{$(js "$LABCT_POOL_DIR"): $(js "$(pool_driver "$LABCT_POOL_DIR")")${LABCT_POOL_BT:+, $(js "$LABCT_POOL_BT"): $(js "$(pool_driver "$LABCT_POOL_BT")")}}"
	machine main_pool "$(js "$POOL_NAME ($(pool_driver "$POOL_NAME"))")"
	machine image "$(js "$LABCT_IMAGE ${LABCT_IMAGE_FP:0:12}")"
	machine labcontainers_commit "$(js "$commit")"
	machine labcontainers_src_modified "$dirty"
	machine build "$(js "build/labcd, build/labc: the plain build (make, -O2), copied aside for the run")"
	machine bash "$(js "$BASH_VERSION")"
	LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
	machine loadavg_start "$(js "$LOAD_START")"
	LXD_PID0=$(lxd_pid)
}

# lxd_pid: the LXD daemon's pid (as scripts/testbed.sh finds it).
lxd_pid() {
	ss -Hxlp src "${LXD_SOCKET:-/var/lib/lxd/unix.socket}" 2>/dev/null |
		sed -n 's/.*pid=\([0-9]*\).*/\1/p;T;q'
}

# lxd_restarted: say so when LXD is not the daemon we started with (another
# engineer's test run restarts it: tests/t0200 does).
lxd_restarted() {
	local now
	now=$(lxd_pid)
	[[ -n ${LXD_PID0:-} && $now != "$LXD_PID0" ]] || return 1
	echo "LXD was restarted during the run (pid $LXD_PID0 -> ${now:-none})"
}

# watch_others: remember LXD projects that are not ours (another engineer's
# test run, e.g. labct-r*): they share the machine and perturb timings.
watch_others() {
	lxc query /1.0/projects 2>/dev/null |
		sed -n 's|.*"/1.0/projects/\([^"?]*\)".*|\1|p' |
		grep -v -e '^default$' -e '^labcb-' >>"$W/others" || true
	pgrep -f 'tests/run|tests/t[0-9]' >/dev/null 2>&1 && echo "(test suite running)" >>"$W/others"
	return 0
}

# ---- private labcd instances ------------------------------------------------------------
#
# One per storage pool ("dir", "btrfs"), each with its own socket, database,
# config and log under $W, an LXD project prefix labcb-d- / labcb-b- and its
# own range of SSH ports.

declare -A LD_PID LD_SOCK LD_DB LD_PREFIX
LD_ORDER=()

# port_listen: where labcd's container ports listen: the loopback, or for
# LXD's NAT (which forwards nothing that arrives on it) the test bridge's
# gateway address.
port_listen() {
	if [[ ${PORT_MODE:-proxy} == nat ]]; then echo "$LABCT_GATEWAY"; else echo 127.0.0.1; fi
}

# start_labcd POOLKIND [CONFIG-LINE...]
# shellcheck disable=SC2034  # LD_DB, LD_PREFIX: used by cases.sh
start_labcd() {
	local k=$1 d=$W/labcd-$1 profile ports prefix i
	shift
	[[ -z ${LD_PID[$k]:-} ]] || return 0
	case $k in
	dir) profile=$LABCT_PROFILE ports=64110-64349 prefix=labcb-d- ;;
	btrfs) profile=$LABCT_PROFILE_BT ports=64350-64589 prefix=labcb-b- ;;
	# case 6: no containers; its socket where the gateway's sshd and
	# its users (not root) reach it, not in the private $W
	gw) profile=$LABCT_PROFILE ports=64000-64099 prefix=labcb-g- d=$GW_DIR/labcd ;;
	esac
	mkdir -p "$d"
	cat >"$d/labcd.conf" <<-EOF
	# written by bench/run
	project_prefix = $prefix
	default_image = $LABCT_IMAGE
	profiles = $profile
	ssh_listen = $(port_listen)
	ssh_port_mode = $PORT_MODE
	seed_containers = $SEEDS
	ssh_ports = $ports
	# No default quota: a population may give a user more than 5.
	quota_containers =
	EOF
	[[ $# -eq 0 ]] || printf '%s\n' "$@" >>"$d/labcd.conf"
	"$LABCD" -f "$d/labcd.conf" -S "$d/sock" -d "$d/labc.db" -D >>"$d/labcd.log" 2>&1 </dev/null &
	LD_PID[$k]=$!
	LD_SOCK[$k]=$d/sock LD_DB[$k]=$d/labc.db LD_PREFIX[$k]=$prefix
	[[ " ${LD_ORDER[*]} " == *" $k "* ]] || LD_ORDER+=("$k")
	for ((i = 0; i < 100; i++)); do
		[[ -S $d/sock ]] && return 0
		kill -0 "${LD_PID[$k]}" 2>/dev/null || break
		sleep 0.1
	done
	cat "$d/labcd.log" >&2
	die "labcd ($k) did not start"
}

# stop_labcd POOLKIND: stop it (SIGTERM) and wait for it.
stop_labcd() {
	[[ -n ${LD_PID[$1]:-} ]] || return 0
	kill -TERM "${LD_PID[$1]}" 2>/dev/null || true
	wait "${LD_PID[$1]}" 2>/dev/null || true
	LD_PID[$1]=''
}

stop_labcds() {
	local k
	for k in "${LD_ORDER[@]}"; do stop_labcd "$k"; done
}

# lc POOLKIND ARGS...: labc against that labcd, as root, with a private HOME
# (labc keeps session files there) and no XDG_RUNTIME_DIR.
lc() {
	local k=$1
	shift
	HOME=$W/home XDG_RUNTIME_DIR='' "$LABC" -S "${LD_SOCK[$k]}" "$@"
}

# rss_kib POOLKIND [FIELD]: VmRSS (or RssAnon, RssFile, VmHWM) of that labcd.
rss_kib() { awk -v f="${2:-VmRSS}:" '$1 == f { print $2 }' "/proc/${LD_PID[$1]}/status"; }

# labcd_idle KIND: wait (at most 120 s) until that labcd has used no CPU
# for 3 s: the background work a burst of LXD events woke (reconciliation
# passes, the view's lookups) is over, and what it holds is what it keeps.
labcd_idle() {
	local pid=${LD_PID[$1]} i t last=-1 same=0
	for ((i = 0; i < 120 && same < 3; i++)); do
		t=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
		if ((t == last)); then same=$((same + 1)); else same=0; fi
		last=$t
		sleep 1
	done
}

# add_users POOLKIND NAME...: lab users that do not exist yet.
add_users() {
	local k=$1 u have
	shift
	have=$(lc "$k" admin user list --format csv | cut -d, -f1)
	for u in "$@"; do
		grep -qx "$u" <<<"$have" || run_logged lc "$k" admin user add "$u" </dev/null
	done
}

# ---- LXD helpers ------------------------------------------------------------------------

# lxc_project NAME: an LXD project like labcd makes (images and profiles of
# the default project).
lxc_project() {
	lxc project show "$1" >/dev/null 2>&1 ||
		run_logged lxc project create "$1" -c features.images=false -c features.profiles=false
}

# wait_ssh NAME PROJECT: wait until sshd inside answers on 127.0.0.1:22 with
# its "SSH-" banner - what labcd checks through the forwarded port. One lxc
# exec; the polling (every 0.1 s, at most 60 s) runs inside the container.
wait_ssh() {
	# timeout: LXD 5.0's exec has been seen to hang its client for good
	# shellcheck disable=SC2016
	timeout -s KILL 90 lxc exec "$1" --project "$2" -- bash -c '
		for i in $(seq 600); do
			(exec 3<>/dev/tcp/127.0.0.1/22 && head -c4 <&3 | grep -q SSH-) 2>/dev/null && exit 0
			sleep 0.1
		done
		exit 1'
}

# The request counter: bench/lxdcount.c, a proxy in front of LXD's socket
# that writes down each HTTP request passing through it. labcd goes through
# it when started with "lxd_socket = $COUNTER_SOCK", lxc with
# LXD_SOCKET=$COUNTER_SOCK (via_counter). Only what goes through it counts,
# so other clients of LXD (a concurrent test run) do not.
COUNTER_PID=''
start_counter() {
	COUNTER_SOCK=$W/lxdcount.sock
	: >"$W/lxdcount.log"
	"$LXDCOUNT" "$COUNTER_SOCK" "$LXD_SOCKET" "$W/lxdcount.log" 2>>"$W/lxdcount.err" &
	COUNTER_PID=$!
	local i
	for ((i = 0; i < 50; i++)); do
		[[ -S $COUNTER_SOCK ]] && return 0
		sleep 0.1
	done
	die "the request counter (bench/lxdcount) did not start"
}

stop_counter() {
	[[ -n $COUNTER_PID ]] || return 0
	kill "$COUNTER_PID" 2>/dev/null || true
	wait "$COUNTER_PID" 2>/dev/null || true
	COUNTER_PID=''
}

via_counter() { LXD_SOCKET=$COUNTER_SOCK "$@"; }

# counter_quiet: wait until labcd has made no LXD request through the counter
# for 2 s (at most 60 s): its start-up (the reconciler's pass, the view's
# load and the leases it looks for) is not any command's.
counter_quiet() {
	local i n last=-1 same=0
	for ((i = 0; i < 300 && same < 10; i++)); do
		n=$(wc -l <"$W/lxdcount.log")
		if ((n == last)); then same=$((same + 1)); else same=0; fi
		last=$n
		sleep 0.2
	done
}

# lxd_requests ID CMD...: run CMD (untimed); the LXD requests that passed the
# counter meanwhile become count figure ID, their list $W/req/ID ("METHOD
# PATH", operation ids as {op}). Returns CMD's status.
lxd_requests() {
	local id=$1 from rc=0
	shift
	mkdir -p "$W/req"
	from=$(wc -l <"$W/lxdcount.log")
	printf '## %s (requests counted)\n' "$*" >>"$CMDLOG"
	"$@" >>"$CMDLOG" 2>&1 || rc=$?
	sleep 0.2
	((rc == 0)) || return "$rc"
	tail -n +"$((from + 1))" "$W/lxdcount.log" |
		sed -e 's/[0-9a-f]\{8\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{12\}/{op}/g' \
			-e 's/[0-9a-f]\{64\}/{fingerprint}/g' >"$W/req/$id"
	value "$id" "$(wc -l <"$W/req/$id")"
}

# ---- kernel limits ----------------------------------------------------------------------------
#
# Every unprivileged container's root is the same host uid, and each Debian
# container's systemd takes several inotify instances: with the kernel's
# default fs.inotify.max_user_instances (128) the 25th or so container dies
# at boot ("Failed to create control group inotify object: Too many open
# files"). For the run, the limits are raised to what LXD's production setup
# asks for, where lower, and put back at the end.

SYSCTL_RESTORE=()
LIMITS_NOTE=''
raise_limits() {
	local kv k want cur
	for kv in fs.inotify.max_user_instances=1024 kernel.keys.maxkeys=2000 \
		kernel.keys.maxbytes=2000000; do
		k=${kv%=*} want=${kv#*=}
		cur=$(sysctl -n "$k" 2>/dev/null) || continue
		((cur < want)) || continue
		sysctl -qw "$k=$want" || { say "warning: cannot raise $k to $want"; continue; }
		SYSCTL_RESTORE+=("$k=$cur")
		LIMITS_NOTE+="${LIMITS_NOTE:+, }$k $cur → $want"
	done
	[[ -z $LIMITS_NOTE ]] || say "raised for the run (put back at the end): $LIMITS_NOTE"
}

restore_limits() {
	local kv
	for kv in "${SYSCTL_RESTORE[@]}"; do sysctl -qw "$kv" || true; done
	SYSCTL_RESTORE=()
}

# ---- clean-up ------------------------------------------------------------------------------

cleanup_lxd() {
	bash "$TOP/scripts/testbed.sh" cleanup labcb- >>"$W/cleanup.log" 2>&1 ||
		say "warning: 'scripts/testbed.sh cleanup labcb-' failed; see $W/cleanup.log"
}

# on_exit: stop what we started, remove every labcb-* LXD project, keep the
# logs of a failed run.
on_exit() {
	local rc=$? pid k
	trap - EXIT INT TERM
	set +e
	for pid in $(jobs -p); do
		case " ${LD_PID[*]} " in *" $pid "*) ;; *) kill "$pid" 2>/dev/null ;; esac
	done
	stop_labcds
	stop_counter
	gw_cleanup
	if [[ ${CLEANUP_NEEDED:-0} == 1 ]]; then
		say "removing the benchmark's LXD projects (labcb-*)"
		cleanup_lxd
	fi
	restore_limits
	if [[ $rc -ne 0 ]] && lxd_restarted >/dev/null; then
		say "$(lxd_restarted): probably by a concurrent test run; rerun when it is done"
	fi
	if [[ $rc -ne 0 && -d ${W:-} ]]; then
		mkdir -p "$BENCH/results/failed-logs"
		cp "$W"/*.log "$BENCH/results/failed-logs/" 2>/dev/null
		for k in "${LD_ORDER[@]}"; do
			cp "$W/labcd-$k/labcd.log" "$BENCH/results/failed-logs/labcd-$k.log" 2>/dev/null
		done
		say "failed (status $rc); logs kept in bench/results/failed-logs/"
	fi
	[[ -z ${W:-} ]] || rm -rf "$W"
	exit "$rc"
}
