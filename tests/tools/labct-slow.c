/*
 * labct-slow.c - a slow client, many times over, for the tests that try
 * to starve labcd (t0540): N connections that each start a frame and then
 * send one byte every 2 s (dribble), or ask for a login and never answer
 * its prompt (prompt, with the gateway's KEY, "-" for none), or that
 * send nothing at all (idle). It watches
 * them for at most SECS seconds and prints one line per connection:
 *
 *   I prompted                      (prompt: the prompt came)
 *   I closed after T s: ERROR       (labcd closed it; its last error)
 *   I open after T s                (still open at the end)
 *
 *   labct-slow SOCKET dribble N SECS
 *   labct-slow SOCKET prompt N SECS KEY
 *   labct-slow SOCKET idle N SECS
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "xmalloc.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *mode, *key = NULL;
	struct pollfd *p;
	double *t0, end, last_drip = 0;
	int n, i, open_n, dribble, idle;
	char err[256];

	if (argc < 5 || (strcmp(argv[2], "prompt") == 0 && argc < 6)) {
		fprintf(stderr, "usage: labct-slow SOCKET dribble|prompt|idle N SECS "
		    "[KEY]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[1]);
	mode = argv[2];
	dribble = strcmp(mode, "dribble") == 0;
	idle = strcmp(mode, "idle") == 0;
	n = atoi(argv[3]);
	end = now() + atof(argv[4]);
	if (!dribble && !idle && strcmp(argv[5], "-") != 0)
		key = argv[5];
	p = xcalloc((size_t)n, sizeof(*p));
	t0 = xcalloc((size_t)n, sizeof(*t0));
	for (i = 0; i < n; i++) {
		p[i].fd = socket(AF_UNIX, SOCK_STREAM, 0);
		p[i].events = POLLIN;
		t0[i] = now();
		if (p[i].fd < 0 || connect(p[i].fd, (struct sockaddr *)&sun,
		    sizeof(sun)) != 0) {
			printf("%d closed after 0.0 s: connect: %s\n", i,
			    strerror(errno));
			if (p[i].fd >= 0)
				close(p[i].fd);
			p[i].fd = -1;
			continue;
		}
		if (dribble) {
			/* A frame of 1000 bytes is announced; they trickle. */
			static const unsigned char hdr[4] = { 0, 0, 3, 232 };

			(void)send(p[i].fd, hdr, 4, MSG_NOSIGNAL);
		} else if (!idle) {
			json_t *m = proto_msg(PROTO_REQUEST);

			json_object_set_new(m, "argv", json_pack("[s]",
			    "login"));
			if (key != NULL)
				json_object_set_new(m, "key", json_string(key));
			(void)proto_send(p[i].fd, m);
			json_decref(m);
		}
	}
	for (;;) {
		double t = now();

		for (open_n = 0, i = 0; i < n; i++)
			open_n += p[i].fd >= 0;
		if (open_n == 0 || t >= end)
			break;
		if (dribble && t - last_drip >= 2) {
			for (i = 0; i < n; i++)
				if (p[i].fd >= 0)
					(void)send(p[i].fd, "x", 1,
					    MSG_NOSIGNAL);
			last_drip = t;
		}
		if (poll(p, (nfds_t)n, 200) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			json_t *m = NULL;
			const char *e;

			if (p[i].fd < 0 || p[i].revents == 0)
				continue;
			if (proto_recv(p[i].fd, &m, err, sizeof(err)) == 0 &&
			    strcmp(proto_type(m), PROTO_PROMPT) == 0) {
				printf("%d prompted\n", i);
				json_decref(m);
				continue;
			}
			e = m != NULL ? json_string_value(json_object_get(m,
			    "error")) : NULL;
			printf("%d closed after %.1f s: %s\n", i, now() - t0[i],
			    e != NULL ? e : "(no message)");
			json_decref(m);
			close(p[i].fd);
			p[i].fd = -1;
		}
		fflush(stdout);
	}
	for (i = 0; i < n; i++) {
		if (p[i].fd >= 0) {
			printf("%d open after %.1f s\n", i, now() - t0[i]);
			close(p[i].fd);
		}
	}
	free(p);
	free(t0);
	return 0;
}
