/* cmd-admin-user-add.c - admin user add: a new lab user account. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ct.h"
#include "keys.h"
#include "labcd.h"
#include "proto.h"
#include "users.h"

static int
cmd_admin_user_add_exec(struct ctx *c)
{
	const char *name = c->args.argv[0], *key = cmd_opt(c, "key");
	const char *why = user_name_invalid(name);
	struct user_row u;
	char *pw = NULL, fp[64] = "";
	sqlite3_stmt *st;
	long long id;
	int r, gen = 0;

	ctx_target(c, "%.64s", name);
	if (why != NULL)
		return ctx_usage(c, "'%.64s' cannot be a user name: %s", name,
		    why);
	if (users_get(c->db, name, &u) == 0)
		return ctx_error(c, "lab user %s exists already", name);
	r = users_ask_password(c, name, cmd_opt(c, "password-stdin") != NULL,
	    &pw, &gen);
	if (r != 0)
		return r;

	if (db_begin(c->db) != 0) {
		users_forget(pw);
		return ctx_error(c, "admin user add: %s", c->db->err);
	}
	/* A new user's GPU quota is quota_gpus (NULL: no limit). */
	st = db_prepare(c->db, "INSERT INTO users (name, is_admin, created, "
	    "gpu_quota) VALUES (?, ?, ?, nullif(?, ''))");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, cmd_opt(c, "admin") != NULL);
	sqlite3_bind_int64(st, 3, (long long)time(NULL));
	sqlite3_bind_text(st, 4, c->srv->cfg.quota_gpus, -1, SQLITE_STATIC);
	if (db_done(c->db, st) != 0) {
		r = ctx_error(c, "admin user add: %s", c->db->err);
		goto fail;
	}
	id = sqlite3_last_insert_rowid(c->db->h);
	if (users_set_password(c->db, id, pw, NULL) != 0) {
		r = ctx_error(c, "admin user add: %s", c->db->err);
		goto fail;
	}
	if (key != NULL && (r = keys_add(c, id, key, 1, fp)) != 0)
		goto fail;
	if (db_commit(c->db) != 0) {
		r = ctx_error(c, "admin user add: %s", c->db->err);
		goto fail;
	}
	ctx_printf(c, "Lab user %s added%s.\n", name, cmd_opt(c, "admin") ?
	    " (admin)" : "");
	/* The LXD project now; if LXD is away, at the first launch. */
	if (ct_ensure_project(c, id, name) != 0) {
		ctx_printf(c, "Note: %s's LXD project is not made yet (%s); "
		    "it will be at their first launch.\n", name,
		    buf_str(&c->err));
		buf_reset(&c->err);
	}
	if (*fp != '\0')
		ctx_printf(c, "SSH key %s registered.\n", fp);
	if (gen)
		ctx_printf(c, "Password for %s: %s\n(give it to %s; they change "
		    "it with 'passwd')\n", name, pw, name);
	users_forget(pw);
	return PROTO_OK;
fail:
	db_rollback(c->db);
	users_forget(pw);
	return r;
}

const struct cmd_entry cmd_admin_user_add_entry = {
	.name = "admin user add",
	.args = "USER [--admin] [--password-stdin] [--key PUBKEY]",
	.summary = "add a lab user",
	.help = "USER: 1 to 32 lowercase letters, digits or '-', starting\n"
	    "with a letter. --admin makes an admin. The password is asked\n"
	    "twice on a terminal, read as one line with --password-stdin,\n"
	    "or else generated and printed. --key registers the user's\n"
	    "first SSH public key ('ssh-ed25519 AAAA... comment').",
	.flags = CMD_ADMIN,
	.min_args = 1, .max_args = 1,
	.opts = {
		{ "admin", 0, 0, NULL },
		{ "password-stdin", 0, 0, NULL },
		{ "key", 0, 1, "PUBKEY" },
	},
	.exec = cmd_admin_user_add_exec,
};
