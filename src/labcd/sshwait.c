/*
 * sshwait.c - waiting for an sshd to answer: labcd's launch and start
 * end when the container's port says "SSH-".
 *
 * With ssh_port_mode = nat the port is the kernel's DNAT to the
 * container's address: until the container has brought that address up,
 * a SYN goes to a neighbour that does not answer ARP and is lost, and a
 * blocking connect waits for TCP's first retransmission, a whole second
 * (measured on LXD 5.0.2: sshd up 40 ms after the container's systemd
 * started it, the launch told a second later). So each try is a
 * non-blocking connect, a new one every TRY_MS while the earlier ones
 * are still in flight (a handshake slow under load is not given up on),
 * a refusal is tried again after REFUSED_MS, and the first connection
 * that reads "SSH-" ends the wait.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "sshwait.h"

#define TRY_MS		50	/* a new connect while the others wait */
#define REFUSED_MS	20	/* after a refusal: the next try */
#define INFLIGHT	16	/* connects in flight at most */
#define BANNER_MS	2000	/* connected: sshd's first bytes within */

/* Connected: is it an sshd? 1, else 0. */
static int
banner_is_ssh(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char banner[4];
	size_t got = 0;
	long long until = mono_ms() + BANNER_MS;
	ssize_t n;

	while (got < sizeof(banner)) {
		long long left = until - mono_ms();

		if (left <= 0 || poll(&pfd, 1, (int)left) != 1)
			return 0;
		n = read(fd, banner + got, sizeof(banner) - got);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return 0;
		got += (size_t)n;
	}
	return memcmp(banner, "SSH-", 4) == 0;
}

/* A connect begun: its descriptor, or -1 when it failed at once. */
static int
try_connect(const struct sockaddr_in *sin)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) == 0 ||
	    errno == EINPROGRESS)
		return fd;
	close(fd);
	return -1;
}

/* Close and forget connect i of n. */
static void
drop(struct pollfd *pfd, int *n, int i)
{
	close(pfd[i].fd);
	memmove(pfd + i, pfd + i + 1, (size_t)(*n - i - 1) * sizeof(*pfd));
	(*n)--;
}

int
sshwait(const struct sockaddr_in *sin, long long wait_ms)
{
	struct pollfd pfd[INFLIGHT];
	long long until = mono_ms() + wait_ms, next = 0, now;
	int n = 0, i, fd, up = 0;

	while (!up && (now = mono_ms()) < until) {
		if (now >= next) {
			if (n == INFLIGHT)
				drop(pfd, &n, 0);	/* the oldest */
			if ((fd = try_connect(sin)) >= 0) {
				pfd[n].fd = fd;
				pfd[n].events = POLLOUT;
				pfd[n++].revents = 0;
				next = now + TRY_MS;
			} else
				next = now + REFUSED_MS;
		}
		if (next > until)
			next = until;
		if (poll(pfd, (nfds_t)n, (int)(next > now ? next - now : 1)) <= 0)
			continue;
		for (i = n - 1; i >= 0 && !up; i--) {
			int err = 0;
			socklen_t len = sizeof(err);

			if (pfd[i].revents == 0)
				continue;
			if (getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &err,
			    &len) == 0 && err == 0 && banner_is_ssh(pfd[i].fd))
				up = 1;
			else if (next > mono_ms() + REFUSED_MS)
				/* Refused, or not an sshd: again soon. */
				next = mono_ms() + REFUSED_MS;
			drop(pfd, &n, i);
		}
	}
	while (n > 0)
		drop(pfd, &n, n - 1);
	return up;
}
