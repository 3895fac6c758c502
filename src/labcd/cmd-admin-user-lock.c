/*
 * cmd-admin-user-lock.c - admin user lock / unlock: a locked lab user can
 * neither log in nor use their keys (the gateway stops offering them at
 * once), their sessions end, and their containers lose their SSH ports
 * (keys inside are theirs to keep: they are root there); the containers
 * keep running. Unlocking gives the ports back.
 */
#include "ct.h"
#include "labcd.h"
#include "proto.h"
#include "users.h"

static int
set_lock(struct ctx *c, int lock)
{
	const char *name = c->args.argv[0];
	struct user_row u;
	int left;

	ctx_target(c, "%.64s", name);
	if (userdb_get(c->db, name, &u) != 0)
		return ctx_error(c, "no lab user '%.64s' (see 'admin user list')",
		    name);
	if (userdb_lock(c->db, u.id, lock) != 0)
		return ctx_error(c, "%s", c->db->err);
	if (lock)
		users_end_sessions(c->db, u.id, NULL);
	/* After the flag: reconciliation then keeps the ports as meant. */
	left = ct_ssh_lock(ctx_op(c), u.id, u.name, lock);
	ctx_printf(c, "%s is %s.\n", u.name, lock ? "locked: no login, no "
	    "key works, no SSH port into their containers" : "unlocked, "
	    "with the SSH ports of their containers");
	if (left > 0)
		ctx_printf(c, "%d container%s still %s: labcd %s once LXD "
		    "answers (see 'admin reconcile').\n", left, left == 1 ?
		    "" : "s", lock ? "have their SSH ports" : "lack their SSH "
		    "ports", lock ? "takes them away" : "gives them back");
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
	.summary = "lock a lab user out (password, keys, SSH ports), keep "
	    "their things",
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
