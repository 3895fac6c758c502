#!/usr/bin/env bash
# t0900-guide.sh - the member guide is what labc guide prints, for this
# server, to anyone; and its Linux path works as written: every command
# marked "sh linux" in docs/member.md, taken from 'labc guide' itself, run
# in order by a new member on a laptop of their own (a host account with
# nothing but ssh), against a real sshd gateway on loopback and real
# containers, from ssh-keygen to 'ssh box.SUFFIX hostname'.
. "$(dirname "$0")/lib.sh"

GUIDE=$LABCT_TOP/docs/member.md

test_expect_success 'guide prints docs/member.md with SERVER and SUFFIX filled in, to anyone' '
	write_conf "gateway_host = gpu-server.cs.uni.edu"
	start_labcd
	out=$(as_uid 65411 "$LABC" -S "$SOCK" guide)
	[ "$out" = "$(sed "s/SERVER/gpu-server.cs.uni.edu/g; s/SUFFIX/gpu-server/g" "$GUIDE")" ]
	contains "$out" "^    ProxyCommand ssh lab@gpu-server.cs.uni.edu nc %h$"
	contains "$out" "^Host \*\.gpu-server$"
	contains "$out" "^ssh box\.gpu-server hostname$"
	not_contains "$out" "SERVER|SUFFIX"
	stop_labcd
'

test_expect_success 'an address for SERVER: the suffix is lab; the gateway account as configured' '
	write_conf "gateway_host = 192.0.2.7" "gateway_user = gpulab"
	start_labcd
	out=$(labc guide)
	contains "$out" "^ssh gpulab@192\.0\.2\.7 whoami$"
	not_contains "$out" "(^|[^a-z])lab@192"
	contains "$out" "^ssh box\.lab hostname$"
	stop_labcd
'

test_expect_success 'guide --admin: the admin guide, for admins only' '
	write_conf
	start_labcd
	out=$(expect_status 1 as_uid 65411 "$LABC" -S "$SOCK" guide --admin 2>&1)
	contains "$out" "guide --admin is for admins only"
	h=$(hostname)
	[ "$(labc guide --admin)" = "$(sed "s/SERVER/$h/g; s/SUFFIX/${h%%.*}/g" "$LABCT_TOP/docs/admin.md")" ]
	stop_labcd
'

test_expect_success 'the member guide: lines of at most 100 columns, the Linux path marked' '
	awk "length > 100 { print FILENAME \":\" FNR; bad = 1 } END { exit bad }" "$GUIDE"
	[ "$(grep -cE "^\`\`\`sh linux( |-typed |$)" "$GUIDE")" -ge 10 ]
'

test_expect_success 'help: the name column fits the longest name; no line over 80 columns' '
	write_conf
	start_labcd
	out=$(labc help)
	contains "$out" "^  admin gateway setup make the SSH gateway"
	not_contains "$out" "^  admin gateway setupmake"
	[ -z "$(printf "%s\n" "$out" | awk "length > 80")" ]
	for c in $(labc help --names | tr " " "_"); do
		labc help ${c//_/ }
	done | awk "length > 80 { print; bad = 1 } END { exit bad }"
	stop_labcd
'

if [ "${LABCT_NO_LXD:-}" = 1 ] || [ -z "${LABCT_PREFIX:-}" ]; then
	test_skip "the member guide's Linux path" "needs the LXD test bed"
	test_done
	exit
fi

# ---- the Linux path, as a new member types it ----------------------------------------------

. "$(dirname "$0")/gateway.sh"
LAPTOP=labct9-laptop
userdel -r $LAPTOP >/dev/null 2>&1
at_exit "ps -u $LAPTOP -o pid= | xargs -r kill; userdel $LAPTOP"
gw_init labct9gw labct9gk 63490
P=${LABCT_PREFIX}m-
STUB=$LABCT_BUILD/tests/nvml-stub/libnvidia-ml.so.1
export NVML_STUB_FILE=$TDIR/gpus.txt
cat > $NVML_STUB_FILE <<GPUS
gpu NVIDIA-A100-SXM4-40GB 00000000:3B:00.0 GPU-0000aaaa 40960 0 0
gpu NVIDIA-A100-SXM4-40GB 00000000:5E:00.0 GPU-1111bbbb 40960 0 0
gpu NVIDIA-A100-SXM4-40GB 00000000:86:00.0 GPU-2222cccc 40960 0 0
GPUS
write_conf "project_prefix = $P" "default_image = $LABCT_IMAGE" \
    "profiles = $LABCT_PROFILE_BT" "ssh_listen = 127.0.0.1" \
    "ssh_ports = 63400-63480" "nvml_library = $STUB" "${GW_CONF[@]}"
start_labcd || exit 1
gw_setup >/dev/null
gw_start || exit 1

# The laptop: a host account of its own, an empty home, bash and ssh.
H=$TDIR/laptop
useradd --no-create-home --home-dir $H --shell /bin/bash $LAPTOP
mkdir -p $H && chown $LAPTOP: $H
# What the member types at ssh's own prompts (there is no terminal here):
# "yes" to a new host key, the passphrase they chose for their key.
PASSPHRASE="correct horse battery $$"
secret "$PASSPHRASE"
cat > $TDIR/askpass <<ASK
#!/bin/sh
case "\$1" in
*"continue connecting"*) echo yes ;;
*assphrase*) echo "$PASSPHRASE" ;;
*) echo "askpass: unexpected prompt: \$1" >&2; exit 1 ;;
esac
ASK
chmod 755 $TDIR/askpass

# laptop STDIN SCRIPT: run SCRIPT as the member on the laptop, no terminal.
laptop() {
	setsid -w setpriv --reuid=$LAPTOP --regid=$LAPTOP --init-groups \
	    env -i HOME=$H USER=$LAPTOP LOGNAME=$LAPTOP SHELL=/bin/bash \
	    PATH=/usr/local/bin:/usr/bin:/bin SSH_ASKPASS=$TDIR/askpass \
	    SSH_ASKPASS_REQUIRE=force DISPLAY=none \
	    bash -e -c "cd; $2" <"$1"
}

GUIDE_T0=$(date +%s)
labc admin user add alice </dev/null >$TDIR/alice.pw
ALICE_PW=$(sed -n 's/^Password for alice: //p' $TDIR/alice.pw)
secret "$ALICE_PW"

# The blocks, from the guide as this server prints it: TAG, then the lines.
labc guide > $TDIR/guide.txt
mkdir $TDIR/blocks
awk -v d=$TDIR/blocks '
	/^```sh / && ($2 == "linux" || $2 == "linux-typed") { n++; f = sprintf("%s/%02d", d, n); tag = $3; if (tag == "") tag = "-";
		print tag > (f ".tag"); inb = 1; printf "" > f; next }
	inb && /^```$/ { inb = 0; next }
	inb { print > f }' $TDIR/guide.txt

# What the member types into the programs that ask (keyed by the tag):
# Enter for ssh-keygen's file name; at the server: login, password, y.
printf '\n' > $TDIR/in.keygen
printf 'login alice\n%s\ny\nexit\n' "$ALICE_PW" > $TDIR/in.first-login
: > $TDIR/in.-
# SERVER's port is not 22 here: the guide's answer to that (section 14).
mkdir -m 700 $H/.ssh
printf 'Host 127.0.0.1\n    Port %s\n' $SSHD_PORT > $H/.ssh/config
chown -R $LAPTOP: $H/.ssh

typed=0
for f in $TDIR/blocks/??; do
	tag=$(cat $f.tag)
	cmd=$(cat $f)
	# No GPU on this machine: the stand-in NVML lists GPUs, but LXD cannot
	# start a container with one, so the launch asks for none (the GPU
	# devices themselves are t0400's).
	case $cmd in *" launch box "*) cmd=$(sed 's/ --gpu [0-9,]*//' <<<"$cmd") ;; esac
	# Before "a container made again": make it again, and see ssh refuse it.
	case $cmd in "ssh-keygen -R "*)
		labc --as alice delete box -f >/dev/null
		labc --as alice launch box >/dev/null
		test_expect_success 'box made again: ssh box.lab refuses its new host key, as the guide says' '
			out=$(expect_status 255 laptop $TDIR/in.- "ssh box.lab hostname" 2>&1)
			contains "$out" "REMOTE HOST IDENTIFICATION HAS CHANGED"
		'
	esac
	# Before the first login: the guide is there for a key no one knows.
	case $cmd in "ssh $GW@127.0.0.1")
		test_expect_success 'before logging in, ssh lab@SERVER guide is the guide' '
			out=$(laptop $TDIR/in.- "ssh $GW@127.0.0.1 guide" 2>/dev/null)
			[ "$out" = "$(cat $TDIR/guide.txt)" ]
		'
	esac
	case $cmd in "scp -r dataset "*)
		mkdir $H/dataset && echo "some data" > $H/dataset/train.csv
		chown -R $LAPTOP: $H/dataset
	esac
	typed=$((typed + $(grep -c . <<<"$cmd") + $(grep -c "" $TDIR/in.$tag)))
	test_expect_success "guide, as typed: $(head -n 1 <<<"$cmd")" '
		laptop $TDIR/in.$tag "$cmd" > $TDIR/block.out 2>&1 ||
		    { cat $TDIR/block.out; exit 1; }
		out=$(cat $TDIR/block.out)
		case $cmd in
		"ssh-keygen -t ed25519")
			[ -s $H/.ssh/id_ed25519.pub ]
			# the passphrase protects it: the key does not load without
			! ssh-keygen -y -P "" -f $H/.ssh/id_ed25519 >/dev/null 2>&1 ;;
		"ssh $GW@127.0.0.1")
			contains "$out" "Logged in as alice"
			contains "$out" "registered" ;;
		"ssh $GW@127.0.0.1 whoami") contains "$out" "^alice$" ;;
		"ssh $GW@127.0.0.1 gpus") contains "$out" "^GPU 2 " ;;
		*" launch box "*)
			contains "$out" "box is running"
			contains "$out" "ssh box\.lab" ;;
		*"ssh-config >> ~/.ssh/config")
			contains "$(cat $H/.ssh/config)" "^Host \*\.lab$" ;;
		"ssh box.lab hostname")
			contains "$out" "^box$"
			t1=$(date +%s)
			measured "new member, admin user add to ssh box.lab: $((t1 - GUIDE_T0)) s, $typed lines typed (commands and answers)" ;;
		"scp -r dataset box.lab:")
			[ "$(laptop $TDIR/in.- "ssh box.lab cat dataset/train.csv")" = "some data" ] ;;
		*" set box "*) contains "$out" "32 GiB" ;;
		*" snapshot box before-cuda")
			contains "$out" "^Snapshot before-cuda of box taken\.$" ;;
		*" restore box before-cuda")
			contains "$out" "^box was running: stopped, restored to before-cuda, and started again\.$"
			contains "$out" "^box is running" ;;
		"ssh-keygen -R box.lab")
			[ "$(laptop $TDIR/in.- "ssh box.lab hostname")" = box ] ;;
		*) echo "the test does not know this block of the guide: $cmd"; exit 1 ;;
		esac
	'
done

test_expect_success 'a member asking for the admin guide is refused' '
	out=$(laptop $TDIR/in.- "ssh $GW@127.0.0.1 guide --admin" 2>&1 || true)
	contains "$out" "guide --admin is for admins only; you are .*alice"
	not_contains "$out" "^# Admin guide"
'

test_expect_success 'the guide'"'"'s Linux path ran start to finish' '
	[ "$(ls $TDIR/blocks | grep -c "^[0-9]*$")" -ge 10 ]
	[ "$(labc --as alice list --format csv | grep -c "^box,")" = 1 ]
'

test_done
