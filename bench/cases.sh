# bench/cases.sh - sourced by bench/run: the benchmark cases. Each case
# declares its figures, then measures labcontainers and its LXD baseline
# interleaved (A B A B ...) so that drift of the machine hits both alike.
#
# MAIN is the labcd instance (storage pool kind) of cases 1, 3, 4 and 5.

# ---- the population: N running containers across M users (cases 1, 4, 5) ---------------

POPULATED=0

pop_user() { printf 'c%02d' "$1"; }

# ensure_population: N containers (box1, box2, ...) spread round-robin over
# users c01..cM, launched through labcd, each user's in a stream of its own.
ensure_population() {
	local u i k per pids=() failed=0 pid
	if ((POPULATED)); then
		pop_heal
		return 0
	fi
	local users=()
	for ((i = 1; i <= M; i++)); do users+=("$(pop_user "$i")"); done
	add_users "$MAIN" "${users[@]}"
	say "population: launching $N containers for $M users (through labcd, $POOL_NAME)"
	local t0 t1 ms
	now_us t0
	for ((i = 1; i <= M; i++)); do
		u=$(pop_user "$i")
		per=$(((N - i) / M + 1))
		((i <= N)) || per=0
		(
			for ((k = 1; k <= per; k++)); do
				pop_launch "$u" "box$k" || exit 1
			done
		) >"$W/pop-$u.log" 2>&1 &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
	now_us t1
	ms_between "$t0" "$t1" ms
	cat "$W"/pop-*.log >>"$CMDLOG"
	((failed == 0)) || { tail -n 20 "$W"/pop-*.log >&2; die "population: a launch failed"; }
	pop_heal
	say "population: $N containers running ($(fmt s "$ms") s)"
	POPULATED=1
}

# pop_launch USER NAME: labc launch, up to three times: LXD may fail one by
# itself, or be restarted under it by a concurrent test run.
pop_launch() {
	for _ in 1 2 3; do
		lc "$MAIN" --as "$1" launch "$2" && return 0
		sleep 3
		lxd waitready --timeout 180 >/dev/null 2>&1 || return 1
	done
	return 1
}

# pop_heal: every container of the population running (launch again any
# that is not, e.g. after an LXD restart), or stop the benchmark.
pop_heal() {
	local owner name state running
	while IFS=, read -r owner name state _; do
		[[ $owner =~ ^c[0-9]+$ && $name =~ ^box[0-9]+$ && $state != running ]] || continue
		say "population: $owner's $name is $state; launching it again"
		pop_launch "$owner" "$name" >>"$CMDLOG" 2>&1 || die "population: cannot launch $owner's $name"
	done < <(lc "$MAIN" list --all --format csv)
	running=$(lc "$MAIN" list --all --format csv | grep -Ec '^c[0-9]+,box[0-9]+,running,')
	[[ $running == "$N" ]] || die "population: $running of $N containers running"
}

# ---- case 1: list ------------------------------------------------------------------------

case_list() {
	local r lxd_all
	figure list.labc 1 time ms "labc list --all ($N running, $M users)" base=list.lxc \
		target="ratio <= 0.05" goal="≤ 0.05× lxc"
	figure list.lxc 1 time ms "lxc list --all-projects"
	figure list.lxccsv 1 time ms "lxc list --all-projects --format csv"
	figure list.labc_csv 1 ratio - "  labc list --all ÷ lxc list --format csv" num=list.labc den=list.lxccsv
	figure list.api2 1 time ms "  LXD alone: GET instances?recursion=2&all-projects" base=list.lxc
	figure list.api1 1 time ms "  LXD alone: GET instances?recursion=1&all-projects" base=list.lxc
	ensure_population
	watch_others
	lxd_all=$(lxc list --all-projects --format csv -c n | wc -l)
	note list.labc "LXD held $lxd_all instances in all projects when measured ($N ours); both commands list all of them"
	say "case 1: list, $R_LIST rounds"
	# One untimed round: caches warm for all three alike.
	must lc "$MAIN" list --all
	must lxc list --all-projects
	must lxc list --all-projects --format csv
	for ((r = 1; r <= R_LIST; r++)); do
		must lc "$MAIN" list --all && sample list.labc "$TM"
		[[ $(grep -Ec '^c[0-9]+ +box[0-9]+ +running +[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+ ' "$W/last.out") -ge $N ]] ||
			die "labc list --all does not show the $N running containers with their addresses"
		must lxc list --all-projects && sample list.lxc "$TM"
		must lxc list --all-projects --format csv && sample list.lxccsv "$TM"
		must lxd_get '/1.0/instances?recursion=2&all-projects=true' && sample list.api2 "$TM"
		must lxd_get '/1.0/instances?recursion=1&all-projects=true' && sample list.api1 "$TM"
	done
	note list.api2 "with the state of each instance, sent with curl: what lxc list asks for, and what labcd's list asked for until it took the addresses from the DHCP leases"
	note list.api1 "without the state of each instance: what labcd's view loads once at start-up and again after LXD's event stream was lost (src/labcd/view.c); list --all itself asks LXD nothing while the view follows the events"
}

# lxd_get PATH: one GET to LXD's API with curl, the body thrown away.
lxd_get() { curl -sf --unix-socket "$LXD_SOCKET" "http://lxd$1" -o /dev/null; }

# ---- rounds that LXD may fail -----------------------------------------------------------------
#
# Under load LXD 5.0 sometimes fails a launch on its own ("Failed to handle
# idmapped storage: ... bad file descriptor"), and a concurrent test run may
# restart it. A round that fails says why in FAIL_WHY and returns 1; the
# caller removes what the round left and runs it again, at most twice per
# case, noting it in the table. Inside a round nothing may exit: errexit does
# not apply in a condition, so every step is checked by hand.

FAIL_WHY=''

# round_fail TEXT: set FAIL_WHY (with the last line of the command log), fail.
round_fail() {
	FAIL_WHY="$1: $(grep -v '^##' "$CMDLOG" | tail -n 1 | sed 's/^[0-9]\{16\} //')"
	return 1
}

# logged CMD...: untimed, output to the command log; returns CMD's status.
logged() {
	printf '## %s\n' "$*" >>"$CMDLOG"
	"$@" >>"$CMDLOG" 2>&1
}

# retry_round CASEID FIGURE ROUNDFUNC UNDOFUNC ARGS...: run the round, and
# when it fails undo it and run it again (at most twice per case).
declare -A RETRIES
retry_round() {
	local cid=$1 fig=$2 round=$3 undo=$4
	shift 4
	until "$round" "$@"; do
		RETRIES[$cid]=$((${RETRIES[$cid]:-0} + 1))
		((RETRIES[$cid] <= 2)) || die "case $cid: a round failed three times; last: $FAIL_WHY"
		say "  round failed ($FAIL_WHY); cleaning up and running it again"
		note "$fig" "${F_NOTE[$fig]:+${F_NOTE[$fig]}; }round rerun after: $FAIL_WHY"
		# LXD may be restarting (a concurrent tests/t0200): wait for it.
		sleep 3
		lxd waitready --timeout 180 >/dev/null 2>&1 || die "LXD is not coming back"
		"$undo" "$@" >/dev/null 2>&1 || true
	done
}

# ---- case 2: launch and delete, one container, on each pool --------------------------------

case_launch() {
	local kind pool profile proj=labcb-lxc-01 r
	for kind in dir btrfs; do
		if [[ $kind == dir ]]; then
			pool=$LABCT_POOL_DIR profile=$LABCT_PROFILE
		else
			pool=$LABCT_POOL_BT profile=$LABCT_PROFILE_BT
		fi
		figure "launch.$kind.labc" 2 time s "labc launch ($kind pool)" base="launch.$kind.lxc" \
			target="ratio <= 1.05" goal="≤ 1.05× lxc"
		figure "launch.$kind.lxc" 2 time s "lxc launch ($kind pool)"
		figure "launch.$kind.lxcssh" 2 time s "lxc launch + sshd answers ($kind pool)"
		local goal=1.0
		[[ $kind == dir ]] || goal=0.9
		figure "launch.$kind.labc_ssh" 2 ratio - "  labc launch ÷ (lxc launch + sshd answers)" \
			num="launch.$kind.labc" den="launch.$kind.lxcssh" target="ratio <= $goal" goal="≤ $goal× lxc+sshd"
		figure "launch.$kind.ph1" 2 time ms "  labc launch: until LXD create (project, image, port)"
		if [[ $SEEDS == yes ]]; then
			figure "launch.$kind.ph2" 2 time ms "  labc launch: LXD create (a copy of the seed)"
		else
			figure "launch.$kind.ph2" 2 time ms "  labc launch: LXD create"
		fi
		figure "launch.$kind.ph3" 2 time ms "  labc launch: LXD start"
		if [[ $PORT_MODE == nat ]]; then
			figure "launch.$kind.ph4" 2 time ms "  labc launch: user + keys (1 exec); the NAT port came with the create"
		else
			figure "launch.$kind.ph4" 2 time ms "  labc launch: user + keys (1 exec), beside the ssh device (LXD: 1 s)"
		fi
		figure "launch.$kind.ph5" 2 time ms "  labc launch: waiting for sshd (labcd polls /50 ms)"
		figure "delete.$kind.labc" 2 time s "labc delete -f ($kind pool, running)" base="delete.$kind.lxc"
		figure "delete.$kind.lxc" 2 time s "lxc delete -f ($kind pool, running)"
		if [[ -z $pool || -z $profile ]]; then
			note "launch.$kind.labc" "skipped: the test bed has no $kind pool"
			continue
		fi
		watch_others
		start_labcd "$kind"
		add_users "$kind" lu
		lxc_project "$proj"
		say "case 2: launch/delete on $pool ($kind), $R_LAUNCH rounds (+1 untimed)"
		for ((r = 0; r <= R_LAUNCH; r++)); do
			retry_round 2 "launch.$kind.labc" launch_round launch_undo "$kind" "$profile" "$proj" "$r"
			if ((r == 0)) && [[ $SEEDS == yes ]]; then
				wait_seed "$kind" || die "labcd ($kind) made no seed: see its log"
			fi
			((r == 0)) || say "  round $r: labc $(fmt s "$(tail -n1 "$W/s/launch.$kind.labc")") s," \
				"lxc $(fmt s "$(tail -n1 "$W/s/launch.$kind.lxc")") s," \
				"lxc+ssh $(fmt s "$(tail -n1 "$W/s/launch.$kind.lxcssh")") s"
		done
	done
}

# wait_seed KIND: until the labcd of KIND has made its seed (60 s), which
# round 0's launch started making in the background.
wait_seed() {
	local i n
	for ((i = 0; i < 600; i++)); do
		n=$(lxc query "/1.0/instances?project=${LD_PREFIX[$1]}0seeds&recursion=1" 2>/dev/null |
			jq '[.[] | select(.status == "Stopped" and (.name | test("^seed-[0-9a-f]+-[0-9a-f]+$")))] | length' 2>/dev/null) || n=0
		((n > 0)) && { say "  seed ready for $1"; return 0; }
		sleep 0.1
	done
	return 1
}

# launch_round KIND PROFILE PROJECT R: labc launch + delete, then lxc launch
# (+ waiting for sshd) + delete, container bR; round 0 is not kept.
launch_round() {
	local kind=$1 profile=$2 proj=$3 r=$4 name=b$4 t0 t1 t2 labc_ms del_ms lxc_ms ssh_ms xdel_ms phases x i
	# A: labcd - creates, starts, makes the user, waits for sshd.
	tm_stamped lc "$kind" --as lu launch "$name" || { round_fail "labc launch"; return 1; }
	grep -q "^Connect with: " "$W/last.out" || { round_fail "labc launch: no sshd"; return 1; }
	labc_ms=$TM
	phases=$(launch_phases "$name")
	tm lc "$kind" --as lu delete -f "$name" || { round_fail "labc delete"; return 1; }
	del_ms=$TM
	# B: lxc - the same image and profile, in a project like labcd's.
	now_us t0
	logged lxc launch -q "$LABCT_IMAGE" "$name" --project "$proj" -p "$profile" ||
		{ round_fail "lxc launch"; return 1; }
	now_us t1
	logged wait_ssh "$name" "$proj" || { round_fail "waiting for sshd after lxc launch"; return 1; }
	now_us t2
	tm lxc delete -f "$name" --project "$proj" || { round_fail "lxc delete"; return 1; }
	xdel_ms=$TM
	((r > 0)) || return 0
	ms_between "$t0" "$t1" lxc_ms
	ms_between "$t0" "$t2" ssh_ms
	sample "launch.$kind.labc" "$labc_ms"
	sample "delete.$kind.labc" "$del_ms"
	sample "launch.$kind.lxc" "$lxc_ms"
	sample "launch.$kind.lxcssh" "$ssh_ms"
	sample "delete.$kind.lxc" "$xdel_ms"
	i=1
	for x in $phases; do
		sample "launch.$kind.ph$i" "$x"
		i=$((i + 1))
	done
	[[ -n $phases ]] || say "warning: no phases in labc launch's progress"
}

launch_undo() {
	lc "$1" --as lu delete -f "b$4"
	lxc delete -f "b$4" --project "$3"
}

# launch_phases NAME: split the last labc launch by the arrival of its
# progress lines (Creating, Starting, Making the user, Waiting for ssh):
# five numbers (ms), or nothing.
launch_phases() {
	awk -v t0="$TM_T0" -v t1="$TM_T1" -v n="$1" '
		$2 == "Creating" && $3 == n { c = $1 }
		$2 == "Starting" && $3 == n { s = $1 }
		$2 == "Making" && $4 == "user" { u = $1 }
		$2 == "Waiting" && $4 == "ssh" { w = $1 }
		END {
			if (!c || !s || !u || !w) exit
			printf "%.3f %.3f %.3f %.3f %.3f\n", (c - t0) / 1000, (s - c) / 1000,
				(u - s) / 1000, (w - u) / 1000, (t1 - w) / 1000
		}' "$W/last.err"
}

# ---- case 3: PAR users launch at once ------------------------------------------------------

par_user() { printf 'p%02d' "$1"; }
par_project() { printf 'labcb-lxc-%02d' "$1"; }

case_parallel() {
	local r i
	figure par.labc 3 time s "$PAR users launch at once through labcd" base=par.lxc \
		target="ratio <= 1.2" goal="≤ 1.2× lxc"
	figure par.lxc 3 time s "$PAR × lxc launch at once (own projects)"
	figure par.lxcssh 3 time s "$PAR × lxc launch + sshd answers, at once"
	figure par.labc_ssh 3 ratio - "  labcd ÷ (lxc launch + sshd answers)" num=par.labc den=par.lxcssh
	figure pardel.labc 3 time s "$PAR × labc delete -f at once" base=pardel.lxc
	figure pardel.lxc 3 time s "$PAR × lxc delete -f at once"
	local users=()
	for ((i = 1; i <= PAR; i++)); do users+=("$(par_user "$i")"); done
	add_users "$MAIN" "${users[@]}"
	for ((i = 1; i <= PAR; i++)); do lxc_project "$(par_project "$i")"; done
	watch_others
	say "case 3: $PAR launches at once, $R_PAR rounds"
	mkdir -p "$W/par"
	for ((r = 1; r <= R_PAR; r++)); do
		retry_round 3 par.labc par_round par_undo
		say "  round $r: labcd $(fmt s "$(tail -n1 "$W/s/par.labc")") s," \
			"lxc $(fmt s "$(tail -n1 "$W/s/par.lxc")") s," \
			"lxc+ssh $(fmt s "$(tail -n1 "$W/s/par.lxcssh")") s"
	done
	note par.labc "every round: all $PAR succeeded, sshd answered in each, $PAR distinct ports${F_NOTE[par.labc]:+; ${F_NOTE[par.labc]}}"
}

# at_once WHAT CMD...: run CMD once per i = 1..PAR in the background, each
# with "{}" in its words replaced by i and its output in $W/par/WHAT.i;
# the wall time in ms in TM. Returns 1 if one failed.
at_once() {
	local what=$1 i pid pids=() failed=0 t0 t1 a args
	shift
	now_us t0
	for ((i = 1; i <= PAR; i++)); do
		args=()
		for a in "$@"; do args+=("${a//\{\}/$i}"); done
		"${args[@]}" >"$W/par/$what.$i" 2>&1 &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
	now_us t1
	ms_between "$t0" "$t1" TM
	for ((i = 1; i <= PAR; i++)); do
		printf '## %s %s\n' "$what" "$i"
		cat "$W/par/$what.$i"
	done >>"$CMDLOG"
	((failed == 0)) || { FAIL_WHY="$failed of $PAR $what failed: $(grep -hv '^ *$' "$W"/par/"$what".* | grep -Eiv '^(Creating|Starting|Unpacking|Making|Waiting)' | tail -n 1)"; return 1; }
}

par_labc_launch() { lc "$MAIN" --as "$(par_user "$1")" launch par; }
par_labc_delete() { lc "$MAIN" --as "$(par_user "$1")" delete -f par; }
par_lxc_delete() { lxc delete -f par --project "$(par_project "$1")"; }
# par_lxc_launch I: lxc launch, then wait for sshd, saying when each ended.
par_lxc_launch() {
	local p
	p=$(par_project "$1")
	lxc launch -q "$LABCT_IMAGE" par --project "$p" -p "$LABCT_PROFILE_OF_MAIN" || return 1
	echo "launched ${EPOCHREALTIME/./}"
	wait_ssh par "$p" || return 1
	echo "ssh ${EPOCHREALTIME/./}"
}

# par_round: PAR launches at once through labcd, PAR deletes; then the same
# with lxc, each in its own project, noting when each launch returned and
# when each sshd answered.
par_round() {
	local labc_ms del_ms ports t0 max1 max2 lxc_ms ssh_ms xdel_ms
	rm -f "$W"/par/*
	at_once labc-launch par_labc_launch {} || return 1
	labc_ms=$TM
	[[ $(grep -l "^Connect with: " "$W"/par/labc-launch.* | wc -l) == "$PAR" ]] ||
		{ FAIL_WHY="not every container's sshd answered"; return 1; }
	ports=$(lc "$MAIN" list --all --format csv | awk -F, '$1 ~ /^p[0-9]+$/ && $2 == "par" { print $5 }' |
		sort -u | wc -l)
	[[ $ports == "$PAR" ]] || { FAIL_WHY="$ports distinct ports for $PAR containers"; return 1; }
	at_once labc-delete par_labc_delete {} || return 1
	del_ms=$TM

	now_us t0
	at_once lxc-launch par_lxc_launch {} || return 1
	max1=$(awk '$1 == "launched" && $2 > m { m = $2 } END { print m }' "$W"/par/lxc-launch.*)
	max2=$(awk '$1 == "ssh" && $2 > m { m = $2 } END { print m }' "$W"/par/lxc-launch.*)
	ms_between "$t0" "$max1" lxc_ms
	ms_between "$t0" "$max2" ssh_ms
	at_once lxc-delete par_lxc_delete {} || return 1
	xdel_ms=$TM
	sample par.labc "$labc_ms"
	sample pardel.labc "$del_ms"
	sample par.lxc "$lxc_ms"
	sample par.lxcssh "$ssh_ms"
	sample pardel.lxc "$xdel_ms"
}

par_undo() {
	at_once undo-labc par_labc_delete {}
	at_once undo-lxc par_lxc_delete {}
}

# ---- case 4: small requests ------------------------------------------------------------------

case_small() {
	local r u proj line
	u=$(pop_user 1)
	figure whoami.labc 4 time ms "labc whoami (client start + 1 round trip)" target="median <= 5" goal="≤ 5 ms"
	figure whoami.newconn 4 time ms "  whoami on a new connection each (no client start)"
	figure whoami.conn 4 time ms "  whoami round trip on an open connection"
	figure details.labc 4 time ms "labc details box1 (user with $(((N + M - 1) / M)) containers)" base=details.lxc
	figure details.lxc 4 time ms "lxc info box1 --project P"
	local per=$(((N + M - 1) / M))
	figure req.whoami 4 count req "LXD requests: labc whoami"
	figure req.list 4 count req "LXD requests: labc list --all" base=req.lxclist \
		target="value <= 0" goal="none"
	figure req.lxclist 4 count req "LXD requests: lxc list --all-projects"
	figure req.details 4 count req "LXD requests: labc details box1" base=req.lxcinfo
	figure req.lxcinfo 4 count req "LXD requests: lxc info box1"
	figure req.launch 4 count req "LXD requests: labc launch (user has $per others)" base=req.lxclaunch
	figure req.lxclaunch 4 count req "LXD requests: lxc launch"
	figure req.delete 4 count req "LXD requests: labc delete -f" base=req.lxcdelete
	figure req.lxcdelete 4 count req "LXD requests: lxc delete -f"
	ensure_population
	proj=${LD_PREFIX[$MAIN]}$u
	watch_others
	say "case 4: whoami and details, $R_FAST rounds"
	must lc "$MAIN" whoami
	must lc "$MAIN" --as "$u" details box1
	must lxc info box1 --project "$proj"
	for ((r = 1; r <= R_FAST; r++)); do
		must lc "$MAIN" whoami && sample whoami.labc "$TM"
		must lc "$MAIN" --as "$u" details box1 && sample details.labc "$TM"
		must lxc info box1 --project "$proj" && sample details.lxc "$TM"
	done
	# In-process timing of each round trip (bench/reqloop.c): 1000
	# requests, each on a connection of its own, then all through one.
	reqloop_figure whoami.newconn -r "${LD_SOCK[$MAIN]}" 1000 whoami
	note whoami.newconn "1000 requests, each on a new connection (connect, request, close), timed inside bench/reqloop.c: what one run of labc costs labcd; median, min and max of those"
	reqloop_figure whoami.conn "${LD_SOCK[$MAIN]}" 1000 whoami
	note whoami.conn "1000 requests through one connection, timed inside bench/reqloop.c; median, min and max of those"

	# What each command asks of LXD: one of each, untimed, through the
	# request counter (labcd restarted to use it, then restarted without).
	say "case 4: LXD requests per command (through bench/lxdcount)"
	lxc_project labcb-lxc-01
	start_counter
	remember_worked_rss
	stop_labcd "$MAIN"
	start_labcd "$MAIN" "lxd_socket = $COUNTER_SOCK"
	counter_quiet
	count_req req.whoami lc "$MAIN" whoami
	count_req req.list lc "$MAIN" list --all
	count_req req.lxclist via_counter lxc list --all-projects
	count_req req.details lc "$MAIN" --as "$u" details box1
	count_req req.lxcinfo via_counter lxc info box1 --project "$proj"
	UNDO=(lc "$MAIN" --as "$u" delete -f extra)
	count_req req.launch lc "$MAIN" --as "$u" launch extra
	note req.launch "all labcd asked of LXD while the launch ran, its view's GETs of the instance after LXD's events included"
	counter_quiet
	UNDO=(lxc delete -f extra --project labcb-lxc-01)
	count_req req.lxclaunch via_counter lxc launch -q "$LABCT_IMAGE" extra --project labcb-lxc-01 \
		-p "$LABCT_PROFILE_OF_MAIN"
	count_req req.delete lc "$MAIN" --as "$u" delete -f extra
	counter_quiet
	count_req req.lxcdelete via_counter lxc delete -f extra --project labcb-lxc-01
	stop_labcd "$MAIN"
	start_labcd "$MAIN"
	stop_counter
}

# reqloop_figure ID REQLOOP-ARGS...: run bench/reqloop; its median, min and
# max (of every request) become the samples of time figure ID.
reqloop_figure() {
	local id=$1 line
	shift
	line=$("$REQLOOP" "$@") || die "reqloop failed: $line"
	printf '## reqloop %s\n%s\n' "$*" "$line" >>"$CMDLOG"
	awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
	     END { printf "%.3f\n%.3f\n%.3f\n", v["median_us"] / 1000, v["min_us"] / 1000, v["max_us"] / 1000 }' \
		<<<"$line" >"$W/s/$id"
}

# count_req ID CMD...: lxd_requests, once more (after UNDO, if set) when the
# command fails.
UNDO=()
count_req() {
	local id=$1
	shift
	lxd_requests "$id" "$@" && { UNDO=(); return 0; }
	((${#UNDO[@]} == 0)) || logged "${UNDO[@]}" || true
	UNDO=()
	lxd_requests "$id" "$@" || die "failed twice: $*"
}

# ---- case 5: labcd's memory -----------------------------------------------------------------

rss_note() {
	printf 'RssAnon %s KiB, RssFile %s KiB, RssShmem %s KiB, VmHWM %s KiB, %s threads' \
		"$(rss_kib "$MAIN" RssAnon)" "$(rss_kib "$MAIN" RssFile)" "$(rss_kib "$MAIN" RssShmem)" \
		"$(rss_kib "$MAIN" VmHWM)" "$(rss_kib "$MAIN" Threads)"
}

# remember_worked_rss: the main labcd's memory after the cases so far, kept
# before the first restart.
WORKED_RSS=''
remember_worked_rss() {
	[[ -z $WORKED_RSS ]] || return 0
	WORKED_RSS=$(rss_kib "$MAIN")
	WORKED_NOTE=$(rss_note)
}

# rss_snap: "VmRSS RssAnon RssFile RssShmem" of the main labcd, in KiB.
rss_snap() {
	# Once labcd is idle: it gives freed heap back when its clients are
	# gone (malloc_trim), and a sample taken before that would count
	# pages it is about to return.
	labcd_idle "$MAIN"
	# Five samples a second apart, the median of each: a background
	# pass that begins just then holds its JSON in one or two of them.
	local i f out=()
	for ((i = 0; i < 5; i++)); do
		for f in VmRSS RssAnon RssFile RssShmem; do rss_kib "$MAIN" "$f" >>"$W/rss.$f"; done
		((i == 4)) || sleep 1
	done
	for f in VmRSS RssAnon RssFile RssShmem; do
		out+=("$(sort -n "$W/rss.$f" | sed -n 3p)")
		rm -f "$W/rss.$f"
	done
	echo "${out[*]}"
}

# rss_growth ID BEFORE MID AFTER TEXT: VmRSS growth from MID to AFTER (the
# second half: a leak grows there too, warming up does not), with the whole
# run and the kinds of memory in the note; BEFORE etc. are rss_snap's. With
# RSS_COL=1, RssAnon's growth instead (labcd's own memory, not the pages of
# its libraries it touched).
rss_growth() {
	local id=$1 b m a k=${RSS_COL:-0}
	read -r -a b <<<"$2"
	read -r -a m <<<"$3"
	read -r -a a <<<"$4"
	value "$id" $((a[k] - m[k]))
	note "$id" "VmRSS ${b[0]} → ${m[0]} → ${a[0]} KiB (whole run +$((a[0] - b[0])): 1st half +$((m[0] - b[0])), 2nd half +$((a[0] - m[0]))); RssAnon ${b[1]} → ${m[1]} → ${a[1]}, RssFile ${b[2]} → ${m[2]} → ${a[2]}; $5"
}

# rss_series ID COUNT FUNC: FUNC COUNT/2 twice, labcd's memory before, between
# and after (rss_growth). A series that fails (LXD restarted under the list
# requests) is run again once LXD answers.
SERIES_OUT=''
rss_series() {
	local id=$1 count=$2 fn=$3 before mid after t0 t1 t2 t3 ms ms2
	for _ in 1 2; do
		before=$(rss_snap)
		now_us t0
		# The halves are timed, not the idle wait of the sample between.
		if "$fn" $((count / 2)) && now_us t1 && mid=$(rss_snap) &&
		    now_us t2 && "$fn" $((count - count / 2)); then
			now_us t3
			after=$(rss_snap)
			ms_between "$t0" "$t1" ms
			ms_between "$t2" "$t3" ms2
			ms=$(awk -v a="$ms" -v b="$ms2" 'BEGIN { printf "%.3f", a + b }')
			rss_growth "$id" "$before" "$mid" "$after" "took $(fmt s "$ms") s; second half: ${SERIES_OUT:-}"
			return 0
		fi
		say "warning: $id: a request failed (${SERIES_OUT:-}); once more when LXD answers"
		sleep 3
		lxd waitready --timeout 180 >/dev/null 2>&1 || true
	done
	die "$id: requests failed twice"
}

series_labc() { SERIES_OUT="$1 × labc whoami"; loop_whoami "$1"; }
series_conn() { series_reqloop "$1" whoami; }
series_list() { series_reqloop "$1" list --all; }
series_reqloop() {
	SERIES_OUT=$("$REQLOOP" "${LD_SOCK[$MAIN]}" "$@") || return 1
	printf '## reqloop %s\n%s\n' "$*" "$SERIES_OUT" >>"$CMDLOG"
}

# loop_whoami COUNT: COUNT times 'labc whoami', a new client each time.
loop_whoami() {
	local i
	for ((i = 0; i < $1; i++)); do
		lc "$MAIN" whoami >/dev/null || return 1
	done
}

case_memory() {
	local real extra nlist i
	figure rss.worked 5 mem MiB "labcd VmRSS after the cases above (then restarted)"
	figure rss.idle 5 mem MiB "labcd VmRSS, idle right after start"
	figure rss.real 5 mem MiB "labcd VmRSS, $N real containers known"
	nlist=$REQS
	figure rss.before 5 mem MiB "labcd VmRSS before the requests below"
	figure rss.after 5 mem MiB "labcd VmRSS after them"
	figure rss.grow_labc 5 mem KiB "  growth, 2nd half of $REQS × labc whoami" target="value <= 64" goal="none (≤64 KiB)"
	figure rss.grow_conn 5 mem KiB "  growth, 2nd half of $REQS whoami, 1 connection" target="value <= 64" goal="none (≤64 KiB)"
	figure rss.grow_list 5 mem KiB "  RssAnon growth, 2nd half of $nlist list --all, 1 connection" target="value <= 64" goal="none (≤64 KiB)"
	if ((RSS_K > N)); then
		# VmRSS has no target of its own: most of it is the shared
		# libraries' pages (RssFile), which #16 asks to state apart.
		figure rss.synth 5 mem MiB "labcd VmRSS, $RSS_K containers known"
		figure rssfile.synth 5 mem MiB "  of it RssFile (shared libraries, mapped files)"
		figure rssanon.synth 5 mem MiB "  of it RssAnon (labcd's own)" \
			target="value <= 4096" goal="≤ 4 MiB"
		figure list.synth 5 time ms "  labc list --all of $RSS_K containers" \
			target="median <= 20" goal="≤ 20 ms"
	else
		figure rss.real 5 mem MiB "labcd VmRSS, $N real containers known"
	fi
	ensure_population
	watch_others
	say "case 5: labcd's memory ($REQS requests each way)"
	remember_worked_rss
	value rss.worked "$WORKED_RSS"
	note rss.worked "$WORKED_NOTE"
	# A fresh labcd on the same database: what it costs by itself.
	stop_labcd "$MAIN"
	start_labcd "$MAIN"
	sleep 0.5
	value rss.idle "$(rss_kib "$MAIN")"
	note rss.idle "$(rss_note)"
	# Known: labcd has served a list and a details of everyone's.
	must lc "$MAIN" list --all
	for ((i = 1; i <= M; i++)); do must lc "$MAIN" --as "$(pop_user "$i")" details; done
	value rss.real "$(rss_kib "$MAIN")"
	note rss.real "$(rss_note)"

	# Warm up (allocator arenas, thread stacks, SQLite caches), then measure,
	# also half-way: growth in the second half too is what a leak looks like.
	loop_whoami 200 || die "labc whoami failed"
	labcd_idle "$MAIN"
	value rss.before "$(rss_kib "$MAIN")"
	note rss.before "$(rss_note)"
	rss_series rss.grow_labc "$REQS" series_labc
	rss_series rss.grow_conn "$REQS" series_conn
	RSS_COL=1 rss_series rss.grow_list "$nlist" series_list
	value rss.after "$(rss_kib "$MAIN")"
	note rss.after "$(rss_note)"

	((RSS_K > N)) || return 0
	# More containers: rows written straight into labcd's database, and an
	# empty instance for each (lxc init --empty on the dir pool: no rootfs,
	# so making and deleting 450 of them takes seconds and leaves no
	# btrfs-cleaner work behind), so that labcd's view knows RSS_K
	# instances and list --all shows RSS_K rows.
	real=$(sqlite3 "${LD_DB[$MAIN]}" 'SELECT count(*) FROM containers')
	extra=$((RSS_K - real))
	# The instances first: rows without their instance are drift, which
	# labcd's reconciler mends (it gives their ports back) as soon as it
	# looks; instances of projects no lab user owns yet are nobody's.
	synth_instances "$extra"
	synth_rows "$extra"
	must lc "$MAIN" list --all
	[[ $(grep -Ec '^[cs][0-9]+ +box[0-9]+ +(running|stopped) ' "$W/last.out") -ge $RSS_K ]] ||
		die "list --all does not show the $RSS_K containers"
	for ((i = 1; i <= 5; i++)); do must lc "$MAIN" list --all && sample list.synth "$TM"; done
	# The 450 instances came as a burst of events, and each woke a
	# reconciliation pass over all of them: measured once those are
	# over (the peak is VmHWM in the note).
	local snap
	read -ra snap <<<"$(rss_snap)"
	value rss.synth "${snap[0]}"
	value rssanon.synth "${snap[1]}"
	value rssfile.synth "${snap[2]}"
	note rss.synth "$real running containers + $extra stopped ones (rows written into labcd's database, empty instances made with lxc init --empty on the dir pool); measured after 6 × list --all, once labcd had used no CPU for 3 s, the median of 5 samples a second apart; $(rss_note)"
	note rssanon.synth "labcd's own memory: heap, thread stacks, the view, SQLite's cache"
	note rssfile.synth "the pages of the shared libraries labcd touched (libcurl, OpenSSL, SQLite, glibc), which stay"
}

# synth_instances COUNT: synth_rows' containers as empty LXD instances (no
# rootfs: they are never started), made in their users' projects on the dir
# pool, four at a time.
synth_instances() {
	local count=$1 users u i p
	users=$(((count + 9) / 10))
	for ((u = 1; u <= users; u++)); do
		lxc_project "$(printf '%ss%03d' "${LD_PREFIX[$MAIN]}" "$u")"
	done
	for ((i = 0; i < count; i++)); do
		p=$(printf '%ss%03d' "${LD_PREFIX[$MAIN]}" $((i / 10 + 1)))
		printf '%s box%d\n' "$p" $((i % 10 + 1))
	done | xargs -P 4 -L 1 sh -c 'lxc init -q --empty "$2" --project "$1" -p "$0" >/dev/null 2>&1 ||
		lxc info "$2" --project "$1" >/dev/null 2>&1' "$LABCT_PROFILE" ||
		die "cannot make the $count instances of the synthetic rows"
}

# synth_rows COUNT: COUNT container rows, 10 per synthetic user, straight into
# the database (ports 20000+, outside labcd's ssh_ports), never started (no
# ssh device expected on them).
synth_rows() {
	local count=$1 users
	users=$(((count + 9) / 10))
	{
		echo '.timeout 10000'
		echo 'BEGIN;'
		echo "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $users)"
		echo "INSERT INTO users (name, created) SELECT printf('s%03d', i), strftime('%s') FROM n;"
		echo "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $count - 1)"
		echo "INSERT INTO containers (user_id, name, port, image, state, provisioned, keys_synced, created)"
		echo "SELECT u.id, 'box' || (n.i % 10 + 1), 20000 + n.i, '$LABCT_IMAGE', 'ready', 0, 0, strftime('%s')"
		echo "FROM n JOIN users u ON u.name = printf('s%03d', n.i / 10 + 1);"
		echo 'COMMIT;'
	} | sqlite3 "${LD_DB[$MAIN]}" || die "cannot insert the synthetic rows"
}

# ---- case 6: ssh through the gateway -------------------------------------------------------

# A private sshd on a loopback port, set up the way 'labc admin gateway
# setup' does it (as tests/t0300-gateway.sh does), with a labcd of its own.
# labcd's cost on a login: `ssh labcbgw@127.0.0.1 whoami` (sshd runs labc
# --authorized-keys to ask labcd whose key it is, then labc runs whoami)
# against the same sshd and key letting a plain account in with the
# forced command /bin/true.
GW_DIR='' GW_USER=labcbgw GW_TRUE=labcb-true GW_NC=labcb-nc GW_PORT=64105 GW_SSHD_PID=''

gw_ssh() {	# gw_ssh ACCOUNT ARGS...: one ssh login with the bench key
	local who=$1
	shift
	ssh -i "$GW_DIR/key" -p "$GW_PORT" -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR \
		-o IdentitiesOnly=yes -o ConnectTimeout=10 "$who@127.0.0.1" "$@" </dev/null
}

# gw_cleanup: the sshd, the two accounts and the directory (from on_exit).
gw_cleanup() {
	[[ -n $GW_DIR ]] || return 0
	[[ -z $GW_SSHD_PID ]] || kill "$GW_SSHD_PID" 2>/dev/null
	userdel -r "$GW_USER" >/dev/null 2>&1
	userdel "$GW_TRUE" >/dev/null 2>&1
	userdel "$GW_NC" >/dev/null 2>&1
	rm -rf "$GW_DIR"
	GW_DIR=''
}

case_ssh() {
	local r out
	if [[ -n ${SEL[6]:-} ]]; then
		figure ssh.labc 6 time ms "ssh ${GW_USER}@127.0.0.1 whoami (through the gateway)" base=ssh.true
		figure ssh.true 6 time ms "ssh, same sshd and key, forced command /bin/true"
	fi
	command -v sshd >/dev/null || PATH=$PATH:/usr/sbin
	command -v sshd >/dev/null || die "case 6 needs sshd (openssh-server)"
	say "case 6: the SSH gateway with a private sshd on 127.0.0.1:$GW_PORT, $R_FAST rounds"
	! id "$GW_USER" >/dev/null 2>&1 || userdel -r "$GW_USER" >/dev/null 2>&1
	! id "$GW_TRUE" >/dev/null 2>&1 || userdel "$GW_TRUE" >/dev/null 2>&1
	! id "$GW_NC" >/dev/null 2>&1 || userdel "$GW_NC" >/dev/null 2>&1
	# sshd runs AuthorizedKeysCommand only from a path whose every
	# directory is root's and not writable by others: not from /tmp.
	GW_DIR=/run/labcb-gw.$$
	mkdir -m 755 "$GW_DIR" "$GW_DIR/sshd.d" && cp "$LABC" "$GW_DIR/labc" ||
		die "cannot prepare $GW_DIR"
	start_labcd gw "gateway_user = $GW_USER" "gateway_host = 127.0.0.1" \
		"gateway_port = $GW_PORT"
	ssh-keygen -q -t ed25519 -N '' -f "$GW_DIR/hostkey" && ssh-keygen -q -t ed25519 -N '' -f "$GW_DIR/key" ||
		die "ssh-keygen failed"
	cat >"$GW_DIR/sshd_config" <<-CONF
	Port $GW_PORT
	ListenAddress 127.0.0.1
	HostKey $GW_DIR/hostkey
	PidFile $GW_DIR/sshd.pid
	Include $GW_DIR/sshd.d/*.conf
	UsePAM yes
	AllowUsers $GW_USER $GW_TRUE $GW_NC
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	CONF
	run_logged lc gw admin gateway setup --dir "$GW_DIR/sshd.d" --sshd-config "$GW_DIR/sshd_config" \
		--labc "$GW_DIR/labc" || die "labc admin gateway setup failed"
	useradd --no-create-home --home-dir "$GW_DIR/truehome" --shell /bin/sh "$GW_TRUE" ||
		die "cannot make the account $GW_TRUE"
	mkdir -p "$GW_DIR/truehome/.ssh"
	printf 'restrict,command="/bin/true" %s\n' "$(cat "$GW_DIR/key.pub")" >"$GW_DIR/truehome/.ssh/authorized_keys"
	chown -R "$GW_TRUE:" "$GW_DIR/truehome"
	mkdir -p /run/sshd
	"$(command -v sshd)" -f "$GW_DIR/sshd_config" -E "$GW_DIR/sshd.log" || die "sshd did not start"
	for ((r = 0; r < 50; r++)); do [[ -s $GW_DIR/sshd.pid ]] && break; sleep 0.1; done
	GW_SSHD_PID=$(cat "$GW_DIR/sshd.pid" 2>/dev/null)
	[[ -n $GW_SSHD_PID ]] || die "sshd did not start: $(tail -n 5 "$GW_DIR/sshd.log")"
	add_users gw labcbssh
	run_logged lc gw --as labcbssh key add <"$GW_DIR/key.pub" || die "key add failed"
	out=$(gw_ssh "$GW_USER" whoami 2>&1) || die "ssh through the gateway failed: $out"
	[[ $out == *labcbssh* ]] || die "ssh whoami through the gateway said: $out"
	gw_ssh "$GW_TRUE" >/dev/null 2>&1 || die "ssh with the forced /bin/true failed"
	if [[ -n ${SEL[6]:-} ]]; then
		for ((r = 1; r <= R_FAST; r++)); do
			must gw_ssh "$GW_USER" whoami && sample ssh.labc "$TM"
			must gw_ssh "$GW_TRUE" && sample ssh.true "$TM"
		done
		note ssh.labc "sshd asks labc --authorized-keys (one labcd request) whose key it is, then runs labc whoami (another); both sides pay ssh's key exchange and the login"
	fi
	[[ -z ${SEL[7]:-} ]] || case_data
	stop_labcd gw
}

# ---- case 7: the data path, a member's scp of 1 GiB into a container ------------------------

# scp_to HOW: the bench file to /dev/null in the container, one of four ways.
scp_to() {
	local o=(-q -i "$GW_DIR/key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
		-o BatchMode=yes -o IdentitiesOnly=yes -o LogLevel=ERROR)
	local gw="ssh -i $GW_DIR/key -p $GW_PORT -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o LogLevel=ERROR"
	case $1 in
	direct) scp "${o[@]}" "$DATA_FILE" "ubuntu@$DATA_ADDR:/dev/null" ;;
	port) scp "${o[@]}" -P "$DATA_PORT" "$DATA_FILE" "ubuntu@$(port_listen):/dev/null" ;;
	gateway) scp "${o[@]}" -o "ProxyCommand=$gw $GW_USER@127.0.0.1 nc data" \
		"$DATA_FILE" "ubuntu@data:/dev/null" ;;
	netcat) scp "${o[@]}" -o "ProxyCommand=$gw $GW_NC@127.0.0.1 nc $DATA_ADDR 22" \
		"$DATA_FILE" "ubuntu@data:/dev/null" ;;
	esac
}

DATA_FILE='' DATA_ADDR='' DATA_PORT=''
case_data() {
	local r i
	figure data.direct 7 time ms "scp 1 GiB straight to the container's address"
	figure data.port 7 time ms "scp 1 GiB through its port (LXD's proxy device)" base=data.direct \
		target="ratio <= 1.11" goal="≥ 0.9× the throughput"
	figure data.netcat 7 time ms "scp 1 GiB, ProxyCommand ssh to the host + plain nc"
	figure data.gateway 7 time ms "scp 1 GiB through the gateway (ssh lab@host nc NAME)" base=data.netcat \
		target="ratio <= 1.053" goal="≥ 0.95× the throughput"
	command -v nc >/dev/null || die "case 7 needs nc on the host (netcat-openbsd)"
	say "case 7: 1 GiB by scp into a container, four ways, $R_DATA rounds"
	useradd --no-create-home --home-dir "$GW_DIR/nchome" --shell /bin/sh "$GW_NC" ||
		die "cannot make the account $GW_NC"
	mkdir -p "$GW_DIR/nchome/.ssh"
	cp "$GW_DIR/key.pub" "$GW_DIR/nchome/.ssh/authorized_keys"
	chown -R "$GW_NC:" "$GW_DIR/nchome"
	DATA_FILE=$W/data.1g
	[[ -s $DATA_FILE ]] || head -c 1073741824 /dev/urandom >"$DATA_FILE" || die "cannot write $DATA_FILE"
	run_logged lc gw --as labcbssh launch data || die "launch data failed"
	for ((i = 0; i < 100; i++)); do
		DATA_ADDR=$(lc gw --as labcbssh list --format csv | awk -F, '$1 == "data" { print $3 }')
		[[ $DATA_ADDR == [0-9]* ]] && break
		sleep 0.2
	done
	DATA_PORT=$(lc gw --as labcbssh list --format csv | awk -F, '$1 == "data" { print $4 }')
	[[ $DATA_ADDR == [0-9]* && -n $DATA_PORT ]] || die "the data container has no address or port"
	for h in direct port gateway netcat; do
		logged scp_to $h || die "scp $h failed: $(tail -n 3 "$CMDLOG")"
	done
	for ((r = 1; r <= R_DATA; r++)); do
		must scp_to direct && sample data.direct "$TM"
		must scp_to port && sample data.port "$TM"
		must scp_to netcat && sample data.netcat "$TM"
		must scp_to gateway && sample data.gateway "$TM"
	done
	note data.direct "to /dev/null in the container, the same random file each time: only the network and ssh count; ssh's default cipher on both sides"
	if [[ $PORT_MODE == nat ]]; then
		note data.port "$(port_listen):PORT, LXD's NAT (ssh_port_mode = nat): the kernel forwards to the container's fixed address"
	else
		note data.port "127.0.0.1:PORT, LXD's forkproxy relaying each byte in user space"
	fi
	note data.netcat "ssh $GW_NC@127.0.0.1 nc ADDR 22 as ProxyCommand, the same sshd: two ssh encryptions, a plain relay"
	note data.gateway "ssh $GW_USER@127.0.0.1 nc data as ProxyCommand: labc gets the connection from labcd and relays it with splice(2)"
	run_logged lc gw --as labcbssh delete -f data || true
}
