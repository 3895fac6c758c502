/*
 * labct-http.c - hostile HTTP clients for labc-web's tests (t0650), many
 * at once on loopback:
 *
 *   labct-http flood PORT N PATH      N connections at once, each sends
 *	GET PATH and reads the answer to its end; prints one line:
 *	"N connected, A answered (200: X, other: Y), C closed unanswered,
 *	F failed to connect, max M ms"
 *   labct-http dribble PORT N SECS    N connections that each start a
 *	request and then send one header byte a second; prints how many
 *	the server closed within SECS and when the last was closed:
 *	"C of N closed, the last after T s"
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
dial(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port =
	    htons((unsigned short)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

struct conn {
	int	 fd;
	int	 sent;		/* bytes of the request sent */
	char	 head[16];	/* the first bytes of the answer */
	size_t	 got;
	int	 done;
	long long end;
};

static int
flood(int port, int n, const char *path)
{
	struct conn *c = calloc((size_t)n, sizeof(*c));
	struct pollfd *p = calloc((size_t)n, sizeof(*p));
	char req[512];
	int i, left = 0, ok = 0, other = 0, closed = 0, failed = 0, conns = 0;
	long long start = now_ms(), worst = 0;

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n\r\n", path);
	for (i = 0; i < n; i++) {
		if ((c[i].fd = dial(port)) < 0) {
			failed++;
			c[i].done = 1;
		} else
			left++;
	}
	while (left > 0 && now_ms() - start < 60000) {
		for (i = 0; i < n; i++) {
			p[i].fd = c[i].done ? -1 : c[i].fd;
			p[i].events = c[i].sent < (int)strlen(req) ? POLLOUT :
			    POLLIN;
			p[i].revents = 0;
		}
		if (poll(p, (nfds_t)n, 1000) < 0)
			break;
		for (i = 0; i < n; i++) {
			char buf[4096];
			ssize_t r;

			if (c[i].done || p[i].revents == 0)
				continue;
			if (c[i].sent < (int)strlen(req)) {
				if (c[i].sent == 0)
					conns++;
				r = send(c[i].fd, req + c[i].sent, strlen(req) -
				    (size_t)c[i].sent, MSG_NOSIGNAL);
				if (r > 0) {
					c[i].sent += (int)r;
					continue;
				}
				conns -= c[i].sent == 0;
			} else {
				r = recv(c[i].fd, buf, sizeof(buf), 0);
				if (r > 0) {
					size_t k = (size_t)r;

					if (k > sizeof(c[i].head) - 1 - c[i].got)
						k = sizeof(c[i].head) - 1 -
						    c[i].got;
					memcpy(c[i].head + c[i].got, buf, k);
					c[i].got += k;
					continue;
				}
				if (r < 0 && errno == EAGAIN)
					continue;
			}
			/* The end: answered, closed, or refused. */
			c[i].done = 1;
			left--;
			close(c[i].fd);
			if (c[i].got >= 12 && strncmp(c[i].head, "HTTP/1.", 7) ==
			    0) {
				if (strncmp(c[i].head + 9, "200", 3) == 0)
					ok++;
				else
					other++;
			} else if (c[i].sent > 0)
				closed++;
			else
				failed++;
			if (now_ms() - start > worst)
				worst = now_ms() - start;
		}
	}
	printf("%d connected, %d answered (200: %d, other: %d), %d closed "
	    "unanswered, %d failed to connect, %d left, max %lld ms\n", conns,
	    ok + other, ok, other, closed, failed, left, worst);
	for (i = 0; i < n; i++) {
		if (!c[i].done)
			close(c[i].fd);
	}
	free(c);
	free(p);
	return 0;
}

static int
dribble(int port, int n, int secs)
{
	int *fd = calloc((size_t)n, sizeof(int)), *open_ = calloc((size_t)n,
	    sizeof(int)), i, closed = 0;
	long long start = now_ms(), last = 0;
	const char head[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";

	for (i = 0; i < n; i++) {
		struct pollfd p;

		if ((fd[i] = dial(port)) < 0)
			continue;
		p.fd = fd[i];
		p.events = POLLOUT;
		if (poll(&p, 1, 2000) == 1 && send(fd[i], head, sizeof(head) -
		    1, MSG_NOSIGNAL) > 0)
			open_[i] = 1;
	}
	while (now_ms() - start < (long long)secs * 1000) {
		sleep(1);
		for (i = 0; i < n; i++) {
			char b;

			if (!open_[i])
				continue;
			/* A closed connection reads EOF or fails to send. */
			if (recv(fd[i], &b, 1, MSG_DONTWAIT) == 0 ||
			    send(fd[i], "a", 1, MSG_NOSIGNAL) < 0) {
				open_[i] = 0;
				closed++;
				last = now_ms() - start;
				close(fd[i]);
			}
		}
	}
	printf("%d of %d closed, the last after %lld s\n", closed, n,
	    (last + 999) / 1000);
	for (i = 0; i < n; i++) {
		if (open_[i])
			close(fd[i]);
	}
	free(fd);
	free(open_);
	return 0;
}

int
main(int argc, char **argv)
{
	struct rlimit rl = { 8192, 8192 };

	signal(SIGPIPE, SIG_IGN);
	setrlimit(RLIMIT_NOFILE, &rl);
	if (argc == 5 && strcmp(argv[1], "flood") == 0)
		return flood(atoi(argv[2]), atoi(argv[3]), argv[4]);
	if (argc == 5 && strcmp(argv[1], "dribble") == 0)
		return dribble(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: labct-http flood PORT N PATH | dribble PORT N "
	    "SECS\n");
	return 2;
}
