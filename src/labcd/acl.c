/*
 * acl.c - who may run what, and what is audited: the one place that reads
 * the command table's policy (the roles of commands and of their options,
 * CMD_SSHD, CMD_NOAUDIT). No command re-implements a check of its own.
 */
#include <string.h>

#include "labcd.h"
#include "proto.h"

/* The first option given that only role (CMD_ADMIN, CMD_ROOT) may give. */
static int
opt_given(const struct ctx *c, int role)
{
	int i;

	for (i = 0; i < CMD_MAXOPTS && c->cmd->opts[i].name != NULL; i++) {
		if (c->args.val[i] != NULL && (c->cmd->opts[i].flags & role))
			return i;
	}
	return -1;
}

/* sshd's own accounts: root, or gateway_keys_user (never the gateway
   account or nobody, whatever the config says). */
static int
from_sshd_account(const struct ctx *c)
{
	const struct config *cfg = &c->srv->cfg;

	return c->id.root || (c->id.uid == ident_uid_of(cfg->gateway_keys_user)
	    && c->id.uid != ident_uid_of(cfg->gateway_user) &&
	    strcmp(c->id.host_user, "nobody") != 0);
}

int
acl_web_only(struct ctx *c, const struct cmd_entry *e)
{
	/* labc-web's account reads the status and nothing else. */
	if (!c->id.web || (e != NULL && (e->flags & CMD_WEB)))
		return 0;
	return ctx_error(c, "%s is web_user, the status page's account: it "
	    "may read the lab's status and nothing else", c->id.host_user);
}

int
acl_allowed(struct ctx *c)
{
	const struct cmd_entry *e = c->cmd;
	const char *who = c->id.user[0] ? c->id.user : c->id.host_user;
	int k;

	if (acl_web_only(c, e) != 0)
		return PROTO_FAILED;
	if (e->flags & CMD_WEB)
		return c->id.web || c->id.admin ? 0 : ctx_error(c, "'%s' is "
		    "for the status page (web_user) and admins; you are %s. "
		    "The page shows it: ask your admin where it is", e->name,
		    who);
	if ((e->flags & CMD_ADMIN) && !c->id.admin)
		return ctx_error(c, "'%s' is for admins only; you are %s",
		    e->name, who);
	if ((k = opt_given(c, CMD_ADMIN)) >= 0 && !c->id.admin)
		return ctx_error(c, "%s --%s is for admins only; you are %s",
		    e->name, e->opts[k].name, who);
	/* An admin is not root: these read or change the host as root. */
	if ((e->flags & CMD_ROOT) && !c->id.root)
		return ctx_error(c, "'%s' is for root only: it works on the "
		    "host as root, and an admin is not root; you are %s. Ask "
		    "root to run it (sudo labc %s ...)", e->name, who, e->name);
	if ((k = opt_given(c, CMD_ROOT)) >= 0 && !c->id.root)
		return ctx_error(c, "%s --%s is for root only: with it root "
		    "reads or changes what you name on the host, and an admin "
		    "is not root; you are %s. Leave it out (the default is "
		    "used), or ask root to run it", e->name, e->opts[k].name,
		    who);
	if ((e->flags & CMD_SSHD) && !from_sshd_account(c))
		return ctx_error(c, "%s is for sshd only (root or "
		    "gateway_keys_user, an account of its own); you are %s",
		    e->name, c->id.host_user);
	if (e->flags & (CMD_ANON | CMD_ADMIN))
		return 0;
	if (c->id.user_id != 0)
		return 0;
	if (c->id.admin && !(e->flags & CMD_USER))
		return 0;
	if (c->id.admin)
		return ctx_error(c, "'%s' acts for a lab user and you are %s, "
		    "an admin without one: run 'labc --as USER %s ...'",
		    e->name, c->id.host_user, e->name);
	if (c->stale_session)
		return ctx_error(c, "your login has expired: run 'login' "
		    "again");
	return ctx_error(c, "you are not logged in: run 'login' first (no "
	    "account? ask your lab's admin)");
}

int
acl_audited(const struct ctx *c)
{
	int i;

	if (c->cmd->flags & CMD_NOAUDIT)
		return 0;
	for (i = 0; i < CMD_MAXOPTS && c->cmd->opts[i].name != NULL; i++) {
		if (c->args.val[i] != NULL &&
		    (c->cmd->opts[i].flags & CMD_NOAUDIT))
			return 0;
	}
	return 1;
}

int
acl_refusal_audited(const struct ctx *c)
{
	const struct cmd_entry *e = c->cmd;

	/* An admin reaching for root's powers is audited, reads too. */
	return acl_audited(c) || (c->id.admin && !c->id.root &&
	    ((e->flags & CMD_ROOT) || opt_given(c, CMD_ROOT) >= 0));
}
