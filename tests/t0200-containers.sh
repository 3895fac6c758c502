#!/usr/bin/env bash
# t0200-containers.sh - containers end to end on the real LXD: a member's
# first launch and ssh, stable ports across stop/start (and across an LXD
# restart: t0800, which restarts a private LXD, not the machine's), per-user
# names, the authorization matrix, key rotation, quotas, eight users at
# once, bad input, and purging a user.
. "$(dirname "$0")/lib.sh"
need_lxd

P=${LABCT_PREFIX}c-
write_conf "project_prefix = $P" "default_image = $LABCT_IMAGE" \
    "profiles = $LABCT_PROFILE" "ssh_listen = 127.0.0.1" \
    "ssh_ports = 62100-62199" "reconcile_on_change = no"
start_labcd || exit 1
for u in alice bob; do
	labc admin user add $u </dev/null >/dev/null
done
# SUFFIX of 'ssh box.SUFFIX': no gateway_host here, so the host name's
SFX=$(hostname | cut -d. -f1 | tr A-Z a-z)
newkey alice1
newkey alice2
newkey bob1

test_expect_success 'alice adds her key, launches box and sshes in' '
	labc --as alice key add "$(cat $TDIR/alice1.pub)"
	out=$(labc --as alice launch box 2>$TDIR/progress)
	contains "$out" "^box is running: no limit on CPUs, no limit on memory, no limit on disk, no GPUs$"
	# ssh_listen is loopback: the gateway route only, no direct port
	contains "$out" "^Connect with: ssh box\.$SFX .*ssh-config"
	not_contains "$out" "ssh -p|Or by its own port"
	contains "$(cat $TDIR/progress)" "Creating box"
	contains "$(cat $TDIR/progress)" "Starting box"
	port=$(port_of alice box)
	[ "$(ssh_in $TDIR/alice1 $port hostname)" = box ]
	[ "$(ssh_in $TDIR/alice1 $port "sudo -n id -u")" = 0 ]
'

test_expect_success 'details shows state, address, port and the ssh command' '
	port=$(port_of alice box)
	out=$(labc --as alice details box)
	contains "$out" "state: +Running"
	contains "$out" "ipv4: +10\."
	contains "$out" "ssh port: $port"
	contains "$out" "connect: +ssh box\.$SFX "
	not_contains "$out" "direct:"
	contains "$out" "image: +$LABCT_IMAGE"
	contains "$out" "memory: .*used"
	contains "$out" "created: "
	ip=$(printf "%s\n" "$out" | awk "/ipv4:/ { print \$2 }")
	# list shows LXD'"'"'s DHCP lease, which can trail what the container
	# reports by a moment on a loaded machine: "-" until then.
	for i in $(seq 50); do
		labc --as alice list --format csv | grep -q "^box,running,$ip," && break
		sleep 0.2
	done
	contains "$(labc --as alice list --format csv)" "^box,running,$ip,$port,"
	contains "$(labc list --all --format csv)" "^alice,box,running,$ip,$port,"
'

test_expect_success 'list --format json gives the port as a number, the rest as text' '
	port=$(port_of alice box)
	json=$(labc --as alice list --format json)
	[ "$(printf "%s" "$json" | jq -c ".containers[] | select(.name == \"box\") | [.port, (.port | type), (.state | type)]")" = "[$port,\"number\",\"string\"]" ]
	contains "$json" "\"port\": $port,?\$"
	[ "$(labc list --all --format json | jq -r ".containers[] | select(.owner == \"alice\" and .name == \"box\") | .port | type")" = number ]
'

test_expect_success 'the port stays the same after stop and start' '
	port=$(port_of alice box)
	labc --as alice stop box
	contains "$(labc --as alice list --format csv)" "^box,stopped,-,$port,"
	! ssh_in $TDIR/alice1 $port true 2>/dev/null
	labc --as alice start box >/dev/null
	[ "$(port_of alice box)" = "$port" ]
	[ "$(ssh_in $TDIR/alice1 $port hostname)" = box ]
'

test_expect_success 'restart keeps the port too' '
	port=$(port_of alice box)
	labc --as alice restart box >/dev/null
	[ "$(port_of alice box)" = "$port" ]
	[ "$(ssh_in $TDIR/alice1 $port hostname)" = box ]
'

test_expect_success 'bob has his own box; each sees only their own' '
	labc --as bob key add < $TDIR/bob1.pub
	labc --as bob create box >/dev/null
	a=$(labc --as alice list --format csv)
	b=$(labc --as bob list --format csv)
	[ "$(echo "$a" | grep -c "^box,")" = 1 ]
	[ "$(echo "$b" | grep -c "^box,")" = 1 ]
	[ "$(port_of alice box)" != "$(port_of bob box)" ]
	contains "$b" "^box,stopped,"
	contains "$a" "^box,running,"
	all=$(labc list --all --format csv)
	contains "$all" "^alice,box,running,"
	contains "$all" "^bob,box,stopped,"
	out=$(expect_status 1 labc --as bob list --all 2>&1)
	contains "$out" "admins only"
'

test_expect_success 'bob cannot act on alice'"'"'s containers' '
	labc --as alice create only-alice >/dev/null
	before=$(labc --as alice list --format csv)
	for cmd in "start only-alice" "stop only-alice" "stop -f only-alice" \
	    "restart only-alice" "delete only-alice" "delete -f only-alice" \
	    "details only-alice" "launch only-alice"; do
		out=$(labc --as bob $cmd 2>&1) || true
		case "$cmd" in
		launch*)	# launch makes bob his own, which is not alice'"'"'s
			contains "$out" "only-alice is running"
			labc --as bob delete -f only-alice >/dev/null ;;
		*)	contains "$out" "you have no container .only-alice." ;;
		esac
	done
	after=$(labc --as alice list --format csv)
	[ "$before" = "$after" ]
	fp=$(labc --as alice key list --format csv | awk -F, "NR == 2 { print \$2 }")
	out=$(expect_status 1 labc --as bob key del "$fp" 2>&1)
	contains "$out" "you have no key"
	labc --as alice key list | grep -qF -- "$fp"
	out=$(expect_status 1 labc --as bob key add "$(cat $TDIR/alice1.pub)" 2>&1)
	contains "$out" "registered by another lab user"
'

test_expect_success 'a running container is not deleted without -f' '
	out=$(expect_status 1 labc --as alice delete box 2>&1)
	contains "$out" "box is Running: stop it first, or .delete -f box."
	contains "$(labc --as alice list --format csv)" "^box,running,"
'

test_expect_success 'key rotation reaches every container of alice' '
	labc --as alice start only-alice >/dev/null
	p1=$(port_of alice box)
	p2=$(port_of alice only-alice)
	[ "$(ssh_in $TDIR/alice1 $p2 hostname)" = only-alice ]
	labc --as alice key add < $TDIR/alice2.pub
	labc --as alice key del alice1
	for p in $p1 $p2; do
		! ssh_in $TDIR/alice1 $p true 2>/dev/null
		ssh_in $TDIR/alice2 $p true
	done
	out=$(labc --as alice key list --format csv)
	not_contains "$out" "alice1"
	contains "$out" "alice2"
'

test_expect_success 'a stopped container gets new keys when it starts' '
	labc --as alice stop only-alice
	newkey alice3
	labc --as alice key add < $TDIR/alice3.pub
	labc --as alice key del alice2
	labc --as alice start only-alice >/dev/null
	p=$(port_of alice only-alice)
	ssh_in $TDIR/alice3 $p true
	! ssh_in $TDIR/alice2 $p true 2>/dev/null
'

test_expect_success 'key gen: a private key shown once that gets in' '
	labc --as alice key gen gen-key > $TDIR/gen.out
	sed -n "/BEGIN OPENSSH PRIVATE KEY/,/END OPENSSH PRIVATE KEY/p" $TDIR/gen.out > $TDIR/genkey
	chmod 600 $TDIR/genkey
	contains "$(cat $TDIR/gen.out)" "chmod 600"
	ssh_in $TDIR/genkey $(port_of alice box) true
	! grep -rq "BEGIN OPENSSH PRIVATE KEY" "$DB" "$LABCD_LOG"
'

test_expect_success 'quota containers=1: a second container is refused, naming the quota' '
	labc admin quota set bob containers=1
	out=$(expect_status 1 labc --as bob launch second 2>&1)
	contains "$out" "quota: you may have 1 container and have 1"
	contains "$(labc --as bob quota --format csv)" "^bob,1/1,"
	contains "$(labc admin quota show bob --format csv)" "^bob,1/1,"
	not_contains "$(labc --as bob list --format csv)" "second"
	labc admin quota set bob containers=none
'

test_expect_success 'bad names are refused with the rule, nothing left behind' '
	before=$(labc --as alice list --format csv; lxc list --project ${P}alice --format csv -c n)
	long=$(printf "a%.0s" $(seq 64))
	for n in "a/b" ".." "../x" "a_b" "a b" "$long" "Box" "" "-x" "x-" "1x"; do
		out=$(labc --as alice create "$n" 2>&1) && { echo "accepted: $n"; exit 1; }
		contains "$out" "1 to 63 lowercase letters, digits or .-.|unknown option|missing arguments"
	done
	after=$(labc --as alice list --format csv; lxc list --project ${P}alice --format csv -c n)
	[ "$before" = "$after" ]
'

test_expect_success 'garbage or truncated keys are refused, nothing added' '
	before=$(labc --as alice key list --format csv)
	k=$(cat $TDIR/alice1.pub)
	for bad in "garbage" "ssh-ed25519" "ssh-ed25519 AAAA" "${k:0:40}" \
	    "ssh-ed25519 !!!notbase64!!!" "ssh-dss AAAAB3NzaC1kc3MAAACBAP"; do
		out=$(expect_status 1 labc --as alice key add "$bad" 2>&1)
		[ -n "$out" ]
	done
	after=$(labc --as alice key list --format csv)
	[ "$before" = "$after" ]
'

test_expect_success 'an unknown image is refused, nothing left behind' '
	before=$(labc --as alice list --format csv; lxc list --project ${P}alice --format csv -c n)
	out=$(expect_status 1 labc --as alice launch newbox --image no-such-image 2>&1)
	contains "$out" "no image .no-such-image."
	after=$(labc --as alice list --format csv; lxc list --project ${P}alice --format csv -c n)
	[ "$before" = "$after" ]
	out=$(expect_status 2 labc --as alice launch newbox --cpu lots 2>&1)
	contains "$out" "--cpu needs a number"
	out=$(expect_status 2 labc --as alice launch newbox --memory 99999999999999999999GiB 2>&1)
	contains "$out" "--memory needs a size such as 512MiB or 8GiB"
	out=$(expect_status 2 labc --as alice launch newbox --disk 12parsecs 2>&1)
	contains "$out" "--disk needs a size such as 10GiB"
	after=$(labc --as alice list --format csv; lxc list --project ${P}alice --format csv -c n)
	[ "$before" = "$after" ]
'

test_expect_success 'a port another program holds is skipped' '
	used=$(labc list --all --format csv | awk -F, "NR > 1 { print \$5 }")
	cand=$(for p in $(seq 62100 62199); do echo "$used" | grep -qx $p || echo $p; done)
	"$LABCT_BUILD/tests/tools/labct-listen" 120 $cand > $TDIR/listen.out &
	lpid=$!
	for i in $(seq 50); do [ -s $TDIR/listen.out ] && break; sleep 0.1; done
	held=$(cat $TDIR/listen.out)
	[ -n "$held" ]
	labc --as alice create portcheck >/dev/null
	p=$(port_of alice portcheck)
	kill $lpid
	[ "$p" != "$held" ]
	labc --as alice delete portcheck >/dev/null
'

test_expect_success 'images lists the test image as the default' '
	contains "$(labc images --format csv)" "^$LABCT_IMAGE,[0-9a-f]{12},.*,yes$"
'

test_expect_success 'eight users launch at once: all run, eight distinct ports' '
	for i in 1 2 3 4 5 6 7 8; do
		labc admin user add u$i </dev/null >/dev/null
	done
	for i in 1 2 3 4 5 6 7 8; do
		labc --as u$i launch par >$TDIR/par.$i 2>&1 &
	done
	wait
	for i in 1 2 3 4 5 6 7 8; do
		contains "$(cat $TDIR/par.$i)" "par is running"
	done
	ports=$(for i in 1 2 3 4 5 6 7 8; do port_of u$i par; done | sort -u | wc -l)
	[ "$ports" = 8 ]
'

# A member is root in her container: had two containers one host key, she
# could answer as the other's sshd. Each makes its own at its first boot.
test_expect_success 'the eight containers share no SSH host key' '
	for i in 1 2 3 4 5 6 7 8; do
		for t in ed25519 ecdsa; do
			lxc exec --project ${P}u$i par -- cat /etc/ssh/ssh_host_${t}_key.pub |
			    awk "{ print \$2 }"
		done
	done >$TDIR/hostkeys
	[ "$(wc -l <$TDIR/hostkeys)" = 16 ]
	[ "$(sort -u $TDIR/hostkeys | wc -l)" = 16 ]
'

test_expect_success 'admin user del refuses a user with containers, --purge removes all' '
	out=$(expect_status 1 labc admin user del u1 2>&1)
	contains "$out" "u1 has 1 container"
	labc admin user del u1 --purge
	! lxc project show ${P}u1 >/dev/null 2>&1
	not_contains "$(labc admin user list --format csv)" "^u1,"
	not_contains "$(labc list --all --format csv)" "^u1,"
	for i in 2 3 4 5 6 7 8; do labc admin user del u$i --purge >/dev/null; done
'

# reconcile_on_change = no: a deletion behind labcd's back stays until the
# next reconcile_interval (t0250: mended at once, the default).
test_expect_success 'a container deleted behind labcd'"'"'s back shows as missing' '
	lxc delete -f box --project ${P}bob
	contains "$(labc --as bob list --format csv)" "^box,missing,"
	labc --as bob delete box
	not_contains "$(labc --as bob list --format csv)" "^box,"
'

test_done
