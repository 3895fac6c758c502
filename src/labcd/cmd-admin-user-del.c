/* cmd-admin-user-del.c - admin user del: remove a lab user account. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"
#include "isolate.h"
#include "labcd.h"
#include "lxd.h"
#include "project.h"
#include "proto.h"
#include "sizes.h"
#include "users.h"

/* Delete every container of the user, then their project. */
static int
purge(struct ctx *c, const struct user_row *u)
{
	struct ident as = c->id;
	struct lxd *l = ctx_lxd(c);
	struct op op = *ctx_op(c);
	char project[64];
	struct ct ct, *cts;
	size_t n;
	int r = 0;

	/* The ct_* functions act for op's actor: the admin, as u. */
	as.user_id = u->id;
	snprintf(as.user, sizeof(as.user), "%s", u->name);
	op.actor = &as;
	for (;;) {
		ctdb_list(c->db, u->id, 0, &cts, &n);
		if (n == 0) {
			free(cts);
			break;
		}
		ct = cts[0];
		free(cts);
		if (ct_delete(&op, &ct, 1) != 0) {
			r = ctx_fail(c, &op);
			break;
		}
		ctx_printf(c, "Deleted %s's container %s (port %d).\n",
		    u->name, ct.name, ct.port);
	}
	sizes_btrfs_mend(ctx_lxd(c));
	if (r != 0)
		return r;
	project_of(ctx_op(c), u->id, u->name, project);
	/* Its copies of the profiles first: LXD deletes only empty ones. */
	r = lxd_profile_delete_all(l, project);
	if (r == 0 || r == -ENOENT)
		r = lxd_project_delete(l, project);
	if (r != 0 && r != -ENOENT)
		return ctx_error(c, "cannot delete the LXD project %s: %s",
		    project, lxd_error(l));
	/* Its own bridge goes with it (isolate_members). */
	if (isolate_remove(ctx_op(c), project) != 0)
		return ctx_error(c, "the LXD project %s is deleted, but not its "
		    "bridge and network ACL: %s; delete them with 'lxc network "
		    "delete' and 'lxc network acl delete'", project,
		    lxd_error(l));
	return PROTO_OK;
}

static int
cmd_admin_user_del_exec(struct ctx *c)
{
	const char *name = c->args.argv[0];
	struct user_row u;
	int n, r;

	ctx_target(c, "%.64s", name);
	if (userdb_get(c->db, name, &u) != 0)
		return ctx_error(c, "no lab user '%.64s' (see 'admin user list')",
		    name);
	if (strcmp(u.name, c->id.user) == 0)
		return ctx_error(c, "you cannot delete yourself (%s); ask "
		    "another admin", u.name);
	n = ctdb_count(c->db, u.id);
	if (n > 0 && cmd_opt(c, "purge") == NULL)
		return ctx_error(c, "%s has %d container%s: delete them, or "
		    "'admin user del %s --purge' deletes them with the user",
		    u.name, n, n == 1 ? "" : "s", u.name);
	if (cmd_opt(c, "purge") != NULL && (r = purge(c, &u)) != 0)
		return r;
	/* Without containers their project and bridge (a /24) go too. */
	if (n == 0 && cmd_opt(c, "purge") == NULL && purge(c, &u) != 0) {
		ctx_printf(c, "Note: %s\n", buf_str(&c->err));
		buf_reset(&c->err);
	}
	/* Keys and sessions go with the user (ON DELETE CASCADE). */
	if (userdb_delete(c->db, u.id) != 0)
		return ctx_error(c, "admin user del: %s", c->db->err);
	ctx_printf(c, "Lab user %s deleted, with their keys and sessions.\n",
	    u.name);
	return PROTO_OK;
}

const struct cmd_entry cmd_admin_user_del_entry = {
	.name = "admin user del",
	.args = "USER [--purge]",
	.summary = "delete a lab user",
	.help = "Refused while the user has containers, unless --purge,\n"
	    "which deletes them, their ports and the user's LXD project.\n"
	    "A user without containers goes with their project and bridge.",
	.flags = CMD_ADMIN,
	.min_args = 1, .max_args = 1,
	.opts = { { "purge", 0, 0, NULL } },
	.exec = cmd_admin_user_del_exec,
};
