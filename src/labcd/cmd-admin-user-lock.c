/*
 * cmd-admin-user-lock.c - admin user lock / unlock: a locked lab user can
 * neither log in nor use their keys (the gateway stops offering them at
 * once); their containers stay as they are.
 */
#include "labcd.h"
#include "proto.h"
#include "users.h"

static int
set_lock(struct ctx *c, int lock)
{
	const char *name = c->args.argv[0];
	struct user_row u;
	sqlite3_stmt *st;

	ctx_target(c, "%.64s", name);
	if (users_get(c->db, name, &u) != 0)
		return ctx_error(c, "no lab user '%.64s' (see 'admin user list')",
		    name);
	st = db_prepare(c->db, lock ? "UPDATE users SET disabled = 1 WHERE "
	    "id = ?" : "UPDATE users SET disabled = 0, failures = 0, "
	    "locked_until = 0 WHERE id = ?");
	sqlite3_bind_int64(st, 1, u.id);
	if (db_done(c->db, st) != 0)
		return ctx_error(c, "%s", c->db->err);
	if (lock) {
		st = db_prepare(c->db, "DELETE FROM sessions WHERE user_id = ?");
		sqlite3_bind_int64(st, 1, u.id);
		(void)db_done(c->db, st);
	}
	ctx_printf(c, "%s is %s.\n", u.name, lock ? "locked: no login, no "
	    "key works" : "unlocked");
	return PROTO_OK;
}

static int
cmd_admin_user_lock_exec(struct ctx *c)
{
	return set_lock(c, 1);
}

static int
cmd_admin_user_unlock_exec(struct ctx *c)
{
	return set_lock(c, 0);
}

const struct cmd_entry cmd_admin_user_lock_entry = {
	.name = "admin user lock",
	.args = "USER",
	.summary = "lock a lab user out (password and keys), keep their things",
	.flags = CMD_ADMIN,
	.min_args = 1, .max_args = 1,
	.exec = cmd_admin_user_lock_exec,
};

const struct cmd_entry cmd_admin_user_unlock_entry = {
	.name = "admin user unlock",
	.args = "USER",
	.summary = "let a locked lab user in again",
	.flags = CMD_ADMIN,
	.min_args = 1, .max_args = 1,
	.exec = cmd_admin_user_unlock_exec,
};
