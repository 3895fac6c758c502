#!/usr/bin/env bash
# t0600-doctor.sh - admin doctor on the real LXD: no problem on a healthy
# setup (the test bed's pool, bridge and image, a free port range, the
# gateway set up into a temporary sshd configuration), then each thing
# broken on purpose and found with the command that fixes it.
. "$(dirname "$0")/lib.sh"
need_lxd

P=${LABCT_PREFIX}d-
GW=labctdoc
PORTS=64600-64619
LISTEN=$LABCT_BUILD/tests/tools/labct-listen
STUB=$LABCT_BUILD/tests/nvml-stub/libnvidia-ml.so.1
userdel -r $GW >/dev/null 2>&1
userdel ${GW}k >/dev/null 2>&1
at_exit "userdel -r $GW; rmdir /var/lib/labcontainers/$GW"	# a home of root's: userdel leaves it
at_exit "userdel ${GW}k"

# reconcile_interval 0, reconcile_on_change no: the drift made on purpose
# stays until doctor looks.
conf() {	# conf "KEY = VALUE"...: the healthy settings, these replacing theirs
	local l lines=() k
	for l in "project_prefix = $P" "default_image = $LABCT_IMAGE" \
	    "profiles = $LABCT_PROFILE_BT" "ssh_listen = 127.0.0.1" \
	    "ssh_ports = $PORTS" "gateway_user = $GW" \
	    "gateway_keys_user = ${GW}k" "reconcile_interval = 0" "reconcile_on_change = no"; do
		k=${l%% *}
		case " $* " in *" $k = "*) ;; *) lines+=("$l") ;; esac
	done
	write_conf "${lines[@]}" "$@"
}
restart_with() { stop_labcd; conf "$@"; start_labcd; }
doctor() {
	labc admin doctor --dir $TDIR/sshd.d --sshd-config $TDIR/sshd_config "$@"
}

# The sshd configuration the gateway is set up into: never /etc/ssh.
mkdir -p /run/sshd $TDIR/sshd.d
ssh-keygen -q -t ed25519 -N '' -f $TDIR/hostkey
cat > $TDIR/sshd_config <<CONF
Include $TDIR/sshd.d/*.conf
Port 64622
ListenAddress 127.0.0.1
HostKey $TDIR/hostkey
PidFile $TDIR/sshd.pid
CONF

conf
start_labcd || exit 1
labc admin gateway setup --dir $TDIR/sshd.d --sshd-config $TDIR/sshd_config \
    --labc "$LABC" >/dev/null
labc admin user add alice </dev/null >/dev/null
labc --as alice launch box >/dev/null

test_expect_success 'a healthy setup: every check ok, no problem, exit 0' '
	start=$(date +%s%N)
	out=$(doctor)
	measured "admin doctor on a healthy setup: $(( ($(date +%s%N) - start) / 1000000 )) ms"
	contains "$out" "^lxd +ok +LXD [0-9.]+ at "
	contains "$out" "^storage pool +ok +pool $LABCT_POOL_BT: [0-9]+% free"
	contains "$out" "^bridge +ok +$LABCT_BRIDGE: 10\.[0-9.]+/24, DHCP on, dns.mode=none"
	contains "$out" "^default image +ok +$LABCT_IMAGE is "
	contains "$out" "^ssh ports +ok +$PORTS on 127.0.0.1"
	contains "$out" "^gateway account +ok +$GW "
	contains "$out" "^sshd drop-in +ok +.*applies to $GW"
	contains "$out" "^nvidia +ok +no NVIDIA GPU"
	contains "$out" "^database +ok +.*integrity_check ok"
	contains "$out" "^drift +ok"
	contains "$out" "^No problem"
	not_contains "$out" " problem "
	[ "$(doctor --format json | jq "[.checks[] | select(.status == \"problem\")] | length")" = 0 ]
'

test_expect_success 'in a terminal of 80 columns the table fits it; in a pipe its lines stay whole' '
	TERM=dumb script -qec "stty cols 80; $LABC -S $SOCK admin doctor --dir $TDIR/sshd.d --sshd-config $TDIR/sshd_config" /dev/null |
	    tr -d "\r" > $TDIR/narrow
	[ "$(LC_ALL=C.UTF-8 wc -L < $TDIR/narrow)" -le 80 ]
	[ "$(doctor | LC_ALL=C.UTF-8 wc -L)" -gt 80 ]
	contains "$(cat $TDIR/narrow)" "^check +status +detail +fix"
	contains "$(cat $TDIR/narrow)" "^ssh ports +ok +"
	contains "$(cat $TDIR/narrow)" "^No problem"
'

# Restarts happen here, not in a test's subshell: lib.sh keeps the pid.
restart_with "lxd_socket = $TDIR/no-lxd.sock"
test_expect_success 'LXD unreachable (labcd pointed at a socket where nothing listens; the shared LXD keeps running): problem, exit 1' '
	out=$(expect_status 1 labc admin doctor --dir $TDIR/sshd.d --sshd-config $TDIR/sshd_config 2>$TDIR/err)
	contains "$out" "^lxd +problem +LXD is not reachable at $TDIR/no-lxd.sock"
	contains "$out" "start LXD: systemctl start lxd"
	contains "$out" "^database +ok"
	contains "$(cat $TDIR/err)" "1 problem"
'

restart_with "default_image = ${P}no-such-image"
test_expect_success 'a default image that LXD does not have: problem with the fix' '
	out=$(expect_status 1 doctor)
	contains "$out" "^default image +problem +default_image ${P}no-such-image: "
	contains "$out" "lxc image alias create ${P}no-such-image FINGERPRINT"
'

restart_with
test_expect_success 'ports of the range held by another program: problem naming them; the container'"'"'s own port is not one' '
	$LISTEN 60 64605 >/dev/null & l1=$!
	$LISTEN 60 64611 >/dev/null & l2=$!
	sleep 0.5
	out=$(expect_status 1 doctor)
	kill $l1 $l2
	contains "$out" "^ssh ports +problem +2 ports of $PORTS on 127.0.0.1 held by something that is not a labcd container: 64605 \(labct-listen, pid $l1\), 64611 \(labct-listen, pid $l2\) "
	contains "$out" "ss -ltnp"
	port=$(port_of alice box)
	not_contains "$(printf "%s\n" "$out" | grep "^ssh ports")" "[ ,]$port[, ]"
'

test_expect_success 'a broken sshd drop-in: sshd -t refuses it, problem; setup mends it' '
	echo "NoSuchDirectiveHere yes" >> $TDIR/sshd.d/50-labcontainers.conf
	out=$(expect_status 1 doctor)
	contains "$out" "^sshd drop-in +problem +sshd -t -f $TDIR/sshd_config refuses the configuration: .*NoSuchDirectiveHere"
	contains "$out" "labc admin gateway setup --dir $TDIR/sshd.d --sshd-config $TDIR/sshd_config"
	labc admin gateway setup --dir $TDIR/sshd.d --sshd-config $TDIR/sshd_config --labc "$LABC" >/dev/null
	contains "$(doctor)" "^sshd drop-in +ok"
'

test_expect_success 'a missing drop-in, and one sshd does not include: problems' '
	mv $TDIR/sshd.d/50-labcontainers.conf $TDIR/dropin.save
	out=$(expect_status 1 doctor)
	contains "$out" "^sshd drop-in +problem +$TDIR/sshd.d/50-labcontainers.conf: No such file"
	mv $TDIR/dropin.save $TDIR/sshd.d/50-labcontainers.conf
	sed -i "/^Include/d" $TDIR/sshd_config
	out=$(expect_status 1 doctor)
	contains "$out" "^sshd drop-in +problem +.*sshd does not apply it to $GW"
	contains "$out" "add .Include $TDIR/sshd.d/\*.conf. at the top"
	sed -i "1i Include $TDIR/sshd.d/*.conf" $TDIR/sshd_config
	contains "$(doctor)" "^sshd drop-in +ok"
'

restart_with "gateway_user = labctdoc-none"
test_expect_success 'no gateway account: problem with the setup command' '
	out=$(expect_status 1 doctor)
	contains "$out" "^gateway account +problem +no host account labctdoc-none"
'

# A pool on a 16 MiB tmpfs: LXD's dir driver reports the filesystem's space.
POOL=${P}full
mkdir -p $TDIR/pool
mount -t tmpfs -o size=16m labct-doctor $TDIR/pool
at_exit "umount $TDIR/pool"
at_exit "lxc storage delete $POOL"
lxc storage create $POOL dir source=$TDIR/pool >/dev/null
restart_with "storage_pool = $POOL"
test_expect_success 'a pool nearly full: a warning with the fix, and no failure' '
	dd if=/dev/zero of=$TDIR/pool/filler bs=1M count=15 2>/dev/null
	out=$(doctor)
	contains "$out" "^storage pool +warn +pool $POOL: [0-9.]+% free \([0-9.]+ MiB of 16\.0 MiB\), under 10%"
	contains "$out" "lxc storage set $POOL size="
	not_contains "$out" "^storage pool +ok"
	rm -f $TDIR/pool/filler
	contains "$(doctor)" "^storage pool +ok +pool $POOL: "
'

export NVML_STUB_FILE=$TDIR/gpus.txt
printf "gpu NVIDIA-A100 00000000:3B:00.0 GPU-0000aaaa 40960 0 0\ndriver 550.54.15\n" > $NVML_STUB_FILE
restart_with "nvml_library = $STUB" "nvidia_runtime = yes"
test_expect_success 'GPUs: the driver, a missing /dev/nvidia-uvm, no nvidia-container-cli, and a container with older driver libraries' '
	: > $TDIR/empty
	lxc file push --project ${P}alice $TDIR/empty box/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.535.104.05
	out=$(expect_status 1 doctor)
	contains "$out" "^nvidia +ok +1 GPU, driver 550.54.15"
	if [ ! -e /dev/nvidia-uvm ]; then
		contains "$out" "^nvidia-uvm +problem +/dev/nvidia-uvm is missing"
		contains "$out" "nvidia-modprobe -u -c=0"
	fi
	contains "$out" "^nvidia runtime +problem +nvidia_runtime is on, but nvidia-container-cli is not in PATH"
	contains "$out" "^driver libraries +problem +alice/box has libnvidia-ml.so.535.104.05, the host.s driver is 550.54.15"
	contains "$out" "labc --as alice restart box"
	sed -i "s/^driver .*/driver 535.104.05/" $NVML_STUB_FILE
	out=$(doctor || true)
	contains "$out" "^driver libraries +ok +1 running container with NVIDIA libraries, all 535.104.05"
	lxc exec --project ${P}alice box -- rm /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.535.104.05
'

restart_with "nvml_library = /nonexistent/libnvidia-ml.so.1" "gpu_default = all"
test_expect_success 'no NVIDIA driver where GPUs are expected (gpu_default = all): problem' '
	out=$(expect_status 1 doctor)
	contains "$out" "^nvidia +problem +NVML: no NVIDIA driver found"
'

restart_with
test_expect_success 'a row whose owner is gone: the database check says so' '
	sqlite3 $DB "PRAGMA foreign_keys=OFF; INSERT INTO keys (user_id, type, blob, fingerprint, created) VALUES (9999, '"'ssh-ed25519'"', '"'AAAA'"', '"'SHA256:doctor-test'"', 0)"
	out=$(expect_status 1 doctor)
	contains "$out" "^database +problem +1 row whose owner is gone: keys row [0-9]+ -> users"
	sqlite3 $DB "DELETE FROM keys WHERE fingerprint = '"'SHA256:doctor-test'"'"
	contains "$(doctor)" "^database +ok"
'

test_expect_success 'a container deleted behind labcd'"'"'s back (lxc delete): drift, with the fix that works' '
	lxc delete --force --project ${P}alice box
	out=$(expect_status 1 doctor)
	contains "$out" "^drift +problem +alice/box: deleted outside labcontainers +labc admin reconcile \(it will release port [0-9]+\)"
	labc admin reconcile >/dev/null
	contains "$(doctor)" "^drift +ok"
'

# A corrupt file, then the good one back: labcd is stopped for both.
stop_labcd
sqlite3 $DB "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
cp $DB $TDIR/db.save
page=$(sqlite3 $DB "SELECT rootpage FROM sqlite_master WHERE name = 'audit_user'")
size=$(sqlite3 $DB "PRAGMA page_size")
# Garbage over the audit index's page, past its header.
head -c 512 /dev/urandom | dd of=$DB bs=1 seek=$(( (page - 1) * size + 16 )) conv=notrunc 2>/dev/null
start_labcd
test_expect_success 'a corrupt database file: integrity_check finds it' '
	out=$(expect_status 1 doctor)
	contains "$out" "^database +problem +$DB: integrity_check: "
	contains "$out" "sqlite3 $DB .\.recover."
'
stop_labcd
rm -f $DB-wal $DB-shm
cp $TDIR/db.save $DB
start_labcd
test_expect_success 'the good file back: database ok' '
	contains "$(doctor)" "^database +ok"
'

test_done
