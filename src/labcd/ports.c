/*
 * ports.c - the host's TCP ports as a listener sees them: is a port free
 * to bind, and which program holds it (from /proc), for admin doctor and
 * admin import; and the one picker of a new container's port; doctor's
 * check of ssh_ports (ports_doctor).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "checkup.h"
#include "db-containers.h"
#include "inert.h"
#include "labcd.h"
#include "ports.h"
#include "xmalloc.h"

int
port_free(const char *listen_addr, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd, ok, one = 1;

	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, listen_addr, &sin.sin_addr) != 1)
		sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 1;
	/*
	 * As a listener would (LXD's proxy does): a connection of the past
	 * in TIME_WAIT does not hold the port.
	 */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ok = bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

/* The inode of the socket listening on PORT (TCP, v4 or v6), or 0. */
static unsigned long
listener_inode(int port)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	char line[512];
	unsigned long inode = 0;
	unsigned int lport, st;
	size_t i;
	FILE *f;

	for (i = 0; i < 2 && inode == 0; i++) {
		if ((f = fopen(files[i], "r")) == NULL)
			continue;
		while (inode == 0 && fgets(line, sizeof(line), f) != NULL) {
			unsigned long ino;

			if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x "
			    "%x %*[0-9A-Fa-f]:%*[0-9A-Fa-f] %*[0-9A-Fa-f]:"
			    "%*[0-9A-Fa-f] %*[0-9A-Fa-f] %*u %*u %lu", &lport, &st,
			    &ino) == 3 && st == 0x0A && (int)lport == port)
				inode = ino;
		}
		fclose(f);
	}
	return inode;
}

void
port_holder(int port, char *out, size_t outsz)
{
	unsigned long inode = listener_inode(port);
	char want[64], path[64], link[64], comm[64];
	struct dirent *p, *fd;
	DIR *proc, *fds;
	FILE *f;

	out[0] = '\0';
	if (inode == 0 || (proc = opendir("/proc")) == NULL)
		return;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	while (out[0] == '\0' && (p = readdir(proc)) != NULL) {
		if (p->d_name[0] < '0' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/fd", p->d_name);
		if ((fds = opendir(path)) == NULL)
			continue;
		while ((fd = readdir(fds)) != NULL) {
			ssize_t n;

			snprintf(path, sizeof(path), "/proc/%.20s/fd/%.20s",
			    p->d_name, fd->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (strcmp(link, want) != 0)
				continue;
			snprintf(path, sizeof(path), "/proc/%.20s/comm", p->d_name);
			comm[0] = '\0';
			if ((f = fopen(path, "r")) != NULL) {
				if (fgets(comm, sizeof(comm), f) == NULL)
					comm[0] = '\0';
				fclose(f);
			}
			comm[strcspn(comm, "\n")] = '\0';
			snprintf(out, outsz, "%.16s, pid %.20s%s", comm, p->d_name,
			    strcmp(comm, "lxd") == 0 ? ": a proxy device of a "
			    "container labcd does not know" : "");
			break;
		}
		closedir(fds);
	}
	closedir(proc);
}

int
port_pick(struct db *db, int lo, int hi, const char *listen_addr,
    const unsigned char *skip)
{
	unsigned char *used = xcalloc((size_t)(hi - lo + 1), 1);
	int p, port = 0, pass;

	ctdb_ports_used(db, lo, hi, used);
	for (pass = skip != NULL ? 0 : 1; pass < 2 && port == 0; pass++) {
		for (p = lo; p <= hi && port == 0; p++) {
			if (!used[p - lo] && (pass == 1 || !skip[p - lo]) &&
			    (listen_addr == NULL || port_free(listen_addr, p)))
				port = p;
		}
	}
	free(used);
	return port;
}

#define PORTS_SHOWN		8	/* taken ports named in the detail */

/*
 * Ports of the range that something holds: labcd's own containers' proxy
 * devices hold theirs (the ports in the database) and are left out.
 */
void
ports_doctor(struct checkup *d)
{
	struct op *op = checkup_op(d);
	const struct config *cfg = &op->srv->cfg;
	int lo = cfg->ssh_port_min, hi = cfg->ssh_port_max, p, taken = 0;
	unsigned char *ours = xcalloc((size_t)(hi - lo + 1), 1);
	struct buf list = BUF_INIT(0);
	char *fix;

	if (!config_lxd_local(cfg)) {
		/* The listeners are on LXD's host, out of this one's sight;
		   LXD refuses a port taken there when it adds the device. */
		checkup_row(d, "ssh ports", "ok", NULL, "%d-%d on the LXD "
		    "host of %s: not checked from here", lo, hi, cfg->lxd_url);
		free(ours);
		return;
	}
	ctdb_ports_used(op->db, lo, hi, ours);
	for (p = lo; p <= hi; p++) {
		if (ours[p - lo] || port_free(cfg->ssh_listen, p))
			continue;
		if (taken++ < PORTS_SHOWN) {
			char who[160];

			/* Any local user names their process: inert. */
			port_holder(p, who, sizeof(who));
			inert_copy(who, sizeof(who), who);
			buf_printf(&list, "%s%d%s%s%s", taken > 1 ? ", " : "", p,
			    who[0] ? " (" : "", who, who[0] ? ")" : "");
		}
	}
	free(ours);
	if (taken > 0) {
		fix = xasprintf("see what holds them (ss -ltnp 'sport >= :%d "
		    "and sport <= :%d') and stop it, or move ssh_ports in "
		    "labcd.conf", lo, hi);
		checkup_row(d, "ssh ports", "problem", fix, "%d port%s of "
		    "%d-%d on %s held by something that is not a labcd "
		    "container: %s%s", taken, taken == 1 ? "" : "s", lo, hi,
		    cfg->ssh_listen, buf_str(&list), taken > PORTS_SHOWN ? ", "
		    "..." : "");
		free(fix);
	} else
		checkup_row(d, "ssh ports", "ok", NULL, "%d-%d on %s: free but "
		    "for labcd's containers", lo, hi, cfg->ssh_listen);
	buf_free(&list);
}
