/* proto.c - frames and messages of the labc <-> labcd protocol (proto.h). */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomicio.h"
#include "clock.h"
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


/*
 * Wait until fd is readable, at most until the deadline (mono_ms(); -1:
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
		if ((left = deadline - mono_ms()) <= 0)
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
	if (wait_ms >= 0 && (r = wait_readable(fd, mono_ms() + wait_ms)) != 0) {
		snprintf(err, errsz, "%s", r == -ETIMEDOUT ?
		    "no message in time" : strerror(-r));
		return r;
	}
	/* The frame's clock starts with its first byte. */
	if (frame_ms >= 0)
		deadline = mono_ms() + frame_ms;
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

/*
 * A request's "argv": an array of at most PROTO_MAX_ARGS strings of at
 * most PROTO_MAX_ARG bytes, none with a NUL. NULL if fine, else what is
 * wrong.
 */
static const char *
argv_invalid(json_t *argv)
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

/* A short option string (as, session): NULL unless 1..PROTO_MAX_OPT bytes. */
static char *
opt_string(json_t *msg, const char *key)
{
	json_t *v = json_object_get(msg, key);

	return json_is_string(v) && json_string_length(v) > 0 &&
	    json_string_length(v) <= PROTO_MAX_OPT ?
	    xstrdup(json_string_value(v)) : NULL;
}

int
proto_request_encode(const struct proto_request *req, json_t **msg,
    char *err, size_t errsz)
{
	json_t *m, *a, *s;
	int i;

	*msg = NULL;
	a = json_array();
	for (i = 0; i < req->argc; i++) {
		if ((s = json_string(req->argv[i])) == NULL) {
			snprintf(err, errsz, "word %d of the command is not "
			    "valid UTF-8", i + 1);
			json_decref(a);
			return -EILSEQ;
		}
		json_array_append_new(a, s);
	}
	m = proto_msg(PROTO_REQUEST);
	json_object_set_new(m, "argv", a);
	json_object_set_new(m, "tty", json_boolean(req->tty));
	json_object_set_new(m, "color", json_boolean(req->color));
	if (req->otty)
		json_object_set_new(m, "otty", json_true());
	if (req->cols > 0)
		json_object_set_new(m, "cols", json_integer(req->cols));
	if (req->quiet)
		json_object_set_new(m, "quiet", json_true());
	if (req->as != NULL)
		json_object_set_new(m, "as", json_string(req->as));
	if (req->key != NULL)
		json_object_set_new(m, "key", json_string(req->key));
	if (req->session != NULL)
		json_object_set_new(m, "session", json_string(req->session));
	*msg = m;
	return 0;
}

int
proto_request_decode(json_t *msg, struct proto_request *req, char *err,
    size_t errsz)
{
	json_t *argv = json_object_get(msg, "argv"), *cols;
	const char *why, *key;
	size_t i;

	memset(req, 0, sizeof(*req));
	if (strcmp(proto_type(msg), PROTO_REQUEST) != 0) {
		snprintf(err, errsz, "expected a request message");
		return -EBADMSG;
	}
	if ((key = json_string_value(json_object_get(msg, "key"))) != NULL)
		req->key = xstrdup(key);
	if ((why = argv_invalid(argv)) != NULL) {
		snprintf(err, errsz, "%s", why);
		return -EPROTO;
	}
	req->argc = (int)json_array_size(argv);
	req->argv = xcalloc((size_t)req->argc + 1, sizeof(*req->argv));
	for (i = 0; i < (size_t)req->argc; i++)
		req->argv[i] = xstrdup(json_string_value(json_array_get(argv,
		    i)));
	req->session = opt_string(msg, "session");
	req->tty = json_is_true(json_object_get(msg, "tty"));
	req->color = json_is_true(json_object_get(msg, "color"));
	req->otty = json_is_true(json_object_get(msg, "otty"));
	req->quiet = json_is_true(json_object_get(msg, "quiet"));
	if ((cols = json_object_get(msg, "cols")) != NULL) {
		req->cols = json_is_integer(cols) ?
		    (int)json_integer_value(cols) : 0;
		if (req->cols < PROTO_MIN_COLS || req->cols > PROTO_MAX_COLS ||
		    json_integer_value(cols) != req->cols)
			req->cols = PROTO_COLS;
	}
	req->as = opt_string(msg, "as");
	if (json_object_get(msg, "as") != NULL && req->as == NULL) {
		snprintf(err, errsz, "--as needs a user name");
		return -EINVAL;
	}
	return 0;
}

static void
wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void
proto_request_free(struct proto_request *req)
{
	int i;

	for (i = 0; req->argv != NULL && i < req->argc; i++)
		free(req->argv[i]);
	free(req->argv);
	free(req->as);
	wipe_free(req->key);
	wipe_free(req->session);
	memset(req, 0, sizeof(*req));
}

/* Send a message made here, and let it go. 0 or -errno. */
static int
send_new(int fd, json_t *m)
{
	int r = proto_send(fd, m);

	json_decref(m);
	return r;
}

int
proto_input_send(int fd, const char *data, size_t n)
{
	json_t *m = proto_msg(PROTO_INPUT), *v;

	if (data == NULL)
		json_object_set_new(m, "eof", json_true());
	else if (memchr(data, '\0', n) != NULL) {
		json_decref(m);
		return -EINVAL;
	} else if ((v = json_stringn(data, n)) == NULL) {
		json_decref(m);
		return -EILSEQ;
	} else
		json_object_set_new(m, "data", v);
	return send_new(fd, m);
}

int
proto_input_decode(json_t *msg, char **data)
{
	json_t *v = json_object_get(msg, "data");
	const char *s = json_string_value(v);

	*data = NULL;
	if (strcmp(proto_type(msg), PROTO_INPUT) != 0)
		return -EBADMSG;
	if (s == NULL || json_string_length(v) > PROTO_MAX_ANSWER)
		return -ENODATA;	/* eof, or not an answer */
	*data = xstrdup(s);
	/* The answer may be a password: wipe jansson's copy. */
	explicit_bzero((char *)(uintptr_t)s, strlen(s));
	return 0;
}

int
proto_result_send(int fd, const struct proto_result *res)
{
	json_t *m = proto_msg(PROTO_RESULT);

	json_object_set_new(m, "status", json_integer(res->status));
	if (res->text != NULL && *res->text != '\0')
		json_object_set_new(m, "text", json_string(res->text));
	if (res->error != NULL && *res->error != '\0')
		json_object_set_new(m, "error", json_string(res->error));
	if (res->data != NULL)
		json_object_set(m, "data", res->data);
	if (res->session != NULL)
		json_object_set_new(m, "session", json_string(res->session));
	if (res->logout)
		json_object_set_new(m, "logout", json_true());
	return send_new(fd, m);
}

int
proto_stream_send(int fd)
{
	json_t *m = proto_msg(PROTO_STREAM);

	json_object_set_new(m, "status", json_integer(PROTO_OK));
	return send_new(fd, m);
}

int
proto_stream_data_send(int fd, int dir)
{
	json_t *m = proto_msg(PROTO_STREAM);

	json_object_set_new(m, "status", json_integer(PROTO_OK));
	json_object_set_new(m, "dir", json_string(dir == 'i' ? "in" : "out"));
	return send_new(fd, m);
}

int
proto_fd_send(int sock, int fd)
{
	char byte = 'F';
	union {
		char		 buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr	 align;
	} u;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	ssize_t n;

	memset(&u, 0, sizeof(u));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : n < 0 ? -errno : -EIO;
}

int
proto_fd_recv(int sock, int *fd)
{
	char byte;
	union {
		char		 buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr	 align;
	} u;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(cm), sizeof(int));
	}
	if (byte != 'F' || (mh.msg_flags & MSG_CTRUNC) || *fd < 0) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return -EPROTO;
	}
	return 0;
}

int
proto_progress_send(int fd, const char *text)
{
	json_t *m = proto_msg(PROTO_PROGRESS);

	json_object_set_new(m, "text", json_string(text));
	return send_new(fd, m);
}

int
proto_prompt_send(int fd, const char *text, int echo)
{
	json_t *m = proto_msg(PROTO_PROMPT);

	json_object_set_new(m, "text", json_string(text));
	json_object_set_new(m, "echo", json_boolean(echo));
	return send_new(fd, m);
}

void
proto_reply_decode(json_t *msg, struct proto_reply *rep)
{
	struct proto_result *res = &rep->result;
	json_t *s = json_object_get(msg, "status");
	const char *t = proto_type(msg);

	memset(rep, 0, sizeof(*rep));
	rep->type = t;
	if (strcmp(t, PROTO_PROGRESS) == 0)
		rep->kind = PROTO_K_PROGRESS;
	else if (strcmp(t, PROTO_PROMPT) == 0)
		rep->kind = PROTO_K_PROMPT;
	else if (strcmp(t, PROTO_RESULT) == 0)
		rep->kind = PROTO_K_RESULT;
	else if (strcmp(t, PROTO_STREAM) == 0)
		rep->kind = PROTO_K_STREAM;
	rep->text = json_string_value(json_object_get(msg, "text"));
	rep->echo = json_is_true(json_object_get(msg, "echo"));
	if (rep->kind == PROTO_K_STREAM) {
		const char *d = json_string_value(json_object_get(msg, "dir"));

		rep->dir = d == NULL ? 0 : strcmp(d, "in") == 0 ? 'i' :
		    strcmp(d, "out") == 0 ? 'o' : '?';
	}
	res->status = PROTO_FAILED;
	if (json_is_integer(s) && (json_integer_value(s) == PROTO_OK ||
	    json_integer_value(s) == PROTO_FAILED ||
	    json_integer_value(s) == PROTO_USAGE))
		res->status = (int)json_integer_value(s);
	res->text = rep->text;
	res->error = json_string_value(json_object_get(msg, "error"));
	res->data = json_object_get(msg, "data");
	res->session = json_string_value(json_object_get(msg, "session"));
	res->logout = json_is_true(json_object_get(msg, "logout"));
}
