#!/usr/bin/env bash
# t0110-protocol.sh - protocol abuse against a private labcd: every bad
# frame gets a clear error or a closed connection, and labcd keeps
# answering.
. "$(dirname "$0")/lib.sh"

WIRE=$LABCT_BUILD/tests/tools/labct-wire
start_labcd || exit 1

wire() { "$WIRE" "$SOCK" "$@"; }

test_expect_success 'an oversized frame is refused before allocation' '
	out=$(wire oversized)
	contains "$out" "^result 2: frame of 2147483647 bytes refused .*\[then closed\]$"
'

test_expect_success 'an empty frame is refused' '
	contains "$(wire zero)" "^result 2: frame of 0 bytes refused"
'

test_expect_success 'truncated frames are closed' '
	[ "$(wire truncated-header)" = closed ]
	[ "$(wire truncated-body)" = closed ]
'

test_expect_success 'invalid JSON is refused and the connection closed' '
	contains "$(wire badjson)" "^result 2: invalid JSON: .*\[then closed\]$"
	contains "$(wire notobject)" "^result 2: a message must be a JSON object"
	contains "$(wire notype)" "^result 2: a message must have a type"
'

test_expect_success 'a wrong or missing protocol version is refused' '
	contains "$(wire version)" "^result 2: protocol version 99 not supported \(this side speaks 1\)"
	contains "$(wire noversion)" "^result 2: message without a protocol version"
'

test_expect_success 'a NUL inside a string is refused' '
	contains "$(wire nul)" "^result 2: invalid JSON: .u0000 is not allowed"
'

test_expect_success '10 000 argv entries are refused' '
	contains "$(wire manyargs 10000)" "^result 2: too many arguments \(at most 256\) \[then closed\]$"
'

test_expect_success 'an argument over 4096 bytes or of the wrong type is refused' '
	contains "$(wire longarg)" "^result 2: an argument is longer than 4096 bytes"
	contains "$(wire argvtype)" "^result 2: argv must be an array of strings"
'

test_expect_success 'a message out of turn is refused' '
	contains "$(wire input-first)" "^result 2: expected a request message"
'

test_expect_success 'labcd answers while 200 idle connections are open' '
	out=$(wire idle 200)
	contains "$out" "^result 0: root \(admin"
'

test_expect_success 'labcd still answers whoami afterwards and did not crash' '
	contains "$(labc whoami)" "^root \(admin"
	kill -0 $LABCD_PID
'

test_done
