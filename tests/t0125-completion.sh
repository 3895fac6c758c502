#!/usr/bin/env bash
# t0125-completion.sh - bash completion for labc (etc/bash-completion/labc),
# sourced in a real bash and called as bash calls it (COMP_WORDS and
# COMP_CWORD), against a private labcd: command names as the caller may
# see them, subcommands, options and their values from the usage lines,
# lab users, images and the caller's own container names from a real LXD.
. "$(dirname "$0")/lib.sh"

COMPLETION=$LABCT_TOP/etc/bash-completion/labc
D=65301		# a host uid without an account: anonymous to labcd

if [ -n "${LABCT_PREFIX:-}" ] && [ "${LABCT_NO_LXD:-}" != 1 ]; then
	have_lxd=1
	write_conf "project_prefix = ${LABCT_PREFIX}k-" \
	    "default_image = $LABCT_IMAGE" "profiles = $LABCT_PROFILE_BT" \
	    "ssh_listen = 127.0.0.1" "ssh_ports = 62900-62949"
else
	have_lxd=0
fi
start_labcd || exit 1
labc admin user add dora </dev/null >/dev/null
labc admin user add eve </dev/null >/dev/null

# comp WORD...: what completing the last WORD offers, sorted, on one
# line. The first word is the labc to run, as on a command line.
comp() {
	bash -c '. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_labc
		[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
	    _ "$COMPLETION" "$LABC" "$@"
}
# once WORDS: no word twice.
once() { [ -z "$(printf "%s\n" $1 | sort | uniq -d)" ]; }
comp_as_uid() {
	local uid=$1
	shift
	mkdir -p "$TDIR/home-$uid" && chown "$uid:$uid" "$TDIR/home-$uid"
	HOME=$TDIR/home-$uid as_uid "$uid" bash -c '. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_labc
		[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
	    _ "$COMPLETION" "$LABC" "$@"
}

test_expect_success 'command names come from labcd, once each' '
	out=$(comp -S "$SOCK" "")
	for w in admin create delete details gpu gpus help images key launch \
	    list log login logout nc passwd quota restart set ssh-config \
	    start stop whoami; do
		contains "$out" "(^| )$w "
	done
	once "$out"
	[ "$(comp -S "$SOCK" la)" = "launch " ]
	[ "$(comp -S "$SOCK" set box --)" = "--cpu --disk --memory " ]
	[ "$(comp -S "$SOCK" help ke)" = "key " ]
	[ "$(comp -S "$SOCK" help key "")" = "add del gen list " ]
	[ "$(comp -S "$SOCK" help key add "")" = "" ]
'

test_expect_success 'someone who is not an admin is not offered admin commands' '
	out=$(comp_as_uid $D -S "$SOCK" "")
	contains "$out" "launch"
	not_contains "$out" "admin"
	[ "$(comp_as_uid $D -S "$SOCK" admin "")" = "" ]
'

test_expect_success 'subcommands, word by word' '
	out=$(comp -S "$SOCK" admin "")
	for w in gateway log passwd quota user; do contains "$out" "(^| )$w "; done
	not_contains "$out" "(^| )(add|admin|launch) "
	once "$out"
	[ "$(comp -S "$SOCK" admin user "")" = "add del list lock unlock " ]
	[ "$(comp -S "$SOCK" admin user l)" = "list lock " ]
	[ "$(comp -S "$SOCK" gpu "")" = "attach cancel detach queue renew request " ]
'

test_expect_success 'options and their values come from the usage line' '
	[ "$(comp -S "$SOCK" launch box --)" = "--cpu --disk --exclusive --for --gpu --image --memory --server --wait " ]
	[ "$(comp -S "$SOCK" list -)" = "--all --format " ]
	[ "$(comp -S "$SOCK" list --format "")" = "csv json table " ]
	[ "$(comp -S "$SOCK" gpus --format "")" = "json table " ]
	[ "$(comp -S "$SOCK" launch box --gpu "")" = "all any none " ]
	[ "$(comp -S "$SOCK" delete box -)" = "-f " ]
	[ "$(comp -S "$SOCK" log -n "")" = "" ]
	[ "$(comp -S "$SOCK" admin user add x --p)" = "--password-stdin " ]
'

test_expect_success 'labc'"'"'s own options: -S a file, --as a lab user' '
	[ "$(comp -S "$SOCK" --a)" = "--as " ]
	[ "$(comp -S "$TDIR/labcd.so")" = "$SOCK " ]
	[ "$(comp -S "$SOCK" --as "")" = "dora eve " ]
	[ "$(comp -S "$SOCK" admin user del "")" = "dora eve " ]
	[ "$(comp -S "$SOCK" admin user add "")" = "" ]
	[ "$(comp_as_uid $D -S "$SOCK" --as "")" = "" ]
	[ "$(comp -S "$SOCK" -c "")" = "" ]
'

test_expect_success 'no labcd: nothing offered, no error, no wait' '
	t0=$(date +%s)
	out=$(comp -S "$TDIR/none.sock" "" 2>&1)
	[ "$out" = "" ]
	[ $(($(date +%s) - t0)) -lt 5 ]
'

if [ $have_lxd = 0 ]; then
	test_skip 'container names and images' 'needs the LXD test bed: run through tests/run'
	test_done
	exit
fi

test_expect_success 'container names are the caller'"'"'s own, images LXD'"'"'s' '
	t0=$(date +%s%N)
	labc --as dora create alpha >/dev/null
	labc --as dora create beta >/dev/null
	labc --as eve create gamma >/dev/null
	measured "three creates on the btrfs pool for completion: $((($(date +%s%N) - t0) / 1000000)) ms"
	[ "$(comp -S "$SOCK" --as dora start "")" = "alpha beta " ]
	[ "$(comp -S "$SOCK" --as dora delete a)" = "alpha " ]
	[ "$(comp -S "$SOCK" --as dora details alpha "")" = "alpha beta " ]
	[ "$(comp -S "$SOCK" --as eve gpu attach "")" = "gamma " ]
	contains "$(comp -S "$SOCK" --as dora launch x --image "")" "(^| )$LABCT_IMAGE "
	t0=$(date +%s%N)
	comp -S "$SOCK" --as dora start "" >/dev/null
	measured "completing a container name (help, usage, list): $((($(date +%s%N) - t0) / 1000000)) ms"
	labc --as dora delete alpha beta >/dev/null
	labc --as eve delete gamma >/dev/null
'

test_done
