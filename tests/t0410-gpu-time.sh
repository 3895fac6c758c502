#!/usr/bin/env bash
# t0410-gpu-time.sh - GPUs over time, through the stand-in NVML (these
# machines have no NVIDIA GPU): leases that end by taking the gpu device
# out of the container (its owner warned first), renewals, idle reclaim,
# --gpu any[:N], a GPU taken out with lxc, GPU-hours in 'usage', and bad
# input. LXD cannot start a container holding a stand-in GPU, so leases
# end on stopped containers (the device leaves LXD's own view of them);
# a GPU held by a running container, whose processes the sampling must
# see, is written into labcd's database by the test (said where).
. "$(dirname "$0")/lib.sh"
need_lxd

STUB=$LABCT_BUILD/tests/nvml-stub/libnvidia-ml.so.1
P=${LABCT_PREFIX}u-
export NVML_STUB_FILE=$TDIR/gpus.txt
# stub MEM0 UTIL0 MEM1 UTIL1 MEM2 UTIL2 [LINES...]: three GPUs, then
# process lines. Written whole and renamed: labcd reads it at any time.
stub() {
	{
		echo "gpu NVIDIA-A100 00000000:3B:00.0 GPU-0000aaaa 40960 $1 $2"
		echo "gpu NVIDIA-A100 00000000:5E:00.0 GPU-1111bbbb 40960 $3 $4"
		echo "gpu NVIDIA-A100 00000000:86:00.0 GPU-2222cccc 40960 $5 $6"
		shift 6
		[ $# -eq 0 ] || printf '%s\n' "$@"
	} >$NVML_STUB_FILE.new
	mv $NVML_STUB_FILE.new $NVML_STUB_FILE
}
stub 30000 0 100 0 5000 0
conf() {
	write_conf "project_prefix = $P" "default_image = $LABCT_IMAGE" \
	    "profiles = $LABCT_PROFILE" "ssh_listen = 127.0.0.1" \
	    "ssh_ports = 63660-63699" "nvml_library = $STUB" \
	    "quota_gpus = " "gpu_sample_interval = 1s" \
	    "gpu_lease_warn = 3s" "gpu_lease_max = 1h" "$@"
}
conf
start_labcd || exit 1
for u in alice bob carol; do
	printf "%s-pw-12345\n" $u | labc admin user add $u --password-stdin >/dev/null
done
# Members as they are: a host uid each, logged in with a password (root
# acting with --as vouches for them, and may go beyond gpu_lease_max).
A=65141 B=65142
printf "alice-pw-12345\n" | labc_as_uid $A login alice >/dev/null
printf "bob-pw-12345\n" | labc_as_uid $B login bob >/dev/null
alice() { labc_as_uid $A "$@"; }
bob() { labc_as_uid $B "$@"; }

devices() {	# devices USER NAME: "gpuN" of LXD's own view of it
	lxc query "/1.0/instances/$2?project=$P$1" |
	    jq -r '.devices | to_entries[] | select(.value.type == "gpu") | .key' | sort | xargs
}
status_of() {	# status_of USER NAME: LXD's status of it
	lxc query "/1.0/instances/$2?project=$P$1" | jq -r .status
}
no_dev() {	# no_dev USER NAME: LXD's view of it has no gpu device
	[ -z "$(devices "$1" "$2")" ]
}
has_dev() {	# has_dev USER NAME DEVICES: LXD's view of it has exactly those
	[ "$(devices "$1" "$2")" = "$3" ]
}
no_gpus() {	# no_gpus USER NAME: labcd's database holds no GPU of it
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM gpus g JOIN containers c ON c.id = g.container_id JOIN users u ON u.id = c.user_id WHERE u.name = '$1' AND c.name = '$2'")" = 0 ]
}
same() {	# same GOT WANT
	[ "$1" = "$2" ] && return 0
	echo "got  [$1]" >&2
	echo "want [$2]" >&2
	return 1
}
audited() {	# audited USER LIKE: an audit row of that user's with that result
	[ -n "$(sqlite3 "$DB" "SELECT id FROM audit WHERE user = '$1' AND result LIKE '$2' LIMIT 1")" ]
}
gpus_db() {	# what labcd's database holds of GPUs: the refused change nothing
	sqlite3 "$DB" "SELECT container_id, gpu, exclusive, lease_end FROM gpus ORDER BY 1, 2"
}

test_expect_success '--gpu any takes the least used free GPU, any:2 two; none free says so' '
	labc --as alice create a1 --gpu any >/dev/null
	[ "$(devices alice a1)" = gpu1 ]
	labc --as bob create a2 --gpu any:2 >/dev/null
	[ "$(devices bob a2)" = "gpu0 gpu2" ]
	before=$(gpus_db)
	out=$(expect_status 1 labc --as carol create a3 --gpu any 2>&1)
	contains "$out" "no GPU is free now, and you asked for 1: .gpus. shows who holds them"
	not_contains "$(labc --as carol list --format csv)" "^a3,"
	same "$(gpus_db)" "$before"
	labc --as alice delete a1 >/dev/null
	labc --as bob delete a2 >/dev/null
	[ -z "$(gpus_db)" ]
'

test_expect_success 'bad leases and counts are refused, saying what to do, and change nothing' '
	before=$(gpus_db)
	out=$(expect_status 2 alice create b1 --gpu 0 --for 0 2>&1)
	contains "$out" "--for 0 would end the lease before it begins: give a time from 1s"
	out=$(expect_status 1 alice create b1 --gpu 0 --for 99999d 2>&1)
	contains "$out" "--for 99999d is longer than GPUs are lent here \(gpu_lease_max 60 min\): ask for 60 min or less"
	out=$(expect_status 2 alice create b1 --gpu 0 --for soon 2>&1)
	contains "$out" "--for takes how long to hold the GPUs, such as 90s, 30m, 8h"
	out=$(expect_status 2 alice create b1 --for 1h 2>&1)
	contains "$out" "--for is how long GPUs are held: it goes with --gpu"
	out=$(expect_status 2 alice create b1 --gpu any:0 2>&1)
	contains "$out" "--gpu any:N takes a number of GPUs from 1, such as any:2"
	out=$(expect_status 2 alice create b1 --gpu any:99 2>&1)
	contains "$out" "--gpu any:99 asks for more GPUs than this host has \(3\)"
	out=$(expect_status 2 alice create b1 --gpu any:x 2>&1)
	contains "$out" "any:N takes a number"
	out=$(expect_status 2 alice usage --since never 2>&1)
	contains "$out" "--since takes how far back to look"
	out=$(expect_status 2 alice usage --by host 2>&1)
	contains "$out" "--by takes user, gpu or container"
	not_contains "$(alice list --format csv)" "^b1,"
	same "$(gpus_db)" "$before"
'

test_expect_success 'a lease of 5 s ends: warned first, the device leaves LXD, the container stays; audit, log and the next command say so' '
	# A stopped container: LXD starts none with a stand-in GPU.
	alice create box >/dev/null
	alice gpu attach box 0 --for 5s >/dev/null
	# Nothing as alice until the end: her next command shows the notices.
	end=$(labc gpus --format json | jq ".gpus[0].holders[0].lease_end")
	[ "$(devices alice box)" = gpu0 ]
	contains "$(labc gpus)" "given to alice/box \(until [0-9:]+, in [0-9]+s"
	until_ms 20000 no_dev alice box
	measured "a lease of 5 s: the device out of LXD $(( $(date +%s%3N) - end * 1000 )) ms after its end"
	until_ms 20000 audited alice "%GPU 0 taken back%"
	[ "$(date +%s)" -ge "$end" ]
	[ "$(status_of alice box)" = Stopped ]
	out=$(alice list 2>&1 >/dev/null)
	contains "$out" "^labcd: GPU 0 of box goes back to the pool at [0-9:]+ \(in [0-9]+s\), when its lease ends: save what runs on it, or .labc gpu renew box."
	contains "$out" "^labcd: GPU 0 of box went back to the pool at [0-9:]+: its lease ended. box keeps running without it"
	[ "$(echo "$out" | grep -n "goes back" | cut -d: -f1)" -lt "$(echo "$out" | grep -n "went back" | cut -d: -f1)" ]
	# Told once, and only her.
	[ -z "$(alice list 2>&1 >/dev/null)" ]
	[ -z "$(bob list 2>&1 >/dev/null)" ]
	contains "$(alice details box 2>/dev/null)" "gpus: +none$"
	log=$(alice log 2>/dev/null)
	contains "$log" "gpu lease +box +ok: GPU 0: its lease ends in [0-9]+s: owner told"
	contains "$log" "gpu lease +box +ok: GPU 0 taken back: its lease ended"
	# The warning came first.
	told=$(sqlite3 "$DB" "SELECT min(id) FROM audit WHERE user = '"'"'alice'"'"' AND result LIKE '"'"'%owner told%'"'"'")
	back=$(sqlite3 "$DB" "SELECT min(id) FROM audit WHERE user = '"'"'alice'"'"' AND result LIKE '"'"'%taken back%'"'"'")
	[ -n "$told" ] && [ "$told" -lt "$back" ]
	contains "$(labc admin log alice)" "labcd +alice +gpu lease +box +ok: GPU 0 taken back"
'

test_expect_success 'gpu renew gives a new end, within gpu_lease_max; only the owner may' '
	alice gpu attach box 1 --for 10m >/dev/null
	end1=$(alice gpus --format json | jq ".gpus[1].holders[0].lease_end")
	[ $((end1 - $(date +%s))) -le 600 ] && [ $((end1 - $(date +%s))) -ge 590 ]
	out=$(alice gpu renew box --for 30m)
	contains "$out" "^box keeps its GPU until [0-9:]+, in 30 min: GPU 1 \(until"
	end2=$(alice gpus --format json | jq ".gpus[1].holders[0].lease_end")
	[ $((end2 - $(date +%s))) -ge 1790 ]
	out=$(expect_status 1 alice gpu renew box --for 2h 2>&1)
	contains "$out" "--for 2h is longer than GPUs are lent here \(gpu_lease_max 60 min\)"
	out=$(expect_status 1 alice gpu renew box 2 2>&1)
	contains "$out" "box does not have GPU 2"
	out=$(expect_status 1 bob gpu renew box --for 1h 2>&1)
	contains "$out" "you have no container .box."
	out=$(expect_status 1 labc_as_uid 4242 --as alice gpu renew box 2>&1)
	contains "$out" "--as is only for root and the SSH gateway account"
	[ "$(alice gpus --format json | jq ".gpus[1].holders[0].lease_end")" = "$end2" ]
	# Without --for a member gets gpu_lease_max (no default set): 1h.
	alice gpu renew box >/dev/null
	end3=$(alice gpus --format json | jq ".gpus[1].holders[0].lease_end")
	[ $((end3 - $(date +%s))) -ge 3590 ]
'

end_before=$(labc gpus --format json | jq ".gpus[1].holders[0].lease_end")
stop_labcd
start_labcd || exit 1
test_expect_success 'leases survive a labcd restart' '
	[ "$end_before" != null ]
	[ "$(labc gpus --format json | jq ".gpus[1].holders[0].lease_end")" = "$end_before" ]
	contains "$(alice details box)" "gpus: +1 \(until"
'

test_expect_success 'a GPU taken out with lxc ends its hold at once: audited, and the owner told' '
	labc --as bob create dx --gpu 2 >/dev/null
	lxc config device remove dx gpu2 --project ${P}bob >/dev/null
	until_ms 10000 no_gpus bob dx
	measured "a GPU taken out with lxc: its hold gone after $TOOK ms"
	until_ms 10000 audited bob "%outside labcontainers%"
	contains "$(labc --as bob list 2>&1 >/dev/null)" "^labcd: GPU 2 of dx was taken out of it outside labcontainers"
	contains "$(labc --as bob log)" "gpu lease +dx +ok: GPU 2 was taken out of the container outside labcontainers"
	labc --as bob delete dx >/dev/null
'

# Taken out while labcd is down: no event of it ever reaches labcd; the
# holds are compared with what LXD has once the view is loaded.
labc --as bob create dy --gpu 2 >/dev/null
stop_labcd
lxc config device remove dy gpu2 --project ${P}bob >/dev/null
start_labcd || exit 1
test_expect_success 'a GPU taken out with lxc while labcd was down ends its hold once labcd is back' '
	until_ms 20000 no_gpus bob dy
	measured "taken out while labcd was down: its hold gone $TOOK ms after labcd answered"
	contains "$(labc --as bob log)" "gpu lease +dy +ok: GPU 2 was taken out of the container outside labcontainers"
	labc --as bob delete dy >/dev/null
'

test_expect_success 'a restore right after a GPU was taken out with lxc does not put it back' '
	labc --as bob create dz --gpu 2 >/dev/null
	labc --as bob snapshot dz s1 >/dev/null
	lxc config device remove dz gpu2 --project ${P}bob >/dev/null
	labc --as bob restore dz s1 >/dev/null
	until_ms 10000 no_gpus bob dz
	! lxc config device show dz --project ${P}bob | grep -q "^gpu2:"
	contains "$(labc --as bob log)" "gpu lease +dz +ok: GPU 2 was taken out of the container outside labcontainers"
	labc --as bob delete dz >/dev/null
'

stop_labcd
conf "gpu_idle_reclaim = 4s" "gpu_idle_util = 5"
start_labcd || exit 1

# A process of bob's running container, for the sampling to find on a GPU.
labc --as bob launch work >/dev/null
lxc exec work --project ${P}bob -- sleep 900 &
for i in $(seq 50); do
	for p in $(pgrep -x sleep); do
		grep -q "lxc.payload.${P}bob_work" /proc/$p/cgroup 2>/dev/null &&
		    [ "$(tr "\0" " " < /proc/$p/cmdline)" = "sleep 900 " ] && PB=$p
	done
	[ -n "${PB:-}" ] && break
	sleep 0.2
done
# LXD refuses a stand-in GPU to a running container, so this hold of GPU
# 2 by bob's running 'work' is written into labcd's database as gpu attach
# would have written it (the device itself is what the lease tests check).
WORK_ID=$(sqlite3 "$DB" "SELECT c.id FROM containers c JOIN users u ON u.id = c.user_id WHERE u.name = 'bob' AND c.name = 'work'")
sqlite3 "$DB" "INSERT INTO gpus (container_id, gpu, pci, exclusive, since) VALUES ($WORK_ID, 2, '0000:86:00.0', 0, CAST(strftime('%s','now') AS INTEGER))"

test_expect_success 'idle reclaim takes back a GPU its container leaves at 0 %, not one at 50 %; exempt is spared' '
	[ -n "$PB" ]
	stub 0 0 100 0 2000 50 "proc 2 $PB 2000"
	labc admin gpu exempt carol/spared >/dev/null 2>&1 && exit 1
	labc --as carol create spared >/dev/null
	labc admin gpu exempt carol/spared >/dev/null
	labc --as carol gpu attach spared 1 >/dev/null
	labc --as alice create idle1 --gpu 0 >/dev/null
	until_ms 15000 no_dev alice idle1
	measured "idle reclaim at 4 s: the device out of LXD after $TOOK ms"
	until_ms 20000 audited alice "%GPU 0 taken back: idle%"
	contains "$(labc --as alice list 2>&1 >/dev/null)" "labcd: GPU 0 of idle1 went back to the pool at [0-9:]+: idle1 did not use it for [0-9]+s"
	contains "$(labc --as alice log)" "gpu reclaim +idle1 +ok: GPU 0 taken back: idle for [0-9]+s \(gpu_idle_reclaim\)"
	sleep 3
	# bob at 50 %: kept, busy; carol exempt: kept, idle.
	contains "$(labc --as bob details work)" "gpus: +2$"
	json=$(labc --as bob gpus --format json)
	[ "$(echo "$json" | jq ".gpus[2].holders[0].idle_since")" = null ]
	[ "$(echo "$json" | jq ".gpus[1].holders[] | select(.container == \"spared\") | .reclaim_exempt")" = true ]
	[ "$(echo "$json" | jq ".gpus[1].holders[] | select(.container == \"spared\") | .idle_since")" != null ]
	[ "$(devices carol spared)" = gpu1 ]
	contains "$(labc --as carol gpus)" "given to carol/spared \(idle [0-9]+s\)"
	# Now bob s process stays but the GPU falls to 2 %: idle, taken back.
	stub 0 0 100 0 2000 2 "proc 2 $PB 2000"
	until_ms 15000 no_gpus bob work
	[ "$(status_of bob work)" = Running ]
	labc admin gpu exempt carol/spared --off >/dev/null
	until_ms 15000 no_dev carol spared
'

test_expect_success 'usage: GPU-hours held and used over a scripted minute match what the stand-in said, within a sample' '
	labc admin gpu exempt bob >/dev/null
	stub 0 0 100 30 2000 2 "proc 1 $PB 2000"
	sleep 1.5
	sqlite3 "$DB" "INSERT INTO gpus (container_id, gpu, pci, exclusive, since) VALUES ($WORK_ID, 1, '"'"'0000:5e:00.0'"'"', 0, CAST(strftime('"'"'%s'"'"', '"'"'now'"'"') AS INTEGER))"
	t0=$(date +%s%N)
	sleep 30
	stub 0 0 100 70 2000 2 "proc 1 $PB 2000"
	sleep 30
	# The hold ends somewhere inside the detach, which LXD may take
	# seconds over on a busy machine (10 s in one run): between the two.
	t1=$(date +%s%N)
	labc --as bob gpu detach work 1 >/dev/null
	t2=$(date +%s%N)
	sleep 1.5
	row=$(labc --as bob usage --by gpu --format json | jq ".usage[] | select(.gpu == 1)")
	held=$(echo "$row" | jq .held_seconds) used=$(echo "$row" | jq .used_seconds)
	util=$(echo "$row" | jq .util_held_pct)
	lo=$(( (t1 - t0) / 1000000000 )) hi=$(( (t2 - t0) / 1000000000 ))
	measured "usage: bob held GPU 1 ${held} s, used ${used} s, at ${util} % over a scripted ${lo}-${hi} s (30 % then 70 %)"
	[ $((held - hi)) -le 2 ] && [ $((lo - held)) -le 2 ]
	[ $((used - hi)) -le 2 ] && [ $((lo - used)) -le 2 ]
	[ "$util" -ge 47 ] && [ "$util" -le 53 ]
	# bob sees his own rows and the lab total, not alice s; admins see all.
	out=$(labc --as bob usage --by container)
	contains "$out" "^bob +work "
	contains "$out" "^\(lab\) "
	not_contains "$out" "^alice "
	contains "$(labc usage)" "^alice "
	contains "$(labc --as bob usage --by gpu --format csv)" "^bob,,1,"
	labc admin gpu exempt bob --off >/dev/null
'

# The queue, on a host with one GPU.
stop_labcd
conf
start_labcd || exit 1
labc admin user add dave </dev/null >/dev/null
{ echo "gpu NVIDIA-A100 00000000:3B:00.0 GPU-0000aaaa 40960 0 0"; } >$NVML_STUB_FILE.new
mv $NVML_STUB_FILE.new $NVML_STUB_FILE
queue_empty() {	# nobody waits
	[ -z "$(labc gpu queue --format json | jq -r ".queue[]")" ]
}
queue_order() {	# who waits, in order: "user/container ..."
	labc gpu queue --format json | jq -r '[.queue[] | "\(.user)/\(.container)"] | join(" ")'
}

test_expect_success 'queue: three members wait for the one GPU; it goes to them in turn as it frees; cancel leaves' '
	labc --as dave create hold --gpu 0 --exclusive >/dev/null
	out=$(expect_status 1 alice gpu attach qa1 any 2>&1)
	contains "$out" "you have no container .qa1."
	for n in qa1 qa2; do alice create $n >/dev/null; done
	bob create qb1 >/dev/null
	labc --as carol create qc1 >/dev/null
	out=$(expect_status 1 alice gpu attach qa1 0 2>&1)
	contains "$out" "GPU 0 is held by dave/hold \(exclusively\): add --wait to wait for it in the queue"
	out=$(alice gpu request qa1 any --for 10m)
	contains "$out" "^qa1 waits for GPU any in the queue: position 1 of 1 "
	contains "$out" "^It gets them as they free up, for 10 min; you are told then"
	alice gpu attach qa2 any --wait >/dev/null
	out=$(bob gpu request qb1 0 2>&1)
	contains "$out" "^qb1 waits for GPU 0 in the queue: position 2 of 3"
	# GPU 0 would be shared once dave lets go: bob asks for a free one.
	bob gpu cancel qb1 >/dev/null
	bob gpu request qb1 any >/dev/null
	labc --as carol gpu request qc1 any >/dev/null
	# Round-robin: alice s second waits behind bob and carol.
	same "$(queue_order)" "alice/qa1 bob/qb1 carol/qc1 alice/qa2"
	# A member gets gpu_lease_max without --for; root acting for carol no end.
	contains "$(bob gpu queue)" "^2 +bob +qb1 +any +no +60 min +- +20[0-9-]+ [0-9:]+$"
	contains "$(bob gpu queue)" "^3 +carol +qc1 +any +no +no end "
	out=$(expect_status 1 bob gpu cancel qa1 2>&1)
	contains "$out" "you have no container .qa1."
	labc --as carol gpu cancel qc1 >/dev/null
	same "$(queue_order)" "alice/qa1 bob/qb1 alice/qa2"
	[ -z "$(devices alice qa1)" ]
'

stop_labcd
start_labcd || exit 1
test_expect_success 'queue: a labcd restart loses nothing; freed GPUs go in turn, the owner told' '
	same "$(queue_order)" "alice/qa1 bob/qb1 alice/qa2"
	labc --as dave gpu detach hold 0 >/dev/null
	until_ms 10000 has_dev alice qa1 gpu0
	measured "queue: the freed GPU in the next container after $TOOK ms"
	until_ms 10000 audited alice "%given from the queue%"
	same "$(queue_order)" "bob/qb1 alice/qa2"
	contains "$(alice list 2>&1 >/dev/null)" "labcd: qa1 got GPU 0 \(until [0-9:]+, in [0-9]+ min\) from the queue; it has them from its next start"
	contains "$(alice log)" "gpu queue +qa1 +ok: GPU 0 .* given from the queue"
	# LXD has the device before labcd lets go of the container (its
	# claim, while it records the grant): a detach may be told to try
	# again in a moment.
	until_ms 10000 eval "alice gpu detach qa1 0 >/dev/null 2>&1"
	until_ms 10000 has_dev bob qb1 gpu0
	[ -z "$(devices alice qa2)" ]
	until_ms 10000 eval "bob gpu detach qb1 all >/dev/null 2>&1"
	until_ms 10000 has_dev alice qa2 gpu0
	until_ms 10000 queue_empty
	contains "$(labc gpu queue)" "^Nobody waits for GPUs"
'

test_expect_success 'create --wait: made without GPUs, queued, given when one frees' '
	out=$(bob create qw --gpu any --wait 2>&1)
	contains "$out" "^qw is made, without GPUs for now \(no GPU is free now"
	contains "$out" "It waits for GPU any in the queue: position 1 of 1"
	[ -z "$(devices bob qw)" ]
	alice delete qa2 >/dev/null
	until_ms 10000 has_dev bob qw gpu0
	until_ms 10000 queue_empty
	bob delete qw >/dev/null
	out=$(expect_status 2 bob create qx --wait 2>&1)
	contains "$out" "--wait waits for GPUs: it goes with --gpu"
	# Waiting for what the quota never allows is refused at once.
	labc --as dave gpu attach hold 0 --exclusive >/dev/null
	labc admin quota set bob gpus=0 >/dev/null
	out=$(expect_status 1 bob gpu request qb1 any 2>&1)
	contains "$out" "quota: you may use 0 GPUs and these would make it 1 once given: waiting for them cannot help"
	out=$(expect_status 1 bob create qy --gpu any --wait 2>&1)
	contains "$out" "quota: you may use 0 GPUs"
	not_contains "$(bob list --format csv)" "^qy,"
	[ -z "$(labc gpu queue --format json | jq -r ".queue[]")" ]
	labc admin quota set bob gpus=none >/dev/null
'

# What sampling costs (a figure for the note, not a timing assertion; what
# the history weighs and costs to read is bench/gpu-history's).
stop_labcd
conf
start_labcd || exit 1
test_expect_success 'measured: labcd CPU per sample with 8 GPUs x 50 processes, 8 held' '
	pids=""
	for k in $(seq 50); do sleep 900 & pids="$pids $!"; done
	{ for g in 0 1 2 3 4 5 6 7; do
		echo "gpu GPU$g 00000000:1$g:00.0 GPU-$g 81920 1000 50"
	done
	for g in 0 1 2 3 4 5 6 7; do for p in $pids; do
		echo "proc $g $p 100"
	done; done; } >$NVML_STUB_FILE.new
	mv $NVML_STUB_FILE.new $NVML_STUB_FILE
	labc --as dave delete hold >/dev/null
	labc --as dave create all8 --gpu all >/dev/null
	sleep 2
	cpu() { awk "{ print \$14 + \$15 }" /proc/$LABCD_PID/stat; }
	c0=$(cpu) t0=$(date +%s%N)
	sleep 20
	c1=$(cpu) t1=$(date +%s%N)
	tck=$(getconf CLK_TCK)
	secs=$(( (t1 - t0) / 1000000000 ))
	measured "sampling 8 GPUs x 50 processes (8 holds): labcd used $(( (c1 - c0) * 1000 / tck / secs )) ms CPU per 1 s sample over ${secs} s (sanitizer build: $LABCD)"
	kill $pids 2>/dev/null
	labc --as dave delete all8 >/dev/null
	[ "$c1" -ge "$c0" ]
'

test_done
