/*
 * lxdcount.c - a unix-socket proxy in front of LXD that writes down every
 * HTTP request passing through it, so that the benchmark can count what one
 * command asks of LXD - exactly, even while other clients use the same LXD.
 * labcd reaches it through its 'lxd_socket' setting, lxc through
 * $LXD_SOCKET.
 *
 *	lxdcount LISTEN_SOCKET UPSTREAM_SOCKET LOG
 *
 * Each request becomes one line "METHOD PATH" in LOG. A request is found
 * in the client's byte stream as "METHOD PATH HTTP/1.1\r\nHost: " - both
 * libcurl and Go send Host first - so request bodies and websocket frames
 * (masked) do not count. Runs until killed.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAXCONN	128		/* client connections at once */
#define HIST	8192		/* client bytes kept to find request lines */

struct pair {
	int	 cfd, ufd;		/* client, upstream; -1 when unused */
	char	 hist[HIST];		/* the client's latest bytes */
	size_t	 len, scanned;		/* bytes in hist; searched up to */
};

static struct pair pairs[MAXCONN];
static FILE *logf;

static int
unix_socket(const char *path, int listening)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (listening) {
		unlink(path);
		if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
		    listen(fd, 64) != 0) {
			close(fd);
			return -1;
		}
	} else if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
drop(struct pair *p)
{
	close(p->cfd);
	close(p->ufd);
	p->cfd = p->ufd = -1;
}

/* Write down the request lines that the new client bytes completed. */
static void
scan(struct pair *p, const char *buf, size_t n)
{
	static const char mark[] = " HTTP/1.1\r\nHost: ";
	static const char *const methods[] = { "GET ", "POST ", "PUT ",
	    "DELETE ", "PATCH ", "HEAD ", "OPTIONS " };
	size_t i, m, keep;
	char *hit;

	if (n >= HIST) {	/* only the end can hold a request's start */
		buf += n - HIST;
		n = HIST;
	}
	if (p->len + n > HIST) {	/* keep the newest bytes */
		keep = HIST - n;
		memmove(p->hist, p->hist + p->len - keep, keep);
		p->scanned = p->scanned > p->len - keep ?
		    p->scanned - (p->len - keep) : 0;
		p->len = keep;
	}
	memcpy(p->hist + p->len, buf, n);
	p->len += n;
	for (;;) {
		hit = memmem(p->hist + p->scanned, p->len - p->scanned, mark,
		    sizeof(mark) - 1);
		if (hit == NULL) {
			/* A mark may straddle this chunk and the next. */
			if (p->len - p->scanned > sizeof(mark))
				p->scanned = p->len - sizeof(mark);
			return;
		}
		/* The request line: back to the last method word before. */
		for (i = (size_t)(hit - p->hist); i-- > 0;) {
			if (p->hist[i] == '\n')
				break;
			for (m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
				size_t ml = strlen(methods[m]);

				if (i + ml <= (size_t)(hit - p->hist) &&
				    memcmp(p->hist + i, methods[m], ml) == 0) {
					fprintf(logf, "%.*s\n",
					    (int)(hit - (p->hist + i)), p->hist + i);
					fflush(logf);
					goto next;
				}
			}
		}
next:
		p->scanned = (size_t)(hit - p->hist) + sizeof(mark) - 1;
	}
}

/* Copy what is there from one side to the other; -1 when it ended. */
static int
relay(struct pair *p, int from, int to)
{
	char buf[65536];
	ssize_t n = read(from, buf, sizeof(buf)), w, off = 0;

	if (n <= 0)
		return -1;
	if (from == p->cfd)
		scan(p, buf, (size_t)n);
	while (off < n) {
		w = write(to, buf + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += w;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct pollfd pfd[1 + 2 * MAXCONN];
	int lfd, i, n, np;

	if (argc != 4) {
		fprintf(stderr, "usage: lxdcount LISTEN_SOCKET UPSTREAM_SOCKET "
		    "LOG\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((logf = fopen(argv[3], "a")) == NULL ||
	    (lfd = unix_socket(argv[1], 1)) < 0) {
		perror("lxdcount");
		return 1;
	}
	for (i = 0; i < MAXCONN; i++)
		pairs[i].cfd = pairs[i].ufd = -1;
	for (;;) {
		np = 0;
		pfd[np++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (i = 0; i < MAXCONN; i++) {
			pfd[np++] = (struct pollfd){ .fd = pairs[i].cfd,
			    .events = POLLIN };
			pfd[np++] = (struct pollfd){ .fd = pairs[i].ufd,
			    .events = POLLIN };
		}
		if ((n = poll(pfd, (nfds_t)np, -1)) < 0) {
			if (errno == EINTR)
				continue;
			perror("lxdcount: poll");
			return 1;
		}
		if (pfd[0].revents & POLLIN) {
			int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), ufd;

			for (i = 0; i < MAXCONN && pairs[i].cfd >= 0; i++)
				;
			if (cfd >= 0 && (i == MAXCONN ||
			    (ufd = unix_socket(argv[2], 0)) < 0)) {
				close(cfd);
			} else if (cfd >= 0) {
				pairs[i].cfd = cfd;
				pairs[i].ufd = ufd;
				pairs[i].len = pairs[i].scanned = 0;
			}
		}
		for (i = 0; i < MAXCONN; i++) {
			struct pair *p = &pairs[i];
			short cr = pfd[1 + 2 * i].revents;
			short ur = pfd[2 + 2 * i].revents;

			if (p->cfd < 0 || pfd[1 + 2 * i].fd != p->cfd)
				continue;
			if ((cr & (POLLIN | POLLHUP | POLLERR) &&
			    relay(p, p->cfd, p->ufd) != 0) ||
			    (ur & (POLLIN | POLLHUP | POLLERR) &&
			    relay(p, p->ufd, p->cfd) != 0))
				drop(p);
		}
	}
}
