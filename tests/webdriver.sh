# tests/webdriver.sh - sourced by tests that look at the status page in a
# real browser: drives Debian's chromedriver (package chromium-driver) and
# headless chromium over the W3C WebDriver HTTP API, with bash, curl and jq
# only.
#
#   wd_start PORT           chromedriver on 127.0.0.1:PORT, ready within 20 s
#   wd_session [W H]        a headless chromium session (1280x900), WD_SID
#   wd_get URL              navigate
#   wd_js 'return ...' [JSONARG...]
#                           run a synchronous script (arguments[0..] are the
#                           JSONARGs), print its value as compact JSON
#   wd_wait_js 'return BOOL' SECONDS
#                           until the script returns true (every 200 ms)
#   wd_screenshot FILE      the viewport as PNG
#   wd_size W H             the window's size
#   wd_color_scheme dark|light|''
#                           emulate prefers-color-scheme ('' stops it)
#   wd_mobile W H           emulate a phone: W x H CSS pixels, scale 2;
#                           wd_mobile_off stops it
#   wd_cdp CMD [PARAMS]     any Chrome DevTools command, through chromedriver
#   wd_quit                 end the session (and its browser)
#   wd_stop                 end the session if any, then chromedriver
#
# Every function returns nonzero, and says WebDriver's error on stderr,
# when the answer has value.error (or no answer came). Nothing here kills
# by name: wd_stop ends only the chromedriver that wd_start started, and
# wd_quit only a browser that outlives its session (found by the session's
# own fresh profile directory). When the test sourced lib.sh first,
# wd_start registers wd_stop with at_exit.

: "${WD_CHROMEDRIVER:=/usr/bin/chromedriver}"
: "${WD_CHROMIUM:=/usr/bin/chromium}"
WD_PID=${WD_PID:-}
WD_PORT=${WD_PORT:-}
WD_SID=${WD_SID:-}
WD_PROFILE=${WD_PROFILE:-}
WD_LOG=${WD_LOG:-}

# _wd METHOD PATH [BODY]: one WebDriver request; prints the whole answer.
_wd() {
	local method=$1 path=$2 data=${3:-} out code rc
	if [ -z "$WD_PORT" ]; then
		echo "webdriver: no chromedriver (wd_start first)" >&2
		return 1
	fi
	local args=(-sS -X "$method" -H 'Content-Type: application/json; charset=utf-8'
	    --max-time 120 -w '\n%{http_code}')
	if [ -n "$data" ]; then
		args+=(--data-binary @-)
	fi
	out=$(printf '%s' "$data" | curl "${args[@]}" "http://127.0.0.1:$WD_PORT$path")
	rc=$?
	code=${out##*$'\n'}
	out=${out%$'\n'*}
	if [ $rc -ne 0 ]; then
		echo "webdriver: $method $path: curl failed ($rc)" >&2
		return 1
	fi
	# A W3C error: an HTTP error status, with value {error, message,
	# stacktrace}; a script's own {error: ...} result comes with 200.
	if [ "$code" -ge 400 ] 2>/dev/null || printf '%s' "$out" | jq -e '.value |
	    objects | has("error") and has("message") and has("stacktrace")' \
	    >/dev/null 2>&1; then
		printf 'webdriver: %s %s: %s\n' "$method" "$path" "$(printf '%s' "$out" |
		    jq -r '(.value.error // "HTTP error") as $e | (.value.message // "") |
			if startswith($e) then . else "\($e): \(.)" end' \
		    2>/dev/null || printf 'HTTP %s %s' "$code" "$out")" |
		    head -c 2000 >&2
		echo >&2
		return 1
	fi
	printf '%s\n' "$out"
}

_wd_need_session() {
	if [ -z "$WD_SID" ]; then
		echo "webdriver: no session (wd_session first)" >&2
		return 1
	fi
}

wd_start() {
	local port=${1:?wd_start PORT} dir=${WD_LOG_DIR:-/tmp} i
	if [ -n "$WD_PID" ] && kill -0 "$WD_PID" 2>/dev/null; then
		echo "webdriver: chromedriver already running (pid $WD_PID)" >&2
		return 1
	fi
	mkdir -p "$dir"
	WD_LOG=$dir/chromedriver-$port.log
	WD_PORT=$port
	"$WD_CHROMEDRIVER" --port="$port" --allowed-ips=127.0.0.1 \
	    --log-path="$WD_LOG" </dev/null >"$WD_LOG.out" 2>&1 &
	WD_PID=$!
	if declare -F at_exit >/dev/null; then
		at_exit wd_stop
	fi
	# Ready once it says it started and /status says so: chromedriver
	# answers on IPv4 before it binds IPv6, and exits if that port is
	# taken (then /status answered once, from a process about to go).
	for ((i = 0; i < 200; i++)); do
		if grep -q "started successfully" "$WD_LOG.out" 2>/dev/null &&
		    kill -0 "$WD_PID" 2>/dev/null &&
		    curl -sf --max-time 2 "http://127.0.0.1:$port/status" 2>/dev/null |
		    jq -e '.value.ready == true' >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$WD_PID" 2>/dev/null; then
			echo "webdriver: chromedriver exited; see $WD_LOG" >&2
			tail -n 5 "$WD_LOG.out" "$WD_LOG" >&2 2>/dev/null
			WD_PID=
			return 1
		fi
		sleep 0.1
	done
	echo "webdriver: chromedriver on port $port not ready within 20 s" >&2
	wd_stop
	return 1
}

wd_stop() {
	local i
	[ -z "$WD_SID" ] || wd_quit || true
	if [ -n "$WD_PID" ]; then
		kill "$WD_PID" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			kill -0 "$WD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$WD_PID" 2>/dev/null
		wait "$WD_PID" 2>/dev/null
	fi
	WD_PID=
	return 0
}

wd_session() {
	local w=${1:-1280} h=${2:-900} body out
	if [ -n "$WD_SID" ]; then
		echo "webdriver: a session is open already ($WD_SID)" >&2
		return 1
	fi
	WD_PROFILE=$(mktemp -d "${TMPDIR:-/tmp}/wd-profile.XXXXXX") || return 1
	body=$(jq -n --arg bin "$WD_CHROMIUM" --arg size "$w,$h" \
	    --arg prof "$WD_PROFILE" '{capabilities: {alwaysMatch: {
		browserName: "chrome",
		"goog:chromeOptions": {binary: $bin, args: ["--headless=new",
		    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		    "--window-size=\($size)", "--user-data-dir=\($prof)",
		    "--no-first-run", "--no-default-browser-check",
		    "--disable-extensions", "--hide-scrollbars"]}}}}')
	out=$(_wd POST /session "$body") || { rm -rf "$WD_PROFILE"; WD_PROFILE=; return 1; }
	WD_SID=$(printf '%s' "$out" | jq -r '.value.sessionId // empty')
	if [ -z "$WD_SID" ]; then
		echo "webdriver: no session id in $out" >&2
		return 1
	fi
}

# _wd_browser_gone SECONDS: until no process runs with this session's
# profile.
_wd_browser_gone() {
	local i
	for ((i = 0; i < ${1:-5} * 10; i++)); do
		pgrep -f -- "--user-data-dir=$WD_PROFILE" >/dev/null || return 0
		sleep 0.1
	done
	return 1
}

wd_quit() {
	local rc=0
	_wd_need_session || return 1
	_wd DELETE "/session/$WD_SID" >/dev/null || rc=1
	WD_SID=
	if [ -n "$WD_PROFILE" ]; then
		# The browser's processes end a moment after the answer: wait
		# for them before removing the profile under them. Now and then
		# chromium outlives a Quit answered ok (or chromedriver is gone):
		# then end it, by the pids whose command line names this
		# session's own profile, a fresh mktemp directory.
		_wd_browser_gone 5 || {
			echo "webdriver: the browser outlived the session; ending it" >&2
			kill $(pgrep -f -- "--user-data-dir=$WD_PROFILE") 2>/dev/null
			_wd_browser_gone 3 ||
			    kill -9 $(pgrep -f -- "--user-data-dir=$WD_PROFILE") 2>/dev/null
			_wd_browser_gone 2
		}
		rm -rf "$WD_PROFILE"
	fi
	WD_PROFILE=
	return $rc
}

wd_get() {
	_wd_need_session || return 1
	_wd POST "/session/$WD_SID/url" "$(jq -n --arg u "${1:?wd_get URL}" '{url: $u}')" >/dev/null
}

wd_js() {
	local script=${1:?wd_js SCRIPT} out
	shift
	_wd_need_session || return 1
	out=$(_wd POST "/session/$WD_SID/execute/sync" "$(jq -n --arg s "$script" \
	    '{script: $s, args: $ARGS.positional}' --jsonargs "$@")") || return 1
	printf '%s' "$out" | jq -c '.value'
}

wd_wait_js() {
	local script=${1:?wd_wait_js SCRIPT SECONDS} secs=${2:-10} out err
	local end=$(( $(date +%s%N) / 1000000 + secs * 1000 ))
	err=$(mktemp) || return 1
	while :; do
		out=$(wd_js "$script" 2>"$err")
		if [ "$out" = true ]; then
			rm -f "$err"
			return 0
		fi
		if [ $(( $(date +%s%N) / 1000000 )) -ge "$end" ]; then
			echo "webdriver: timed out after ${secs} s waiting for: $script" \
			    "(last value: ${out:-none})" >&2
			cat "$err" >&2
			rm -f "$err"
			return 1
		fi
		sleep 0.2
	done
}

wd_screenshot() {
	local file=${1:?wd_screenshot FILE} out
	_wd_need_session || return 1
	out=$(_wd GET "/session/$WD_SID/screenshot") || return 1
	printf '%s' "$out" | jq -r '.value' | base64 -d >"$file"
}

wd_size() {
	_wd_need_session || return 1
	_wd POST "/session/$WD_SID/window/rect" "$(jq -n --argjson w "${1:?wd_size W H}" \
	    --argjson h "${2:?wd_size W H}" '{width: $w, height: $h}')" >/dev/null
}

# wd_cdp CMD [PARAMS-JSON]: prints the command's result as compact JSON.
wd_cdp() {
	local out params=${2:-}
	[ -n "$params" ] || params='{}'
	_wd_need_session || return 1
	out=$(_wd POST "/session/$WD_SID/goog/cdp/execute" "$(jq -n \
	    --arg c "${1:?wd_cdp CMD [PARAMS]}" --argjson p "$params" \
	    '{cmd: $c, params: $p}')") || return 1
	printf '%s' "$out" | jq -c '.value'
}

wd_color_scheme() {
	case ${1-} in dark|light|'') ;;
	*) echo "webdriver: wd_color_scheme dark|light|''" >&2; return 1 ;;
	esac
	wd_cdp Emulation.setEmulatedMedia "$(jq -nc --arg v "${1-}" \
	    '{features: [{name: "prefers-color-scheme", value: $v}]}')" >/dev/null
}

wd_mobile() {
	wd_cdp Emulation.setDeviceMetricsOverride "$(jq -nc \
	    --argjson w "${1:?wd_mobile W H}" --argjson h "${2:?wd_mobile W H}" \
	    '{width: $w, height: $h, deviceScaleFactor: 2, mobile: true}')" >/dev/null
}

wd_mobile_off() {
	wd_cdp Emulation.clearDeviceMetricsOverride >/dev/null
}
