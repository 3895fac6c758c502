#!/usr/bin/env bash
# t0650-web.sh - labc-web, the status page and /metrics: as an account of
# its own that may read the status and nothing else, with no way to LXD or
# the database; the page in real headless Chromium (chromedriver) with two
# users' real containers and a process of one of them on a stand-in GPU,
# updating without a reload when the GPU's use changes; /metrics through
# Prometheus' own parser (promtool) and against 'gpus --format json';
# conditional GET, HEAD, bad methods and paths; hostile clients (headers
# too large, a trickle, 1000 connections at once) with bounded memory;
# names hidden with web_show_users = no.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/webdriver.sh"
need_lxd
# Everything here is on 127.0.0.1: no proxy of the environment's.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

for tool in chromium chromedriver promtool; do
	command -v $tool >/dev/null || test_skip_all "no $tool (scripts/deps.sh installs it)"
done

STUB=$LABCT_BUILD/tests/nvml-stub/libnvidia-ml.so.1
WEB=$LABCT_BUILD/labc-web
HTTP=$LABCT_BUILD/tests/tools/labct-http
P=${LABCT_PREFIX}w-
WPORT=63740
WDPORT=63741
URL=http://127.0.0.1:$WPORT
SHOTS=$LABCT_TOP/build/screenshots
WD_LOG_DIR=${LABCT_LOGDIR:-$TDIR}	# chromedriver-PORT.log, kept with the test logs
export NVML_STUB_FILE=$TDIR/gpus.txt
# stub UTIL0 [LINES...]: two GPUs, then process lines; renamed into place.
stub() {
	{
		echo "gpu NVIDIA-A100-SXM4-80GB 00000000:3B:00.0 GPU-0000aaaa 81920 3072 $1"
		echo "gpu NVIDIA-A100-SXM4-80GB 00000000:5E:00.0 GPU-1111bbbb 81920 2048 0"
		shift
		[ $# -eq 0 ] || printf '%s\n' "$@"
	} >$NVML_STUB_FILE.new
	mv $NVML_STUB_FILE.new $NVML_STUB_FILE
}
stub 37

# labc-web's account, of its own (as setup.sh makes labc-web).
WU=labctweb$$
userdel $WU >/dev/null 2>&1
useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin $WU
at_exit "userdel $WU"
WUID=$(id -u $WU)

conf() {
	write_conf "project_prefix = $P" "default_image = $LABCT_IMAGE" \
	    "profiles = $LABCT_PROFILE" "ssh_listen = 127.0.0.1" \
	    "ssh_ports = 63700-63739" "nvml_library = $STUB" \
	    "quota_gpus = " "gpu_exclusive = everyone" \
	    "gpu_sample_interval = 1s" "web_user = $WU" \
	    "web_listen = 127.0.0.1:$WPORT" "web_refresh = 1s" "$@"
}
conf
start_labcd || exit 1
for u in alice bob carol; do labc admin user add $u </dev/null >/dev/null; done

WEB_PID=
start_web() {
	setpriv --reuid=$WUID --regid=$WUID --clear-groups \
	    $WEB -S $SOCK -l 127.0.0.1:$WPORT >>$TDIR/web.log 2>&1 </dev/null &
	WEB_PID=$!
	for _ in $(seq 100); do
		curl -s -o /dev/null $URL/healthz && return 0
		sleep 0.1
	done
	cat $TDIR/web.log >&2
	return 1
}
stop_web() {	# also from a test's subshell, where wait cannot
	if [ -n "$WEB_PID" ] && kill $WEB_PID 2>/dev/null; then
		for _ in $(seq 100); do
			kill -0 $WEB_PID 2>/dev/null || break
			sleep 0.1
		done
		wait $WEB_PID 2>/dev/null || true
	fi
	WEB_PID=
}
at_exit stop_web

# Two users' real containers: alice's box runs a process that the stand-in
# NVML puts on GPU 0; bob's train runs one on GPU 1.
labc --as alice launch box >/dev/null
labc --as bob launch train >/dev/null
lxc exec box --project ${P}alice -- sleep 900 &
lxc exec train --project ${P}bob -- sleep 901 &
hostpid_in() {	# hostpid_in PROJECT NAME SECONDS: the host PID of that sleep
	for p in $(pgrep -x sleep); do
		grep -q "lxc.payload.$1_$2" /proc/$p/cgroup 2>/dev/null &&
		    [ "$(tr "\0" " " < /proc/$p/cmdline)" = "sleep $3 " ] && echo $p
	done
}
for i in $(seq 50); do
	PA=$(hostpid_in ${P}alice box 900); PB=$(hostpid_in ${P}bob train 901)
	[ -n "$PA" ] && [ -n "$PB" ] && break
	sleep 0.2
done
# LXD cannot start a container holding a stand-in GPU: alice's running box
# is given GPU 0 in labcd's database, as 'gpu attach --exclusive --for 2h'
# writes it (t0410 does the same); bob's GPU 1 goes the whole way, on a
# stopped container, and carol waits for GPU 0 in the queue.
BOX_ID=$(sqlite3 "$DB" "SELECT c.id FROM containers c JOIN users u ON u.id = c.user_id WHERE u.name = 'alice' AND c.name = 'box'")
sqlite3 "$DB" "INSERT INTO gpus (container_id, gpu, pci, exclusive, since, lease_end) VALUES ($BOX_ID, 0, '0000:3b:00.0', 1, CAST(strftime('%s','now') AS INTEGER) - 600, CAST(strftime('%s','now') AS INTEGER) + 7200)"
labc --as bob create lent --gpu 1 --for 3h >/dev/null
labc --as carol create waits --gpu 0 --exclusive --wait >/dev/null 2>&1
stub 37 "proc 0 $PA 1024" "proc 1 $PB 2048"

test_expect_success 'one request per container waits in the queue' '
	out=$(expect_status 1 labc --as carol gpu attach waits 0 --wait 2>&1)
	contains "$out" "waits already waits for GPUs \(0, number 1 in the queue\): one request per container; .gpu cancel waits. takes it out"
	[ "$(labc gpu queue --format json | jq ".queue | length")" = 1 ]
'

test_expect_success 'the real processes are there' '
	[ -n "$PA" ] && [ -n "$PB" ]
	[ "$(labc gpu queue --format json | jq -r ".queue[0].user")" = carol ]
'

test_expect_success 'labc-web refuses to run as root' '
	out=$(expect_status 1 $WEB -S $SOCK -l 127.0.0.1:$WPORT 2>&1)
	contains "$out" "does not run as root: run it as web_user"
'

test_expect_success 'web_user may read the status and nothing else: every other command refused' '
	as_uid $WUID $LABC -S $SOCK status >/dev/null
	n=0
	while IFS= read -r cmd; do
		[ "$cmd" != status ] || continue
		# shellcheck disable=SC2086
		out=$(expect_status 1 as_uid $WUID $LABC -S $SOCK $cmd 2>&1 </dev/null)
		contains "$out" "is web_user, the status page.s account: it may read the lab.s status and nothing else" ||
		    { echo "$cmd: $out"; exit 1; }
		n=$((n + 1))
	done < <(labc help --names)
	[ "$n" -gt 40 ]
	for argv in "--as alice list" "nosuchcommand" "launch"; do
		# shellcheck disable=SC2086
		out=$(expect_status 1 as_uid $WUID $LABC -S $SOCK $argv 2>&1 </dev/null)
		contains "$out" "is web_user, the status page.s account" || { echo "$argv: $out"; exit 1; }
	done
'

test_expect_success 'a member and another local account may not read the status' '
	out=$(expect_status 1 labc_as_uid 4650 status 2>&1)
	contains "$out" "is for the status page \(web_user\) and admins; you are uid 4650"
	[ -n "$(labc status | jq -r .time)" ]
'

test_expect_success 'web_user reaches neither LXD nor the database' '
	! as_uid $WUID test -r "$DB"
	! as_uid $WUID sqlite3 "$DB" "SELECT 1" >/dev/null 2>&1
	out=$(as_uid $WUID curl -s --unix-socket "$LXD_SOCKET" http://lxd/1.0 2>&1; echo "rc=$?")
	contains "$out" "rc=7"
	not_contains "$out" "api_version"
'

start_web || exit 1

test_expect_success 'labc-web runs as web_user, without capabilities' '
	grep -q "^Uid:[[:space:]]*$WUID[[:space:]]*$WUID[[:space:]]*$WUID[[:space:]]*$WUID" /proc/$WEB_PID/status
	grep -q "^CapEff:[[:space:]]*0000000000000000" /proc/$WEB_PID/status
'

status() { curl -sf $URL/api/status; }

test_expect_success '/api/status: the holder, the real process and the queue, no PID' '
	s=$(status)
	[ "$(echo "$s" | jq -r ".gpus[0].holders[0] | \"\(.user)/\(.container) \(.exclusive)\"")" = "alice/box true" ]
	[ "$(echo "$s" | jq -r "(.gpus[0].holders[0].lease_end - .time) > 7000")" = true ]
	[ "$(echo "$s" | jq -r ".gpus[0].processes[] | \"\(.user)/\(.container) \(.memory)\"")" = "alice/box 1073741824" ]
	[ "$(echo "$s" | jq -r ".gpus[1].processes[] | \"\(.user)/\(.container)\"")" = "bob/train" ]
	[ "$(echo "$s" | jq -r ".gpus[1].holders[0] | \"\(.user)/\(.container) \(.exclusive)\"")" = "bob/lent false" ]
	[ "$(echo "$s" | jq -r ".queue[0] | \"\(.position) \(.user)/\(.container) \(.gpus)\"")" = "1 carol/waits 0" ]
	[ "$(echo "$s" | jq "[.. | objects | has(\"pid\")] | any")" = false ]
	not_contains "$s" "sleep 90"
	[ "$(echo "$s" | jq ".gpus[0].history.util | length")" = 144 ]
'

test_expect_success '/api/status: containers with state, port and cgroup use' '
	s=$(status)
	port=$(port_of alice box)
	[ -n "$port" ]
	[ "$(echo "$s" | jq -r ".containers[] | select(.user == \"alice\" and .name == \"box\") | \"\(.state) \(.port)\"")" = "Running $port" ]
	[ "$(echo "$s" | jq -r ".containers[] | select(.name == \"box\") | (.memory > 0 and .cpu_seconds > 0)")" = true ]
	[ "$(echo "$s" | jq -r ".containers[] | select(.name == \"lent\") | \"\(.state) \(.gpus) \(.memory)\"")" = "Stopped [1] null" ]
	[ "$(echo "$s" | jq -r ".users[] | select(.name == \"bob\") | \"\(.containers) \(.running)\"")" = "2 1" ]
'

test_expect_success 'the numbers are those of gpus --format json' '
	g=$(labc --as carol gpus --format json)
	s=$(status)
	for i in 0 1; do
		[ "$(echo "$g" | jq -c ".gpus[$i] | [.index, .uuid, .utilization, .memory_used, .memory_total]")" = \
		  "$(echo "$s" | jq -c ".gpus[$i] | [.index, .uuid, .utilization, .memory_used, .memory_total]")" ]
	done
'

test_expect_success '/metrics passes promtool and matches gpus --format json' '
	curl -sf $URL/metrics >$TDIR/metrics.txt
	out=$(promtool check metrics <$TDIR/metrics.txt 2>&1)
	[ -z "$out" ] || { echo "$out"; false; }
	g=$(labc --as carol gpus --format json)
	m=$(cat $TDIR/metrics.txt)
	u0=$(echo "$g" | jq -r ".gpus[0].utilization / 100")
	mem0=$(echo "$g" | jq -r ".gpus[0].memory_used")
	contains "$m" "^labc_gpu_utilization_ratio\{gpu=\"0\",uuid=\"GPU-0000aaaa\",user=\"alice\",container=\"box\"\} $u0$"
	contains "$m" "^labc_gpu_memory_used_bytes\{gpu=\"0\",uuid=\"GPU-0000aaaa\",user=\"alice\",container=\"box\"\} $mem0$"
	contains "$m" "^labc_gpu_holder\{gpu=\"1\",uuid=\"GPU-1111bbbb\",user=\"bob\",container=\"lent\",mode=\"shared\"\} 1$"
	contains "$m" "^labc_gpu_process_memory_bytes\{gpu=\"0\",uuid=\"GPU-0000aaaa\",user=\"alice\",container=\"box\"\} 1073741824$"
	contains "$m" "^labc_gpu_queue_length 1$"
	contains "$m" "^labc_containers\{user=\"alice\",state=\"Running\"\} 1$"
	contains "$m" "^# TYPE labc_user_gpu_held_seconds_total counter$"
	contains "$m" "^labc_quota_limit\{user=\"alice\",resource=\"gpus\"\} -1$"
'

metric() {	# metric NAME LABELS: its value in /metrics now
	curl -sf $URL/metrics | grep -F "$1$2 " | sed "s/.* //"
}
used_more_than() { [ "$(metric labc_user_gpu_used_seconds_total "{user=\"alice\"}")" -gt "$1" ]; }
snapshot_hides() { curl -sf $URL/api/status | jq -e ".show_users == false" >/dev/null; }
web_code() { [ "$(curl -s -o /dev/null -w "%{http_code}" $URL/healthz)" = "$1" ]; }

test_expect_success 'GPU seconds held and used grow, as counters' '
	h0=$(metric labc_user_gpu_held_seconds_total "{user=\"alice\"}")
	until_ms 20000 used_more_than "${h0:-0}"
	h1=$(metric labc_user_gpu_held_seconds_total "{user=\"alice\"}")
	[ "$h1" -gt "${h0:-0}" ]
'

test_expect_success 'ETag and Last-Modified: 304; HEAD has no body; types and caching' '
	curl -sf -D $TDIR/h -o /dev/null $URL/api/status
	etag=$(sed -n "s/^ETag: //Ip" $TDIR/h | tr -d "\r")
	lm=$(sed -n "s/^Last-Modified: //Ip" $TDIR/h | tr -d "\r")
	grep -qi "^Content-Type: application/json" $TDIR/h
	grep -qi "^Cache-Control: no-cache" $TDIR/h
	[ -n "$etag" ] && [ -n "$lm" ]
	code=$(curl -s -o /dev/null -w "%{http_code}" -H "If-None-Match: $etag" $URL/api/status)
	# The snapshot may have moved on in between: then 200 with a new tag.
	[ "$code" = 304 ] || [ "$(curl -sI $URL/api/status | sed -n "s/^ETag: //Ip" | tr -d "\r")" != "$etag" ]
	pe=$(curl -sI $URL/ | sed -n "s/^ETag: //Ip" | tr -d "\r")
	[ "$(curl -s -o /dev/null -w "%{http_code}" -H "If-None-Match: $pe" $URL/)" = 304 ]
	plm=$(curl -sI $URL/ | sed -n "s/^Last-Modified: //Ip" | tr -d "\r")
	[ "$(curl -s -o /dev/null -w "%{http_code}" -H "If-Modified-Since: $plm" $URL/)" = 304 ]
	curl -sI $URL/ | grep -qi "^Content-Type: text/html; charset=utf-8"
	[ "$(curl -s --head $URL/ | wc -c)" -lt 1000 ]
	[ "$(curl -s -X HEAD -o $TDIR/body -w "%{http_code}" $URL/api/status --max-time 5)" = 200 ]
	[ ! -s $TDIR/body ]
	curl -sI $URL/metrics | grep -qi "^Content-Type: text/plain; version=0.0.4"
'

test_expect_success 'bad methods, paths and requests: 405, 404, 431; nothing else served' '
	for m in POST PUT DELETE PATCH OPTIONS; do
		[ "$(curl -s -o /dev/null -w "%{http_code}" -X $m --data x $URL/api/status)" = 405 ]
	done
	curl -s -D - -o /dev/null -X POST $URL/ | grep -qi "^Allow: GET, HEAD"
	for p in /etc/passwd "/../../etc/passwd" "/api/status/../../../etc/passwd" \
	    /api /index.htm "/%00" /metrics.bak; do
		code=$(curl -s --path-as-is -o $TDIR/body -w "%{http_code}" "$URL$p")
		[ "$code" = 404 ] || [ "$code" = 400 ]
		not_contains "$(cat $TDIR/body)" "root:"
	done
	# A body is refused at once, whatever it claims to be.
	[ "$(curl -s -o /dev/null -w "%{http_code}" -X GET -H "Content-Length: 100000000" \
	    --max-time 5 $URL/api/status)" = 413 ]
	[ "$(curl -s -o /dev/null -w "%{http_code}" -X GET -H "Transfer-Encoding: chunked" \
	    --data-binary x --max-time 5 $URL/api/status)" = 413 ]
	big=$(head -c 40000 /dev/zero | tr "\0" a)
	code=$(curl -s -o /dev/null -w "%{http_code}" -H "X-Big: $big" $URL/)
	[ "$code" = 431 ] || [ "$code" = 413 ]
	code=$(curl -s -o /dev/null -w "%{http_code}" "$URL/?$big")
	[ "$code" = 414 ] || [ "$code" = 431 ]
	curl -sf -o /dev/null $URL/api/status
'

rss() { awk "/^VmRSS/ { print \$2 }" /proc/$WEB_PID/status; }

test_expect_success 'a trickle of header bytes is cut off within 12 s; others are served meanwhile' '
	$HTTP dribble $WPORT 50 16 >$TDIR/dribble &
	sleep 3
	curl -sf -o /dev/null --max-time 5 $URL/api/status
	wait $!
	cat $TDIR/dribble
	contains "$(cat $TDIR/dribble)" "^50 of 50 closed, the last after 1[0-3] s$"
'

test_expect_success '1000 connections at once: all answered or closed, memory bounded, one labcd request' '
	before=$(rss)
	n0=$(curl -sf $URL/healthz | sed -n "s/^labcd_requests //p")
	out=$($HTTP flood $WPORT 1000 /api/status)
	echo "$out"
	contains "$out" "^1000 connected, [0-9]+ answered \(200: [0-9]+, other: [0-9]+\), [0-9]+ closed unanswered, 0 failed to connect, 0 left"
	ok=$(echo "$out" | sed -n "s/.*(200: \([0-9]*\),.*/\1/p")
	[ "$ok" -ge 900 ]
	$HTTP flood $WPORT 1000 / >/dev/null
	after=$(rss)
	n1=$(curl -sf $URL/healthz | sed -n "s/^labcd_requests //p")
	measured "labc-web RSS ${before} KiB before, ${after} KiB after 2 x 1000 parallel connections (sanitizer build); labcd asked $((n1 - n0)) times for them"
	[ "$after" -lt 131072 ]
	[ $((n1 - n0)) -le 4 ]
	curl -sf -o /dev/null $URL/api/status
'

test_expect_success '100 viewers refreshing for 10 s cost labcd one request per refresh interval' '
	n0=$(curl -sf $URL/healthz | sed -n "s/^labcd_requests //p")
	t0=$(date +%s)
	while [ $(($(date +%s) - t0)) -lt 10 ]; do
		$HTTP flood $WPORT 100 /api/status >/dev/null
	done
	n1=$(curl -sf $URL/healthz | sed -n "s/^labcd_requests //p")
	measured "100 viewers for 10 s at web_refresh 1s: $((n1 - n0)) status requests to labcd"
	[ $((n1 - n0)) -le 13 ]
'

# The page, in real headless Chromium.
mkdir -p $SHOTS
wd_start $WDPORT || exit 1
at_exit wd_stop
wd_session 1280 900 || exit 1
at_exit wd_quit

test_expect_success 'the page shows each GPU, its holder and the real process, and the queue' '
	wd_get $URL/
	wd_wait_js "return document.body.dataset.state === \"ok\"" 20
	[ "$(wd_js "return document.querySelectorAll(\"article.gpu\").length")" = 2 ]
	[ "$(wd_js "return document.querySelector(\"article.gpu[data-gpu=\\\"0\\\"] .gpu-util\").textContent.trim()")" = "\"37%\"" ]
	[ "$(wd_js "return document.querySelectorAll(\"article.gpu[data-gpu=\\\"0\\\"] .holder[data-user=\\\"alice\\\"][data-container=\\\"box\\\"][data-mode=\\\"exclusive\\\"]\").length")" = 1 ]
	[ "$(wd_js "return document.querySelectorAll(\"article.gpu[data-gpu=\\\"0\\\"] .proc[data-user=\\\"alice\\\"][data-container=\\\"box\\\"]\").length")" = 1 ]
	[ "$(wd_js "return document.querySelectorAll(\"article.gpu[data-gpu=\\\"1\\\"] .proc[data-user=\\\"bob\\\"][data-container=\\\"train\\\"]\").length")" = 1 ]
	[ "$(wd_js "return document.querySelectorAll(\"#queue tr[data-user=\\\"carol\\\"][data-container=\\\"waits\\\"]\").length")" = 1 ]
	[ "$(wd_js "return document.querySelectorAll(\"#containers tr[data-user=\\\"alice\\\"][data-container=\\\"box\\\"]\").length")" = 1 ]
	[ "$(wd_js "return document.querySelectorAll(\"article.gpu svg.spark\").length")" = 2 ]
'

test_expect_success 'the page follows a change of the GPU without a reload' '
	wd_js "window.__marker = 42; return 1" >/dev/null
	gen=$(wd_js "return Number(document.body.dataset.gen)")
	stub 81 "proc 0 $PA 1024" "proc 1 $PB 2048"
	t0=$(date +%s%N)
	wd_wait_js "return document.querySelector(\"article.gpu[data-gpu=\\\"0\\\"] .gpu-util\").textContent.trim() === \"81%\"" 20
	measured "the page showed the new utilisation $((($(date +%s%N) - t0) / 1000000)) ms after the stand-in changed (web_refresh 1s)"
	[ "$(wd_js "return window.__marker")" = 42 ]
	[ "$(wd_js "return Number(document.body.dataset.gen)")" -gt "$gen" ]
'

test_expect_success 'page load time in Chromium' '
	wd_get $URL/
	wd_wait_js "return document.body.dataset.state === \"ok\"" 20
	ms=$(wd_js "const n = performance.getEntriesByType(\"navigation\")[0]; return Math.round(n.loadEventEnd - n.startTime)")
	measured "page load (navigation to load event) ${ms} ms in headless Chromium"
	[ "$ms" -ge 0 ]
'

# For the pictures only: a day of made-up history (a rising and falling
# load on GPU 0, a quieter one on GPU 1), written as labcd's sampling
# writes its minutes, so that the sparklines have something to draw.
cat >$TDIR/history.sql <<'SQL'
.timeout 10000
WITH RECURSIVE m(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM m WHERE x < 1440)
INSERT OR IGNORE INTO gpu_usage (minute, gpu, user, container, held, used, util, mem, secs)
    SELECT CAST(strftime('%s', 'now') AS INTEGER) / 60 - x, 0, 'alice', 'box', 60, 60,
        60 * (15 + abs((x % 360) - 180) * 80 / 180), 1024, 60 FROM m
    UNION ALL
    SELECT CAST(strftime('%s', 'now') AS INTEGER) / 60 - x, 1, '', '', 0, 60,
        60 * (abs((x % 200) - 100) * 30 / 100), 2048, 60 FROM m WHERE x % 720 < 500;
SQL
test_expect_success 'a day of history (made up, for the pictures) is each GPU'"'"'s sparkline' '
	sqlite3 "$DB" <$TDIR/history.sql
	n=$(labc status | jq "[.gpus[0].history.util[] | select(. != null)] | length")
	[ "$n" -ge 140 ] || { echo "only $n points in 24 h"; false; }
	wd_get $URL/
	wd_wait_js "const l = document.querySelector(\"article.gpu[data-gpu=\\\"0\\\"] svg.spark .line\"); return l !== null && (l.getAttribute(\"d\") || \"\").length > 1000" 20
'

test_expect_success 'screenshots: desktop and phone, light and dark' '
	for scheme in light dark; do
		wd_color_scheme $scheme
		wd_mobile_off
		wd_size 1280 900
		sleep 0.5
		wd_screenshot $SHOTS/status-desktop-$scheme.png
		wd_mobile 390 844
		sleep 0.5
		wd_screenshot $SHOTS/status-phone-$scheme.png
	done
	wd_color_scheme light
	wd_mobile_off
	wd_size 1280 900
	for f in $SHOTS/status-{desktop,phone}-{light,dark}.png; do
		[ "$(head -c 8 $f | od -An -tx1 | tr -d " \n")" = 89504e470d0a1a0a ]
	done
'

# The same lab, its names hidden.
stop_labcd
conf "web_show_users = no"
start_labcd || exit 1

test_expect_success 'web_show_users = no: no member or container name anywhere' '
	until_ms 60000 snapshot_hides
	s=$(curl -sf $URL/api/status)
	m=$(curl -sf $URL/metrics)
	for w in alice bob carol box train lent waits; do
		not_contains "$s" "$w"
		not_contains "$m" "\"$w\""
	done
	contains "$s" "member 1"
	# By id, not by name: their order must not tell the names.
	ids=$(echo "$s" | jq -r ".containers[].name | ltrimstr(\"ct \")" | paste -sd " ")
	[ "$ids" = "$(echo "$ids" | tr " " "\n" | sort -n | paste -sd " ")" ]
	[ "$(echo "$s" | jq -r ".containers[] | select(.name == \"ct $BOX_ID\") | .user")" = "member 1" ]
	wd_get $URL/
	wd_wait_js "return document.body.dataset.state === \"ok\"" 20
	html=$(wd_js "return document.body.innerText")
	not_contains "$html" "alice|carol"
	contains "$html" "member"
'

stop_labcd
test_expect_success 'labcd gone: /healthz says so, the snapshot stays' '
	until_ms 10000 web_code 503
	h=$(curl -s $URL/healthz)
	contains "$h" "^labcd does not answer \(labc-web.s log says why\)$"
	not_contains "$h" "$SOCK"
	grep -q "cannot reach labcd at $SOCK" $TDIR/web.log
	curl -sf -o /dev/null $URL/api/status
	m=$(curl -sf $URL/metrics)
	contains "$m" "^labc_up 0$"
	not_contains "$m" "^labc_gpu"
'
start_labcd || exit 1

test_expect_success 'doctor: labc-web answers; warns when it does not' '
	# The first status of a labcd just started may wait on LXD (its view
	# loads); on the loaded CI machine that took over 10 s once.
	until_ms 60000 web_code 200 || { curl -s $URL/healthz; tail -n 5 $TDIR/web.log; false; }
	out=$(labc admin doctor 2>&1 || true)
	contains "$out" "^status page +ok +labc-web serves http://127.0.0.1:$WPORT/ \(it last asked labcd for the status: "
	stop_web
	out=$(labc admin doctor 2>&1 || true)
	contains "$out" "^status page +warn +labc-web does not answer on 127.0.0.1:$WPORT"
'

test_done
