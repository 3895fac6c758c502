#!/usr/bin/env bash
# bench/export.t - run by bench/export: LABCT_EXPORT_MIB MiB in a
# container, exported and imported through the gateway against lxc
# export/import, LABCT_EXPORT_ROUNDS rounds, labcd RSS sampled.
. "$(dirname "$0")/../tests/lib.sh"
need_lxd
. "$(dirname "$0")/../tests/gateway.sh"
P=${LABCT_PREFIX}ms-
gw_init labct99gw labct99gk 62970
write_conf "project_prefix = $P" "default_image = $LABCT_IMAGE" \
    "profiles = ${LABCT_PROFILE_BT:-$LABCT_PROFILE}" "ssh_listen = 127.0.0.1" \
    "ssh_ports = 62971-62979" "${GW_CONF[@]}"
start_labcd || exit 1
gw_setup >/dev/null
gw_start || exit 1
newkey alice
labc admin user add alice </dev/null >/dev/null
labc --as alice key add "$(cat $TDIR/alice.pub)" >/dev/null
labc --as alice launch box >/dev/null 2>&1 || { echo "launch box failed"; exit 1; }
PORT=$(port_of alice box)
ssh_in $TDIR/alice $PORT "head -c $((LABCT_EXPORT_MIB * 1048576)) /dev/urandom > noise" || exit 1
labc --as alice stop box >/dev/null
st() { awk -v k="$1:" '$1 == k { print $2 }' /proc/$LABCD_PID/status; }
test_expect_success "export and import, $LABCT_EXPORT_MIB MiB" '
	for round in $(seq $LABCT_EXPORT_ROUNDS); do
	rss0=$(st VmRSS) anon0=$(st RssAnon)
	peak=0 peakanon=0
	t0=$(date +%s%N)
	gw alice $GW@127.0.0.1 export box > $TDIR/box.tar.gz 2>/dev/null &
	pid=$!
	while kill -0 $pid 2>/dev/null; do
		r=$(st VmRSS) a=$(st RssAnon)
		[ $r -gt $peak ] && peak=$r
		[ $a -gt $peakanon ] && peakanon=$a
		sleep 0.1
	done
	wait $pid
	t1=$(date +%s%N)
	lxc export --project ${P}alice box $TDIR/lxc.tar.gz --instance-only >/dev/null
	t2=$(date +%s%N)
	size=$(stat -c %s $TDIR/box.tar.gz)
	measured "round $round: export of $((size / 1048576)) MiB through the gateway: $(( (t1 - t0) / 1000000 )) ms; lxc export: $(( (t2 - t1) / 1000000 )) ms; ratio $(awk -v a=$((t1 - t0)) -v b=$((t2 - t1)) "BEGIN { printf \"%.2f\", a / b }"); labcd VmRSS $rss0 KiB before, peak $peak KiB during; RssAnon $anon0 before, peak $peakanon"
	t0=$(date +%s%N)
	gw alice $GW@127.0.0.1 import copy$round < $TDIR/box.tar.gz >/dev/null
	t1=$(date +%s%N)
	lxc import --project ${P}alice $TDIR/box.tar.gz lxccopy$round >/dev/null
	t2=$(date +%s%N)
	measured "round $round: import through the gateway: $(( (t1 - t0) / 1000000 )) ms; lxc import: $(( (t2 - t1) / 1000000 )) ms; ratio $(awk -v a=$((t1 - t0)) -v b=$((t2 - t1)) "BEGIN { printf \"%.2f\", a / b }")"
	labc --as alice delete copy$round >/dev/null
	lxc delete --project ${P}alice lxccopy$round
	rm -f $TDIR/box.tar.gz $TDIR/lxc.tar.gz
	done
'
test_done
