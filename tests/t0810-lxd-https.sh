#!/usr/bin/env bash
# t0810-lxd-https.sh - labcd and an LXD over the network (#20's first part):
# lxd_url = https://HOST:PORT, a client certificate labcd makes and the
# server trusts, the server's certificate pinned. Everything labcd does
# goes over HTTPS (its lxd_socket names nothing), the event stream too.
# A wrong, expired or untrusted certificate gives a clear error and
# nothing is sent; doctor checks trust and dates.
#
# The LXD is a private one (scripts/testbed.sh private) listening on
# 127.0.0.1:64800: the machine's LXD is never given an HTTPS address.
. "$(dirname "$0")/lib.sh"
need_lxd

private_lxd "labcth$$" "the HTTPS tests"
ADDR=127.0.0.1:64800
URL=https://$ADDR
lxc config set core.https_address "$ADDR"
P=${LABCT_PREFIX}h-
C=$TDIR/certs
mkdir -m 700 "$C"

# conf_https [KEY=VALUE...]: labcd on LXD over HTTPS, with these keys
# changed (a key may be set once only in labcd.conf).
conf_https() {
	local -A k=([project_prefix]=$P [default_image]=$LABCT_IMAGE
	    [profiles]=$LABCT_PROFILE [ssh_listen]=127.0.0.1 [ssh_ports]=64801-64819
	    [lxd_socket]=$TDIR/no-such-lxd.sock [lxd_url]=$URL
	    [lxd_cert]=$C/labcd.crt [lxd_key]=$C/labcd.key
	    [lxd_server_cert]=$C/server.crt)
	local kv lines=()
	for kv in "$@"; do k[${kv%%=*}]=${kv#*=}; done
	for kv in "${!k[@]}"; do lines+=("$kv = ${k[$kv]}"); done
	write_conf "${lines[@]}"
}
# box_has_address: alice's box runs with an IPv4 address of the bridge.
box_has_address() { labc --as alice list --format csv | grep -q "^box,running,10\."; }
# state_is NAME STATE: alice's container in that state, as list says.
state_is() { labc --as alice list --format csv | grep -q "^$1,$2,"; }

restart_labcd() {
	stop_labcd
	rm -f "$SOCK"
	start_labcd
}
# expired NAME: a self-signed certificate and key whose dates have passed
# (January 2020; openssl ca, since openssl req makes no past dates).
expired() {
	local d=$C/ca-$1
	mkdir -p "$d" && : >"$d/index.txt" && echo 01 >"$d/serial"
	printf "[ca]\ndefault_ca = d\n[d]\ndatabase = %s/index.txt\nnew_certs_dir = %s\nserial = %s/serial\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n" \
	    "$d" "$d" "$d" >"$d/cnf"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=$1" -keyout "$C/$1.key" -out "$d/csr" 2>/dev/null &&
	openssl ca -batch -config "$d/cnf" -selfsign -keyfile "$C/$1.key" \
	    -in "$d/csr" -out "$C/$1.crt" -notext -startdate 20200101000000Z \
	    -enddate 20200201000000Z >/dev/null 2>&1
}
expired old-client && expired old-server || { echo "not ok - expired certificates for the tests"; exit 1; }
newkey ak

test_expect_success 'labcd --lxd-cert makes a key only root reads and a client certificate, and says how the server trusts it' '
	conf_https
	out=$($LABCD -f "$CONF" --lxd-cert)
	contains "$out" "made labcd.s LXD client certificate $C/labcd.crt"
	contains "$out" "lxc config trust add $C/labcd.crt"
	fp=$(openssl x509 -in "$C/labcd.crt" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)
	contains "$out" "fingerprint $fp"
	[ "$(stat -c %a "$C/labcd.key")" = 600 ]
	contains "$(openssl x509 -in "$C/labcd.crt" -noout -ext extendedKeyUsage)" "Client Authentication"
	chmod 711 "$C"
	! as_uid 65534 cat "$C/labcd.key" >/dev/null 2>&1
	# Run again: the pair stays as it is.
	sum=$(cat "$C/labcd.key" "$C/labcd.crt" | sha256sum)
	contains "$($LABCD -f "$CONF" --lxd-cert)" "there already"
	[ "$(cat "$C/labcd.key" "$C/labcd.crt" | sha256sum)" = "$sum" ]
'

test_expect_success 'a bad lxd_url is refused at start with what to write' '
	for bad in "http://127.0.0.1:64800" "https://127.0.0.1:64800/1.0" "https://a b" "https://" "unix:///x"; do
		conf_https "lxd_url=$bad"
		rc=0; out=$($LABCD -f "$CONF" -S "$SOCK" -d "$DB" -D 2>&1 </dev/null) || rc=$?
		[ $rc != 0 ] && contains "$out" "lxd_url must be https://HOST:PORT" || return 1
	done
'

lxc config trust add "$C/labcd.crt" --name labcd-t0810
cp "$LXD_DIR/server.crt" "$C/server.crt"
conf_https
start_labcd || exit 1
T_START=$(date +%s)
labc admin user add alice </dev/null >/dev/null

test_expect_success 'doctor: LXD answers at the URL, both certificates in their dates, the key root only' '
	out=$(labc admin doctor 2>&1) || true
	contains "$out" "lxd +ok +LXD 5\.[0-9.]+ at $URL"
	contains "$out" "lxd tls +ok +labcd.s client certificate $C/labcd.crt .*valid until"
	contains "$out" "lxd tls +ok +LXD.s pinned certificate $C/server.crt"
	not_contains "$out" "no-such-lxd"
'

test_expect_success 'a member launches over HTTPS: running, an address, ssh through the port' '
	labc --as alice key add "$(cat $TDIR/ak.pub)" >/dev/null
	t=$(date +%s%3N)
	labc --as alice launch box >$TDIR/launch.out 2>&1 || { cat $TDIR/launch.out; return 1; }
	measured "launch over HTTPS: $(($(date +%s%3N) - t)) ms"
	# The DHCP lease of LXD can trail the start by a moment (CI, December 3:
	# "box,running,-," right after the launch).
	until_ms 20000 box_has_address || { labc --as alice list --format csv; false; }
	port=$(port_of alice box)
	[ "$(ssh_in $TDIR/ak $port hostname)" = box ]
	# It is the private LXD that has it.
	lxc info --project ${P}alice box >/dev/null
'

test_expect_success 'the view follows LXD events over TLS: a stop made with lxc shows within 1 s' '
	contains "$(cat $LABCD_LOG)" "view: .*instances from LXD, following its events"
	# LXD pings its listeners and drops one that does not answer: the
	# pongs go back through TLS too, so the stream outlives a few pings
	# (LXD pings every 10 s and gives up after three go unanswered).
	while [ $(($(date +%s) - T_START)) -lt 45 ]; do sleep 1; done
	not_contains "$(cat $LABCD_LOG)" "event stream ended"
	lxc stop -f --project ${P}alice box
	until_ms 1000 state_is box stopped
	measured "stop made with lxc seen in list after $TOOK ms (over HTTPS)"
	lxc start --project ${P}alice box
	until_ms 1000 state_is box running
	measured "start made with lxc seen in list after $TOOK ms"
'

test_expect_success 'list --all and launch over HTTPS against the socket (measured)' '
	n=20; t=$(date +%s%3N)
	for i in $(seq $n); do labc list --all >/dev/null; done
	https_list=$(( ($(date +%s%3N) - t) * 1000 / n ))
	t=$(date +%s%3N); labc --as alice launch two >/dev/null; https_launch=$(($(date +%s%3N) - t))
	conf_https "lxd_url=" "lxd_socket=$LXD_SOCKET"
	restart_labcd || return 1
	t=$(date +%s%3N)
	for i in $(seq $n); do labc list --all >/dev/null; done
	sock_list=$(( ($(date +%s%3N) - t) * 1000 / n ))
	t=$(date +%s%3N); labc --as alice launch three >/dev/null; sock_launch=$(($(date +%s%3N) - t))
	measured "list --all: ${https_list} us over HTTPS, ${sock_list} us over the socket; launch: ${https_launch} ms over HTTPS, ${sock_launch} ms over the socket"
	labc --as alice delete -f two three >/dev/null
	conf_https
	restart_labcd
'

# instances: the private LXD's instances, to show that nothing was made.
instances() { lxc query "/1.0/instances?all-projects=true" | jq -r ".[]" | sort; }

test_expect_success 'a pinned certificate that is not the server one: clear error, nothing sent, nothing made' '
	before=$(instances)
	cp "$C/labcd.crt" "$C/other-server.crt"
	conf_https "lxd_server_cert=$C/other-server.crt"
	restart_labcd || return 1
	rc=0; out=$(labc --as alice launch nope 2>&1) || rc=$?
	[ $rc != 0 ]
	contains "$out" "no TLS connection to LXD at $URL \(nothing was sent\)"
	contains "$out" "must be the one in $C/other-server.crt"
	rc=0; out=$(labc --as alice list 2>&1) || rc=$?
	contains "$out" "no TLS connection"
	[ "$(instances)" = "$before" ]
	out=$(labc admin doctor 2>&1) || true
	contains "$out" "lxd +problem .*no TLS connection.*see the lxd tls rows"
'

test_expect_success 'an expired pinned certificate: refused before connecting' '
	cp "$C/old-server.crt" "$C/pinned-old.crt"
	conf_https "lxd_server_cert=$C/pinned-old.crt"
	restart_labcd || return 1
	rc=0; out=$(labc --as alice launch nope 2>&1) || rc=$?
	[ $rc != 0 ]
	contains "$out" "pinned certificate of LXD $C/pinned-old.crt expired on .*nothing was sent to $URL"
	out=$(labc admin doctor 2>&1) || true
	contains "$out" "lxd tls +problem +LXD.s pinned certificate $C/pinned-old.crt .*out of its dates"
'

test_expect_success 'an expired client certificate: refused before connecting; doctor says so' '
	conf_https "lxd_cert=$C/old-client.crt" "lxd_key=$C/old-client.key"
	chmod 600 "$C/old-client.key"
	restart_labcd || return 1
	rc=0; out=$(labc --as alice list 2>&1) || rc=$?
	contains "$out" "client certificate $C/old-client.crt expired on .*nothing was sent"
	out=$(labc admin doctor 2>&1) || true
	contains "$out" "lxd tls +problem +labcd.s client certificate $C/old-client.crt .*out of its dates"
'

test_expect_success 'a client certificate LXD does not trust: clear error, nothing made' '
	before=$(instances)
	conf_https "lxd_cert=$C/stranger.crt" "lxd_key=$C/stranger.key"
	$LABCD -f "$CONF" --lxd-cert >/dev/null
	restart_labcd || return 1
	rc=0; out=$(labc --as alice launch nope 2>&1) || rc=$?
	[ $rc != 0 ]
	contains "$out" "LXD at $URL does not trust labcd.s certificate $C/stranger.crt"
	contains "$out" "lxc config trust add"
	[ "$(instances)" = "$before" ]
'

test_expect_success 'doctor: a private key others can read is a problem' '
	conf_https
	restart_labcd || return 1
	chmod 644 "$C/labcd.key"
	out=$(labc admin doctor 2>&1) || true
	chmod 600 "$C/labcd.key"
	contains "$out" "lxd tls +problem +labcd.s private key $C/labcd.key can be read by others than root \(mode 0644"
'

test_expect_success 'a local account (uid 65534) holding the URL while LXD does not listen: its certificate is refused, no request reaches it' '
	lxc config unset core.https_address
	mkdir -p $TDIR/squat
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	    -subj /CN=127.0.0.1 -keyout $TDIR/squat/k -out $TDIR/squat/c 2>/dev/null
	chown -R 65534:65534 $TDIR/squat
	chmod 711 $TDIR
	# setpriv itself in the background: it execs openssl, so $! is the
	# listener (as_uid, a function, would be a subshell around it).
	setpriv --reuid=65534 --regid=65534 --clear-groups openssl s_server -accept 127.0.0.1:64800 -cert $TDIR/squat/c \
	    -key $TDIR/squat/k -www >$TDIR/squat.log 2>&1 </dev/null & sp=$!
	until_ms 5000 openssl s_client -connect 127.0.0.1:64800 </dev/null >/dev/null 2>&1
	: >$TDIR/squat.log
	conf_https
	restart_labcd || { kill $sp; return 1; }
	rc=0; out=$(labc --as alice list 2>&1) || rc=$?
	kill $sp; wait $sp 2>/dev/null || true
	lxc config set core.https_address "$ADDR"
	[ $rc != 0 ]
	contains "$out" "no TLS connection to LXD at $URL \(nothing was sent\)"
	not_contains "$(cat $TDIR/squat.log)" "GET |1\.0"
'

test_expect_success 'LXD not listening at the URL: says what to set on the server' '
	lxc config unset core.https_address
	conf_https
	restart_labcd || return 1
	rc=0; out=$(labc --as alice list 2>&1) || rc=$?
	contains "$out" "LXD does not answer at $URL.*core.https_address"
	lxc config set core.https_address "$ADDR"
	until_ms 20000 state_is box running
	labc --as alice delete -f box >/dev/null
'

test_done
