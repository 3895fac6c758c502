#!/usr/bin/env bash
# t0830-cluster.sh - several servers (#20): labcd on an LXD cluster of two
# members (scripts/testbed.sh cluster: each member a private LXD in a
# mount and network namespace of its own, as on two machines). servers
# lists both; launch --server places a container there, without it labcd
# chooses (the most free memory) and says why; each container's port
# listens on its own member's address, ssh reaches containers on both
# members straight and through the gateway. One member's LXD stopped: its
# containers show as unreachable within seconds, new ones go to the other
# member, --server naming it is refused, doctor names it; started again,
# everything recovers. Per-member bridges (isolate_members) are made on
# each member first, as LXD asks on a cluster.
. "$(dirname "$0")/lib.sh"
need_lxd

cluster_lxd "labcc$$"
M1=$LABCT_CLUSTER_m1 M2=$LABCT_CLUSTER_m2
P=${LABCT_PREFIX}cl-
. "$(dirname "$0")/gateway.sh"
gw_init labct83gw labct83gk 64840
write_conf "project_prefix = $P" "default_image = $LABCT_IMAGE" \
    "profiles = $LABCT_PROFILE" "ssh_listen = 0.0.0.0" \
    "ssh_ports = 64841-64859" "lxd_socket = $LXD_SOCKET" \
    "isolate_members = yes" "gpu_sample_interval = 1s" \
    "gpu_idle_reclaim = 4s" "${GW_CONF[@]}"
start_labcd || exit 1
gw_setup >/dev/null || exit 1
gw_start || exit 1
newkey ak
newkey bk
for u in alice bob; do labc admin user add $u </dev/null >/dev/null; done
labc --as alice key add <"$TDIR/ak.pub" >/dev/null
labc --as bob key add <"$TDIR/bk.pub" >/dev/null
# Idle reclaim is at 4 s for its own check; elsewhere GPUs stay put.
labc admin gpu exempt alice >/dev/null
labc admin gpu exempt bob >/dev/null

# where USER NAME: the member LXD says the container is on.
where() { lxc query "/1.0/instances/$2?project=$P$1" | jq -r .location; }
port_of() { sqlite3 "$DB" "SELECT c.port FROM containers c JOIN users u ON u.id = c.user_id WHERE u.name = '$1' AND c.name = '$2'"; }
# state USER NAME: its state as list says (csv: name,server,state,...).
state() { labc --as "$1" list --format csv | awk -F, -v n="$2" '$1 == n { print $3 }'; }
# through KEY NAME CMD...: ssh into NAME through the gateway (nc).
through() {
	local key=$1 name=$2
	shift 2
	gw "$key" -o ProxyCommand="ssh -i $TDIR/$key -p $SSHD_PORT -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR $GW@127.0.0.1 nc $name" "ubuntu@$name" "$@"
}
m2_down() { [ "$(labc servers --format csv | awk -F, '$1 == "m2" { print $2 }')" = down ]; }
m2_up() { [ "$(labc servers --format csv | awk -F, '$1 == "m2" { print $2 }')" = up ]; }
box_unreachable() { [ "$(state alice box)" = unreachable ]; }
box_running() { [ "$(state alice box)" = running ]; }

# Each member runs labcd --node (read-only: its GPUs as NVML says, each
# process with its container), in its own network namespace, on its
# cluster address; the stand-in NVML gives m1 two GPUs and m2 one.
STUB=$LABCT_BUILD/tests/nvml-stub/libnvidia-ml.so.1
echo "gpu NVIDIA-A100-SXM4-40GB 00000000:3B:00.0 GPU-0000aaa1 40960 100 0
gpu NVIDIA-A100-SXM4-40GB 00000000:5E:00.0 GPU-0000aaa2 40960 0 0" >"$TDIR/gpus-m1.txt"
echo "gpu NVIDIA-H100-80GB 00000000:86:00.0 GPU-0000bbb1 81920 0 0" >"$TDIR/gpus-m2.txt"
# node_start MEMBER: its labcd --node, until the test ends.
node_start() {
	printf "%s\n" "lxd_socket = $CL/$1/lxd/unix.socket" "nvml_library = $STUB" \
	    "node_port = 8444" >"$TDIR/node-$1.conf"
	NVML_STUB_FILE=$TDIR/gpus-$1.txt nsenter -t "$(cat "$CL/$1/holder.pid")" -n -- \
	    "$LABCD" --node -f "$TDIR/node-$1.conf" 2>>"$TDIR/node-$1.log" &
	echo $! >"$TDIR/node-$1.pid"
	at_exit "kill \$(cat $TDIR/node-$1.pid) 2>/dev/null"
}
node_answers() { curl -sk --max-time 2 "https://$1:8444/1.0" >/dev/null; }
m2_unread() { labc gpus | grep -q "^Server m2: no GPU reading"; }
node_start m1
node_start m2
until_ms 10000 node_answers "$M1" && until_ms 10000 node_answers "$M2" ||
    { cat "$TDIR"/node-m*.log; echo "not ok - labcd --node on the members"; exit 1; }

test_expect_success 'servers lists both members, up, with their addresses, resources and GPUs' '
	out=$(labc --as alice servers --format csv)
	contains "$out" "^server,state,address,cpus,memory_free,gpus,gpus_free,containers,why$"
	contains "$out" "^m1,up,$M1,[0-9]+,[0-9.]+ [GM]iB of [0-9.]+ [GM]iB,2,2,0,$"
	contains "$out" "^m2,up,$M2,[0-9]+,[0-9.]+ [GM]iB of [0-9.]+ [GM]iB,1,1,0,$"
	contains "$(labc admin doctor 2>&1)" "servers +ok +2 servers in LXD.s cluster, all up"
'

test_expect_success 'launch --server m2 places the container there, and says so' '
	out=$(labc --as alice launch box --server m2 2>&1)
	contains "$out" "Placing box on m2, as asked"
	contains "$out" "box is running"
	contains "$out" "Or by its own port: ssh -p $(port_of alice box) ubuntu@$M2"
	[ "$(where alice box)" = m2 ]
	contains "$(labc --as alice list --format csv)" "^box,m2,running,"
	# its own bridge, made on each member (isolate_members)
	[ "$(lxc query /1.0/networks?recursion=1 | jq -r --arg p "${P}alice" ".[] | select(.config[\"user.labc.owner\"] == \$p) | .status")" = Created ]
'

test_expect_success 'without --server labcd chooses (the most free memory) and says why' '
	out=$(labc --as bob launch bbox 2>&1)
	contains "$out" "Placing bbox on m[12]: the most free memory \([0-9.]+ [GM]iB\) of the servers up \(m1, m2\)"
	m=$(where bob bbox)
	contains "$out" "Placing bbox on $m:"
	contains "$(labc --as bob list --format csv)" "^bbox,$m,running,"
	contains "$(labc list --all --format csv)" "^alice,box,m2,running,"
'

test_expect_success 'a server that does not exist, a hostile name, GPUs without their server: refused, nothing made' '
	out=$(labc --as alice launch b2 --server m9 2>&1) && return 1
	contains "$out" "there is no server .m9.: .servers. lists them \(up now: m1, m2\)"
	out=$(labc --as alice launch b2 --server "m1;reboot" 2>&1) && return 1
	contains "$out" "--server takes the name of one of the lab.s servers"
	# GPU numbers alone mean nothing on several servers
	out=$(labc --as alice launch b2 --gpu 0 2>&1) && return 1
	contains "$out" "this lab has several servers: name the GPUs. server, --gpu SERVER:N"
	out=$(labc --as alice launch b2 --server m1 --gpu m2:0 2>&1) && return 1
	contains "$out" "GPUs of m2 cannot go to a container on m1"
	out=$(labc --as alice launch b2 --gpu m1:0,m2:0 2>&1) && return 1
	contains "$out" "--gpu names GPUs of one server only"
	! lxc info b2 --project ${P}alice >/dev/null 2>&1
	[ -z "$(port_of alice b2)" ]
'

test_expect_success 'ssh reaches containers on both members: by their ports on their members, and through the gateway' '
	[ "$(SSH_HOST=$M2 ssh_in "$TDIR/ak" "$(port_of alice box)" hostname)" = box ]
	m=$(where bob bbox); eval "a=\$LABCT_CLUSTER_$m"
	[ "$(SSH_HOST=$a ssh_in "$TDIR/bk" "$(port_of bob bbox)" hostname)" = bbox ]
	[ "$(through ak box hostname)" = box ]
	[ "$(through bk bbox hostname)" = bbox ]
	# not into the other member s container
	! through ak bbox hostname >/dev/null 2>&1
'

box_proc_shown() { labc gpus | grep -q "^  $1 "; }
test_expect_success 'gpus shows every member s GPUs as SERVER:N, and whose container runs on each' '
	pid=$(lxc query "/1.0/instances/box/state?project=${P}alice" | jq -r .pid)
	echo "proc 0 $pid 512" >>"$TDIR/gpus-m2.txt"
	# a reading is kept 2 s (sampling reads the nodes every second)
	until_ms 5000 box_proc_shown "$pid"
	out=$(labc --as bob gpus)
	contains "$out" "^GPU m1:0  NVIDIA-A100-SXM4-40GB  0000:3b:00.0  [0-9.]+ GiB / 40.0 GiB  0%$"
	contains "$out" "^GPU m1:1  NVIDIA-A100-SXM4-40GB  0000:5e:00.0"
	contains "$out" "^GPU m2:0  NVIDIA-H100-80GB  0000:86:00.0"
	contains "$out" "^  $pid +0.5 GiB +box +alice$"
	[ "$(labc gpus --format json | jq -r ".gpus[] | select(.server == \"m2\") | .processes[0].user")" = alice ]
	measured "gpus over two nodes: $(t=$(date +%s%3N); labc gpus >/dev/null; echo $(( $(date +%s%3N) - t ))) ms"
'

q_has_gpu() { [ -n "$(gpu_of alice q)" ]; }
# gpu_of USER NAME: its GPUs in the database, SERVER:N each.
gpu_of() { sqlite3 "$DB" "SELECT g.server || ':' || g.gpu FROM gpus g JOIN containers c ON c.id = g.container_id JOIN users u ON u.id = c.user_id WHERE u.name = '$1' AND c.name = '$2' ORDER BY 1" | tr '\n' ' '; }
test_expect_success 'GPUs are given on their own member: SERVER:N places the container there, any takes the member with the most free, the quota counts across members' '
	out=$(labc --as alice create g1 --gpu m1:0 2>&1)
	contains "$out" "Placing g1 on m1, where the GPUs asked for are"
	[ "$(where alice g1)" = m1 ]
	[ "$(gpu_of alice g1)" = "m1:0 " ]
	[ "$(lxc config device get g1 gpu0 pci --project ${P}alice)" = 0000:3b:00.0 ]
	contains "$(labc --as alice details g1)" "^  gpus: +m1:0$"
	labc --as alice create g2 --server m2 --gpu 0 >/dev/null
	[ "$(where alice g2)" = m2 ]
	[ "$(gpu_of alice g2)" = "m2:0 " ]
	[ "$(lxc config device get g2 gpu0 pci --project ${P}alice)" = 0000:86:00.0 ]
	# m1 has GPU 1 free, m2 none: any goes to m1
	out=$(labc --as bob create g3 --gpu any 2>&1)
	contains "$out" "Placing g3 on m1: the server with the most GPUs free \(1 of 2\)"
	[ "$(gpu_of bob g3)" = "m1:1 " ]
	out=$(labc --as bob create g4 --gpu any:2 2>&1) && return 1
	contains "$out" "no server has 2 GPUs free now \(0 at most\)"
	# the same number on two members is two GPUs for the quota
	labc admin quota set bob gpus=2 >/dev/null
	labc --as bob create g5 --gpu m2:0 >/dev/null
	[ "$(gpu_of bob g5)" = "m2:0 " ]
	out=$(labc --as bob create g6 --gpu m1:0 2>&1) && return 1
	contains "$out" "quota: you may use 2 GPUs and this would make it 3"
	# servers: m1 has none free, m2 none (alice and bob share its one)
	contains "$(labc servers --format csv)" "^m1,up,$M1,[0-9]+,[^,]+,2,0,"
	contains "$(labc servers --format csv)" "^m2,up,$M2,[0-9]+,[^,]+,1,0,"
	# gpus shows who was given each, per member
	# (sampled from the nodes: idle, since nothing runs on them)
	out=$(labc gpus)
	contains "$out" "^GPU m1:0  .* given to alice/g1 \(idle [0-9]+s\)$"
	contains "$out" "^GPU m2:0  .* given to alice/g2 \(idle [0-9]+s\), bob/g5 \(idle [0-9]+s\)$"
	contains "$out" "^GPU m1:1  .* given to bob/g3 \(idle [0-9]+s\)$"
	# a GPU of another member cannot be attached
	out=$(labc --as alice gpu attach g2 m1:1 2>&1) && return 1
	contains "$out" "GPUs of m1 cannot go to a container on m2"
	labc --as alice gpu detach g2 0 >/dev/null
	[ -z "$(gpu_of alice g2)" ]
	# the queue: nothing free on m1, where q is; bob lets m1:1 go
	labc --as alice create q --server m1 >/dev/null
	out=$(labc --as alice gpu request q any 2>&1)
	contains "$out" "q waits for GPU any in the queue: position 1 of 1"
	labc --as bob gpu detach g3 1 >/dev/null
	until_ms 20000 q_has_gpu
	[ "$(gpu_of alice q)" = "m1:1 " ]
	labc --as alice delete -f q >/dev/null
	for n in g1 g2; do labc --as alice delete -f $n >/dev/null || return 1; done
	for n in g3 g5; do labc --as bob delete -f $n >/dev/null || return 1; done
	labc admin quota set bob gpus=none >/dev/null
'

# GPU use over time, from the nodes. LXD refuses a stand-in GPU to a
# running container, so box's hold of m2:0 is written into the database as
# gpu attach would write it (t0410 does the same on one server).
ct_id() { sqlite3 "$DB" "SELECT c.id FROM containers c JOIN users u ON u.id = c.user_id WHERE u.name = '$1' AND c.name = '$2'"; }
hold_box() { sqlite3 "$DB" "INSERT INTO gpus (container_id, gpu, pci, exclusive, since, server) VALUES ($(ct_id alice box), 0, '0000:86:00.0', 0, CAST(strftime('%s', 'now') AS INTEGER), 'm2')"; }
unhold_box() { sqlite3 "$DB" "DELETE FROM gpus WHERE container_id = $(ct_id alice box)"; }
idle_of_box() { sqlite3 "$DB" "SELECT idle_since FROM gpus WHERE container_id = $(ct_id alice box)"; }
box_used() { [ "$(sqlite3 "$DB" "SELECT coalesce(sum(used), 0) FROM gpu_usage WHERE server = 'm2' AND gpu = 0 AND user = 'alice' AND container = 'box'")" -ge 2 ]; }
box_idle() { [ "$(idle_of_box)" -gt 0 ]; }
idle_moved_from() { [ "$(idle_of_box)" -ge $(($1 + 3)) ]; }
idle_gone() { [ -z "$(gpu_of bob idle)" ]; }
lease1_gone() { [ -z "$(gpu_of alice lease1)" ]; }
m2_gpu() { printf "%s\n" "gpu NVIDIA-H100-80GB 00000000:86:00.0 GPU-0000bbb1 81920 512 $1" "proc 0 $2 512" >"$TDIR/gpus-m2.txt"; }
test_expect_success 'GPU use on a cluster: sampled from each member s node; idle clocks wait while a member gives no reading; idle reclaim on a member' '
	pid=$(lxc query "/1.0/instances/box/state?project=${P}alice" | jq -r .pid)
	m2_gpu 40 "$pid"
	hold_box
	until_ms 20000 box_used
	measured "box s first used second on m2:0 in the history after $TOOK ms"
	row=$(labc --as alice usage --by gpu --format json | jq -c ".usage[] | select(.server == \"m2\" and .gpu == 0)")
	[ "$(echo "$row" | jq .held_seconds)" -ge 2 ]
	# 40 % (a first sample may be of the reading before, at 0 %)
	util=$(echo "$row" | jq .util_held_pct)
	[ "$util" -ge 25 ] && [ "$util" -le 40 ]
	contains "$(labc --as alice usage --by gpu)" "^alice +m2:0 "
	# nobody holds m1:0: the admin sees its time, as that member s
	contains "$(labc usage --by gpu --format csv)" "^\(everyone\),,0,.*,m1$"
	# at 0 % box is idle on m2 (alice is spared from reclaim)
	m2_gpu 0 "$pid"
	until_ms 10000 box_idle
	# m2 s node gives no reading: its idle clocks wait (moved on by the
	# time not seen), and go on from there once it reads again
	s0=$(idle_of_box)
	kill $(cat $TDIR/node-m2.pid)
	until_ms 15000 idle_moved_from "$s0"
	node_start m2
	until_ms 10000 node_answers "$M2"
	s1=$(idle_of_box)
	sleep 3
	[ "$(idle_of_box)" -le $((s1 + 1)) ]
	unhold_box
	m2_gpu 0 "$pid"
	# bob, no longer spared: his idle GPU on m1 is taken back there
	labc admin gpu exempt bob --off >/dev/null
	labc --as bob create idle --gpu m1:1 >/dev/null
	[ "$(gpu_of bob idle)" = "m1:1 " ]
	until_ms 30000 idle_gone
	measured "idle reclaim at 4 s on m1: the hold gone after $TOOK ms"
	! lxc config device show idle --project ${P}bob | grep -q "^gpu1:"
	contains "$(labc --as bob log)" "gpu reclaim +idle +ok: GPU m1:1 taken back: idle for [0-9]+s \(gpu_idle_reclaim\)"
	labc admin gpu exempt bob >/dev/null
	labc --as bob delete idle >/dev/null
	# a lease ends on its member as on one server
	labc --as alice create lease1 --gpu m2:0 --for 3s >/dev/null
	[ "$(gpu_of alice lease1)" = "m2:0 " ]
	until_ms 20000 lease1_gone
	! lxc config device show lease1 --project ${P}alice | grep -q "^gpu0:"
	contains "$(labc --as alice log)" "gpu lease +lease1 +ok: GPU m2:0 taken back: its lease ended"
	labc --as alice delete lease1 >/dev/null
'

test_expect_success 'a node answers no one LXD does not trust: no certificate, a stranger s, a local account' '
	out=$(curl -sk "https://$M2:8444/1.0/gpus")
	[ "$(printf "%s" "$out" | jq -r .error_code)" = 403 ]
	contains "$out" "a client certificate that LXD trusts is needed"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	    -subj /CN=stranger -keyout "$TDIR/s.key" -out "$TDIR/s.crt" 2>/dev/null
	chmod 644 "$TDIR/s.key"
	out=$(as_uid 65534 curl -sk --cert "$TDIR/s.crt" --key "$TDIR/s.key" "https://$M2:8444/1.0/gpus")
	contains "$out" "this certificate is not trusted by LXD"
	not_contains "$out" "NVIDIA"
	# only GET, only its two paths
	out=$(curl -sk --cert "$CL/m1/lxd/cluster.crt" --key "$CL/m1/lxd/cluster.key" -X POST "https://$M2:8444/1.0/gpus")
	contains "$out" "read-only: GET only"
'

test_expect_success 'a node that does not run: gpus and servers say which and what to do, the rest is shown' '
	kill $(cat $TDIR/node-m2.pid)
	# labcd keeps a reading 2 s
	until_ms 5000 m2_unread
	out=$(labc gpus)
	contains "$out" "^GPU m1:0 "
	contains "$out" "^Server m2: no GPU reading: its labcd --node at https://$M2:8444 does not answer"
	contains "$(labc servers --format csv)" "^m2,up,$M2,[0-9]+,.*,\?,-,[0-9]+,\"?no GPU reading: its labcd --node at https://$M2:8444 does not answer: run it there"
	node_start m2
	until_ms 10000 node_answers "$M2"
	contains "$(labc gpus)" "^GPU m2:0 "
'

m2_slow() { labc gpus | grep -q "^Server m2: no GPU reading: .*(asked again within"; }
m2_read() { labc gpus | grep -q "^GPU m2:0 "; }
lease2_gone() { [ -z "$(gpu_of alice lease2)" ]; }
ms_of() { local t0=$(date +%s%3N); "$@" >"$TDIR/ms.out" 2>&1; echo $(( $(date +%s%3N) - t0 )); }
test_expect_success 'a node that takes connections and never answers: waited for once in 15 s, not at every look; leases elsewhere end on time' '
	node=$(cat $TDIR/node-m2.pid)
	at_exit "kill -CONT $node 2>/dev/null"
	kill -STOP $node
	until_ms 15000 m2_slow
	measured "a hung node: said in gpus $TOOK ms after it stopped (a read waits 3 s)"
	ms=$(ms_of labc gpus)
	measured "gpus with m2 s node hung: $ms ms"
	[ "$ms" -lt 2500 ]
	contains "$(cat $TDIR/ms.out)" "^GPU m1:0 "
	contains "$(cat $TDIR/ms.out)" "^Server m2: no GPU reading: its labcd --node at https://$M2:8444 took the connection and did not answer within 3 s .*\(asked again within [0-9]+ s\)"
	ms=$(ms_of labc servers --format csv)
	[ "$ms" -lt 2500 ]
	contains "$(cat $TDIR/ms.out)" "^m2,up,$M2,.*no GPU reading: its labcd --node at https://$M2:8444 took the connection"
	labc --as alice create lease2 --gpu m1:1 --for 3s >/dev/null
	[ "$(gpu_of alice lease2)" = "m1:1 " ]
	until_ms 20000 lease2_gone
	measured "a 3 s lease on m1 taken back $TOOK ms after create returned, m2 s node hung"
	labc --as alice delete lease2 >/dev/null
	kill -CONT $node
	until_ms 25000 m2_read
	measured "m2 s node read again $TOOK ms after it went on"
'

test_expect_success 'one member down: its containers unreachable within seconds, launches go to the other, --server it refused, doctor names it' '
	bash $LABCT_TESTBED private-stop $CL/m2 2>/dev/null
	t0=$(date +%s%3N)
	until_ms 8000 box_unreachable
	measured "box shown unreachable $(( $(date +%s%3N) - t0 )) ms after m2 s LXD stopped"
	until_ms 8000 m2_down
	contains "$(labc servers)" "m2 +down +$M2 .*its LXD at $M2:8443 does not answer"
	out=$(labc --as alice launch b3 2>&1)
	contains "$out" "Placing b3 on m1: the most free memory .* of the servers up \(m1\)"
	contains "$out" "b3 is running"
	out=$(labc --as alice launch b4 --server m2 2>&1) && return 1
	contains "$out" "server m2 is down \(.*\): choose another with --server \(up now: m1\)"
	contains "$(labc admin doctor 2>&1)" "servers +problem +server m2 \($M2\) is down"
	contains "$(labc gpus)" "^Server m2: no GPU reading: the server is down"
	# what needs its LXD says so at once, instead of LXD s timeouts
	t0=$(date +%s%3N)
	out=$(labc --as alice stop box 2>&1) && return 1
	contains "$out" "box is on server m2, which is down \(.*\): nothing can be done to it until it is back"
	[ $(( $(date +%s%3N) - t0 )) -lt 5000 ]
	# the others go on
	[ "$(SSH_HOST=$M1 ssh_in "$TDIR/ak" "$(port_of alice b3)" hostname)" = b3 ]
'

test_expect_success 'the member back: everything recovers by itself' '
	bash $LABCT_TESTBED private-start $CL/m2 2>/dev/null
	until_ms 30000 m2_up
	until_ms 30000 box_running
	[ "$(through ak box hostname)" = box ]
	contains "$(labc admin doctor 2>&1)" "servers +ok +2 servers"
	out=$(labc admin reconcile --dry-run 2>&1)
	contains "$out" "agree"
'

test_expect_success 'move takes a stopped container to the other member; its port follows it there' '
	out=$(labc --as alice move box --server m1 2>&1) && return 1
	contains "$out" "box is Running: move takes a stopped container"
	labc --as alice stop box >/dev/null
	out=$(labc --as alice move box --server m2 2>&1) && return 1
	contains "$out" "box is on m2 already"
	out=$(labc --as alice move box --server m1 2>&1)
	contains "$out" "Moving box from m2 to m1"
	contains "$out" "Moved box to m1; its port $(port_of alice box) is on $M1 once it runs"
	[ "$(where alice box)" = m1 ]
	labc --as alice start box >/dev/null
	[ "$(SSH_HOST=$M1 ssh_in "$TDIR/ak" "$(port_of alice box)" hostname)" = box ]
	[ "$(through ak box hostname)" = box ]
	contains "$(labc --as alice list --format csv)" "^box,m1,running,"
	# bob cannot move alice s box
	out=$(labc --as bob move box --server m2 2>&1) && return 1
	contains "$out" "you have no container .box."
	[ "$(where alice box)" = m1 ]
'

test_expect_success 'delete on either member, and the users purged: nothing of theirs is left in the cluster' '
	labc --as alice delete -f box >/dev/null
	labc --as alice delete -f b3 >/dev/null
	labc --as bob delete -f bbox >/dev/null
	for u in alice bob; do labc admin user del $u --purge >/dev/null || return 1; done
	[ -z "$(lxc query "/1.0/instances?all-projects=true" | jq -r ".[]" | grep "project=$P")" ]
'

test_done
