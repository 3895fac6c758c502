/*
 * labct-wire.c - speaks labcd's wire protocol badly on purpose, for the
 * protocol abuse tests. Each case prints one line: what labcd answered
 * ("result STATUS: ERROR"), or "closed" if it closed the connection.
 *
 *   labct-wire SOCKET CASE [N]
 *   cases: oversized, zero, truncated-header, truncated-body, badjson,
 *          notobject, noversion, version, notype, nul, manyargs N,
 *          longarg, argvtype, input-first, idle N, slow-header
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "atomicio.h"
#include "buf.h"
#include "proto.h"
#include "xmalloc.h"

static const char *sock;

static int
dial(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		perror("connect");
		exit(3);
	}
	return fd;
}

static void
frame(int fd, const char *body, size_t n)
{
	unsigned char h[4] = { (unsigned char)(n >> 24),
	    (unsigned char)(n >> 16), (unsigned char)(n >> 8),
	    (unsigned char)n };

	(void)write_all(fd, h, 4);
	(void)write_all(fd, body, n);
}

/* Print labcd's answer, and whether it then closed the connection. */
static void
answer(int fd)
{
	char err[256];
	json_t *m = NULL;
	int r = proto_recv(fd, &m, err, sizeof(err));

	if (r != 0) {
		printf("closed\n");
		return;
	}
	printf("result %lld: %s", (long long)json_integer_value(
	    json_object_get(m, "status")), json_string_value(json_object_get(m,
	    "error")) ?: json_string_value(json_object_get(m, "text")) ?: "");
	json_decref(m);
	r = proto_recv(fd, &m, err, sizeof(err));
	printf(" [then %s]\n", r == -EPIPE || r == -ECONNRESET ? "closed" :
	    "open");
	json_decref(m);
}

int
main(int argc, char **argv)
{
	const char *c;
	struct buf b = BUF_INIT(0);
	int fd, i, n;

	if (argc < 3) {
		fprintf(stderr, "usage: labct-wire SOCKET CASE [N]\n");
		return 2;
	}
	sock = argv[1];
	c = argv[2];
	n = argc > 3 ? atoi(argv[3]) : 0;
	fd = dial();
	if (strcmp(c, "oversized") == 0) {
		unsigned char h[4] = { 0x7f, 0xff, 0xff, 0xff };
		(void)write_all(fd, h, 4);
	} else if (strcmp(c, "zero") == 0) {
		unsigned char h[4] = { 0, 0, 0, 0 };
		(void)write_all(fd, h, 4);
	} else if (strcmp(c, "truncated-header") == 0) {
		(void)write_all(fd, "\0\0", 2);
		shutdown(fd, SHUT_WR);
	} else if (strcmp(c, "truncated-body") == 0) {
		unsigned char h[4] = { 0, 0, 0, 100 };
		(void)write_all(fd, h, 4);
		(void)write_all(fd, "{\"v\":1,", 7);
		shutdown(fd, SHUT_WR);
	} else if (strcmp(c, "badjson") == 0) {
		frame(fd, "{\"v\":1,\"t\":", 11);
	} else if (strcmp(c, "notobject") == 0) {
		frame(fd, "[1,2,3]", 7);
	} else if (strcmp(c, "noversion") == 0) {
		frame(fd, "{\"t\":\"request\",\"argv\":[\"whoami\"]}", 33);
	} else if (strcmp(c, "version") == 0) {
		c = "{\"v\":99,\"t\":\"request\",\"argv\":[\"whoami\"]}";
		frame(fd, c, strlen(c));
	} else if (strcmp(c, "notype") == 0) {
		frame(fd, "{\"v\":1}", 7);
	} else if (strcmp(c, "nul") == 0) {
		c = "{\"v\":1,\"t\":\"request\",\"argv\":[\"who\\u0000ami\"]}";
		frame(fd, c, strlen(c));
	} else if (strcmp(c, "manyargs") == 0) {
		buf_adds(&b, "{\"v\":1,\"t\":\"request\",\"argv\":[\"whoami\"");
		for (i = 1; i < n; i++)
			buf_adds(&b, ",\"x\"");
		buf_adds(&b, "]}");
		frame(fd, buf_str(&b), b.len);
	} else if (strcmp(c, "longarg") == 0) {
		buf_adds(&b, "{\"v\":1,\"t\":\"request\",\"argv\":[\"help\",\"");
		for (i = 0; i < 5000; i++)
			buf_adds(&b, "a");
		buf_adds(&b, "\"]}");
		frame(fd, buf_str(&b), b.len);
	} else if (strcmp(c, "argvtype") == 0) {
		c = "{\"v\":1,\"t\":\"request\",\"argv\":[\"whoami\",7]}";
		frame(fd, c, strlen(c));
	} else if (strcmp(c, "input-first") == 0) {
		c = "{\"v\":1,\"t\":\"input\",\"data\":\"x\"}";
		frame(fd, c, strlen(c));
	} else if (strcmp(c, "idle") == 0) {
		/* Hold n connections open, then ask whoami on one more. */
		int *fds = xcalloc((size_t)n + 1, sizeof(int));
		json_t *m;

		for (i = 0; i < n; i++)
			fds[i] = dial();
		m = proto_msg(PROTO_REQUEST);
		json_object_set_new(m, "argv", json_pack("[s]", "whoami"));
		(void)proto_send(fd, m);
		json_decref(m);
		answer(fd);
		for (i = 0; i < n; i++)
			close(fds[i]);
		free(fds);
		close(fd);
		return 0;
	} else {
		fprintf(stderr, "unknown case %s\n", c);
		return 2;
	}
	answer(fd);
	buf_free(&b);
	close(fd);
	return 0;
}
