/*
 * cmd-ssh-config.c - ssh-config: the one ~/.ssh/config block for every
 * container of this server, pasted once: "Host *.SUFFIX" through the
 * gateway's nc, which takes NAME.SUFFIX. The same text every time and
 * for everyone, so a container made later needs nothing new.
 */
#include <stdio.h>

#include "labcd.h"
#include "proto.h"

static int
cmd_ssh_config_exec(struct ctx *c)
{
	const struct config *cfg = &c->srv->cfg;
	char server[256], suffix[256], port[16] = "";

	config_server_name(cfg, server, sizeof(server));
	config_server_suffix(cfg, suffix, sizeof(suffix));
	if (cfg->gateway_port != 22)
		snprintf(port, sizeof(port), "-p %d ", cfg->gateway_port);
	ctx_printf(c, "# labcontainers on %s: container NAME is NAME.%s "
	    "(paste once; new containers need nothing)\n"
	    "Host *.%s\n"
	    "    User %s\n"
	    "    ProxyCommand ssh %s%s@%s nc %%h\n",
	    server, suffix, suffix, cfg->container_user, port,
	    cfg->gateway_user, server);
	return PROTO_OK;
}

const struct cmd_entry cmd_ssh_config_entry = {
	.name = "ssh-config",
	.args = "",
	.summary = "print the ~/.ssh/config block for your containers (once)",
	.help = "One block for all your containers, now and later: add it to\n"
	    "your ~/.ssh/config once, then 'ssh NAME.SUFFIX' (SUFFIX as the\n"
	    "block says), 'scp FILE NAME.SUFFIX:', or VS Code's Remote-SSH to\n"
	    "NAME.SUFFIX. Run once, on your laptop:\n"
	    "  Linux, macOS:\n"
	    "    mkdir -p ~/.ssh && ssh lab@SERVER ssh-config >> ~/.ssh/config\n"
	    "  Windows PowerShell:\n"
	    "    mkdir -Force $HOME\\.ssh; ssh lab@SERVER ssh-config |\n"
	    "      Out-File -Append -Encoding ascii $HOME\\.ssh\\config\n"
	    "  (PowerShell's '>>' writes UTF-16, which ssh cannot read.)\n"
	    "Running it again adds the same block twice: not needed, not\n"
	    "harmful. Each container's own port is in 'list' and 'details'.",
	.flags = CMD_USER | CMD_READONLY | CMD_NOAUDIT,
	.exec = cmd_ssh_config_exec,
};
