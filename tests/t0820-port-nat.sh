#!/usr/bin/env bash
# t0820-port-nat.sh - ssh_port_mode = nat (#16): a container's port is
# LXD's NAT proxy (nftables DNAT, no forkproxy) to a fixed address labcd
# gives it on its member's own bridge (NAT needs isolate_members = yes),
# kept in the database; its eth0 holds that address with LXD's IPv4
# filtering. Alice's other container and bob's, root inside, claim the
# address of alice's stopped box: the host does not reach them there, and
# alice's port still reaches her box once it runs. A local account
# listening on the port gets nothing. Reconciliation gives back the NIC
# taken away with lxc; a copy gets its own address; delete frees it.
#
# The ports listen on the test bridge's gateway address (NAT cannot listen
# on a wildcard, and the kernel does not forward what arrives on 127.0.0.1).
. "$(dirname "$0")/lib.sh"
need_lxd

P=${LABCT_PREFIX}nat-
GW=$LABCT_GATEWAY
# The members' bridges: a /16 no route touches (t0560 takes from 230 up).
free16() {
	local n
	for n in $(seq 200 228); do
		ip -4 route show | grep -qE "^10\.$n\." || { echo "$n"; return 0; }
	done
	return 1
}
O=$(free16) || test_skip_all "no free 10.N.0.0/16 for the members' bridges"
conf_nat() {
	write_conf "project_prefix = $P" "default_image = $LABCT_IMAGE" \
	    "profiles = $LABCT_PROFILE" "ssh_listen = $GW" \
	    "ssh_ports = 64820-64839" "isolate_members = yes" \
	    "member_subnets = 10.$O.0.0/16" "$@"
}
# ssh_at KEY PORT CMD...: into a container through its port on the bridge
# gateway's address.
ssh_at() { SSH_HOST=$GW ssh_in "$@"; }
addr_of() { sqlite3 "$DB" "SELECT c.addr FROM containers c JOIN users u ON u.id = c.user_id WHERE u.name = '$1' AND c.name = '$2'"; }
dev() { lxc config device get "$2" "$3" "$4" --project "$P$1"; }
# reachable ADDR: the host opens a TCP connection to ADDR:22 (what the
# DNAT of a port does), within 3 s.
reachable() { timeout 3 bash -c "exec 3<>/dev/tcp/$1/22" 2>/dev/null; }
# unused: an address of the bridge no container answers on now, from the
# low end (labcd gives from the top).
unused() {
	local i
	for i in $(seq 20 60); do
		reachable "${GW%.*}.$i" || { echo "${GW%.*}.$i"; return 0; }
	done
	return 1
}
newkey ak
newkey bk

test_expect_success 'ssh_port_mode = nat without one address of this host to listen on: labcd refuses to start, and says what to set' '
	for l in 0.0.0.0 127.0.0.1 "" ::1 lab.example; do
		conf_nat "ssh_port_mode = nat" "ssh_listen = $l"
		sed -i "/^ssh_listen = $GW\$/d" "$CONF"
		rc=0; out=$($LABCD -f "$CONF" -S "$SOCK" -d "$DB" -D 2>&1 </dev/null) || rc=$?
		[ $rc != 0 ] || return 1
		contains "$out" "ssh_port_mode = nat needs ssh_listen to be one IPv4 address of this host" || return 1
		contains "$out" "set ssh_listen to the server.s address, or ssh_port_mode = proxy" || return 1
	done
	# On a shared bridge, containers labcd did not filter could answer.
	write_conf "project_prefix = $P" "ssh_listen = $GW" "ssh_port_mode = nat" \
	    "isolate_members = no"
	rc=0; out=$($LABCD -f "$CONF" -S "$SOCK" -d "$DB" -D 2>&1 </dev/null) || rc=$?
	[ $rc != 0 ] && contains "$out" "ssh_port_mode = nat needs isolate_members = yes"
	conf_nat "ssh_port_mode = dnat"
	rc=0; out=$($LABCD -f "$CONF" -S "$SOCK" -d "$DB" -D 2>&1 </dev/null) || rc=$?
	[ $rc != 0 ] && contains "$out" "ssh_port_mode must be proxy or nat"
	[ ! -e "$SOCK" ]
'

conf_nat "ssh_port_mode = nat" "reconcile_on_change = no"
start_labcd || exit 1
for u in alice bob; do labc admin user add $u </dev/null >/dev/null; done
labc --as alice key add "$(cat $TDIR/ak.pub)" >/dev/null
labc --as bob key add "$(cat $TDIR/bk.pub)" >/dev/null

test_expect_success 'a launch gives the container a fixed address and a NAT port to it; ssh through the port lands in it' '
	t0=$(date +%s%3N)
	out=$(labc --as alice launch box)
	measured "launch to ssh-ready with a NAT port: $(($(date +%s%3N) - t0)) ms"
	contains "$out" "^Or by its own port: ssh -p [0-9]+ ubuntu@$GW$"
	a=$(addr_of alice box)
	[[ $a == ${GW%.*}.* ]] && [ "$a" != "$GW" ]
	port=$(port_of alice box)
	[ "$(dev alice box ssh nat)" = true ]
	[ "$(dev alice box ssh connect)" = "tcp:$a:22" ]
	[ "$(dev alice box ssh listen)" = "tcp:$GW:$port" ]
	[ "$(dev alice box eth0 ipv4.address)" = "$a" ]
	[ "$(dev alice box eth0 security.ipv4_filtering)" = true ]
	# What LXD gave it is that address, and list says so.
	until_ms 20000 eval "labc --as alice list --format csv | grep -q \"^box,running,$a,$port,\""
	[ "$(ssh_at $TDIR/ak $port hostname)" = box ]
	# No helper process relays it: the kernel does.
	! pgrep -f "forkproxy.*tcp:$GW:$port " >/dev/null
'

test_expect_success 'alice.s other container and bob.s, root inside, take the address of alice.s stopped box: the host reaches neither there, and her port reaches her box again' '
	labc --as alice launch box2 >/dev/null
	labc --as bob launch bbox >/dev/null
	a=$(addr_of alice box) a2=$(addr_of alice box2) b=$(addr_of bob bbox)
	aport=$(port_of alice box) a2port=$(port_of alice box2) bport=$(port_of bob bbox)
	[ -n "$a2" ] && [ -n "$b" ] && [ "$a" != "$a2" ] && [ "$a" != "$b" ]
	# box2 shares box.s bridge; bbox is on bob.s own.
	[ "$(dev alice box2 eth0 network)" = "$(dev alice box eth0 network)" ]
	[ "$(dev bob bbox eth0 network)" != "$(dev alice box eth0 network)" ]
	reachable "$a2" && reachable "$b"
	labc --as alice stop box >/dev/null
	ssh_at $TDIR/ak $a2port "sudo -n ip addr add $a/24 dev eth0"
	ssh_at $TDIR/bk $bport "sudo -n ip addr add $a/16 dev eth0"
	contains "$(ssh_at $TDIR/ak $a2port ip -4 addr show dev eth0)" "inet $a/24"
	ip neigh flush to "$a" 2>/dev/null || true
	# The host asks the bridge for it (what the DNAT does): no answer.
	! reachable "$a"
	# An address nobody has, claimed the same way, is no better.
	free=${a%.*}.3
	! reachable "$free"
	ssh_at $TDIR/ak $a2port "sudo -n ip addr add $free/24 dev eth0"
	! reachable "$free"
	# Alice starts box again, the others still claiming: her port is hers.
	labc --as alice start box >/dev/null
	for i in 1 2 3 4 5; do
		[ "$(ssh_at $TDIR/ak $aport hostname)" = box ] || return 1
	done
	! ssh_at $TDIR/bk $aport true 2>/dev/null
	# And both are still reached at their own.
	[ "$(ssh_at $TDIR/ak $a2port hostname)" = box2 ]
	[ "$(ssh_at $TDIR/bk $bport hostname)" = bbox ]
	labc --as alice delete -f box2 >/dev/null
'

test_expect_success 'the control: a container whose NIC has no filtering, claiming an address the same way, is reached there (the test sees spoofing)' '
	sp=${P}spoof-$$
	lxc init -q "$LABCT_IMAGE" "$sp" -p "$LABCT_PROFILE"
	ok=1
	lxc start "$sp" || ok=0
	c=$(unused) || ok=0
	[ $ok = 1 ] && until_ms 30000 timeout -k 2 10 lxc exec "$sp" -- ip addr add "$c/24" dev eth0 || ok=0
	[ $ok = 1 ] && until_ms 30000 reachable "$c" || ok=0
	lxc delete -f "$sp"
	[ $ok = 1 ]
'

test_expect_success 'a local account (uid 65534) listening on the address and port of alice.s running container gets no connection: the kernel forwards them first' '
	aport=$(port_of alice box)
	setpriv --reuid=65534 --regid=65534 --clear-groups openssl s_server \
	    -accept "$GW:$aport" -nocert -www >$TDIR/squat.log 2>&1 </dev/null & sp=$!
	ok=1
	until_ms 10000 eval "ss -Hltn \"sport = :$aport\" | grep -q ." || ok=0
	for i in 1 2 3; do
		[ "$(ssh_at $TDIR/ak $aport hostname)" = box ] || ok=0
	done
	kill $sp
	[ $ok = 1 ]
	# s_server says when it is ready, and then a line for each
	# connection that was not TLS: none.
	[ -z "$(grep -v "^Using default temp DH parameters$\|^ACCEPT$" $TDIR/squat.log)" ]
'

test_expect_success 'reconciliation gives back the eth0 that holds the address, taken away with lxc' '
	a=$(addr_of alice box)
	lxc config device remove box eth0 --project "${P}alice" >/dev/null
	out=$(labc admin reconcile)
	contains "$out" "box.*its eth0 is not the one that holds its address $a"
	[ "$(dev alice box eth0 ipv4.address)" = "$a" ]
	[ "$(dev alice box eth0 security.ipv4_filtering)" = true ]
	contains "$(labc admin reconcile)" "The database and LXD agree"
'

test_expect_success 'a copy gets an address of its own; delete gives the address back' '
	labc --as alice copy box boxc >/dev/null
	a=$(addr_of alice box) a2=$(addr_of alice boxc)
	[ -n "$a2" ] && [ "$a2" != "$a" ]
	[ "$(dev alice boxc eth0 ipv4.address)" = "$a2" ]
	[ "$(dev alice boxc ssh connect)" = "tcp:$a2:22" ]
	labc --as alice start boxc >/dev/null
	[ "$(ssh_at $TDIR/ak $(port_of alice boxc) hostname)" = boxc ]
	labc --as alice delete -f boxc >/dev/null
	[ -z "$(sqlite3 "$DB" "SELECT 1 FROM containers WHERE addr = \"$a2\"")" ]
	# The next launch may have it again.
	labc --as alice launch box3 >/dev/null
	[ "$(addr_of alice box3)" = "$a2" ]
	labc --as alice delete -f box3 >/dev/null
'

test_expect_success 'purging the users takes their containers, addresses and bridges' '
	for u in alice bob; do labc admin user del $u --purge >/dev/null || return 1; done
	[ -z "$(sqlite3 "$DB" "SELECT addr FROM containers")" ]
'

test_done
