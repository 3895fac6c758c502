/*
 * cmd-admin-gpu-exempt.c - admin gpu exempt: spare a lab user, or one of
 * their containers, from idle reclaim (gpu_idle_reclaim), or stop sparing
 * them. Leases still end.
 */
#include <stdio.h>
#include <string.h>

#include "db-containers.h"
#include "db-gpus.h"
#include "labcd.h"
#include "proto.h"
#include "users.h"

static int
cmd_admin_gpu_exempt_exec(struct ctx *c)
{
	const char *arg = c->args.argv[0], *slash = strchr(arg, '/');
	int on = cmd_opt(c, "off") == NULL;
	char user[64];
	struct user_row u;
	struct ct ct;
	long long ct_id = 0;

	ctx_target(c, "%.100s", arg);
	if (slash != NULL && (size_t)(slash - arg) >= sizeof(user))
		return ctx_usage(c, "no lab user has a name that long");
	snprintf(user, sizeof(user), "%.*s", slash != NULL ? (int)(slash -
	    arg) : (int)strlen(arg), arg);
	if (userdb_get(c->db, user, &u) != 0)
		return ctx_error(c, "no lab user '%.64s' (see 'admin user list')",
		    user);
	if (slash != NULL) {
		if (ct_name_invalid(slash + 1) != NULL ||
		    ctdb_get(c->db, u.id, slash + 1, &ct) != 0)
			return ctx_error(c, "%s has no container '%.64s' (see "
			    "'list --all')", u.name, slash + 1);
		ct_id = ct.id;
	}
	if (gpudb_set_exempt(c->db, u.id, ct_id, on) != 0)
		return ctx_error(c, "cannot record it: %s", c->db->err);
	ctx_printf(c, "%s%s%s is %s idle reclaim%s.\n", u.name, slash ? "/" :
	    "", slash ? slash + 1 : "", on ? "spared from" : "subject to",
	    on ? " (leases still end)" : " again");
	return PROTO_OK;
}

const struct cmd_entry cmd_admin_gpu_exempt_entry = {
	.name = "admin gpu exempt",
	.args = "USER[/CONTAINER] [--off]",
	.summary = "spare a user or container from GPU idle reclaim",
	.help = "gpu_idle_reclaim takes back GPUs their containers leave idle;\n"
	    "an exempt user's (or container's) are left alone. --off ends it.",
	.flags = CMD_ADMIN,
	.min_args = 1, .max_args = 1,
	.opts = { { "off", 0, 0, NULL } },
	.exec = cmd_admin_gpu_exempt_exec,
};
