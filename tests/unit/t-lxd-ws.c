/*
 * t-lxd-ws.c - the websocket under LXD's event stream: the frame parser
 * (whole, partial, fragmented, control, oversize, refused frames), the
 * client's masked frames, Sec-WebSocket-Accept, the instance an event
 * names; and lxd_events_* against a fake LXD on a temporary socket
 * (handshake, fragments around a ping, the pong, close, timeout, refusals).
 */
#include <errno.h>
#include <pthread.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lxd.h"
#include "test.h"
#include "xmalloc.h"

#define MAX	LXD_WS_MAX

static long
parse(const char *p, size_t n, struct lxd_ws_frame *f)
{
	return lxd_ws_parse(p, n, MAX, f);
}

static void
accept_key(void)
{
	char out[29];

	/* RFC 6455 section 1.3's own example (and openssl sha1 | base64). */
	lxd_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out);
	CHECK(strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
}

static void
text_frame(void)
{
	static const char fr[] = "\x81\x05Hello";
	struct lxd_ws_frame f;
	size_t i;

	REQUIRE(parse(fr, 7, &f) == 7);
	CHECK(f.fin == 1 && f.opcode == LXD_WS_TEXT && f.len == 5);
	CHECK(memcmp(f.payload, "Hello", 5) == 0);
	/* Every shorter prefix asks for more. */
	for (i = 0; i < 7; i++)
		CHECK(parse(fr, i, &f) == 0);
	/* Bytes after the frame are the next frame's. */
	CHECK(parse("\x81\x05Hello\x81", 8, &f) == 7);
	CHECK(parse("\x81\x00", 2, &f) == 2 && f.len == 0);
}

static void
lengths(void)
{
	struct lxd_ws_frame f;
	char *b = xcalloc(1, 70000 + 10);

	/* 16-bit length. */
	memcpy(b, "\x82\x7e\x01\x00", 4);
	CHECK(parse(b, 4 + 255, &f) == 0);
	REQUIRE(parse(b, 4 + 256, &f) == 4 + 256);
	CHECK(f.len == 256 && f.payload == (unsigned char *)b + 4);
	/* 64-bit length. */
	memcpy(b, "\x81\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10);
	CHECK(parse(b, 10 + 69999, &f) == 0);
	REQUIRE(parse(b, 10 + 70000, &f) == 10 + 70000);
	CHECK(f.len == 70000);
	/* Not in the shortest form. */
	CHECK(parse("\x81\x7e\x00\x05hello", 9, &f) == -EPROTO);
	memcpy(b, "\x81\x7f\x00\x00\x00\x00\x00\x00\x01\x00", 10);
	CHECK(parse(b, 10 + 256, &f) == -EPROTO);
	/* The top bit of a 64-bit length. */
	memcpy(b, "\x81\x7f\x80\x00\x00\x00\x00\x01\x00\x00", 10);
	CHECK(parse(b, 10, &f) == -EPROTO);
	free(b);
}

static void
oversize(void)
{
	struct lxd_ws_frame f;

	/* Refused from its header alone, before the payload is read. */
	CHECK(parse("\x81\x7f\x00\x00\x00\x00\x00\x20\x00\x00", 10, &f) ==
	    -EMSGSIZE);
	CHECK(lxd_ws_parse("\x81\x7f\x00\x00\x00\x00\x00\x10\x00\x00", 10,
	    MAX, &f) == 0);	/* exactly the limit: wait for it */
	CHECK(lxd_ws_parse("\x81\x7f\x00\x00\x00\x00\x00\x10\x00\x01", 10,
	    MAX, &f) == -EMSGSIZE);
	CHECK(lxd_ws_parse("\x81\x05Hello", 7, 4, &f) == -EMSGSIZE);
}

static void
fragments(void)
{
	static const char fr[] = "\x01\x03Hel\x89\x00\x80\x02lo";
	struct lxd_ws_frame f;

	REQUIRE(parse(fr, sizeof(fr) - 1, &f) == 5);
	CHECK(f.fin == 0 && f.opcode == LXD_WS_TEXT && f.len == 3);
	/* A control frame between fragments is allowed. */
	REQUIRE(parse(fr + 5, sizeof(fr) - 6, &f) == 2);
	CHECK(f.fin == 1 && f.opcode == LXD_WS_PING && f.len == 0);
	REQUIRE(parse(fr + 7, sizeof(fr) - 8, &f) == 4);
	CHECK(f.fin == 1 && f.opcode == LXD_WS_CONT && f.len == 2);
}

static void
control(void)
{
	struct lxd_ws_frame f;
	char b[130];

	REQUIRE(parse("\x89\x09keepalive", 11, &f) == 11);
	CHECK(f.opcode == LXD_WS_PING && f.len == 9);
	REQUIRE(parse("\x8a\x00", 2, &f) == 2);
	CHECK(f.opcode == LXD_WS_PONG);
	REQUIRE(parse("\x88\x02\x03\xe8", 4, &f) == 4);
	CHECK(f.opcode == LXD_WS_CLOSE && f.len == 2);
	CHECK(parse("\x88\x00", 2, &f) == 2);
	/* A close with one byte, a fragmented ping, a long one. */
	CHECK(parse("\x88\x01\x03", 3, &f) == -EPROTO);
	CHECK(parse("\x09\x00", 2, &f) == -EPROTO);
	memset(b, 'x', sizeof(b));
	memcpy(b, "\x89\x7e\x00\x7e", 4);
	CHECK(parse(b, sizeof(b), &f) == -EPROTO);
}

static void
refused(void)
{
	static const int bad[] = { 3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf };
	struct lxd_ws_frame f;
	char b[2];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b[0] = (char)(0x80 | bad[i]);
		b[1] = 0;
		CHECKF(parse(b, 2, &f) == -EPROTO, "opcode %d", bad[i]);
	}
	/* RSV1, RSV2, RSV3. */
	CHECK(parse("\xc1\x00", 2, &f) == -EPROTO);
	CHECK(parse("\xa1\x00", 2, &f) == -EPROTO);
	CHECK(parse("\x91\x00", 2, &f) == -EPROTO);
	/* A masked frame from the server. */
	CHECK(parse("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11, &f) ==
	    -EPROTO);
}

static void
client_frames(void)
{
	static const unsigned char mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	unsigned char out[6 + 125];
	char big[200];

	/* RFC 6455 section 5.7: a masked "Hello". */
	REQUIRE(lxd_ws_encode(out, LXD_WS_TEXT, "Hello", 5, mask) == 11);
	CHECK(memcmp(out, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
	    11) == 0);
	REQUIRE(lxd_ws_encode(out, LXD_WS_PONG, "", 0, mask) == 6);
	CHECK(out[0] == 0x8a && out[1] == 0x80);
	memset(big, 'x', sizeof(big));
	CHECK(lxd_ws_encode(out, LXD_WS_PONG, big, sizeof(big), mask) ==
	    6 + 125);
}

static void
event_instance(void)
{
	char p[64], n[64];
	json_t *e;

	e = json_loads("{\"project\":\"p1\",\"metadata\":{\"action\":"
	    "\"instance-started\",\"source\":\"/1.0/instances/c1?project=p1\"}}",
	    0, NULL);
	REQUIRE(lxd_event_instance(e, p, sizeof(p), n, sizeof(n)) == 0);
	CHECK(strcmp(p, "p1") == 0 && strcmp(n, "c1") == 0);
	json_decref(e);
	/* No "project": the source's, else default. */
	e = json_loads("{\"metadata\":{\"source\":"
	    "\"/1.0/instances/a%2Db/snapshots/s?project=x%2Dy\"}}", 0, NULL);
	REQUIRE(lxd_event_instance(e, p, sizeof(p), n, sizeof(n)) == 0);
	CHECK(strcmp(p, "x-y") == 0 && strcmp(n, "a-b") == 0);
	json_decref(e);
	e = json_loads("{\"metadata\":{\"source\":\"/1.0/instances/c2\"}}", 0,
	    NULL);
	REQUIRE(lxd_event_instance(e, p, sizeof(p), n, sizeof(n)) == 0);
	CHECK(strcmp(p, "default") == 0 && strcmp(n, "c2") == 0);
	CHECK(lxd_event_instance(e, p, sizeof(p), n, 2) == -ENOENT);
	json_decref(e);
	e = json_loads("{\"metadata\":{\"source\":\"/1.0/profiles/x\"}}", 0,
	    NULL);
	CHECK(lxd_event_instance(e, p, sizeof(p), n, sizeof(n)) == -ENOENT);
	json_decref(e);
	e = json_loads("{\"metadata\":{\"source\":\"/1.0/instances/\"}}", 0,
	    NULL);
	CHECK(lxd_event_instance(e, p, sizeof(p), n, sizeof(n)) == -ENOENT);
	json_decref(e);
}

/* --- a fake LXD: one connection, a scripted answer --- */
struct fake {
	char		 path[108];
	int		 lfd;
	const char	*status;	/* NULL: 101 */
	int		 bad_accept;
	int		 hangup;	/* shut down writing after the script */
	const char	*script;
	size_t		 scriptlen;
	unsigned char	 got[512];	/* what the client sent after 101 */
	size_t		 gotlen;
	pthread_t	 th;
};

static void *
fake_serve(void *arg)
{
	struct fake *fk = arg;
	char req[4096], acc[29], *key, *ans;
	size_t n = 0;
	ssize_t r;
	int fd;

	if ((fd = accept(fk->lfd, NULL, NULL)) < 0)
		return NULL;
	while (n < sizeof(req) - 1 && (r = read(fd, req + n,
	    sizeof(req) - 1 - n)) > 0) {
		n += (size_t)r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	req[n] = '\0';
	key = strstr(req, "Sec-WebSocket-Key: ");
	if (key != NULL) {
		key += 19;
		key[strcspn(key, "\r")] = '\0';
		lxd_ws_accept(key, acc);
	} else
		strcpy(acc, "none");
	if (fk->bad_accept)
		acc[0] = acc[0] == 'A' ? 'B' : 'A';
	if (fk->status != NULL)
		ans = xasprintf("%s\r\nContent-Type: application/json\r\n\r\n"
		    "{\"type\":\"error\",\"error_code\":400}", fk->status);
	else
		ans = xasprintf("HTTP/1.1 101 Switching Protocols\r\n"
		    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		    "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
	if (write(fd, ans, strlen(ans)) < 0 || (fk->scriptlen > 0 &&
	    write(fd, fk->script, fk->scriptlen) < 0))
		fk->gotlen = 0;
	free(ans);
	if (fk->hangup)
		shutdown(fd, SHUT_WR);
	/* Keep what the client answers until it hangs up. */
	while (fk->gotlen < sizeof(fk->got) && (r = read(fd,
	    fk->got + fk->gotlen, sizeof(fk->got) - fk->gotlen)) > 0)
		fk->gotlen += (size_t)r;
	close(fd);
	return NULL;
}

static int
fake_start(struct fake *fk)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(fk->path, sizeof(fk->path), "/tmp/labct-ws-%d.sock",
	    (int)getpid());
	unlink(fk->path);
	strcpy(sa.sun_path, fk->path);
	fk->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fk->lfd < 0 || bind(fk->lfd, (struct sockaddr *)&sa,
	    sizeof(sa)) != 0 || listen(fk->lfd, 1) != 0)
		return -1;
	return pthread_create(&fk->th, NULL, fake_serve, fk);
}

static void
fake_stop(struct fake *fk)
{
	pthread_join(fk->th, NULL);
	close(fk->lfd);
	unlink(fk->path);
}

/* The client frame at p (masked, control-sized): its payload into out. */
static size_t
unmask(const unsigned char *p, int *opcode, char *out)
{
	size_t len = p[1] & 0x7f, i;

	*opcode = p[0] & 0x0f;
	for (i = 0; i < len; i++)
		out[i] = (char)(p[6 + i] ^ p[2 + i % 4]);
	out[len] = '\0';
	return 6 + len;
}

#define EV1	"{\"type\":\"lifecycle\",\"metadata\":{\"action\":"	\
		"\"instance-started\",\"source\":\"/1.0/instances/c1"	\
		"?project=p1\"}}"

/* The event stream of the LXD at a socket path (the fake's). */
static struct lxd_events *
open_at(const char *path, char *err, size_t errsz)
{
	struct lxd *l = lxd_new(path);
	struct lxd_events *ev;

	ev = lxd_events_open(l, err, errsz);
	lxd_free(l);
	return ev;
}

static void
stream(void)
{
	/* EV1 in three fragments (26 + 40 + rest) with a ping inside, a
	   second event in one frame, then a close (1000). */
	struct fake fk = { 0 };
	struct buf_s { char b[512]; size_t n; } s = { { 0 }, 0 };
	const char *ev1 = EV1, *ev2 = "{\"type\":\"operation\",\"project\":"
	    "\"p2\",\"metadata\":{}}";
	size_t l1 = strlen(ev1), l2 = strlen(ev2), off;
	struct lxd_events *ev;
	char err[256], p[64], n[64], pl[130];
	json_t *e = NULL;
	int op;

#define PUT(bytes, len) do { memcpy(s.b + s.n, bytes, len); s.n += len; } \
    while (0)
	PUT("\x01\x1a", 2); PUT(ev1, 26);
	PUT("\x89\x09keepalive", 11);
	PUT("\x00\x28", 2); PUT(ev1 + 26, 40);
	s.b[s.n++] = (char)0x80; s.b[s.n++] = (char)(l1 - 66);
	PUT(ev1 + 66, l1 - 66);
	s.b[s.n++] = (char)0x81; s.b[s.n++] = (char)l2; PUT(ev2, l2);
	PUT("\x88\x02\x03\xe8", 4);
#undef PUT
	fk.script = s.b;
	fk.scriptlen = s.n;
	REQUIRE(fake_start(&fk) == 0);
	ev = open_at(fk.path, err, sizeof(err));
	REQUIREF(ev != NULL, "%s", err);
	CHECK(lxd_events_fd(ev) >= 0);
	REQUIRE(lxd_events_next(ev, &e, 2000) == 0);
	CHECK(strcmp(json_string_value(json_object_get(e, "type")),
	    "lifecycle") == 0);
	CHECK(lxd_event_instance(e, p, sizeof(p), n, sizeof(n)) == 0);
	CHECK(strcmp(p, "p1") == 0 && strcmp(n, "c1") == 0);
	json_decref(e);
	REQUIRE(lxd_events_next(ev, &e, 2000) == 0);
	CHECK(strcmp(json_string_value(json_object_get(e, "project")),
	    "p2") == 0);
	json_decref(e);
	CHECK(lxd_events_next(ev, &e, 2000) == -EPIPE && e == NULL);
	CHECK(strstr(lxd_events_error(ev), "1000") != NULL);
	CHECK(lxd_events_next(ev, &e, 2000) == -EPIPE);
	lxd_events_close(ev);
	fake_stop(&fk);
	/* The client answered the ping with its payload, then the close. */
	REQUIRE(fk.gotlen >= 15 + 8);
	CHECK((fk.got[1] & 0x80) != 0);		/* masked */
	off = unmask(fk.got, &op, pl);
	CHECK(op == LXD_WS_PONG && strcmp(pl, "keepalive") == 0);
	CHECK((fk.got[off + 1] & 0x80) != 0);
	unmask(fk.got + off, &op, pl);
	CHECK(op == LXD_WS_CLOSE && pl[0] == 0x03 && pl[1] == (char)0xe8);
}

static void
stream_ends(const char *script, size_t len, int want, const char *why)
{
	struct fake fk = { 0 };
	struct lxd_events *ev;
	char err[256];
	json_t *e = NULL;

	fk.script = script;
	fk.scriptlen = len;
	fk.hangup = 1;
	REQUIRE(fake_start(&fk) == 0);
	ev = open_at(fk.path, err, sizeof(err));
	if (ev == NULL) {
		t_fail(__FILE__, __LINE__, "%s", err);
		fake_stop(&fk);
		return;
	}
	CHECKF(lxd_events_next(ev, &e, 2000) == want, "%s", why);
	CHECK(e == NULL);
	CHECKF(strstr(lxd_events_error(ev), why) != NULL, "%s",
	    lxd_events_error(ev));
	lxd_events_close(ev);
	fake_stop(&fk);
}

static void
stream_errors(void)
{
	/* Silence is a timeout, not an end. */
	struct fake fk = { 0 };
	struct lxd_events *ev;
	char err[256];
	json_t *e = NULL;

	REQUIRE(fake_start(&fk) == 0);
	ev = open_at(fk.path, err, sizeof(err));
	REQUIREF(ev != NULL, "%s", err);
	CHECK(lxd_events_next(ev, &e, 100) == -EAGAIN);
	CHECK(lxd_events_next(ev, &e, 0) == -EAGAIN);
	lxd_events_close(ev);
	fake_stop(&fk);

	stream_ends("\x81\x7f\x00\x00\x00\x00\x00\x20\x00\x00", 10, -EPROTO,
	    "over");
	stream_ends("\x81\x03{x}", 5, -EPROTO, "not a JSON object");
	stream_ends("\x81\x02[]", 4, -EPROTO, "not a JSON object");
	stream_ends("\x80\x02{}", 4, -EPROTO, "continuation");
	stream_ends("\x01\x01{\x81\x01}", 6, -EPROTO, "inside another");
	stream_ends("\x83\x00", 2, -EPROTO, "malformed");
	stream_ends("\x01\x01{", 3, -EPIPE, "closed");
}

static void
handshake_refused(void)
{
	struct fake fk = { 0 };
	char err[256];

	fk.bad_accept = 1;
	REQUIRE(fake_start(&fk) == 0);
	CHECK(open_at(fk.path, err, sizeof(err)) == NULL);
	CHECKF(strstr(err, "Sec-WebSocket-Accept") != NULL, "%s", err);
	fake_stop(&fk);

	memset(&fk, 0, sizeof(fk));
	fk.status = "HTTP/1.1 400 Bad Request";
	REQUIRE(fake_start(&fk) == 0);
	CHECK(open_at(fk.path, err, sizeof(err)) == NULL);
	CHECKF(strstr(err, "refused") != NULL && strstr(err, "400") != NULL,
	    "%s", err);
	fake_stop(&fk);

	CHECK(open_at("/nonexistent/labct.sock", err,
	    sizeof(err)) == NULL);
	CHECK(strstr(err, "cannot connect") != NULL);
}

int
main(void)
{
	RUN(accept_key);
	RUN(text_frame);
	RUN(lengths);
	RUN(oversize);
	RUN(fragments);
	RUN(control);
	RUN(refused);
	RUN(client_frames);
	RUN(event_instance);
	RUN(stream);
	RUN(stream_errors);
	RUN(handshake_refused);
	return t_done();
}
