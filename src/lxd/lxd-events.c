/*
 * lxd-events.c - LXD's event stream (GET /1.0/events) as a websocket
 * client (RFC 6455) over the unix socket or HTTPS: the upgrade, then one
 * JSON event per text message. Debian 12's libcurl (7.88.1) is built
 * without websockets, so libcurl only makes the connection (CONNECT_ONLY:
 * the socket, or TLS with the same certificates as every other request,
 * lxd_transport) and carries the bytes (curl_easy_send/recv), and the
 * little of RFC 6455 a client needs is here: the handshake, unmasked
 * server frames in (fragments joined), masked pong and close out. The
 * frame parser is pure (lxd_ws_parse) for the tests and the fuzzer.
 *
 * SHA-1 (for Sec-WebSocket-Accept) and base64 come from OpenSSL's
 * libcrypto rather than a hand-written SHA-1: libcurl4-openssl already
 * loads libcrypto into labcd, so the link costs nothing at run time, and a
 * well-kept library beats a copy of a hash we would have to audit.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "buf.h"
#include "clock.h"
#include "lxd-int.h"
#include "xmalloc.h"

#define EVENTS_PATH	"/1.0/events?type=lifecycle,operation&all-projects=true"
#define HEADERS_MAX	(16u * 1024)	/* the 101 answer's headers */
#define HANDSHAKE_MS	10000
#define READ_CHUNK	(64u * 1024)

struct lxd_events {
	CURL		*curl;		/* the connection (CONNECT_ONLY) */
	int		 fd;		/* its socket, for poll */
	struct buf	 rx;		/* bytes read, not yet parsed */
	struct buf	 msg;		/* a fragmented message so far */
	int		 in_msg;	/* a data frame without FIN came */
	int		 closed;	/* the stream ended: r to repeat */
	char		 err[256];
};

long
lxd_ws_parse(const void *p, size_t n, size_t max, struct lxd_ws_frame *f)
{
	const unsigned char *b = p;
	unsigned long long len;
	size_t hdr = 2;
	int i;

	memset(f, 0, sizeof(*f));
	if (n < 2)
		return 0;
	if (b[0] & 0x70)
		return -EPROTO;		/* RSV1-3: no extension was agreed */
	f->fin = (b[0] & 0x80) != 0;
	f->opcode = b[0] & 0x0f;
	switch (f->opcode) {
	case LXD_WS_CONT:
	case LXD_WS_TEXT:
	case LXD_WS_BINARY:
		break;
	case LXD_WS_CLOSE:
	case LXD_WS_PING:
	case LXD_WS_PONG:
		if (!f->fin || (b[1] & 0x7f) > 125)
			return -EPROTO;
		break;
	default:
		return -EPROTO;
	}
	if (b[1] & 0x80)
		return -EPROTO;		/* a server never masks */
	len = b[1] & 0x7f;
	if (len == 126) {
		if (n < 4)
			return 0;
		len = (unsigned long long)b[2] << 8 | b[3];
		if (len < 126)
			return -EPROTO;
		hdr = 4;
	} else if (len == 127) {
		if (n < 10)
			return 0;
		if (b[2] & 0x80)
			return -EPROTO;
		for (len = 0, i = 2; i < 10; i++)
			len = len << 8 | b[i];
		if (len <= 0xffff)
			return -EPROTO;
		hdr = 10;
	}
	if (len > max)
		return -EMSGSIZE;
	if (f->opcode == LXD_WS_CLOSE && len == 1)
		return -EPROTO;		/* a status code is two bytes */
	if (n - hdr < len)
		return 0;
	f->payload = b + hdr;
	f->len = (size_t)len;
	return (long)(hdr + len);
}

size_t
lxd_ws_encode(unsigned char *out, int opcode, const void *payload,
    size_t len, const unsigned char mask[4])
{
	const unsigned char *s = payload;
	size_t i;

	if (len > 125)
		len = 125;
	out[0] = 0x80 | (opcode & 0x0f);
	out[1] = 0x80 | (unsigned char)len;
	memcpy(out + 2, mask, 4);
	for (i = 0; i < len; i++)
		out[6 + i] = s[i] ^ mask[i % 4];
	return 6 + len;
}

void
lxd_ws_accept(const char *key, char out[29])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *in = xasprintf("%s%s", key, LXD_WS_GUID);

	if (EVP_Digest(in, strlen(in), md, &mdlen, EVP_sha1(), NULL) != 1 ||
	    mdlen != 20)
		abort();	/* SHA-1 is always there in libcrypto 3 */
	EVP_EncodeBlock((unsigned char *)out, md, 20);
	out[28] = '\0';
	free(in);
}

static int
seterr(struct lxd_events *ev, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
seterr(struct lxd_events *ev, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ev->err, sizeof(ev->err), fmt, ap);
	va_end(ap);
	ev->closed = r;
	return r;
}


/*
 * Read what is there into rx, waiting until deadline (ms, < 0: forever).
 * 0, -EAGAIN when the time ran out, -EPIPE at the end of the stream.
 */
static int
fill(struct lxd_events *ev, long long deadline)
{
	struct pollfd pfd = { .fd = ev->fd, .events = POLLIN };
	char chunk[READ_CHUNK];
	long long left;
	size_t n;
	CURLcode cc;
	int r;

	for (;;) {
		/* Read first: over TLS, bytes may wait already decrypted,
		   with nothing for poll to see on the socket. */
		n = 0;
		cc = curl_easy_recv(ev->curl, chunk, sizeof(chunk), &n);
		if (cc == CURLE_AGAIN) {
			left = deadline < 0 ? -1 : deadline - mono_ms();
			if (deadline >= 0 && left < 0)
				left = 0;
			r = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return seterr(ev, -EPIPE, "poll: %s",
				    strerror(errno));
			if (r == 0)
				return -EAGAIN;
			continue;
		}
		if (cc != CURLE_OK)
			return seterr(ev, -EPIPE, "reading LXD's events: %s",
			    curl_easy_strerror(cc));
		if (n == 0)
			return seterr(ev, -EPIPE, "LXD closed the event stream");
		if (buf_add(&ev->rx, chunk, (size_t)n) != 0)
			return seterr(ev, -EPROTO, "LXD's event stream sent "
			    "more than %u bytes unparsed", LXD_WS_MAX);
		return 0;
	}
}

/* All of p through the connection, waiting at most 5 s for room. */
static int
send_bytes(struct lxd_events *ev, const void *p, size_t len)
{
	struct pollfd pfd = { .fd = ev->fd, .events = POLLOUT };
	long long deadline = mono_ms() + 5000;
	const char *b = p;
	size_t n;
	CURLcode cc;

	while (len > 0) {
		n = 0;
		cc = curl_easy_send(ev->curl, b, len, &n);
		if (cc == CURLE_AGAIN) {
			if (mono_ms() > deadline)
				return -ETIMEDOUT;
			(void)poll(&pfd, 1, 100);
			continue;
		}
		if (cc != CURLE_OK)
			return -EPIPE;
		b += n;
		len -= n;
	}
	return 0;
}

static void
consume(struct buf *b, size_t n)
{
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

/* The value of header name in the answer's headers, or NULL. */
static char *
header_value(const char *hdrs, const char *name, char *out, size_t outsz)
{
	size_t nl = strlen(name), vl;
	const char *line, *v, *end;

	for (line = strstr(hdrs, "\r\n"); line != NULL;
	    line = strstr(line, "\r\n")) {
		line += 2;
		if (strncasecmp(line, name, nl) != 0 || line[nl] != ':')
			continue;
		for (v = line + nl + 1; *v == ' ' || *v == '\t'; v++)
			;
		end = strstr(v, "\r\n");
		vl = end != NULL ? (size_t)(end - v) : strlen(v);
		while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		if (vl >= outsz)
			return NULL;
		memcpy(out, v, vl);
		out[vl] = '\0';
		return out;
	}
	return NULL;
}

static int
handshake(struct lxd_events *ev, const char *host)
{
	unsigned char raw[16];
	char key[32], want[29], got[64], *req = NULL, *end;
	long long deadline = mono_ms() + HANDSHAKE_MS;
	size_t hlen, cut;
	int r;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return seterr(ev, -EIO, "getrandom: %s", strerror(errno));
	EVP_EncodeBlock((unsigned char *)key, raw, sizeof(raw));
	req = xasprintf("GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "Connection: Upgrade\r\nUpgrade: websocket\r\n"
	    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n\r\n",
	    EVENTS_PATH, host, key);
	r = send_bytes(ev, req, strlen(req));
	free(req);
	if (r != 0)
		return seterr(ev, -EPIPE, "asking LXD for events: %s",
		    strerror(-r));

	while ((end = strstr(buf_str(&ev->rx), "\r\n\r\n")) == NULL) {
		if (ev->rx.len > HEADERS_MAX)
			return seterr(ev, -EPROTO, "LXD's answer to the events "
			    "request has headers over %u bytes", HEADERS_MAX);
		if ((r = fill(ev, deadline)) == -EAGAIN)
			return seterr(ev, -ETIMEDOUT, "LXD did not answer the "
			    "events request in %d s", HANDSHAKE_MS / 1000);
		if (r != 0)
			return r;
	}
	hlen = (size_t)(end - ev->rx.data) + 2;
	cut = hlen + 2;
	ev->rx.data[hlen] = '\0';	/* the headers as a string */
	if (strncmp(ev->rx.data, "HTTP/1.1 101 ", 13) != 0) {
		/* LXD's refusal: the status line, then its JSON error. */
		size_t sl = strcspn(ev->rx.data, "\r");
		return seterr(ev, -EPROTO, "LXD refused the event stream: "
		    "%.*s", (int)(sl > 100 ? 100 : sl), ev->rx.data);
	}
	if (header_value(ev->rx.data, "Upgrade", got, sizeof(got)) == NULL ||
	    strcasecmp(got, "websocket") != 0)
		return seterr(ev, -EPROTO, "LXD's events answer is not a "
		    "websocket upgrade");
	lxd_ws_accept(key, want);
	if (header_value(ev->rx.data, "Sec-WebSocket-Accept", got,
	    sizeof(got)) == NULL || strcmp(got, want) != 0)
		return seterr(ev, -EPROTO, "LXD's events answer has a wrong "
		    "Sec-WebSocket-Accept");
	consume(&ev->rx, cut);
	return 0;
}

struct lxd_events *
lxd_events_open(struct lxd *l, char *err, size_t errsz)
{
	char errbuf[CURL_ERROR_SIZE], hostbuf[256], *url = NULL;
	const char *host;
	struct lxd_events *ev;
	curl_socket_t sock = CURL_SOCKET_BAD;
	CURLcode cc;

	ev = xcalloc(1, sizeof(*ev));
	ev->fd = -1;
	buf_init(&ev->rx, LXD_WS_MAX + 2 * READ_CHUNK);
	buf_init(&ev->msg, LXD_WS_MAX);
	if (lxd_check_certs(l) != 0) {
		snprintf(err, errsz, "%s", lxd_error(l));
		goto fail;
	}
	if ((ev->curl = curl_easy_init()) == NULL) {
		snprintf(err, errsz, "cannot make a connection to LXD: out of "
		    "memory");
		goto fail;
	}
	url = lxd_transport(l, ev->curl, "/", errbuf);
	curl_easy_setopt(ev->curl, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(ev->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(ev->curl, CURLOPT_CONNECTTIMEOUT, 5L);
	cc = curl_easy_perform(ev->curl);
	if (cc != CURLE_OK) {
		if (lxd_tls_failure(l, cc, errbuf) != 0)
			snprintf(err, errsz, "%s", lxd_error(l));
		else
			snprintf(err, errsz, "cannot connect to LXD at %s for "
			    "its events: %s", lxd_where(l), *errbuf != '\0' ?
			    errbuf : curl_easy_strerror(cc));
		goto fail;
	}
	if (curl_easy_getinfo(ev->curl, CURLINFO_ACTIVESOCKET, &sock) !=
	    CURLE_OK || sock == CURL_SOCKET_BAD) {
		snprintf(err, errsz, "cannot connect to LXD at %s for its "
		    "events: no socket", lxd_where(l));
		goto fail;
	}
	ev->fd = (int)sock;
	/* Host: what the URL names ("lxd" over the socket). */
	host = strstr(url, "://") + 3;
	snprintf(hostbuf, sizeof(hostbuf), "%.*s", (int)strcspn(host, "/"),
	    host);
	if (handshake(ev, hostbuf) != 0) {
		snprintf(err, errsz, "%s", ev->err);
		goto fail;
	}
	free(url);
	return ev;
fail:
	free(url);
	lxd_events_close(ev);
	return NULL;
}

int
lxd_events_fd(const struct lxd_events *ev)
{
	return ev->fd;
}

const char *
lxd_events_error(const struct lxd_events *ev)
{
	return ev->err;
}

void
lxd_events_close(struct lxd_events *ev)
{
	if (ev == NULL)
		return;
	if (ev->curl != NULL)
		curl_easy_cleanup(ev->curl);	/* closes the socket */
	buf_free(&ev->rx);
	buf_free(&ev->msg);
	free(ev);
}

/* A masked control frame back to LXD (best effort: a failed write shows
   as the end of the stream on the next read). */
static void
send_control(struct lxd_events *ev, int opcode, const void *p, size_t len)
{
	unsigned char out[6 + 125], mask[4];

	if (getrandom(mask, sizeof(mask), 0) != (ssize_t)sizeof(mask))
		memset(mask, 0x5a, sizeof(mask));
	(void)send_bytes(ev, out, lxd_ws_encode(out, opcode, p, len, mask));
}

/* A whole message: parse it as one JSON object. */
static int
message(struct lxd_events *ev, const void *p, size_t len, json_t **event)
{
	json_error_t jerr;
	json_t *j;

	j = json_loadb(p, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		return seterr(ev, -EPROTO, "LXD sent an event that is not a "
		    "JSON object: %s", j == NULL ? jerr.text : "not an object");
	}
	*event = j;
	return 0;
}

/* One frame: 1 if it completed a message (*event set), 0 to go on, or
   the end of the stream. */
static int
frame(struct lxd_events *ev, const struct lxd_ws_frame *f, json_t **event)
{
	int r;

	switch (f->opcode) {
	case LXD_WS_PING:
		send_control(ev, LXD_WS_PONG, f->payload, f->len);
		return 0;
	case LXD_WS_PONG:
		return 0;
	case LXD_WS_CLOSE:
		send_control(ev, LXD_WS_CLOSE, f->payload, f->len >= 2 ? 2 : 0);
		return seterr(ev, -EPIPE, "LXD closed the event stream (%u)",
		    f->len >= 2 ? (unsigned)f->payload[0] << 8 |
		    f->payload[1] : 1005u);
	case LXD_WS_CONT:
		if (!ev->in_msg)
			return seterr(ev, -EPROTO, "LXD sent a continuation "
			    "frame outside a message");
		break;
	default:	/* text or binary: LXD sends text, both carry JSON */
		if (ev->in_msg)
			return seterr(ev, -EPROTO, "LXD started a message "
			    "inside another");
		if (f->fin) {
			if ((r = message(ev, f->payload, f->len, event)) != 0)
				return r;
			return 1;
		}
		buf_reset(&ev->msg);
		ev->in_msg = 1;
		break;
	}
	if (buf_add(&ev->msg, f->payload, f->len) != 0)
		return seterr(ev, -EPROTO, "LXD sent an event over %u bytes",
		    LXD_WS_MAX);
	if (!f->fin)
		return 0;
	ev->in_msg = 0;
	r = message(ev, ev->msg.data != NULL ? ev->msg.data : "", ev->msg.len,
	    event);
	buf_reset(&ev->msg);
	return r != 0 ? r : 1;
}

int
lxd_events_next(struct lxd_events *ev, json_t **event, int timeout_ms)
{
	long long deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
	struct lxd_ws_frame f;
	long n;
	int r;

	*event = NULL;
	if (ev->closed != 0)
		return ev->closed;
	for (;;) {
		n = lxd_ws_parse(ev->rx.data != NULL ? ev->rx.data : "",
		    ev->rx.len, LXD_WS_MAX, &f);
		if (n == -EMSGSIZE)
			return seterr(ev, -EPROTO, "LXD sent a frame over %u "
			    "bytes", LXD_WS_MAX);
		if (n < 0)
			return seterr(ev, -EPROTO, "LXD sent a malformed "
			    "websocket frame");
		if (n == 0) {
			if ((r = fill(ev, deadline)) != 0)
				return r;
			continue;
		}
		r = frame(ev, &f, event);
		consume(&ev->rx, (size_t)n);
		if (r != 0)
			return r > 0 ? 0 : r;
	}
}

/* "/1.0/instances/NAME[?...]" and its ?project=P, unescaped. */
static int
copy_unescaped(char *out, size_t outsz, const char *s, size_t n)
{
	size_t i, o = 0;
	unsigned int c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1])
		    && isxdigit((unsigned char)s[i + 2])) {
			sscanf(s + i + 1, "%2x", &c);
			i += 2;
		}
		if (c == '\0' || o + 1 >= outsz)
			return -ENOENT;
		out[o++] = (char)c;
	}
	if (o == 0 || outsz == 0)
		return -ENOENT;
	out[o] = '\0';
	return 0;
}

int
lxd_event_instance(json_t *event, char *project, size_t projsz,
    char *name, size_t namesz)
{
	static const char pre[] = "/1.0/instances/";
	const char *src, *end, *p, *proj;

	src = json_string_value(json_object_get(json_object_get(event,
	    "metadata"), "source"));
	if (src == NULL || strncmp(src, pre, sizeof(pre) - 1) != 0)
		return -ENOENT;
	src += sizeof(pre) - 1;
	end = src + strcspn(src, "/?");
	if (copy_unescaped(name, namesz, src, (size_t)(end - src)) != 0)
		return -ENOENT;
	proj = json_string_value(json_object_get(event, "project"));
	if (proj != NULL && *proj != '\0') {
		if (strlen(proj) >= projsz)
			return -ENOENT;
		strcpy(project, proj);
		return 0;
	}
	p = strstr(end, "?project=");
	if (p == NULL)
		p = strstr(end, "&project=");
	if (p != NULL) {
		p += 9;
		return copy_unescaped(project, projsz, p, strcspn(p, "&"));
	}
	if (projsz < sizeof("default"))
		return -ENOENT;
	strcpy(project, "default");
	return 0;
}
