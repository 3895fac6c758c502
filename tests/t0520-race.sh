#!/usr/bin/env bash
# t0520-race.sh - 16 clients at once for 60 s against one labcd and the
# real LXD: 8 lab users, two clients each, creating and deleting
# containers (at most 2 alive per client) and adding and deleting keys.
# Afterwards labcd still answers and reported no sanitizer error, the
# database is intact, its containers are exactly LXD's, no port is given
# twice (database or LXD proxy devices), and every key a client added and
# did not delete is registered and in the authorized_keys of every
# container of its user, nothing more.
. "$(dirname "$0")/lib.sh"
need_lxd

P=${LABCT_PREFIX}r-
NCLIENTS=16 NUSERS=8 DURATION=${LABCT_RACE_SECONDS:-60} NKEYS=12
write_conf "project_prefix = $P" "default_image = $LABCT_IMAGE" \
    "profiles = $LABCT_PROFILE_BT" "ssh_listen = 127.0.0.1" \
    "ssh_ports = 62600-62699" "quota_containers = 5"
start_labcd || exit 1
for ((u = 0; u < NUSERS; u++)); do
	labc admin user add u$u </dev/null >/dev/null
done
for ((i = 0; i < NCLIENTS; i++)); do
	for ((k = 0; k < NKEYS; k++)); do newkey k$i-$k; done
done

# client I: random operations until the deadline; one line per operation
# in $TDIR/ops.I: "OP ARG STATUS first line of the error".
client() {
	local i=$1 user=u$(($1 % NUSERS)) end=$2 n=0 op alive=() keys=() \
	    nextkey=0 out rc arg t0
	while [ "$(date +%s)" -lt "$end" ]; do
		case $((RANDOM % 4)) in
		0)	[ ${#alive[@]} -lt 2 ] && op=create || op=delete ;;
		1)	[ ${#alive[@]} -gt 0 ] && op=delete || op=create ;;
		2)	[ $nextkey -lt $NKEYS ] && op=keyadd || op=keydel ;;
		3)	[ ${#keys[@]} -gt 0 ] && op=keydel || op=keyadd ;;
		esac
		[ $op = keyadd ] && [ $nextkey -ge $NKEYS ] && continue
		[ $op = keydel ] && [ ${#keys[@]} -eq 0 ] && continue
		rc=0 t0=$(date +%s.%N)
		case $op in
		create)	arg=c$i-$((n++))
			out=$(labc --as $user create $arg 2>&1 >/dev/null) || rc=$?
			[ $rc -eq 0 ] && alive+=("$arg") ;;
		delete)	arg=${alive[0]}
			out=$(labc --as $user delete -f $arg 2>&1 >/dev/null) || rc=$?
			[ $rc -eq 0 ] && alive=("${alive[@]:1}") ;;
		keyadd)	arg=k$i-$((nextkey++))
			out=$(labc --as $user key add <$TDIR/$arg.pub 2>&1 >/dev/null) || rc=$?
			[ $rc -eq 0 ] && keys+=("$arg") ;;
		keydel)	arg=${keys[0]}
			out=$(labc --as $user key del \
			    "$(ssh-keygen -lf $TDIR/$arg.pub | awk "{ print \$2 }")" \
			    2>&1 >/dev/null) || rc=$?
			[ $rc -eq 0 ] && keys=("${keys[@]:1}") ;;
		esac
		echo "$op $arg $rc $(printf '%s' "$out" | head -n 1)" >>$TDIR/ops.$i
		echo "$t0 $(date +%s.%N) $i $op $arg $rc" >>$TDIR/times
	done
	printf '%s\n' "${keys[@]}" >$TDIR/keys.$i
}

test_expect_success 'half of the users have a running container' '
	for ((u = 0; u < NUSERS; u += 2)); do
		labc --as u$u launch home >$TDIR/home.$u 2>&1 &
	done
	wait
	for ((u = 0; u < NUSERS; u += 2)); do
		contains "$(labc --as u$u list --format csv)" "^home,running," || { cat $TDIR/home.$u; exit 1; }
	done
'

test_expect_success "$NCLIENTS clients for $DURATION s" '
	t0=$(date +%s)
	end=$((t0 + DURATION))
	for ((i = 0; i < NCLIENTS; i++)); do client $i $end & done
	wait
	t1=$(date +%s)
	ops=$(cat $TDIR/ops.* | wc -l)
	ok=$(cat $TDIR/ops.* | awk "\$3 == 0" | wc -l)
	byop=$(cat $TDIR/ops.* | awk "{ n[\$1]++; if (\$3 == 0) k[\$1]++ }
	    END { for (o in n) printf \"%s %d/%d, \", o, k[o], n[o] }")
	fails=$(cat $TDIR/ops.* | awk "\$3 != 0" | cut -d" " -f1,4- |
	    sed "s/[0-9]\+/N/g" | sort | uniq -c | sort -rn | head -n 5 |
	    sed "s/^ *//" | tr "\n" ";")
	measured "race: $NCLIENTS clients, $NUSERS users, $((t1 - t0)) s: $ops operations, $ok ok (${byop%, })"
	measured "race failures by kind: ${fails:-none}"
	[ "$ops" -gt $NCLIENTS ]
	[ $((ops - ok)) -le $((ops / 20)) ]	# at most 5% failed
'

test_expect_success 'labcd still answers, with no sanitizer report' '
	kill -0 $LABCD_PID
	contains "$(labc whoami)" "^root"
	! grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$LABCD_LOG"
'

test_expect_success 'the database is intact and nothing is left half made' '
	r=$(sqlite3 "$DB" "PRAGMA integrity_check")
	measured "race: integrity_check $r"
	[ "$r" = ok ]
	[ -z "$(sqlite3 "$DB" "SELECT name, state FROM containers WHERE state != '"'ready'"'")" ]
'

test_expect_success 'the database'"'"'s containers are exactly LXD'"'"'s' '
	sqlite3 -separator " " "$DB" "SELECT coalesce(u.project, '"'$P'"' || u.name),
	    c.name, c.port FROM containers c JOIN users u ON u.id = c.user_id" |
	    sort >$TDIR/db.ct
	curl -s --unix-socket "$LXD_SOCKET" \
	    "lxd/1.0/instances?recursion=1&all-projects=true" |
	    jq -r --arg p "$P" ".metadata[] | select(.project | startswith(\$p)) |
	    \"\(.project) \(.name) \(.devices.ssh.listen | sub(\"^tcp:127.0.0.1:\"; \"\"))\"" |
	    sort >$TDIR/lxd.ct
	diff $TDIR/db.ct $TDIR/lxd.ct
	measured "race: $(wc -l <$TDIR/db.ct) containers in the database = $(wc -l <$TDIR/lxd.ct) in LXD"
	[ -z "$(cut -d" " -f3 $TDIR/lxd.ct | sort | uniq -d)" ]
	[ -z "$(sqlite3 "$DB" "SELECT port FROM containers GROUP BY port HAVING count(*) > 1")" ]
'

synced_of() {	# synced_of NAME: keys_synced of that container
	sqlite3 "$DB" "SELECT keys_synced FROM containers WHERE name = '$1'"
}

db_keys() {	# db_keys USER: the key blobs the database has for USER
	sqlite3 "$DB" "SELECT k.blob FROM keys k JOIN users u ON
	    u.id = k.user_id WHERE u.name = '$1'"
}

test_expect_success 'every key kept is registered, and in every container of its user' '
	bad=0
	for ((u = 0; u < NUSERS; u++)); do
		for ((i = u; i < NCLIENTS; i += NUSERS)); do cat $TDIR/keys.$i; done |
		    grep . | while read -r k; do cut -d" " -f2 $TDIR/$k.pub; done |
		    sort >$TDIR/want.$u
		db_keys u$u | sort >$TDIR/db.$u
		diff $TDIR/want.$u $TDIR/db.$u || { echo "u$u: database"; bad=1; }
		for ct in $(awk -v p="${P}u$u" "\$1 == p { print \$2 }" $TDIR/lxd.ct); do
			lxc file pull --project ${P}u$u \
			    $ct/home/ubuntu/.ssh/authorized_keys - 2>/dev/null |
			    grep -v "^#" | cut -d" " -f2 | grep . | sort >$TDIR/ak
			diff $TDIR/want.$u $TDIR/ak >/dev/null && continue
			# A push LXD refused (it restarts, say) is marked for
			# the next start: labcd knows, and mends it there.
			if [ "$(synced_of $ct)" = 0 ]; then
				echo "u$u/$ct" >>$TDIR/unsynced
				continue
			fi
			echo "u$u/$ct: authorized_keys differs (keys_synced 1)"
			diff $TDIR/want.$u $TDIR/ak || true
			grep -E "u$u|$ct" "$LABCD_LOG" | grep -v ": ok$" | tail -n 5 || true
			sort -n $TDIR/times | awk -v a=$u -v b=$((u + NUSERS)) "\$3 == a || \$3 == b" >$TDIR/times.$u
			awk -v c=$ct "\$5 == c { print NR }" $TDIR/times.$u | head -n 1 |
			    while read -r n; do sed -n "$((n > 4 ? n - 4 : 1)),$((n + 4))p" $TDIR/times.$u; done
			for k in $(cat $TDIR/keys.$u $TDIR/keys.$((u + NUSERS))); do
				grep -qF "$(cut -d" " -f2 $TDIR/$k.pub)" $TDIR/ak ||
				    grep " $k " $TDIR/times.$u || true
			done
			bad=1
		done
	done
	nkeys=$(cat $TDIR/want.* | wc -l)
	nun=$(cat $TDIR/unsynced 2>/dev/null | wc -l)
	measured "race: $nkeys keys kept, all in the database and every container of their user ($nun containers marked for keys at their next start)"
	[ $bad -eq 0 ]
'

test_done
