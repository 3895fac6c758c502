/* proto.c - frames and messages of the labc <-> labcd protocol (proto.h). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomicio.h"
#include "proto.h"
#include "xmalloc.h"

json_t *
proto_msg(const char *t)
{
	return json_pack("{s:i, s:s}", "v", PROTO_VERSION, "t", t);
}

int
proto_send(int fd, json_t *msg)
{
	unsigned char hdr[4];
	char *s;
	size_t n;
	int r;

	json_object_set_new(msg, "v", json_integer(PROTO_VERSION));
	s = json_dumps(msg, JSON_COMPACT);
	if (s == NULL)
		return -ENOMEM;
	n = strlen(s);
	if (n > PROTO_MAX_FRAME) {
		free(s);
		return -EMSGSIZE;
	}
	hdr[0] = (unsigned char)(n >> 24);
	hdr[1] = (unsigned char)(n >> 16);
	hdr[2] = (unsigned char)(n >> 8);
	hdr[3] = (unsigned char)n;
	if ((r = write_all(fd, hdr, 4)) == 0)
		r = write_all(fd, s, n);
	/* It may have carried a password or a session token. */
	explicit_bzero(s, n);
	free(s);
	return r;
}

const char *
proto_type(json_t *msg)
{
	const char *t = json_string_value(json_object_get(msg, "t"));

	return t != NULL ? t : "";
}

int
proto_decode(const void *body, size_t n, json_t **msg, char *err,
    size_t errsz)
{
	json_error_t jerr;
	json_t *m, *v;

	*msg = NULL;
	/* jansson refuses \u0000 inside strings unless asked: good. */
	m = json_loadb(body, n, JSON_REJECT_DUPLICATES, &jerr);
	if (m == NULL) {
		snprintf(err, errsz, "invalid JSON: %s", jerr.text);
		return -EPROTO;
	}
	if (!json_is_object(m)) {
		json_decref(m);
		snprintf(err, errsz, "a message must be a JSON object");
		return -EPROTO;
	}
	v = json_object_get(m, "v");
	if (!json_is_integer(v) || json_integer_value(v) != PROTO_VERSION) {
		if (json_is_integer(v))
			snprintf(err, errsz, "protocol version %lld not "
			    "supported (this side speaks %d): use labc and "
			    "labcd of the same release",
			    (long long)json_integer_value(v), PROTO_VERSION);
		else
			snprintf(err, errsz, "message without a protocol "
			    "version (\"v\": %d expected)", PROTO_VERSION);
		json_decref(m);
		return -EPROTO;
	}
	if (*proto_type(m) == '\0') {
		json_decref(m);
		snprintf(err, errsz, "a message must have a type (\"t\")");
		return -EPROTO;
	}
	*msg = m;
	return 0;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait until fd is readable, at most until the deadline (now_ms(); -1:
 * none). 0, or -ETIMEDOUT. poll() counts the remaining time, not each
 * read() afresh: a byte now and then does not stretch the deadline.
 */
static int
wait_readable(int fd, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	long long left;
	int r;

	if (deadline < 0)
		return 0;
	for (;;) {
		if ((left = deadline - now_ms()) <= 0)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/*
 * n bytes by a deadline (ms, or -1: none): 0, -EPIPE if the stream ended
 * before the first byte, -ETIMEDOUT, else -errno.
 */
static int
read_by(int fd, void *p, size_t n, long long deadline)
{
	char *c = p;
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		if ((r = wait_readable(fd, deadline)) != 0)
			return r;
		r = read(fd, c + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ?
			    -ETIMEDOUT : -errno;
		if (r == 0)
			return got == 0 ? -EPIPE : -EIO;
		got += (size_t)r;
	}
	return 0;
}

int
proto_recv_timed(int fd, json_t **msg, int wait_ms, int frame_ms,
    char *err, size_t errsz)
{
	unsigned char hdr[4];
	long long deadline = -1;
	uint32_t n;
	char *body;
	int r;

	*msg = NULL;
	if (wait_ms >= 0 && (r = wait_readable(fd, now_ms() + wait_ms)) != 0) {
		snprintf(err, errsz, "%s", r == -ETIMEDOUT ?
		    "no message in time" : strerror(-r));
		return r;
	}
	/* The frame's clock starts with its first byte. */
	if (frame_ms >= 0)
		deadline = now_ms() + frame_ms;
	if ((r = read_by(fd, hdr, 4, deadline)) != 0) {
		snprintf(err, errsz, "%s", r == -EPIPE ? "connection closed" :
		    r == -ETIMEDOUT ? "frame not completed in time" :
		    r == -EIO ? "truncated frame header" : strerror(-r));
		return r == -ETIMEDOUT ? -ETIME : r;
	}
	n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	if (n == 0 || n > PROTO_MAX_FRAME) {
		snprintf(err, errsz, "frame of %u bytes refused (1 to %d "
		    "allowed)", n, PROTO_MAX_FRAME);
		return -EMSGSIZE;
	}
	body = xmalloc(n);
	if ((r = read_by(fd, body, n, deadline)) != 0) {
		free(body);
		snprintf(err, errsz, "%s", r == -ETIMEDOUT ?
		    "frame not completed in time" : "truncated frame");
		return r == -EPIPE ? -EIO : r == -ETIMEDOUT ? -ETIME : r;
	}
	r = proto_decode(body, n, msg, err, errsz);
	free(body);
	return r;
}

int
proto_recv(int fd, json_t **msg, char *err, size_t errsz)
{
	return proto_recv_timed(fd, msg, -1, -1, err, errsz);
}

const char *
proto_argv_invalid(json_t *argv)
{
	size_t i;
	json_t *v;

	if (!json_is_array(argv))
		return "argv must be an array of strings";
	if (json_array_size(argv) > PROTO_MAX_ARGS)
		return "too many arguments (at most 256)";
	json_array_foreach(argv, i, v) {
		if (!json_is_string(v))
			return "argv must be an array of strings";
		if (json_string_length(v) > PROTO_MAX_ARG)
			return "an argument is longer than 4096 bytes";
		if (strlen(json_string_value(v)) != json_string_length(v))
			return "an argument contains a NUL byte";
	}
	return NULL;
}
