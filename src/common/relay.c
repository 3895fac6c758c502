/*
 * relay.c - two directions, one thread each, each moving bytes with
 * splice(2) through a pipe of its own (1 MiB where the kernel allows):
 * socket or pipe to pipe, pipe to socket or pipe, no copy through user
 * space and one wake-up per chunk the kernel has, not per 16 KiB. Where a
 * side cannot splice (a terminal, a file opened for appending), the
 * direction falls back to read and write.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicio.h"
#include "relay.h"

#define RELAY_PIPE	(1024 * 1024)	/* bytes a direction's pipe holds */
#define RELAY_CHUNK	(256 * 1024)	/* bytes one splice asks for */
#define RELAY_BUF	65536		/* read/write fallback */

/* Count n more bytes moved where someone watches. */
static void
seen_add(_Atomic long long *seen, long long n)
{
	if (seen != NULL)
		atomic_fetch_add(seen, n);
}

/* in -> out with read and write. Bytes moved, or -errno. */
static long long
copy_rw(int in, int out, _Atomic long long *seen)
{
	char *buf = malloc(RELAY_BUF);
	long long total = 0;
	ssize_t n;
	int r;

	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		n = read(in, buf, RELAY_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		if ((r = write_all(out, buf, (size_t)n)) != 0)
			break;
		total += n;
		seen_add(seen, n);
	}
	free(buf);
	return r != 0 ? r : total;
}

long long
relay_copy_seen(int in, int out, _Atomic long long *seen)
{
	long long total = 0;
	ssize_t n, m;
	int p[2];

	if (pipe2(p, O_CLOEXEC) != 0)
		return copy_rw(in, out, seen);
	(void)fcntl(p[1], F_SETPIPE_SZ, RELAY_PIPE);	/* else 64 KiB */
	for (;;) {
		n = splice(in, NULL, p[1], NULL, RELAY_CHUNK, SPLICE_F_MOVE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EINVAL && total == 0) {
			/* in cannot splice: the old way (nothing read yet) */
			close(p[0]);
			close(p[1]);
			return copy_rw(in, out, seen);
		}
		if (n <= 0) {
			total = n < 0 ? -errno : total;
			break;
		}
		while (n > 0) {
			m = splice(p[0], NULL, out, NULL, (size_t)n,
			    SPLICE_F_MOVE);
			if (m < 0 && errno == EINTR)
				continue;
			if (m < 0 && errno == EINVAL) {
				/* out cannot: drain the pipe by hand */
				long long r;

				close(p[1]);
				p[1] = -1;
				r = copy_rw(p[0], out, seen);
				if (r < 0) {
					close(p[0]);
					return r;
				}
				close(p[0]);
				r = copy_rw(in, out, seen);
				return r < 0 ? r : total + n + r;
			}
			if (m <= 0) {
				total = m < 0 ? -errno : -EIO;
				goto out;
			}
			n -= m;
			total += m;
			seen_add(seen, m);
		}
	}
out:
	close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	return total;
}

long long
relay_copy(int in, int out)
{
	return relay_copy_seen(in, out, NULL);
}

/* The thread's own (it may outlive relay_run): it frees it. */
struct up {
	int		 in, sock;
};

static void *
up_main(void *arg)
{
	struct up *u = arg;

	(void)relay_copy(u->in, u->sock);
	/* Our side has finished: theirs may still answer. */
	shutdown(u->sock, SHUT_WR);
	free(u);
	return NULL;
}

int
relay_run(int in, int out, int sock, char *err, size_t errsz)
{
	struct up *u = malloc(sizeof(*u));
	pthread_attr_t attr;
	pthread_t t;
	long long down;

	if (u == NULL) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	u->in = in;
	u->sock = sock;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, up_main, u) != 0) {
		free(u);
		pthread_attr_destroy(&attr);
		snprintf(err, errsz, "cannot start a thread: %s",
		    strerror(errno));
		return -EAGAIN;
	}
	pthread_attr_destroy(&attr);
	/*
	 * Until the other side has said everything. The thread reading in
	 * may still wait there: it ends with the process, as the old loop
	 * did at this point.
	 */
	down = relay_copy(sock, out);
	if (down < 0 && down != -ECONNRESET) {
		snprintf(err, errsz, "the data stream broke: %s",
		    strerror((int)-down));
		return (int)down;
	}
	return 0;
}
