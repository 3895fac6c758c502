#!/usr/bin/env bash
# t0120-shell.sh - the interactive shell driven as a person would, in a
# terminal under tmux: login with a hidden password, tab completion, help,
# Ctrl-C, exit; then labc as a login shell and with -c.
. "$(dirname "$0")/lib.sh"

A=65201
start_labcd || exit 1
printf "alice-pw-1\n" | labc admin user add alice --password-stdin >/dev/null

TMUX_SOCK=$TDIR/tmux.sock
T="tmux -S $TMUX_SOCK"
at_exit "$T kill-server"
HOST=$(hostname)
mkdir -p "$TDIR/home-$A" && chown $A:$A "$TDIR/home-$A"

screen() { $T capture-pane -p -t t; }
# wait_screen PATTERN: until the screen shows it (10 s).
wait_screen() {
	local i
	for ((i = 0; i < 100; i++)); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	echo "screen never showed /$1/:" >&2
	screen >&2
	return 1
}
keys() { $T send-keys -t t "$@"; }
# The login whoami and the one after Ctrl-C: two lines "alice".
two_alices() { [ "$(screen | grep -c "^alice$")" -ge 2 ]; }

$T new-session -d -s t -x 100 -y 30 \
    "env HOME=$TDIR/home-$A TERM=xterm setpriv --reuid=$A --regid=$A --clear-groups $LABC -S $SOCK; echo SHELL-EXITED \$?; sleep 30"

test_expect_success 'the shell starts with a prompt' '
	wait_screen "^anonymous@$HOST> ?$"
'

test_expect_success 'login asks for the password without echo' '
	keys "login alice" Enter
	wait_screen "Password: ?$"
	keys "alice-pw-1" Enter
	wait_screen "Logged in as alice\."
	not_contains "$(screen)" "alice-pw-1"
	wait_screen "^alice@$HOST> ?$"
'

test_expect_success 'tab completes a command name' '
	keys "who" Tab
	wait_screen "^alice@$HOST> whoami ?$"
	keys Enter
	wait_screen "^alice$"
'

test_expect_success 'tab completes the words of a longer command' '
	keys "help ad" Tab
	wait_screen "> help admin ?$"
	keys "u" Tab
	wait_screen "> help admin user ?$"
	keys "a" Tab Enter
	wait_screen "^usage: admin user add USER"
'

test_expect_success 'Ctrl-C cancels the line, not the shell' '
	keys "this line is abandoned"
	wait_screen "abandoned$"
	keys C-c
	keys "whoami" Enter
	until_ms 10000 two_alices || { screen; false; }
	not_contains "$(screen)" "SHELL-EXITED"
'

test_expect_success 'errors are shown and the shell goes on' '
	keys "frobnicate" Enter
	wait_screen "unknown command .frobnicate."
	keys "echo \"unterminated" Enter
	wait_screen "quote|unterminated"
	not_contains "$(screen)" "SHELL-EXITED"
'

test_expect_success 'help lists the commands' '
	keys "clear" Enter
	keys "help" Enter
	wait_screen "ssh-config +print the ~/.ssh/config block"
'

test_expect_success 'exit ends the shell with status 0' '
	keys "exit" Enter
	wait_screen "^SHELL-EXITED 0$"
'

test_expect_success 'Ctrl-D ends the shell too' '
	$T kill-session -t t
	$T new-session -d -s t -x 100 -y 30 \
	    "env HOME=$TDIR/home-$A TERM=xterm setpriv --reuid=$A --regid=$A --clear-groups $LABC -S $SOCK; echo SHELL-EXITED \$?; sleep 30"
	wait_screen "@$HOST> ?$"
	keys C-d
	wait_screen "^SHELL-EXITED 0$"
'

test_expect_success 'as a login shell (argv[0] starting with -), labc is the shell' '
	$T kill-session -t t
	$T new-session -d -s t -x 100 -y 30 \
	    "env HOME=$TDIR/home-$A TERM=xterm LABC_SOCKET=$SOCK setpriv --reuid=$A --regid=$A --clear-groups bash -c \"exec -a -labc $LABC\"; echo SHELL-EXITED \$?; sleep 30"
	wait_screen "@$HOST> ?$"
	keys "exit" Enter
	wait_screen "^SHELL-EXITED 0$"
'

test_expect_success 'labc -c runs one command line' '
	out=$(labc -c "help whoami")
	contains "$out" "^usage: whoami"
	out=$(expect_status 2 labc -c "frobnicate \"x y\"" 2>&1)
	contains "$out" "unknown command"
'

test_expect_success 'commands piped into labc run one per line' '
	out=$(printf "whoami\nhelp whoami\n" | labc)
	contains "$out" "^root \(admin"
	contains "$out" "^usage: whoami"
'

test_expect_success 'a clear message when labcd is not running' '
	out=$(expect_status 1 "$LABC" -S "$TDIR/nothing.sock" whoami 2>&1)
	contains "$out" "labcd is not running"
'

test_done
