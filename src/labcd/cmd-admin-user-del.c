/* cmd-admin-user-del.c - admin user del: remove a lab user account. */
#include <string.h>

#include "labcd.h"
#include "proto.h"
#include "users.h"

static int
cmd_admin_user_del_exec(struct ctx *c)
{
	const char *name = c->args.argv[0];
	struct user_row u;
	sqlite3_stmt *st;

	ctx_target(c, "%.64s", name);
	if (users_get(c->db, name, &u) != 0)
		return ctx_error(c, "no lab user '%.64s' (see 'admin user list')",
		    name);
	if (strcmp(u.name, c->id.user) == 0)
		return ctx_error(c, "you cannot delete yourself (%s); ask "
		    "another admin", u.name);
	/* Keys and sessions go with the user (ON DELETE CASCADE). */
	st = db_prepare(c->db, "DELETE FROM users WHERE id = ?");
	sqlite3_bind_int64(st, 1, u.id);
	if (db_done(c->db, st) != 0)
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
	    "which deletes them, their ports and the user's LXD project.",
	.flags = CMD_ADMIN,
	.min_args = 1, .max_args = 1,
	.opts = { { "purge", 0, 0, NULL } },
	.exec = cmd_admin_user_del_exec,
};
