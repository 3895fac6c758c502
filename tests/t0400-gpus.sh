#!/usr/bin/env bash
# t0400-gpus.sh - GPUs through the stand-in NVML library (these machines
# have no NVIDIA GPU): the devices labcd asks LXD for, exclusive holds, the
# GPU quota, bad lists, who-uses-what with real processes in real
# containers of two users, and a host without the library.
. "$(dirname "$0")/lib.sh"
need_lxd

STUB=$LABCT_BUILD/tests/nvml-stub/libnvidia-ml.so.1
P=${LABCT_PREFIX}n-
export NVML_STUB_FILE=$TDIR/gpus.txt
cat > $NVML_STUB_FILE <<GPUS
gpu NVIDIA-A100-SXM4-40GB 00000000:3B:00.0 GPU-0000aaaa 40960 0 0
gpu NVIDIA-A100-SXM4-40GB 00000000:5E:00.0 GPU-1111bbbb 40960 0 0
gpu NVIDIA-A100-SXM4-40GB 00000000:86:00.0 GPU-2222cccc 40960 0 0
gpu NVIDIA-A100-SXM4-40GB 00000000:AF:00.0 GPU-3333dddd 40960 0 0
GPUS
write_conf "project_prefix = $P" "default_image = $LABCT_IMAGE" \
    "profiles = $LABCT_PROFILE" "ssh_listen = 127.0.0.1" \
    "ssh_ports = 62400-62499" "nvml_library = $STUB" \
    "quota_gpus = "	# its GPU quota is set where it is tested
start_labcd || exit 1
for u in alice bob; do labc admin user add $u </dev/null >/dev/null; done

devices() {	# devices USER NAME: "gpuN=PCI" lines from LXD's own view
	lxc query "/1.0/instances/$2?project=$P$1" |
	    jq -r '.devices | to_entries[] | select(.value.type == "gpu") | "\(.key)=\(.value.pci) \(.value.mode)"' | sort
}

test_expect_success 'gpus lists the host GPUs by nvidia-smi number' '
	out=$(labc --as alice gpus)
	contains "$out" "^GPU 0  NVIDIA-A100-SXM4-40GB  0000:3b:00.0  0.0 GiB / 40.0 GiB"
	contains "$out" "^GPU 3  .*0000:af:00.0"
'

test_expect_success '--gpu 0,2 asks LXD for exactly those two PCI addresses' '
	labc --as alice create box --gpu 0,2 >/dev/null
	[ "$(devices alice box)" = "gpu0=0000:3b:00.0 0666
gpu2=0000:86:00.0 0666" ]
	contains "$(labc --as alice details box)" "gpus: +0,2$"
'

test_expect_success 'LXD'"'"'s refusal of a GPU it cannot find is reported clearly' '
	out=$(expect_status 1 labc --as alice start box 2>&1)
	contains "$out" "starting box failed: .*(GPU|gpu|pci|PCI)"
'

test_expect_success 'an exclusive GPU is refused to others, with the holder named' '
	labc --as alice create ex --gpu 1 --exclusive >/dev/null
	out=$(expect_status 1 labc --as bob create b1 --gpu 1 2>&1)
	contains "$out" "GPU 1 is held by alice/ex \(exclusively\)"
	out=$(expect_status 1 labc --as bob create b2 --gpu 0 --exclusive 2>&1)
	contains "$out" "GPU 0 is in use by alice/box: it cannot be given exclusively"
	out=$(labc --as bob gpus)
	contains "$out" "^GPU 1 .* held by alice/ex"
	not_contains "$(labc --as bob list --format csv)" "^b1,|^b2,"
'

test_expect_success 'the hold ends when the container is deleted' '
	labc --as alice delete ex >/dev/null
	labc --as bob create b1 --gpu 1 >/dev/null
	[ "$(devices bob b1)" = "gpu1=0000:5e:00.0 0666" ]
'

test_expect_success 'gpu detach and attach change the devices' '
	labc --as alice gpu detach box 2
	[ "$(devices alice box)" = "gpu0=0000:3b:00.0 0666" ]
	labc --as alice gpu attach box 3 --exclusive
	[ "$(devices alice box)" = "gpu0=0000:3b:00.0 0666
gpu3=0000:af:00.0 0666" ]
	out=$(expect_status 1 labc --as bob gpu attach b1 3 2>&1)
	contains "$out" "GPU 3 is held by alice/box"
	out=$(expect_status 1 labc --as alice gpu detach box 1 2>&1)
	contains "$out" "box does not have GPU 1"
'

test_expect_success 'the GPU quota counts distinct GPUs and refuses more' '
	labc admin quota set bob gpus=1
	out=$(expect_status 1 labc --as bob create b3 --gpu 2 2>&1)
	contains "$out" "quota: you may use 1 GPU and this would make it 2"
	labc --as bob create b4 --gpu 1 >/dev/null
	contains "$(labc --as bob quota --format csv)" ",1/1$"
	out=$(expect_status 1 labc --as bob gpu attach b4 2 2>&1)
	contains "$out" "quota: you may use 1 GPU"
'

test_expect_success 'bad GPU lists are refused clearly, nothing made' '
	before=$(labc --as bob list --format csv)
	out=$(expect_status 2 labc --as bob create g --gpu 9 2>&1)
	contains "$out" "there is no GPU 9: this host has 4 \(0 to 3"
	for bad in -1 0,0 abc "1,,2" "" " 1" +1 "1, 2"; do
		out=$(expect_status 2 labc --as bob create g --gpu "$bad" 2>&1)
		contains "$out" "--gpu|GPU 0 is named twice"
	done
	out=$(expect_status 2 labc --as bob create g --exclusive 2>&1)
	contains "$out" "--exclusive goes with --gpu"
	[ "$before" = "$(labc --as bob list --format csv)" ]
'

# Real processes in real containers of two users, and one of the host.
labc --as alice launch work >/dev/null
labc --as bob launch work >/dev/null
lxc exec work --project ${P}alice -- sleep 600 &
lxc exec work --project ${P}bob -- sleep 601 &
sleep 600 &
HOSTPID=$!
sleep 1 & GONE=$!; wait $GONE
hostpid_in() {	# hostpid_in PROJECT SECONDS: the host PID of that sleep
	for p in $(pgrep -x sleep); do
		grep -q "lxc.payload.$1_work" /proc/$p/cgroup 2>/dev/null &&
		    [ "$(tr "\0" " " < /proc/$p/cmdline)" = "sleep $2 " ] && echo $p
	done
}
for i in $(seq 50); do
	PA=$(hostpid_in ${P}alice 600); PB=$(hostpid_in ${P}bob 601)
	[ -n "$PA" ] && [ -n "$PB" ] && break
	sleep 0.2
done
at_exit "kill $HOSTPID"
cat >> $NVML_STUB_FILE <<PROCS
proc 0 $PA 1024
proc 1 $PB 2048
gproc 0 $HOSTPID 300
proc 2 $GONE 10
PROCS

test_expect_success 'gpus names the container and lab user of each process' '
	[ -n "$PA" ] && [ -n "$PB" ]
	out=$(labc --as bob gpus --format json)
	[ "$(echo "$out" | jq -r ".gpus[0].processes[] | select(.pid == $PA) | \"\(.container) \(.user)\"")" = "work alice" ]
	[ "$(echo "$out" | jq -r ".gpus[1].processes[] | select(.pid == $PB) | \"\(.container) \(.user)\"")" = "work bob" ]
	[ "$(echo "$out" | jq -r ".gpus[0].processes[] | select(.pid == $HOSTPID) | .user")" = host ]
	[ "$(echo "$out" | jq ".gpus[2].processes | length")" = 0 ]
	table=$(labc --as alice gpus)
	contains "$table" "^  $PA +1.0 GiB +work +alice$"
	contains "$table" "^  $HOSTPID +0.3 GiB +- +host$"
	not_contains "$table" "sleep"
'

test_expect_success 'measured: gpus with 8 GPUs x 20 processes' '
	pids=""
	for k in $(seq 18); do sleep 600 & pids="$pids $!"; done
	pids="$pids $PA $PB"
	{ for g in 0 1 2 3 4 5 6 7; do
		echo "gpu GPU$g 00000000:0$g:00.0 GPU-$g 81920 1000 50"
	done
	for g in 0 1 2 3 4 5 6 7; do for p in $pids; do
		echo "proc $g $p 100"
	done; done; } > $NVML_STUB_FILE.big
	cp $NVML_STUB_FILE.big $NVML_STUB_FILE
	t0=$(date +%s%N)
	for i in 1 2 3 4 5; do labc --as alice gpus >/dev/null; done
	t1=$(date +%s%N)
	measured "labc gpus, 8 GPUs x 20 processes: $(( (t1 - t0) / 5000000 )) ms each (ASan build)"
	n=$(labc --as alice gpus --format json | jq "[.gpus[].processes[]] | length")
	kill $pids 2>/dev/null || true
	[ "$n" = 160 ]
'

# A host without NVIDIA's library.
stop_labcd
write_conf "project_prefix = $P" "default_image = $LABCT_IMAGE" \
    "profiles = $LABCT_PROFILE" "ssh_listen = 127.0.0.1" \
    "ssh_ports = 62400-62499" "nvml_library = /nonexistent/libnvidia-ml.so.1"
start_labcd || exit 1

test_expect_success 'without the library every GPU command says so; the rest works' '
	out=$(expect_status 1 labc --as alice gpus 2>&1)
	contains "$out" "^no NVIDIA driver found"
	out=$(expect_status 1 labc --as alice create g --gpu 0 2>&1)
	contains "$out" "no NVIDIA driver found"
	out=$(expect_status 1 labc --as alice gpu attach box 1 2>&1)
	contains "$out" "no NVIDIA driver found"
	labc --as alice list >/dev/null
	labc --as alice create plain >/dev/null
	contains "$(labc --as alice list --format csv)" "^plain,"
'

test_done
