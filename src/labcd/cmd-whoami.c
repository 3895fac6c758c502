/* cmd-whoami.c - whoami: the identity labcd sees for this caller. */
#include "labcd.h"
#include "proto.h"

static int
cmd_whoami_exec(struct ctx *c)
{
	struct ident *id = &c->id;

	c->data = json_pack("{s:s?, s:b, s:s, s:s, s:s?}", "user",
	    id->user[0] ? id->user : NULL, "admin", id->admin, "host_user",
	    id->host_user, "via", id->via, "gateway_key", id->gw_key != NULL ?
	    id->gw_fp : NULL);
	if (id->user[0] != '\0')
		ctx_printf(c, "%s%s\n", id->user, id->admin ? " (admin)" : "");
	else if (id->admin)
		ctx_printf(c, "%s (admin, no lab user: use --as USER to act for "
		    "one)\n", id->host_user);
	else if (id->gw_key != NULL)	/* an anonymous gateway session */
		ctx_printf(c, "not logged in (SSH key %s, which logs no lab "
		    "user in): 'login USER' logs you in and registers it\n",
		    id->gw_fp);
	else
		ctx_printf(c, "not logged in (host user %s): run 'login'\n",
		    id->host_user);
	return PROTO_OK;
}

const struct cmd_entry cmd_whoami_entry = {
	.name = "whoami",
	.args = "",
	.summary = "show who labcd thinks you are",
	.flags = CMD_ANON | CMD_READONLY | CMD_NOAUDIT,
	.exec = cmd_whoami_exec,
};
