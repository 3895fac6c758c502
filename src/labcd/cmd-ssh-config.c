/* cmd-ssh-config.c - ssh-config: Host blocks for ~/.ssh/config. */
#include <stdio.h>
#include <unistd.h>

#include "ct.h"
#include "proto.h"

static int
cmd_ssh_config_exec(struct ctx *c)
{
	const struct config *cfg = &c->srv->cfg;
	char host[256], port[16] = "";
	sqlite3_stmt *st;
	int n = 0;

	config_server_name(cfg, host, sizeof(host));
	if (cfg->gateway_port != 22)
		snprintf(port, sizeof(port), "-p %d ", cfg->gateway_port);
	ctx_printf(c, "# labcontainers: your containers, through the gateway "
	    "%s@%s.\n# Paste into ~/.ssh/config, then: ssh NAME\n",
	    cfg->gateway_user, host);
	st = db_prepare(c->db, "SELECT name, port FROM containers WHERE "
	    "user_id = ? AND state = 'ready' ORDER BY name");
	sqlite3_bind_int64(st, 1, c->id.user_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);

		ctx_printf(c, "\nHost %s\n    HostName %s\n    User %s\n"
		    "    ProxyCommand ssh %s%s@%s nc %s\n"
		    "    # or without the gateway, by the container's own port:\n"
		    "    #   HostName %s\n    #   Port %d\n", name, name,
		    cfg->container_user, port, cfg->gateway_user, host, name,
		    host, sqlite3_column_int(st, 1));
		n++;
	}
	sqlite3_finalize(st);
	if (n == 0)
		ctx_printf(c, "# (you have no containers yet: 'launch NAME')\n");
	return PROTO_OK;
}

const struct cmd_entry cmd_ssh_config_entry = {
	.name = "ssh-config",
	.args = "",
	.summary = "print ~/.ssh/config blocks for your containers",
	.flags = CMD_USER | CMD_READONLY,
	.exec = cmd_ssh_config_exec,
};
