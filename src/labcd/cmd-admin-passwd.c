/* cmd-admin-passwd.c - admin passwd: set a lab user's password. */
#include "labcd.h"
#include "proto.h"
#include "users.h"

static int
cmd_admin_passwd_exec(struct ctx *c)
{
	const char *name = c->args.argv[0];
	struct user_row u;
	char *pw = NULL;
	int r, gen;

	ctx_target(c, "%.64s", name);
	if (userdb_get(c->db, name, &u) != 0)
		return ctx_error(c, "no lab user '%.64s' (see 'admin user list')",
		    name);
	r = users_ask_password(c, u.name, cmd_opt(c, "password-stdin") !=
	    NULL, &pw, &gen);
	if (r != 0)
		return r;
	r = users_set_password(c->db, u.id, pw, NULL);
	if (r == 0 && gen)
		ctx_printf(c, "New password for %s: %s\n(give it to %s; they "
		    "change it with 'passwd')\n", u.name, pw, u.name);
	users_forget(pw);
	if (r != 0)
		return ctx_error(c, "admin passwd: %s", c->db->err);
	if (!gen)
		ctx_printf(c, "Password of %s changed; their sessions are "
		    "ended and any wait after wrong passwords is over\n(an admin lock "
		    "stays: 'admin user unlock').\n", u.name);
	return PROTO_OK;
}

const struct cmd_entry cmd_admin_passwd_entry = {
	.name = "admin passwd",
	.args = "USER [--password-stdin]",
	.summary = "set a lab user's password (ends any wrong-password wait)",
	.help = "On a terminal it asks twice; with --password-stdin it reads\n"
	    "one line; otherwise it generates a password and prints it.",
	.flags = CMD_ADMIN,
	.min_args = 1, .max_args = 1,
	.opts = { { "password-stdin", 0, 0, NULL } },
	.exec = cmd_admin_passwd_exec,
};
