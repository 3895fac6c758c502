#!/usr/bin/env bash
# t0500-authz.sh - the authorization matrix (tests/authz-matrix.txt): every
# command of labcd's table, hidden ones too, run by every kind of caller
# against a real labcd and LXD. Each cell must end as the matrix says; a
# refused cell must change nothing in the database or LXD and leave the
# audit row the matrix names. A command with no row for a role fails.
. "$(dirname "$0")/lib.sh"
need_lxd

MATRIX=$LABCT_TOP/tests/authz-matrix.txt
REQ=$LABCT_BUILD/tests/tools/labct-req
STUB=$LABCT_BUILD/tests/nvml-stub/libnvidia-ml.so.1
P=${LABCT_PREFIX}a-
ROLES="owner other admin anon assert gwkey gwanon pasted agroup"
. "$(dirname "$0")/gateway.sh"
gw_init labct5gw labct5gk 63500
# An admin-group member who is not root.
AG=labct5ag
userdel $AG >/dev/null 2>&1
groupdel $AG >/dev/null 2>&1
groupadd $AG && useradd --no-create-home --shell /usr/sbin/nologin -g $AG $AG
at_exit "groupdel $AG"
at_exit "userdel $AG"
mkdir -p "$TDIR/home-ag" && chown $AG: "$TDIR/home-ag"
A=65501 B=65502 C=65503 D=65504	# host uids without accounts
for u in $A $B $C; do
	mkdir -p "$TDIR/home-$u" && chown $u:$u "$TDIR/home-$u"
done

export NVML_STUB_FILE=$TDIR/gpus.txt
echo "gpu NVIDIA-A100-SXM4-40GB 00000000:3B:00.0 GPU-0000aaaa 40960 0 0" \
    >"$NVML_STUB_FILE"
write_conf "project_prefix = $P" "default_image = $LABCT_IMAGE" \
    "profiles = $LABCT_PROFILE_BT" "ssh_listen = 127.0.0.1" \
    "ssh_ports = 62500-62599" "${GW_CONF[@]}" "admin_group = $AG" \
    "login_max_failures = 10" "nvml_library = $STUB"
start_labcd || exit 1
gw_setup >/dev/null || exit 1
gw_start || exit 1
GWUID=$(id -u "$GW")

ALICE_PW=alice-pw-$RANDOM$RANDOM BOB_PW=bob-pw-$RANDOM$RANDOM
for s in "$ALICE_PW" "$BOB_PW" not-alices-pw new-pw-12345 owned-pw-123 \
    zed-pw-23456 yan-pw-123456 mallory-pw-1 zed-pw-34567 xan-pw-1234567; do
	secret "$s"
done
printf '%s\n' "$ALICE_PW" | labc admin user add alice --password-stdin >/dev/null
printf '%s\n' "$BOB_PW" | labc admin user add bob --password-stdin >/dev/null
printf 'zed-pw-12345\n' | labc admin user add zed --password-stdin >/dev/null
secret zed-pw-12345
for k in alice1 alice2 bob1 newk stranger bobpasted; do newkey $k; done
labc --as alice key add <"$TDIR/alice1.pub" >/dev/null
labc --as bob key add <"$TDIR/bob1.pub" >/dev/null
fp() { ssh-keygen -lf "$TDIR/$1.pub" | awk '{ print $2 }'; }
keyof() { cut -d' ' -f1,2 "$TDIR/$1.pub"; }

# For admin import: a database of the original tool, with no one in it.
sqlite3 "$TDIR/old.db" "CREATE TABLE lab_users (username TEXT);
    CREATE TABLE lab_containers (name TEXT, owner TEXT)"

# session UID USER PW: that uid has a password session as USER.
session() {
	[ "$(labc_as_uid "$1" whoami 2>/dev/null)" = "$2" ] && return 0
	printf '%s\n' "$3" | labc_as_uid "$1" login "$2" >/dev/null
}

# req UID KEYNAME ARGS...: as=alice with that key, straight over the
# protocol; prints the result's text and error like labc, exits with its
# status.
req() {
	local uid=$1 key=$2 out rc=0
	shift 2
	out=$(as_uid "$uid" timeout 120 "$REQ" "$SOCK" -a alice \
	    -k "$(keyof "$key")" -- "$@") || rc=$?
	printf '%s' "$out" | jq -j '.text // empty'
	printf '%s' "$out" | jq -j '.error // empty' >&2
	return $rc
}

# cell ROLE ARGS...: run one command as the role, stdin from $TDIR/stdin.
cell() {
	local role=$1
	shift
	case $role in
	owner|other|anon)
		local uid
		case $role in owner) uid=$A ;; other) uid=$B ;; *) uid=$C ;; esac
		HOME=$TDIR/home-$uid as_uid "$uid" env -u XDG_RUNTIME_DIR \
		    timeout 120 "$LABC" -S "$SOCK" "$@" ;;
	admin)	timeout 120 "$LABC" -S "$SOCK" "$@" ;;
	assert)	req "$D" alice1 "$@" ;;
	gwkey)	req "$GWUID" bob1 "$@" ;;
	gwanon)	gw stranger "$GW@127.0.0.1" "$(printf '%q ' "$@")" ;;
	pasted)	gw bobpasted "$GW@127.0.0.1" "$(printf '%q ' "$@")" ;;
	agroup)	HOME=$TDIR/home-ag setpriv --reuid=$AG --regid=$AG \
		    --init-groups env -u XDG_RUNTIME_DIR timeout 120 \
		    "$LABC" -S "$SOCK" "$@" ;;
	esac <"$TDIR/stdin"
}

# wait_lxd: until LXD answers (the test bed is shared: another run may be
# restarting it), at most 60 s.
wait_lxd() {
	local i
	for ((i = 0; i < 120; i++)); do
		curl -sf --unix-socket "$LXD_SOCKET" lxd/1.0 >/dev/null && return 0
		sleep 0.5
	done
	return 1
}

lxd_get() {	# lxd_get PATH: LXD's answer, waiting out a restart
	curl -sf --unix-socket "$LXD_SOCKET" "lxd$1" ||
	    { wait_lxd && curl -sf --unix-socket "$LXD_SOCKET" "lxd$1"; }
}

# What a refused cell must not change: users, keys, containers and GPUs
# in the database; instances (state, devices, limits) and projects in LXD.
snap() {
	sqlite3 "$DB" "SELECT name, is_admin, disabled, pwhash, gpu_quota
	    FROM users ORDER BY id; SELECT user_id, fingerprint, proven FROM keys
	    ORDER BY id; SELECT user_id, name, port, state FROM containers
	    ORDER BY id; SELECT container_id, gpu, pci, exclusive, lease_end FROM gpus ORDER BY 1, 2"
	lxd_get "/1.0/instances?recursion=1&all-projects=true" |
	    jq -r --arg p "$P" '.metadata[] | select(.project | startswith($p))
	    | "\(.project) \(.name) \(.status) \(.devices | keys | join(","))"
	    + " \(.config["limits.cpu"]) \(.config["limits.memory"])"
	    + " \(.devices.root.size)"' |
	    sort
	lxd_get "/1.0/projects?recursion=1" |
	    jq -c --arg p "$P" '.metadata[] | select(.name | startswith($p)) |
	    [.name, .config]'
}

class_re() {
	case $1 in
	admins)		echo "is for admins only; you are" ;;
	login)		echo "you are not logged in" ;;
	needuser)	echo "acts for a lab user and you are .*an admin without one" ;;
	noassert)	echo "--as is only for root and the SSH gateway account" ;;
	wrongkey)	echo "the SSH key of this connection is not alice's" ;;
	notfound)	echo "you have no (container|key with fingerprint)" ;;
	taken)		echo "is registered by another lab user" ;;
	sshonly)	echo "gateway authorized-keys is for sshd only" ;;
	webonly)	echo "is for the status page \\(web_user\\) and admins" ;;
	incorrect)	echo "^login incorrect$" ;;
	noall)		echo "list --all is for admins only" ;;
	rootonly)	echo "is for root only" ;;
	notsshd)	echo "believed only from sshd, and this process's parent is not sshd" ;;
	*)		echo "no such class: $1" ;;
	esac
}

refusals() {	# any refusal of a class that is about who asks
	local k re=""
	for k in admins login needuser noassert wrongkey notsshd sshonly \
	    webonly noall rootonly; do
		re="$re${re:+|}$(class_re $k)"
	done
	printf '%s' "$re"
}

# The matrix's rows: "command|role|expect|audit|args|stdin", trimmed.
rows() {
	grep -v '^#' "$MATRIX" | grep -v '^[[:space:]]*$' |
	    sed 's/[[:space:]]*|[[:space:]]*/|/g; s/[[:space:]]*$//'
}

fill() {	# the {X} of the matrix
	local s=$1
	s=${s//\{ALICE_PW\}/$ALICE_PW}
	s=${s//\{BOB_PW\}/$BOB_PW}
	s=${s//\{PUB_ALICE1\}/$(cat "$TDIR/alice1.pub")}
	s=${s//\{PUB_ALICE2\}/$(cat "$TDIR/alice2.pub")}
	s=${s//\{PUB_NEW\}/$(cat "$TDIR/newk.pub")}
	s=${s//\{FP_ALICE1\}/$(fp alice1)}
	s=${s//\{FP_ALICE2\}/$(fp alice2)}
	s=${s//\{GWARGS\}/--dir $TDIR/sshd.d --sshd-config $TDIR/sshd_config --labc $LABC_GW}
	s=${s//\{DOCARGS\}/--dir $TDIR/sshd.d --sshd-config $TDIR/sshd_config}
	s=${s//\{TDIR\}/$TDIR}
	s=${s//\{GW\}/$GW}
	s=${s//\{LABCGW\}/$LABC_GW}
	printf '%s' "$s"
}

# run_command CMD: every row of CMD; violations go to $TDIR/violations.
run_command() {
	local cmd=$1 line c role expect aud args in out rc before after \
	    amax fails=0 rows_
	rows_=$(rows | awk -F'|' -v c="$cmd" '$1 == c')
	while IFS='|' read -r c role expect aud args in; do
		# Only a login, logout, password or admin command can end a
		# session; after one, both are checked (and made) again.
		if [ "$sessions_ok" != 1 ]; then
			session $A alice "$ALICE_PW"
			session $B bob "$BOB_PW"
			sessions_ok=1
		fi
		if [ "$in" = - ]; then : >"$TDIR/stdin"
		else printf '%b' "$(fill "$in")" >"$TDIR/stdin"; fi
		eval "set -- $(fill "$args")"
		# shellcheck disable=SC2086
		set -- $cmd "$@"
		wait_lxd
		# A refused cell must change nothing: what was there before.
		case $expect in ok|ran) before= ;; *) before=$(snap) ;; esac
		amax=$(sqlite3 "$DB" "SELECT coalesce(max(id), 0) FROM audit")
		rc=0
		# A data stream (export) goes to nothing; what it says is kept.
		case $cmd in
		export) out=$(cell "$role" "$@" 2>&1 >/dev/null) || rc=$? ;;
		*) out=$(cell "$role" "$@" 2>&1) || rc=$? ;;
		esac
		# Another run restarted the shared LXD under this cell: again.
		if [ $rc -ne 0 ] && printf '%s\n' "$out" |
		    grep -Eq "LXD is not running|LXD went away|LXD is shutting down"; then
			wait_lxd
			rc=0
			out=$(cell "$role" "$@" 2>&1) || rc=$?
		fi
		echo "$cmd|$role" >>"$TDIR/cells"
		case $cmd in login*|logout*|passwd*|admin*) sessions_ok=0 ;; esac
		# The private key key gen shows the member: never in a log.
		[ "$cmd" != "key gen" ] || [ $rc -ne 0 ] || secret "$(printf '%s\n' \
		    "$out" | sed -n '/BEGIN OPENSSH/,/END OPENSSH/p' | sed -n 5p)"
		local bad=""
		if [ "$expect" = ok ]; then
			[ $rc -eq 0 ] || bad="exit $rc, expected 0"
		elif [ "$expect" = ran ]; then
			[ $rc -le 1 ] || bad="exit $rc, expected 0 or 1"
			! printf '%s\n' "$out" | grep -Eq -- "$(refusals)" ||
			    bad="$bad; refused: $(printf '%s\n' "$out" | grep -E -- "$(refusals)" | head -n 1)"
		else
			[ $rc -eq 1 ] || bad="exit $rc, expected 1"
			printf '%s\n' "$out" | grep -Eq -- "$(class_re "$expect")" ||
			    bad="$bad; no /$(class_re "$expect")/"
			after=$(snap)
			[ "$before" = "$after" ] ||
			    bad="$bad; it changed: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -n 4 | tr '\n' ' ')"
			local arows
			arows=$(sqlite3 "$DB" "SELECT command || ': ' || result
			    FROM audit WHERE id > $amax ORDER BY id")
			case $aud in
			-)	[ -z "$arows" ] || bad="$bad; audit rows: $arows" ;;
			*)	[ "$(printf '%s\n' "$arows" | wc -l)" -eq 1 ] &&
				    printf '%s\n' "$arows" |
				    grep -q "^$cmd: $aud" ||
				    bad="$bad; audit: '$arows', expected '$cmd: $aud'" ;;
			esac
		fi
		if [ -n "$bad" ]; then
			echo "$cmd | $role | $expect: ${bad#; } -- output: $(printf '%s' "$out" | head -c 300 | tr '\n' ' ')" |
			    tee -a "$TDIR/violations"
			fails=$((fails + 1))
		fi
	done <<<"$rows_"
	[ $fails -eq 0 ]
}
: >"$TDIR/cells"
: >"$TDIR/violations"
sessions_ok=0

# The commands, hidden ones too, from labcd's own table.
COMMANDS=$(as_uid $C "$REQ" "$SOCK" -- help --names | jq -r '.data.commands[]')

test_expect_success 'the matrix has one row per command and role, no more' '
	[ "$(printf "%s\n" "$COMMANDS" | wc -l)" -ge 30 ]
	missing=0
	while read -r cmd; do
		for role in $ROLES; do
			n=$(rows | awk -F"|" -v c="$cmd" -v r="$role" "\$1 == c && \$2 == r" | wc -l)
			[ "$n" -eq 1 ] || { echo "$cmd / $role: $n rows"; missing=1; }
		done
	done <<<"$COMMANDS"
	extra=$(rows | cut -d"|" -f1 | sort -u | grep -vxF -f <(printf "%s\n" "$COMMANDS") || true)
	[ -z "$extra" ] || { echo "rows for commands labcd does not have: $extra"; missing=1; }
	roles=$(rows | cut -d"|" -f2 | sort -u | tr "\n" " ")
	[ "$roles" = "$(printf "%s\n" $ROLES | sort | tr "\n" " ")" ]
	[ $missing -eq 0 ]
'

test_expect_success 'alice has box running and a session; bob a session' '
	wait_lxd
	labc --as alice launch box >/dev/null ||
	    { wait_lxd && labc --as alice launch box >/dev/null; }
	session $A alice "$ALICE_PW"
	session $B bob "$BOB_PW"
	contains "$(labc --as alice list --format csv)" "^box,running,"
'

test_expect_success 'through sshd: a key bob pasted and a stranger'"'"'s land anonymous' '
	contains "$(labc_as_uid $B key add <"$TDIR/bobpasted.pub")" "not proven yet"
	for k in bobpasted stranger; do
		contains "$(gw $k "$GW@127.0.0.1" whoami)" "^not logged in"
	done
	[ "$(gw bob1 "$GW@127.0.0.1" whoami)" = bob ]
'

# In the matrix's order (the owner's changes build on each other).
for cmd in $(rows | cut -d'|' -f1 | awk '!seen[$0]++' | tr ' ' '+'); do
	cmd=${cmd//+/ }
	test_expect_success "matrix: $cmd" "run_command '$cmd'"
done

test_expect_success 'alice'"'"'s box, key and port are hers alone afterwards' '
	port=$(port_of alice box)
	contains "$(labc --as alice list --format csv)" "^box,running,"
	[ "$(ssh_in $TDIR/alice1 $port hostname)" = box ]
	! ssh_in $TDIR/bob1 $port true 2>/dev/null
	! ssh_in $TDIR/alice2 $port true 2>/dev/null
	# bob'"'"'s box is another instance in another project
	[ "$(port_of bob box)" != "$port" ]
	sqlite3 "$DB" "SELECT fingerprint FROM keys" | grep -qxF "$(fp alice1)"
'

cells=$(wc -l <"$TDIR/cells")
nviol=$(wc -l <"$TDIR/violations")
measured "authorization matrix: $cells cells ($(printf '%s\n' "$COMMANDS" | wc -l) commands x $(echo $ROLES | wc -w) roles), $nviol violations"
test_expect_success 'every cell of the matrix was run' '
	[ "$cells" -eq "$(rows | wc -l)" ]
	[ "$cells" -eq $(( $(printf "%s\n" "$COMMANDS" | wc -l) * $(echo $ROLES | wc -w) )) ]
'

test_done
