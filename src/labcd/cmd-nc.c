/*
 * cmd-nc.c - nc: join the caller's stdin/stdout to port 22 of their own
 * container, through labcd, for ssh's ProxyCommand: no forwarded port
 * needed. labcd dials, then hands the client the connection itself
 * after the stream message (proto_fd_send), which it relays. The
 * way in is what LXD made (the ssh proxy device, else the DHCP lease),
 * never an address the container reports.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "labcd.h"
#include "cluster.h"
#include "ct.h"
#include "leases.h"
#include "lxd.h"
#include "proto.h"

#define NC_USERS	4096		/* >= max_clients: one per stream */

/*
 * Open streams per lab user: at most max_nc_per_user each. A stream is
 * given back when labcd sees the client's connection close, which can be
 * a moment after the client has exited: a member who closes an ssh
 * session and opens the next at once would be refused in that moment, so
 * a caller at the cap waits up to NC_WAIT_MS for one of theirs to end.
 */
#define NC_WAIT_MS	3000

static pthread_mutex_t nc_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t nc_freed = PTHREAD_COND_INITIALIZER;
static struct { long long user_id; int n; } nc_open[NC_USERS];

/* Try to take a stream for user_id, under nc_lock: 0, or -1 if at cap. */
static int
nc_try(long long user_id, int cap)
{
	int i, slot = -1;

	for (i = 0; i < NC_USERS; i++) {
		if (nc_open[i].n > 0 && nc_open[i].user_id == user_id) {
			slot = i;
			break;
		}
		if (nc_open[i].n == 0 && slot < 0)
			slot = i;
	}
	if (slot < 0 || nc_open[slot].n >= cap)
		return -1;
	nc_open[slot].user_id = user_id;
	nc_open[slot].n++;
	return 0;
}

/* Take a stream for user_id: 0, or -1 if they still have cap open. */
static int
nc_take(long long user_id, int cap)
{
	struct timespec until;
	int r;

	clock_deadline(&until, NC_WAIT_MS);
	pthread_mutex_lock(&nc_lock);
	while ((r = nc_try(user_id, cap)) != 0 &&
	    pthread_cond_timedwait(&nc_freed, &nc_lock, &until) == 0)
		;
	if (r != 0)
		r = nc_try(user_id, cap);
	pthread_mutex_unlock(&nc_lock);
	return r;
}

static void
nc_give(long long user_id)
{
	int i;

	pthread_mutex_lock(&nc_lock);
	for (i = 0; i < NC_USERS; i++) {
		if (nc_open[i].n > 0 && nc_open[i].user_id == user_id) {
			nc_open[i].n--;
			break;
		}
	}
	pthread_cond_broadcast(&nc_freed);
	pthread_mutex_unlock(&nc_lock);
}

/* Connect to ip:port within 5 s; the fd or -1. */
static int
dial(const char *ip, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port) };
	struct pollfd pfd;
	int fd, err = 0;
	socklen_t len = sizeof(err);

	if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1 ||
	    (fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 &&
	    errno != EINPROGRESS)
		goto fail;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, 5000) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR,
	    &err, &len) != 0 || err != 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/*
 * Where the container's sshd is, by what LXD made, never by what the
 * container says about itself (its owner is root there: an address it
 * reports could be any host's). Its ssh proxy device first: LXD's
 * forkproxy listens on ssh_listen:port and connects to 127.0.0.1:22
 * inside the container's own network namespace. Else the address LXD's
 * DHCP leased it. 0 and ip, port; or PROTO_FAILED, said.
 */
static int
target(struct ctx *c, const struct ct *ct, char ip[64], int *port)
{
	const struct config *cfg = &c->srv->cfg;
	struct lxd *l = ctx_lxd(c);
	struct in_addr a;
	struct leases *ls;
	char project[64], *lease, addr[64];
	json_t *inst = NULL, *dev;
	int r = PROTO_OK, same;

	project_of(ctx_op(c), ct->user_id, c->id.user, project);
	if (lxd_instance_get(l, project, ct->name, &inst) != 0)
		return ctx_error(c, "%s", lxd_error(l));
	if (strcmp(json_string_value(json_object_get(inst, "status")) ?: "",
	    "Running") != 0) {
		r = ctx_error(c, "%s is not running: 'start %s' first",
		    ct->name, ct->name);
		goto out;
	}
	/* The device as labcd made it, on an IPv4 address of LXD's host. */
	dev = ct_ssh_device(cfg, ct->port, ct->addr);
	/* On a cluster, the port is on the member the container is on. */
	if (cluster_ports_addr(ctx_op(c), json_string_value(json_object_get(
	    inst, "location")), addr, sizeof(addr)) != 0) {
		json_decref(dev);
		r = ctx_error(c, "%s is on server %s, which labcd does not "
		    "know: 'servers' lists them", ct->name, json_string_value(
		    json_object_get(inst, "location")) ?: "?");
		goto out;
	}
	same = json_equal(dev, json_object_get(json_object_get(inst,
	    "expanded_devices"), "ssh"));
	json_decref(dev);
	if (same && inet_pton(AF_INET, addr, &a) == 1) {
		snprintf(ip, 64, "%s", addr);
		*port = ct->port;
		goto out;
	}
	/*
	 * On a cluster every member's bridge has the same subnet: a lease
	 * address would be reached on labcd's own member, where another
	 * member's container could hold it. Only the port, there.
	 */
	if (lxd_clustered(l) > 0) {
		r = same ? ctx_error(c, "%s is on a server whose address (%s) "
		    "is not IPv4, which nc does not reach: use its port from "
		    "the server itself", ct->name, addr) : ctx_error(c, "%s has "
		    "no SSH port device as labcd made it (on several servers "
		    "labcd reaches a container only by its port): 'restart %s'",
		    ct->name, ct->name);
		goto out;
	}
	ls = leases_new(l);
	lease = leases_ipv4(ls, inst, project, NULL);
	leases_free(ls);
	if (lease == NULL) {
		r = ctx_error(c, "%s has no SSH port device and no address "
		    "from LXD's DHCP (yet): try again in a moment, or 'restart "
		    "%s'", ct->name, ct->name);
		goto out;
	}
	snprintf(ip, 64, "%s", lease);
	free(lease);
	*port = 22;
out:
	json_decref(inst);
	return r;
}

/*
 * The client holds the connection now (it relays the bytes itself): wait
 * until it closes ours, so that the stream counts against
 * max_nc_per_user while it is open. It has nothing to say meanwhile.
 */
static void
wait_closed(int cfd)
{
	struct pollfd p = { .fd = cfd, .events = POLLIN | POLLRDHUP };
	char buf[256];
	ssize_t n;

	for (;;) {
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
			return;
		n = read(cfd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return;
	}
}

/*
 * NAME, or NAME.ANYTHING as ssh's %h gives it from the Host *.SUFFIX
 * block of ssh-config: container names have no dots, so the name is
 * what comes before the first one. What follows is ignored, but must
 * look like a host name: NULL, or why not.
 */
#define NC_HOST_MAX	253

static const char *
nc_name(const char *arg, char name[64])
{
	const char *dot = strchr(arg, '.'), *p;
	size_t n = dot != NULL ? (size_t)(dot - arg) : strlen(arg);

	if (strlen(arg) > NC_HOST_MAX)
		return "it is longer than a host name can be";
	for (p = arg; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_'))
			return "a host name has only letters, digits, '-', '_' "
			    "and '.'";
	}
	if (n == 0)
		return "it has no container name before the dot";
	if (n > 63)
		return "a container name has at most 63 characters";
	memcpy(name, arg, n);
	name[n] = '\0';
	return NULL;
}

static int
cmd_nc_exec(struct ctx *c)
{
	struct ct ct;
	char ip[64], name[64];
	const char *why;
	int fd, cfd, r, flags, port = 0;

	if ((why = nc_name(c->args.argv[0], name)) != NULL) {
		ctx_target(c, "(not a host name)");
		return ctx_error(c, "nc takes NAME or NAME.SUFFIX (as 'ssh "
		    "NAME.SUFFIX' gives it, see 'ssh-config'), and what it got "
		    "is neither: %s", why);
	}
	ctx_target(c, "%.64s", name);
	if ((r = ct_find_ready(c, name, &ct)) != 0 ||
	    (r = target(c, &ct, ip, &port)) != 0)
		return r;
	if (nc_take(c->id.user_id, c->srv->cfg.max_nc_per_user) != 0)
		return ctx_error(c, "you have %d nc streams open already (at "
		    "most %d at once): close some ssh sessions and try again",
		    c->srv->cfg.max_nc_per_user, c->srv->cfg.max_nc_per_user);
	if ((fd = dial(ip, port)) < 0) {
		nc_give(c->id.user_id);
		return ctx_error(c, "%s does not answer on port 22 (is sshd "
		    "running in it?)", ct.name);
	}
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	/*
	 * The connection itself goes to the client, which relays it with
	 * splice(2): labcd is not woken for each chunk, and the bytes
	 * cross one process fewer. It is a connection to the member's own
	 * container's sshd, which the byte stream reached anyway.
	 */
	if ((cfd = ctx_stream(c)) >= 0 && proto_fd_send(cfd, fd) == 0) {
		close(fd);
		fd = -1;
		wait_closed(cfd);
	}
	if (fd >= 0)
		close(fd);
	nc_give(c->id.user_id);
	return PROTO_OK;
}

const struct cmd_entry cmd_nc_entry = {
	.name = "nc",
	.args = "NAME[.SUFFIX]",
	.summary = "connect to your container's ssh (for ssh's ProxyCommand)",
	.help = "The ProxyCommand of the block 'ssh-config' prints: 'ssh\n"
	    "box.SUFFIX' runs 'ssh lab@SERVER nc box.SUFFIX', which reaches\n"
	    "box's sshd without a forwarded port. Everything from the first\n"
	    "dot on is ignored (container names have none).",
	.flags = CMD_USER | CMD_STREAM,
	.min_args = 1, .max_args = 1,
	.exec = cmd_nc_exec,
};
