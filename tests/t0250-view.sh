#!/usr/bin/env bash
# t0250-view.sh - labcd's view of LXD, kept current by LXD's event stream:
# list, quota and details answer from memory (every LXD request labcd makes
# is counted by bench/lxdcount, a proxy between labcd and LXD), what lxc
# does behind labcd's back shows in list within a second, and the drift an
# event reveals is mended at once, not at the next reconcile_interval. (LXD
# restarted under labcd: t0800, on a private LXD.)
. "$(dirname "$0")/lib.sh"
need_lxd

P=${LABCT_PREFIX}v-
UP=${LXD_SOCKET:-${LXD_DIR:-/var/lib/lxd}/unix.socket}
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -o "$TDIR/lxdcount" \
    "$LABCT_TOP/bench/lxdcount.c" || exit 1
"$TDIR/lxdcount" "$TDIR/lxd.sock" "$UP" "$TDIR/requests.log" &
at_exit "kill $!"
for i in $(seq 50); do [ -S "$TDIR/lxd.sock" ] && break; sleep 0.1; done

write_conf "project_prefix = $P" "default_image = $LABCT_IMAGE" \
    "profiles = $LABCT_PROFILE_BT" "ssh_listen = 127.0.0.1" \
    "ssh_ports = 63630-63649" "lxd_socket = $TDIR/lxd.sock"
start_labcd || exit 1
for u in vera walt; do
	labc admin user add $u </dev/null >/dev/null
done
newkey vera1
labc --as vera key add "$(cat $TDIR/vera1.pub)" >/dev/null

# The LXD requests labcd made about this file's projects since mark (the
# view also follows the other tests' containers on the shared LXD).
mark() { MARK=$(wc -l <"$TDIR/requests.log"); }
asked() {
	tail -n +$((MARK + 1)) "$TDIR/requests.log" |
	    grep -E "project=$P|projects/$P|all-projects" || true
}
state_is() { contains "$(labc --as "$1" list --format csv)" "^$2,$3,"; }
live() { grep -q "view: .*following its events" "$LABCD_LOG"; }

test_expect_success 'labcd loads its view at start-up and says so' '
	until_ms 10000 live
	contains "$(cat $LABCD_LOG)" "view: [0-9]+ instances from LXD, following its events"
'

test_expect_success 'list, list --all and quota ask LXD nothing; details one request for the use of a running container' '
	labc --as vera launch box >/dev/null
	# its address comes with its lease, looked for after the start
	until_ms 20000 eval "labc --as vera list --format csv | grep -q \"^box,running,[0-9]\""
	lease=$(lxc list --project ${P}vera box -c4 --format csv | cut -d" " -f1)
	contains "$(labc --as vera list --format csv)" "^box,running,$lease,"
	# the view asks for leases for a while after a start: let it finish
	sleep 3
	mark
	labc --as vera list >/dev/null
	labc list --all >/dev/null
	contains "$(labc list --all --format csv)" "^vera,box,running,$lease,"
	contains "$(labc --as vera quota --format csv)" "^vera,1/"
	contains "$(labc --as walt quota --format csv)" "^walt,0/"
	asked >$TDIR/asked
	cat $TDIR/asked
	[ ! -s $TDIR/asked ]
	out=$(labc --as vera details box)
	contains "$out" "state: +Running"
	contains "$out" "ipv4: +$lease"
	asked >$TDIR/asked
	cat $TDIR/asked
	[ "$(wc -l <$TDIR/asked)" = 1 ]
	contains "$(cat $TDIR/asked)" "GET /1.0/instances/box/state\?project=${P}vera"
	measured "list, list --all, quota: $(grep -c . $TDIR/asked) LXD request in all after details"
'

test_expect_success 'a quota from the view is what LXD counts' '
	labc admin quota set vera containers=3 >/dev/null
	# LXD says the project changed; the view asks for that project again
	until_ms 2000 eval "labc --as vera quota --format csv | grep -q \"^vera,1/3,\""
	view=$(labc --as vera quota --format csv | tail -1)
	st=$(lxc query "/1.0/projects/${P}vera/state")
	n=$(jq -r .resources.containers.Usage <<<"$st")/$(jq -r .resources.containers.Limit <<<"$st")
	contains "$view" "^vera,$n,"
	measured "quota from the view: $view; LXD: containers $n"
'

test_expect_success 'a container stopped, started and deleted with lxc shows in list within a second' '
	lxc stop -f --project ${P}vera box
	until_ms 1000 state_is vera box stopped
	measured "stopped with lxc: in list after $TOOK ms"
	lxc start --project ${P}vera box
	until_ms 1000 state_is vera box running
	measured "started with lxc: in list after $TOOK ms"
	until_ms 20000 eval "labc --as vera list --format csv | grep -q \"^box,running,[0-9]\""
	measured "started with lxc: its lease in list after $TOOK ms more"
	lxc delete -f --project ${P}vera box
	until_ms 1000 eval "! labc --as vera list --format csv | grep -q \"^box,running\""
	measured "deleted with lxc: gone from list after $TOOK ms"
'

test_expect_success 'a container deleted with lxc: its port is released at once, not at the next interval' '
	until_ms 10000 eval "! labc --as vera list --format csv | grep -q \"^box,\""
	measured "deleted with lxc: row and port released after $TOOK ms more"
	contains "$(labc --as vera log -n 3)" "reconcile.*box.*released port"
	contains "$(cat $LABCD_LOG)" "reconcile: ${P}vera/box was deleted, as LXD.s events say: comparing now"
'

test_expect_success 'a port device moved with lxc is put back at once' '
	labc --as walt create moved >/dev/null
	port=$(port_of walt moved)
	lxc_racing config device set --project ${P}walt moved ssh listen=tcp:127.0.0.1:63649
	until_ms 10000 eval "[ \"\$(lxc config device get --project ${P}walt moved ssh listen)\" = tcp:127.0.0.1:$port ]"
	measured "port device moved with lxc: put back after $TOOK ms"
	labc --as walt delete moved >/dev/null
'

test_expect_success 'a container made with lxc in a member'"'"'s project is adopted at once' '
	lxc_racing init "$LABCT_IMAGE" --project ${P}walt -p $LABCT_PROFILE_BT stray >/dev/null
	lxc_racing config device add --project ${P}walt stray ssh proxy \
	    listen=tcp:127.0.0.1:63648 connect=tcp:127.0.0.1:22 >/dev/null
	until_ms 10000 state_is walt stray stopped
	measured "made with lxc: adopted after $TOOK ms"
	contains "$(labc --as walt list --format csv)" "^stray,stopped,-,63648,"
	labc --as walt delete stray >/dev/null
'

stop_labcd
test_expect_success 'labcd stops cleanly with its view' '
	contains "$(cat $LABCD_LOG)" "labcd stopped"
'

test_done
