/*
 * ct-ssh.c - a container's SSH port: the one proxy device labcd gives
 * every container (create, start, import, reconciliation, unlock), the
 * lines that say how to connect (reply code: ct_connect and
 * ct_say_connect take the request), and the wait for its sshd.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cluster.h"
#include "ct-addr.h"
#include "ct-ssh.h"
#include "db-containers.h"
#include "labcd.h"
#include "project.h"
#include "sshwait.h"

/* Is ssh_listen an address only this host reaches? */
static int
listen_loopback(const char *a)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, a, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, a, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return strcmp(a, "localhost") == 0;
}

void
ct_connect(struct ctx *c, const char *name, int port, char *route,
    size_t routesz, char *direct, size_t directsz)
{
	const struct config *cfg = &c->srv->cfg;
	const char *host = cfg->ssh_listen;
	char server[256], suffix[256], member[64];

	config_server_name(cfg, server, sizeof(server));
	config_server_suffix(cfg, suffix, sizeof(suffix));
	snprintf(route, routesz, "ssh %s.%s", name, suffix);
	if (listen_loopback(host)) {
		*direct = '\0';
		return;
	}
	/* Every address of LXD's host: the one members know it by (this
	   host's, or lxd_url's). */
	if (*host == '\0' || strcmp(host, "0.0.0.0") == 0 ||
	    strcmp(host, "::") == 0) {
		char project[64];

		host = server;
		if (!config_lxd_local(cfg)) {
			config_lxd_host(cfg, server, sizeof(server));
			host = server;
		}
		/* On a cluster: the member it is on. */
		project_of(ctx_op(c), c->id.user_id, c->id.user, project);
		if (cluster_ct_addr(ctx_op(c), project, name, member,
		    sizeof(member)) == 1)
			host = member;
	}
	snprintf(direct, directsz, "ssh -p %d %s@%s", port,
	    cfg->container_user, host);
}

void
ct_say_connect(struct ctx *c, const char *name, int port)
{
	const struct config *cfg = &c->srv->cfg;
	char route[160], direct[400], server[256], gwport[16] = "";

	ct_connect(c, name, port, route, sizeof(route), direct,
	    sizeof(direct));
	config_server_name(cfg, server, sizeof(server));
	if (cfg->gateway_port != 22)
		snprintf(gwport, sizeof(gwport), "-p %d ", cfg->gateway_port);
	ctx_printf(c, "Connect with: %s    (once: ssh %s%s@%s ssh-config >> "
	    "~/.ssh/config, see 'help ssh-config')\n", route, gwport,
	    cfg->gateway_user, server);
	if (*direct != '\0')
		ctx_printf(c, "Or by its own port: %s\n", direct);
}

/* Does the port forward to a fixed address (ssh_port_mode = nat)? */
static int
nat(const struct config *cfg, const char *addr)
{
	return cfg->ssh_port_nat && addr != NULL && *addr != '\0';
}

int
ct_port_nat(const struct config *cfg, const struct ct *ct)
{
	return nat(cfg, ct->addr) && *ct->network != '\0';
}

json_t *
ct_ssh_device(const struct config *cfg, int port, const char *addr)
{
	char listen[96], connect[48];

	snprintf(listen, sizeof(listen), "tcp:%s:%d", cfg->ssh_listen, port);
	if (!nat(cfg, addr))
		return json_pack("{s:s, s:s, s:s}", "type", "proxy", "listen",
		    listen, "connect", "tcp:127.0.0.1:22");
	snprintf(connect, sizeof(connect), "tcp:%s:22", addr);
	return json_pack("{s:s, s:s, s:s, s:s}", "type", "proxy", "listen",
	    listen, "connect", connect, "nat", "true");
}

json_t *
ct_ssh_patch(const struct config *cfg, int port, const char *network,
    const char *addr)
{
	json_t *p = json_pack("{s:{s:o}}", "devices", "ssh", ct_ssh_device(cfg,
	    port, addr));

	/* The address the port points at stays the container's alone. */
	if (nat(cfg, addr) && network != NULL && *network != '\0')
		json_object_set_new(json_object_get(p, "devices"), "eth0",
		    ct_nic_device(network, addr));
	return p;
}

void
ct_ssh_device_words(const struct config *cfg, int port, char *out,
    size_t outsz)
{
	json_t *dev = ct_ssh_device(cfg, port, NULL);

	snprintf(out, outsz, "listen=%s connect=%s",
	    json_string_value(json_object_get(dev, "listen")),
	    json_string_value(json_object_get(dev, "connect")));
	json_decref(dev);
}

int
ct_ssh_answers(const char *listen_addr, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, listen_addr, &sin.sin_addr) != 1 ||
	    sin.sin_addr.s_addr == htonl(INADDR_ANY))
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sshwait(&sin, SSH_WAIT * 1000LL);
}
