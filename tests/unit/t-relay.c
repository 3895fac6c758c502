/*
 * t-relay.c - the gateway's data path (relay.c) and the hand-over of its
 * connection (proto_fd_send/recv): every byte arrives, in order, through
 * sockets and pipes alike, with splice(2) and without it (a side that
 * cannot splice falls back to read/write); a half-close passes; a stream
 * without a descriptor is refused, not taken for one.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto.h"
#include "relay.h"
#include "test.h"

#define BIG	(24u * 1024 * 1024 + 12345)	/* not a multiple of a chunk */

/* The byte at offset i of the test stream. */
static unsigned char
byte_at(size_t i)
{
	uint32_t x = (uint32_t)i * 2654435761u;

	return (unsigned char)(x >> 24 ^ x >> 13 ^ i);
}

struct feed {
	int		 fd;
	size_t		 n;
	int		 close_after;	/* else shutdown(SHUT_WR) */
};

static void *
feed_main(void *arg)
{
	struct feed *f = arg;
	unsigned char buf[70000];
	size_t off = 0;

	while (off < f->n) {
		size_t k, len = f->n - off < sizeof(buf) ? f->n - off :
		    sizeof(buf);
		ssize_t w;
		size_t done = 0;

		for (k = 0; k < len; k++)
			buf[k] = byte_at(off + k);
		while (done < len) {
			w = write(f->fd, buf + done, len - done);
			if (w <= 0)
				return NULL;
			done += (size_t)w;
		}
		off += len;
	}
	if (f->close_after)
		close(f->fd);
	else
		shutdown(f->fd, SHUT_WR);
	return NULL;
}

/* Read fd to its end: the number of bytes, -1 at the first wrong one. */
static long long
drain_check(int fd)
{
	unsigned char buf[65536];
	long long off = 0;
	ssize_t n, k;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (k = 0; k < n; k++)
			if (buf[k] != byte_at((size_t)(off + k)))
				return -1;
		off += n;
	}
	return n < 0 ? -1 : off;
}

struct drain {
	int		 fd;
	long long	 got;
};

static void *
drain_main(void *arg)
{
	struct drain *d = arg;

	d->got = drain_check(d->fd);
	return NULL;
}

/* One direction, in -> out, of the given kinds: every byte, in order. */
static void
copy_case(int in_sock, int out_sock)
{
	int a[2], b[2];
	struct feed f;
	struct drain d;
	pthread_t tf, td;
	long long moved;

	REQUIRE((in_sock ? socketpair(AF_UNIX, SOCK_STREAM, 0, a) :
	    pipe(a)) == 0);
	REQUIRE((out_sock ? socketpair(AF_UNIX, SOCK_STREAM, 0, b) :
	    pipe(b)) == 0);
	f = (struct feed){ .fd = a[1], .n = BIG, .close_after = 1 };
	d = (struct drain){ .fd = b[0], .got = 0 };
	pthread_create(&tf, NULL, feed_main, &f);
	pthread_create(&td, NULL, drain_main, &d);
	moved = relay_copy(a[0], b[1]);
	close(b[1]);
	pthread_join(tf, NULL);
	pthread_join(td, NULL);
	CHECKF(moved == (long long)BIG, "moved %lld of %u", moved, BIG);
	CHECKF(d.got == (long long)BIG, "received %lld of %u", d.got, BIG);
	close(a[0]);
	close(b[0]);
}

static void
pipe_to_socket(void)
{
	copy_case(0, 1);
}

static void
socket_to_pipe(void)
{
	copy_case(1, 0);
}

static void
socket_to_socket(void)
{
	copy_case(1, 1);
}

/* A side splice cannot take (a file opened for appending): read/write. */
static void
falls_back_where_splice_cannot(void)
{
	char path[] = "/tmp/t-relay.XXXXXX";
	int a[2], out, fd = mkstemp(path);
	struct feed f;
	pthread_t tf;
	long long moved, got;

	REQUIRE(fd >= 0);
	close(fd);
	out = open(path, O_WRONLY | O_APPEND);
	REQUIRE(out >= 0);
	REQUIRE(pipe(a) == 0);
	f = (struct feed){ .fd = a[1], .n = 3u * 1024 * 1024 + 7,
	    .close_after = 1 };
	pthread_create(&tf, NULL, feed_main, &f);
	moved = relay_copy(a[0], out);
	pthread_join(tf, NULL);
	close(out);
	close(a[0]);
	fd = open(path, O_RDONLY);
	got = drain_check(fd);
	close(fd);
	unlink(path);
	CHECKF(moved == (long long)f.n, "moved %lld of %zu", moved, f.n);
	CHECKF(got == (long long)f.n, "the file holds %lld of %zu", got, f.n);
}

/*
 * relay_run as the gateway's nc runs it: stdin and stdout are sshd's,
 * sock the container's sshd. Here the far side echoes what it gets, and
 * after stdin's end still answers: the half-close reaches it.
 */
static void *
echo_main(void *arg)
{
	int fd = *(int *)arg;
	char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			break;
	(void)write(fd, "BYE", 3);	/* after the client's half-close */
	close(fd);
	return NULL;
}

static void
both_ways_with_half_close(void)
{
	int in[2], out[2], s[2], status = -1, bad = 0;
	size_t n = 5u * 1024 * 1024, got = 0, k;
	struct feed f;
	pthread_t tf, te;
	char *buf;
	ssize_t r;
	pid_t pid;

	REQUIRE(pipe(in) == 0 && pipe(out) == 0);
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0);
	/* labc's process: its up thread may outlive relay_run, as there */
	if ((pid = fork()) == 0) {
		char err[256];

		close(in[1]);
		close(out[0]);
		close(s[1]);
		_exit(relay_run(in[0], out[1], s[0], err, sizeof(err)) == 0 ?
		    0 : 1);
	}
	REQUIRE(pid > 0);
	close(in[0]);
	close(out[1]);
	close(s[0]);
	f = (struct feed){ .fd = in[1], .n = n, .close_after = 1 };
	pthread_create(&tf, NULL, feed_main, &f);
	pthread_create(&te, NULL, echo_main, &s[1]);
	buf = malloc(n + 64);
	while ((r = read(out[0], buf + got, n + 64 - got)) > 0)
		got += (size_t)r;
	waitpid(pid, &status, 0);
	pthread_join(tf, NULL);
	pthread_join(te, NULL);
	for (k = 0; k < n && k < got; k++)
		bad |= (unsigned char)buf[k] != byte_at(k);
	CHECKF(got == n + 3, "got %zu bytes back, not %zu", got, n + 3);
	CHECK(!bad);
	CHECK(got >= 3 && memcmp(buf + got - 3, "BYE", 3) == 0);
	CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "relay_run failed (status %d)", status);
	free(buf);
	close(out[0]);
}

/* The connection handed over works; a byte without one is refused. */
static void
a_descriptor_is_handed_over(void)
{
	int s[2], p[2], fd = -1;
	char c = 0;

	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0);
	REQUIRE(pipe(p) == 0);
	CHECK(proto_fd_send(s[0], p[1]) == 0);
	close(p[1]);
	CHECK(proto_fd_recv(s[1], &fd) == 0);
	REQUIRE(fd >= 0);
	CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	CHECK(write(fd, "x", 1) == 1);
	close(fd);
	CHECK(read(p[0], &c, 1) == 1 && c == 'x');
	close(p[0]);
	/* the right byte without a descriptor, then another byte */
	CHECK(write(s[0], "F", 1) == 1);
	CHECK(proto_fd_recv(s[1], &fd) == -EPROTO && fd == -1);
	CHECK(write(s[0], "X", 1) == 1);
	CHECK(proto_fd_recv(s[1], &fd) == -EPROTO && fd == -1);
	close(s[0]);
	CHECK(proto_fd_recv(s[1], &fd) == -EPIPE && fd == -1);
	close(s[1]);
}

int
main(void)
{
	RUN(pipe_to_socket);
	RUN(socket_to_pipe);
	RUN(socket_to_socket);
	RUN(falls_back_where_splice_cannot);
	RUN(both_ways_with_half_close);
	RUN(a_descriptor_is_handed_over);
	return t_done();
}
