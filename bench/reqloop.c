/*
 * reqloop.c - the benchmark's tiny labcd client: N requests through ONE
 * connection, the way the interactive shell sends them, with the round
 * trip of each timed. Uses the project's own wire format (proto.h,
 * build/libcommon.a), so it speaks exactly what labc speaks.
 *
 *	reqloop [-r] SOCKET N [--as USER] CMD [ARG...]
 *
 * -r: a new connection for every request (what each run of labc costs
 * labcd, without the start of a client process); the time then includes
 * connect and close.
 *
 * Prints one line:  n=N ok=OK median_us=M min_us=A max_us=B total_ms=T
 * and exits 1 if a request failed or the connection broke.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One exchange: send the request, skip progress, read the result. */
static int
exchange(int fd, json_t *req, int *status)
{
	char err[256];
	json_t *m;
	int r;

	if ((r = proto_send(fd, req)) != 0)
		return r;
	for (;;) {
		if ((r = proto_recv(fd, &m, err, sizeof(err))) != 0) {
			fprintf(stderr, "reqloop: %s\n", err);
			return r;
		}
		if (strcmp(proto_type(m), PROTO_RESULT) == 0) {
			*status = (int)json_integer_value(json_object_get(m,
			    "status"));
			json_decref(m);
			return 0;
		}
		/* A prompt would need an answer: none of ours prompt. */
		if (strcmp(proto_type(m), PROTO_PROMPT) == 0) {
			fprintf(stderr, "reqloop: unexpected prompt\n");
			json_decref(m);
			return -EPROTO;
		}
		json_decref(m);	/* progress */
	}
}

static int
connect_to(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)sun,
	    sizeof(*sun)) != 0) {
		perror("reqloop: connect");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	json_t *req, *args;
	double *lat, t0, start;
	long n, i, ok = 0;
	int fd, a = 3, status, reconnect = 0;

	if (argc > 1 && strcmp(argv[1], "-r") == 0) {
		reconnect = 1;
		argv++;
		argc--;
	}
	if (argc < 4 || (n = strtol(argv[2], NULL, 10)) < 1) {
		fprintf(stderr, "usage: reqloop [-r] SOCKET N [--as USER] CMD "
		    "[ARG...]\n");
		return 2;
	}
	req = proto_msg(PROTO_REQUEST);
	if (strcmp(argv[a], "--as") == 0 && argc > a + 2) {
		json_object_set_new(req, "as", json_string(argv[a + 1]));
		a += 2;
	}
	args = json_array();
	for (; a < argc; a++)
		json_array_append_new(args, json_string(argv[a]));
	json_object_set_new(req, "argv", args);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[1]);
	if (!reconnect && (fd = connect_to(&sun)) < 0)
		return 1;
	lat = calloc((size_t)n, sizeof(*lat));
	if (lat == NULL)
		return 1;
	start = now_us();
	for (i = 0; i < n; i++) {
		t0 = now_us();
		if (reconnect && (fd = connect_to(&sun)) < 0)
			break;
		if (exchange(fd, req, &status) != 0)
			break;
		if (reconnect)
			close(fd);
		lat[i] = now_us() - t0;
		ok += status == PROTO_OK;
	}
	if (i == 0) {
		fprintf(stderr, "reqloop: no request got an answer\n");
		return 1;
	}
	qsort(lat, (size_t)i, sizeof(*lat), cmp_double);
	printf("n=%ld ok=%ld median_us=%.1f min_us=%.1f max_us=%.1f "
	    "total_ms=%.1f\n", i, ok, i % 2 ? lat[i / 2] :
	    (lat[i / 2 - 1] + lat[i / 2]) / 2, lat[0], lat[i - 1],
	    (now_us() - start) / 1e3);
	if (!reconnect)
		close(fd);
	free(lat);
	json_decref(req);
	return i == n && ok == n ? 0 : 1;
}
