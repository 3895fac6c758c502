/*
 * t-sshwait.c - the wait for a container's sshd (sshwait.c): it answers
 * once an sshd listens, also when the first SYNs were dropped (a full
 * accept queue here, an address not up yet in a container), goes on
 * past a listener that is not an sshd, gives up when nothing answers,
 * and leaves no descriptor open.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "sshwait.h"
#include "test.h"

static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* A loopback address with a port nobody listens on (for now). */
static void
free_port(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)sin, sizeof(*sin)) != 0 ||
	    getsockname(fd, (struct sockaddr *)sin, &len) != 0)
		sin->sin_port = 0;
	close(fd);
}

static int
listener(const struct sockaddr_in *sin, int backlog)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)sin, sizeof(*sin)) != 0 ||
	    listen(fd, backlog) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The server side: after delay_ms it listens (or, with lfd set, takes
 * from the listener it has), answers the first wrong_ms with a banner
 * that is not an sshd's, then "SSH-2.0-t" until stop.
 */
struct srv {
	struct sockaddr_in sin;
	int		 lfd;		/* -1: listen after delay_ms */
	int		 delay_ms;
	int		 wrong_ms;
	int		 conns;		/* connections taken */
	int		 wrong;		/* of them answered "HTTP/" */
	volatile int	 stop;
	pthread_t	 t;
};

static void *
srv_main(void *arg)
{
	struct srv *s = arg;
	long long t0 = mono_ms();
	struct timeval tv = { .tv_sec = 0, .tv_usec = 50000 };

	usleep((useconds_t)s->delay_ms * 1000);
	if (s->lfd < 0 && (s->lfd = listener(&s->sin, 16)) < 0)
		return NULL;
	setsockopt(s->lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (!s->stop) {
		int c = accept(s->lfd, NULL, NULL);
		const char *say;

		if (c < 0)
			continue;
		s->conns++;
		if (mono_ms() - t0 < s->delay_ms + s->wrong_ms) {
			say = "HTTP/1.0 400 no\r\n";
			s->wrong++;
		} else
			say = "SSH-2.0-t\r\n";
		(void)!write(c, say, strlen(say));
		close(c);
	}
	close(s->lfd);
	return NULL;
}

static void
srv_start(struct srv *s, int lfd, int delay_ms, int wrong_ms)
{
	if (lfd < 0)
		free_port(&s->sin);
	s->lfd = lfd;
	s->delay_ms = delay_ms;
	s->wrong_ms = wrong_ms;
	s->conns = s->wrong = s->stop = 0;
	pthread_create(&s->t, NULL, srv_main, s);
}

static void
srv_stop(struct srv *s)
{
	s->stop = 1;
	pthread_join(s->t, NULL);
}

static void
answers_once_sshd_listens(void)
{
	struct srv s;
	int fds = open_fds();

	srv_start(&s, -1, 300, 0);
	REQUIRE(s.sin.sin_port != 0);
	CHECK(sshwait(&s.sin, 5000) == 1);
	srv_stop(&s);
	CHECKF(s.conns >= 1, "the server took %d connections", s.conns);
	CHECKF(open_fds() == fds, "%d descriptors open after, %d before",
	    open_fds(), fds);
}

static void
not_an_sshd_is_passed_over(void)
{
	struct srv s;

	srv_start(&s, -1, 0, 400);
	REQUIRE(s.sin.sin_port != 0);
	usleep(50000);
	CHECK(sshwait(&s.sin, 5000) == 1);
	srv_stop(&s);
	CHECKF(s.wrong >= 1 && s.conns > s.wrong,
	    "%d connections, %d of them not an sshd", s.conns, s.wrong);
}

/*
 * The accept queue full (backlog 0 and one connection in it): Linux
 * drops the SYNs that come, as they are lost to an address not up yet;
 * once the server takes connections again a later try gets in.
 */
static void
dropped_syns_are_tried_again(void)
{
	struct sockaddr_in sin;
	struct srv s;
	long long t0;
	int lfd, filler, fds = open_fds();

	free_port(&sin);
	REQUIRE(sin.sin_port != 0);
	REQUIRE((lfd = listener(&sin, 0)) >= 0);
	filler = socket(AF_INET, SOCK_STREAM, 0);
	REQUIRE(connect(filler, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	s.sin = sin;
	t0 = mono_ms();
	srv_start(&s, lfd, 400, 0);
	CHECK(sshwait(&sin, 5000) == 1);
	printf("# answered %lld ms after the wait began (the server took "
	    "connections after 400 ms; %d taken)\n", mono_ms() - t0, s.conns);
	srv_stop(&s);
	close(filler);
	CHECKF(s.conns >= 2, "the server took %d connections", s.conns);
	CHECKF(open_fds() == fds, "%d descriptors open after, %d before",
	    open_fds(), fds);
}

static void
nothing_answers(void)
{
	struct sockaddr_in sin;
	int fds = open_fds();
	long long t0;

	free_port(&sin);
	REQUIRE(sin.sin_port != 0);
	t0 = mono_ms();
	CHECK(sshwait(&sin, 300) == 0);
	CHECKF(mono_ms() - t0 >= 300, "gave up after %lld ms of 300",
	    mono_ms() - t0);
	CHECKF(open_fds() == fds, "%d descriptors open after, %d before",
	    open_fds(), fds);
}

int
main(void)
{
	RUN(answers_once_sshd_listens);
	RUN(not_an_sshd_is_passed_over);
	RUN(dropped_syns_are_tried_again);
	RUN(nothing_answers);
	return t_done();
}
