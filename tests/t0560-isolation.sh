#!/usr/bin/env bash
# t0560-isolation.sh - members' containers do not reach each other
# (isolate_members, issue 14), on the real LXD with real containers:
# - each member gets a bridge of their own with an LXD network ACL, and
#   the copies of the profiles in their project point at it;
# - alice's container cannot open bob's sshd (a listener on 0.0.0.0 like
#   a Jupyter), nor bob's hers; alice's reaches her own other container
#   and a listener on the host outside the bridges; labcd still reaches
#   them (the ssh wait at launch, ssh by port, nc);
# - the ACL is what refuses: without it the same connection opens, and a
#   reconciliation puts it back;
# - a container that ran on the shared bridge when isolation came on
#   keeps its network, is reported, cannot reach the isolated members,
#   and moves to its member's bridge at its next start;
# - deleting a member deletes their bridge and ACL, with or without
#   containers; a bridge whose project is gone is removed by reconcile;
#   a bad member_subnets stops start-up;
# - two first launches of one member at once make one bridge, whose ACL
#   lets its own containers and the host in;
# - a profile nic written as nictype=bridged parent=X is moved too; one
#   isolation cannot move (macvlan) stops starts and is a doctor problem;
# - a bridge outside member_subnets (changed since) is reported, its ACL
#   rejects all of member_subnets, and it gets a new /24 at the next start.
. "$(dirname "$0")/lib.sh"

P=${LABCT_PREFIX:-labct-nolxd-}t0560-
# The members' bridges: a 10.N.0.0/16 that nothing on this host routes, and
# the one after it free too (a bridge outside member_subnets). Not fixed:
# the test bed's own bridge takes the first free 10.N.0.0/24 from 10.214,
# and setup.sh's before it, so 10.215 may be the test bed's.
free16() {
	local n
	for n in $(seq 230 252); do
		ip -4 route show | grep -qE "^10\.($n|$((n + 1)))\." || { echo "$n"; return 0; }
	done
	return 1
}
O=$(free16) || test_skip_all "no two free 10.N.0.0/16 for the members' bridges"
O2=$((O + 1))
RANGE=10.$O.0.0/16		# the members' bridges of this test
OUT_PORT=63291			# a listener on the host, outside the bridges
conf() {	# conf yes|no [PROFILE]
	write_conf "project_prefix = $P" "default_image = ${LABCT_IMAGE:-none}" \
	    "profiles = ${2:-${LABCT_PROFILE:-default}}" "ssh_listen = 127.0.0.1" \
	    "ssh_ports = 63200-63279" "reconcile_interval = 0" "reconcile_on_change = no" \
	    "isolate_members = $1" "member_subnets = $RANGE"
}

test_expect_success 'member_subnets must be a network from /8 to /23' '
	for v in 10.215.0.0/24 10.215.0.1/16 10.300.0.0/16 10.215.0.0 "10.215.0.0/16 x"; do
		printf "member_subnets = %s\n" "$v" > "$TDIR/bad.conf"
		out=$(expect_status 1 "$LABCD" -f "$TDIR/bad.conf" -S "$TDIR/x.sock" -d "$TDIR/x.db" -D 2>&1)
		contains "$out" "bad.conf:1: member_subnets must be an IPv4 network A.B.C.D/N with N from 8 to 23"
	done
	[ ! -e "$TDIR/x.sock" ]
'

need_lxd

# probe USER CT ADDR PORT: open, refused or timeout, from inside the container.
probe() {
	local out rc=0
	out=$(lxc exec --project "$P$1" "$2" -- timeout 5 bash -c \
	    "exec 3<>/dev/tcp/$3/$4" 2>&1) || rc=$?
	case $rc in
	0) echo open ;;
	124) echo timeout ;;
	*) case $out in *refused*) echo refused ;; *) echo "error $rc: $out" ;; esac ;;
	esac
}
# addr_of USER CT: its IPv4 address (waits up to 30 s for DHCP).
addr_of() {
	local i a
	for ((i = 0; i < 60; i++)); do
		a=$(lxc query "/1.0/instances/$2/state?project=$P$1" |
		    jq -r '.network.eth0.addresses[]? | select(.family == "inet") | .address' | head -n 1)
		[ -n "$a" ] && { echo "$a"; return 0; }
		sleep 0.5
	done
	return 1
}
# bridge_of USER: the name of the member's own bridge (its owner key).
bridge_of() {
	lxc query "/1.0/networks?recursion=1" | jq -r --arg p "$P$1" \
	    '.[] | select(.config["user.labc.owner"] == $p) | .name'
}
# tests/run's cleanup deletes the projects of the run, and their bridges.

# A listener on the host, on the test bridge's own address: outside the
# members' bridges. It answers every connection with a line.
python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)
while True:
    c, _ = s.accept(); c.sendall(b"outside-ok\n"); c.close()
' "$LABCT_GATEWAY" $OUT_PORT >/dev/null 2>&1 &
OUT_PID=$!
at_exit "kill $OUT_PID"

newkey carol1
newkey alice1
newkey bob1
newkey erin1

# ---- carol's container runs on the shared bridge before isolation ---------

conf no
start_labcd || exit 1
labc admin user add carol </dev/null >/dev/null
labc --as carol key add "$(cat "$TDIR/carol1.pub")" >/dev/null
labc --as carol launch c1 >/dev/null
labc admin user add erin </dev/null >/dev/null
labc --as erin key add "$(cat "$TDIR/erin1.pub")" >/dev/null
stop_labcd

conf yes
start_labcd || exit 1
# erin has no bridge yet: her two first launches race each other and the
# start-up reconciliation to make it.
labc --as erin launch e1 > "$TDIR/e1.out" 2>&1 &
E1=$!
labc --as erin launch e2 > "$TDIR/e2.out" 2>&1 &
E2=$!
wait $E1; E1RC=$?
wait $E2; E2RC=$?
for u in alice bob; do
	start=$(date +%s%N)
	labc admin user add $u </dev/null >/dev/null
	measured "admin user add $u, with its bridge and ACL: $(( ($(date +%s%N) - start) / 1000000 )) ms"
	labc --as $u key add "$(cat "$TDIR/${u}1.pub")" >/dev/null
done

test_expect_success 'each member has a bridge and a network ACL of their own' '
	ba=$(bridge_of alice) bb=$(bridge_of bob)
	[ -n "$ba" ] && [ -n "$bb" ] && [ "$ba" != "$bb" ]
	for b in $ba $bb; do
		[ ${#b} -le 15 ]
		n=$(lxc query /1.0/networks/$b)
		[ "$(echo "$n" | jq -r ".config[\"security.acls\"]")" = "$b" ]
		contains "$(echo "$n" | jq -r ".config[\"ipv4.address\"]")" "^10\.$O\.[0-9]+\.1/24$"
		[ "$(echo "$n" | jq -r ".config[\"ipv6.address\"]")" = none ]
		lxc query /1.0/network-acls/$b >/dev/null
	done
	[ "$(lxc query /1.0/networks/$ba | jq -r ".config[\"ipv4.address\"]")" != \
	  "$(lxc query /1.0/networks/$bb | jq -r ".config[\"ipv4.address\"]")" ]
	[ "$(lxc query "/1.0/profiles/$LABCT_PROFILE?project=${P}alice" | jq -r .devices.eth0.network)" = "$ba" ]
	[ "$(lxc query "/1.0/profiles/$LABCT_PROFILE?project=${P}bob" | jq -r .devices.eth0.network)" = "$bb" ]
'

test_expect_success 'two first launches at once: one bridge, whose ACL lets its own in' '
	[ $E1RC = 0 ] && [ $E2RC = 0 ] || { cat "$TDIR/e1.out" "$TDIR/e2.out"; false; }
	be=$(bridge_of erin)
	[ -n "$be" ] && [ "$(echo "$be" | wc -l)" = 1 ]
	own=$(lxc query /1.0/networks/$be | jq -r ".config[\"ipv4.address\"]")
	acl=$(lxc query /1.0/network-acls/$be | jq -r ".egress[0].destination")
	not_contains "$acl" "${own%.*}\."
	E1A=$(addr_of erin e1) E2A=$(addr_of erin e2)
	[ "$(probe erin e1 $E2A 22)" = open ]
	timeout 5 bash -c "exec 3<>/dev/tcp/$E1A/22"
	out=$(ssh -i $TDIR/erin1 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=10 \
	    -o ProxyCommand="$LABC -S $SOCK --as erin nc e2" ubuntu@e2 hostname)
	[ "$out" = e2 ]
'

test_expect_success 'launch: labcd waits for sshd through the port as before; ssh in by port' '
	out=$(labc --as alice launch a1)
	contains "$out" "^a1 is running: .*GPUs$"
	not_contains "$out" "did not answer"
	contains "$out" "^Connect with: ssh a1\."
	labc --as alice launch a2 >/dev/null
	out=$(labc --as bob launch b1)
	contains "$out" "^b1 is running: .*GPUs$"
	not_contains "$out" "did not answer"
	contains "$out" "^Connect with: ssh b1\."
	[ "$(ssh_in $TDIR/alice1 $(port_of alice a1) hostname)" = a1 ]
	[ "$(ssh_in $TDIR/bob1 $(port_of bob b1) hostname)" = b1 ]
	contains "$(addr_of alice a1)" "^10\.$O\."
	contains "$(addr_of bob b1)" "^10\.$O\."
'

A1=$(addr_of alice a1) A2=$(addr_of alice a2) B1=$(addr_of bob b1)

test_expect_success 'alice'"'"'s container cannot open a port on bob'"'"'s, nor his on hers' '
	[ "$(probe alice a1 $B1 22)" = refused ]
	[ "$(probe bob b1 $A1 22)" = refused ]
	[ "$(probe bob b1 $A2 22)" = refused ]
'

test_expect_success 'alice'"'"'s container reaches her own other container and the outside' '
	[ "$(probe alice a1 $A2 22)" = open ]
	[ "$(probe alice a2 $A1 22)" = open ]
	out=$(lxc exec --project ${P}alice a1 -- timeout 5 bash -c "exec 3<>/dev/tcp/$LABCT_GATEWAY/$OUT_PORT; head -n 1 <&3")
	[ "$out" = outside-ok ]
	[ "$(probe bob b1 $LABCT_GATEWAY $OUT_PORT)" = open ]
'

test_expect_success 'the host reaches their sshd by address, and nc by name' '
	timeout 5 bash -c "exec 3<>/dev/tcp/$A1/22"
	timeout 5 bash -c "exec 3<>/dev/tcp/$B1/22"
	out=$(ssh -i $TDIR/alice1 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=10 \
	    -o ProxyCommand="$LABC -S $SOCK --as alice nc a1" ubuntu@a1 hostname)
	[ "$out" = a1 ]
'

test_expect_success 'it is the ACL that refuses: without it bob'"'"'s sshd opens; reconcile puts it back' '
	ba=$(bridge_of alice) bb=$(bridge_of bob)
	lxc network unset $ba security.acls
	lxc network unset $bb security.acls
	[ "$(probe alice a1 $B1 22)" = open ]
	out=$(labc admin reconcile --dry-run)
	contains "$out" "lacks the network ACL"
	labc admin reconcile >/dev/null
	[ "$(lxc query /1.0/networks/$ba | jq -r ".config[\"security.acls\"]")" = "$ba" ]
	[ "$(probe alice a1 $B1 22)" = refused ]
	[ "$(probe bob b1 $A1 22)" = refused ]
'

test_expect_success 'doctor says isolation is on, with LXD'"'"'s firewall driver' '
	out=$(labc admin doctor --format csv 2>&1 || true)
	contains "$out" "^isolation,ok,\"?on: each member.s containers on a bridge of their own"
	contains "$out" "firewall: (nftables|xtables)"
'

C1=$(addr_of carol c1)
test_expect_success 'carol'"'"'s container from before keeps its network and is reported' '
	contains "$C1" "^${LABCT_SUBNET%.*/*}\."
	[ "$(ssh_in $TDIR/carol1 $(port_of carol c1) hostname)" = c1 ]
	[ "$(probe carol c1 $LABCT_GATEWAY $OUT_PORT)" = open ]
	[ "$(grep -c "isolate_members: the containers of members made before it move to bridges of their own at their next start, with a new subnet and address" "$LABCD_LOG")" = 1 ]
	out=$(labc admin reconcile --dry-run)
	contains "$out" "c1 runs on the shared bridge $LABCT_BRIDGE"
	out=$(labc admin doctor --format csv 2>&1 || true)
	contains "$out" "drift,problem,.*carol.*runs on the shared bridge"
	[ "$(probe carol c1 $B1 22)" = refused ]
	[ "$(probe bob b1 $C1 22)" = refused ]
'

test_expect_success 'carol'"'"'s container joins her own bridge at its next start' '
	labc --as carol stop c1 >/dev/null
	labc --as carol start c1 >/dev/null
	bc=$(bridge_of carol)
	[ "$(lxc query "/1.0/instances/c1?project=${P}carol" | jq -r .expanded_devices.eth0.network)" = "$bc" ]
	c1=$(addr_of carol c1)
	contains "$c1" "^10\.$O\."
	[ "$(ssh_in $TDIR/carol1 $(port_of carol c1) hostname)" = c1 ]
	[ "$(probe carol c1 $B1 22)" = refused ]
	[ "$(probe alice a1 $c1 22)" = refused ]
	out=$(labc admin reconcile --dry-run)
	not_contains "$out" "shared bridge"
'

test_expect_success 'deleting bob deletes his bridge and its ACL' '
	bb=$(bridge_of bob)
	labc admin user del bob --purge >/dev/null
	[ -z "$(bridge_of bob)" ]
	expect_status 1 lxc query /1.0/networks/$bb >/dev/null 2>&1
	expect_status 1 lxc query /1.0/network-acls/$bb >/dev/null 2>&1
	[ "$(probe alice a1 $A2 22)" = open ]
'

test_expect_success 'deleting a member without containers deletes their project and bridge too' '
	labc admin user add frank </dev/null >/dev/null
	bf=$(bridge_of frank)
	[ -n "$bf" ]
	labc admin user del frank >/dev/null
	[ -z "$(bridge_of frank)" ]
	expect_status 1 lxc query /1.0/network-acls/$bf >/dev/null 2>&1
	expect_status 1 lxc query "/1.0/projects/${P}frank" >/dev/null 2>&1
'

# brname PROJECT: its bridge's name, as isolate.c makes it (FNV-1a).
brname() {
	local h=2166136261 i c
	for ((i = 0; i < ${#1}; i++)); do
		printf -v c %d "'${1:i:1}"
		h=$(( ((h ^ c) * 16777619) & 0xffffffff ))
	done
	printf "labc-%08x\n" $h
}
# Two bridges as labcd makes them: one of a project of this run that is
# gone, one of another labcd's (another prefix).
GH=$(brname ${P}ghost) OT=$(brname labct-other-ghost)
for n in $GH $OT; do
	lxc network delete $n >/dev/null 2>&1	# a run killed before its end
	at_exit "lxc network delete $n >/dev/null 2>&1"
done
test_expect_success 'reconcile removes a bridge of its own whose project is gone, and no other' '
	[ "$(brname ${P}alice)" = "$(bridge_of alice)" ]
	lxc network create $GH --type bridge ipv4.address=10.$O.250.1/24 \
	    ipv6.address=none user.labc.owner=${P}ghost >/dev/null
	lxc network create $OT --type bridge ipv4.address=10.$O.251.1/24 \
	    ipv6.address=none user.labc.owner=labct-other-ghost >/dev/null
	out=$(labc admin reconcile --dry-run)
	contains "$out" "bridge of project ${P}ghost, which LXD no longer has"
	not_contains "$out" "labct-other-ghost"
	out=$(labc admin doctor --format csv 2>&1 || true)
	contains "$out" "drift,problem,.*${P}ghost"
	labc admin reconcile >/dev/null
	expect_status 1 lxc query /1.0/networks/$GH >/dev/null 2>&1
	lxc query /1.0/networks/$OT >/dev/null
'

test_expect_success 'a bridge outside member_subnets: reported, its ACL rejects all of it, a new /24 at next start' '
	be=$(bridge_of erin)
	lxc network set $be ipv4.address 10.$O2.7.1/24
	out=$(labc admin reconcile --dry-run)
	contains "$out" "has 10.$O2.7.1/24, outside member_subnets $RANGE"
	labc admin reconcile >/dev/null
	acl=$(lxc query /1.0/network-acls/$be | jq -r ".egress[0].destination")
	contains "$acl" "^10\.$O\.0\.0-10\.$O\.255\.255(,|$)"
	labc --as erin stop e1 >/dev/null
	labc --as erin stop e2 >/dev/null
	labc --as erin start e1 >/dev/null
	contains "$(lxc query /1.0/networks/$be | jq -r ".config[\"ipv4.address\"]")" "^10\.$O\.[0-9]+\.1/24$"
	contains "$(addr_of erin e1)" "^10\.$O\."
	out=$(labc admin reconcile --dry-run)
	not_contains "$out" "outside member_subnets"
'

# Profiles of the default project made for this test; gone at the end.
PB=${P}bridged PM=${P}macvlan
lxc query -X POST -d "$(lxc query "/1.0/profiles/$LABCT_PROFILE" | jq --arg n "$PB" --arg b "$LABCT_BRIDGE" \
    '{name: $n, config, description, devices: (.devices | .eth0 = {type: "nic", name: "eth0", nictype: "bridged", parent: $b})}')" \
    /1.0/profiles >/dev/null
lxc query -X POST -d "$(lxc query "/1.0/profiles/$LABCT_PROFILE" | jq --arg n "$PM" --arg b "$LABCT_BRIDGE" \
    '{name: $n, config, description, devices: (.devices | .eth0 = {type: "nic", name: "eth0", nictype: "macvlan", parent: $b})}')" \
    /1.0/profiles >/dev/null
at_exit "lxc profile delete $PB >/dev/null 2>&1; lxc profile delete $PM >/dev/null 2>&1"

stop_labcd
conf yes $PB
start_labcd || exit 1
test_expect_success 'a profile nic nictype=bridged parent=X is moved to the member'"'"'s bridge too' '
	labc admin user add gina </dev/null >/dev/null
	bg=$(bridge_of gina)
	[ -n "$bg" ]
	d=$(lxc query "/1.0/profiles/$PB?project=${P}gina" | jq -c .devices.eth0)
	[ "$(echo "$d" | jq -r .network)" = "$bg" ]
	[ "$(echo "$d" | jq -r ".nictype // \"none\"")" = none ]
	[ "$(echo "$d" | jq -r ".parent // \"none\"")" = none ]
	labc --as gina launch g1 >/dev/null
	[ "$(lxc query "/1.0/instances/g1?project=${P}gina" | jq -r .expanded_devices.eth0.network)" = "$bg" ]
	contains "$(addr_of gina g1)" "^10\.$O\."
	[ "$(probe gina g1 $A1 22)" = refused ]
	[ "$(probe alice a1 $(addr_of gina g1) 22)" = refused ]
	labc --as gina delete -f g1 >/dev/null
	labc admin user del gina >/dev/null
'

stop_labcd
conf yes $PM
start_labcd || exit 1
test_expect_success 'a profile nic isolation cannot move (macvlan) stops starts, and doctor says so' '
	out=$(labc admin doctor --format csv 2>&1 || true)
	contains "$out" "^isolation,problem,\"?profile $PM has nic eth0 \(nictype macvlan\), which cannot be moved"
	labc admin user add hal </dev/null >/dev/null
	out=$(expect_status 1 labc --as hal launch h1 2>&1)
	contains "$out" "profile $PM has nic eth0 \(nictype macvlan\), which cannot be moved"
	[ -z "$(lxc query "/1.0/instances?project=${P}hal" | jq -r ".[]")" ]
'

test_done
