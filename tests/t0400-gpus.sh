#!/usr/bin/env bash
# t0400-gpus.sh - GPUs through the stand-in NVML library (these machines
# have no NVIDIA GPU): the devices labcd asks LXD for, exclusive holds, the
# GPU quota, bad lists, who-uses-what with real processes in real
# containers of two users, the host's driver delivered (nvidia_runtime =
# auto, with and without a stand-in nvidia-container-cli on labcd's PATH),
# and a host without the library.
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

drvconf() {	# drvconf USER NAME: nvidia.runtime and capabilities in LXD's view
	lxc query "/1.0/instances/$2?project=$P$1" |
	    jq -r '.expanded_config | "\(.["nvidia.runtime"]) \(.["nvidia.driver.capabilities"])"'
}

test_expect_success 'auto without nvidia-container-cli: the device, no driver (nvidia.runtime); doctor warns' '
	grep -q "nvidia_runtime = auto: off, no nvidia-container-cli in PATH" $LABCD_LOG
	[ "$(drvconf alice box)" = "null null" ]
	out=$(labc admin doctor 2>&1 || true)
	contains "$out" "^gpu driver +warn +1 container given GPUs \(of 1\) gets no driver from the host \(nvidia_runtime = auto found no nvidia-container-cli when labcd started, and no profile sets nvidia.runtime\): .*: alice/box +install NVIDIA.s container toolkit"
	not_contains "$out" "^nvidia runtime "
'

test_expect_success 'help says how GPUs are numbered inside' '
	contains "$(labc help gpu attach)" "host GPU 2 alone is GPU 0 inside \(cuda:0\)"
	contains "$(labc help gpu attach)" "CUDA_VISIBLE_DEVICES inside counts the"
	contains "$(labc help launch)" "--gpu 2 gives host GPU 2 .*; inside it is$"
	contains "$(labc help create)" "--gpu 2 is GPU 0 inside \(cuda:0\)"
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
	contains "$(labc --as bob quota --format csv)" ",1/1,10$"
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

# The host's driver delivered: NVIDIA's nvidia-container-cli, stood in for by a
# script in a directory of labcd's PATH (labcd only looks for it; LXD runs it at a
# container's start, which no container here reaches with a GPU).
cat > $NVML_STUB_FILE <<GPUS
gpu NVIDIA-A100-SXM4-40GB 00000000:3B:00.0 GPU-0000aaaa 40960 0 0
gpu NVIDIA-A100-SXM4-40GB 00000000:5E:00.0 GPU-1111bbbb 40960 0 0
gpu NVIDIA-A100-SXM4-40GB 00000000:86:00.0 GPU-2222cccc 40960 0 0
gpu NVIDIA-A100-SXM4-40GB 00000000:AF:00.0 GPU-3333dddd 40960 0 0
GPUS
mkdir -p $TDIR/toolkit
printf '#!/bin/sh\necho "stand-in nvidia-container-cli: no GPU on this machine" >&2\nexit 1\n' \
    > $TDIR/toolkit/nvidia-container-cli
chmod 755 $TDIR/toolkit/nvidia-container-cli
stop_labcd
PATH=$TDIR/toolkit:$PATH start_labcd || exit 1

test_expect_success 'auto with nvidia-container-cli: a container given GPUs gets the device and nvidia.runtime, in LXD'"'"'s view' '
	grep -q "nvidia_runtime = auto: on, $TDIR/toolkit/nvidia-container-cli found" $LABCD_LOG
	labc --as alice create drv --gpu 2 >/dev/null
	[ "$(devices alice drv)" = "gpu2=0000:86:00.0 0666" ]
	[ "$(drvconf alice drv)" = "true compute,utility" ]
	out=$(labc admin doctor 2>&1 || true)
	contains "$out" "^nvidia runtime +ok +on \(nvidia_runtime = auto, $TDIR/toolkit/nvidia-container-cli\): containers given GPUs get the host.s driver"
	# bob's b1 and b4 and alice's box were given GPUs above, while it was off.
	row=$(printf "%s\n" "$out" | grep "^gpu driver ")
	contains "$row" "^gpu driver +warn +3 containers given GPUs \(of 4\) get no driver from the host \(given GPUs before nvidia_runtime was on\): .* restart them"
	contains "$row" "[:,] alice/box[, ]" && contains "$row" "[:,] bob/b1[, ]" && contains "$row" "[:,] bob/b4[, ]"
'

# LXD 5.0.2 looks for nvidia-container-cli in its own PATH (/usr/sbin:/usr/bin:...
# here, where the stand-in is not) whenever it prepares a container with
# nvidia.runtime: not when it creates one (above), but on every change to one
# (and at a start). So on this test bed, unlike a server with the toolkit, it
# refuses both of the following; labcd must say so and keep nothing. That both
# succeed where LXD finds the toolkit is shown by t0700, whose own LXD does.
test_expect_success 'gpu attach with the driver: LXD without the toolkit refuses, stopped or running; nothing kept' '
	labc --as alice create later >/dev/null
	for ct in later work; do
		out=$(expect_status 1 labc --as alice gpu attach $ct 1 2>&1)
		contains "$out" "^LXD refused the GPUs for $ct: .*The NVIDIA container tools couldn.t be found"
		[ -z "$(devices alice $ct)" ]
		[ "$(drvconf alice $ct)" = "null null" ]
		contains "$(labc --as alice details $ct)" "gpus: +none$"
		not_contains "$(labc --as alice gpus)" "^GPU 1 .*alice/$ct"
	done
	[ "$(lxc query "/1.0/instances/work?project=${P}alice" | jq -r .status)" = Running ]
'

test_expect_success 'a container given GPUs while delivery was off: labcd adds nvidia.runtime at its next start' '
	[ "$(drvconf alice box)" = "null null" ]
	expect_status 1 labc --as alice start box >/dev/null 2>&1
	grep -q "${P}alice/box has GPUs but no nvidia.runtime, and LXD refused it: .*The NVIDIA container tools couldn.t be found" $LABCD_LOG
'

stop_labcd
start_labcd || exit 1	# without the stand-in: auto is off
test_expect_success 'gpu attach without the driver (auto: off) to a running container: LXD looks for the card at once' '
	out=$(expect_status 1 labc --as alice gpu attach work 1 2>&1)
	echo "$out" >$TDIR/hotplug.txt
	contains "$out" "^LXD refused the GPUs for work: .*(GPU|gpu)"
	[ -z "$(devices alice work)" ]
	contains "$(labc --as alice details work)" "gpus: +none$"
'
measured "gpu attach to a running container, no GPU on this machine: $(head -n 1 $TDIR/hotplug.txt 2>/dev/null)"

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
