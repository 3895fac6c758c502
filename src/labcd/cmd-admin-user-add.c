/*
 * cmd-admin-user-add.c - admin user add: a new lab user account, and the
 * welcome message for the admin to send them (how to reach the server,
 * log in and take the first steps).
 */
#include <stdio.h>
#include <string.h>

#include "ct.h"
#include "keys.h"
#include "labcd.h"
#include "proto.h"
#include "users.h"

/*
 * What the new member needs, between two lines the admin copies: the
 * server, its gateway, logging in (pw: the generated password, NULL when
 * the admin chose it; key: a key of theirs is registered already), the
 * first steps and the guide.
 */
static void
welcome(struct ctx *c, const char *name, const char *pw, int key)
{
	const struct config *cfg = &c->srv->cfg;
	char server[256], suffix[256], gw[320];

	config_server_name(cfg, server, sizeof(server));
	config_server_suffix(cfg, suffix, sizeof(suffix));
	if (cfg->gateway_port != 22)
		snprintf(gw, sizeof(gw), "ssh -p %d %s@%s", cfg->gateway_port,
		    cfg->gateway_user, server);
	else
		snprintf(gw, sizeof(gw), "ssh %s@%s", cfg->gateway_user,
		    server);
	ctx_printf(c, "\nSend %s this welcome message (the text between the "
	    "lines):\n"
	    "----------------------------- 8< -----------------------------\n"
	    "Hello %s,\n\nyou have an account on the lab's GPU server %s.\n\n",
	    name, name, server);
	if (key) {
		ctx_printf(c, "1. Your SSH key is registered: on your laptop\n"
		    "       %s\n   logs you in as %s, no password needed.\n",
		    gw, name);
		if (pw != NULL)
			ctx_printf(c, "   Your password (for 'login' from another "
			    "key; change it\n   with 'passwd'): %s\n", pw);
	} else
		ctx_printf(c, "1. On your laptop, make an SSH key if you have "
		    "none (give it a\n   passphrase; on Windows in PowerShell; "
		    "the guide has more):\n       ssh-keygen -t ed25519\n"
		    "2. Log in through the lab's gateway with it (the first "
		    "time, ssh asks\n   whether to trust the server: yes):\n"
		    "       %s\n"
		    "   and at its prompt type\n       login %s\n"
		    "   with %s%s, and answer Y to make the key\n"
		    "   yours: from then on the same ssh logs you in directly.\n"
		    "   Change the password there with 'passwd'.\n", gw, name,
		    pw != NULL ?
		    "the password " : "the password I gave you", pw != NULL ?
		    pw : "");
	ctx_printf(c, "%d. First steps, at the lab prompt:\n"
	    "       guide                 the member guide (Windows, macOS, "
	    "Linux)\n"
	    "       launch box --gpu 0    your container 'box', with GPU 0\n"
	    "   then once, on your laptop (for Windows see the guide):\n"
	    "       %s ssh-config >> ~/.ssh/config\n"
	    "   and from then on, to work in your container:\n"
	    "       ssh box.%s\n\n"
	    "The member guide, any time: %s guide\n"
	    "----------------------------- 8< -----------------------------\n",
	    key ? 2 : 3, gw, suffix, gw);
}

static int
cmd_admin_user_add_exec(struct ctx *c)
{
	const char *name = c->args.argv[0], *key = cmd_opt(c, "key");
	const char *why = user_name_invalid(name);
	struct user_row u;
	char *pw = NULL, fp[64] = "";
	long long id;
	int r, gen = 0;

	ctx_target(c, "%.64s", name);
	if (why != NULL)
		return ctx_usage(c, "'%.64s' cannot be a user name: %s", name,
		    why);
	if (userdb_get(c->db, name, &u) == 0)
		return ctx_error(c, "lab user %s exists already", name);
	r = users_ask_password(c, name, cmd_opt(c, "password-stdin") != NULL,
	    &pw, &gen);
	if (r != 0)
		return r;

	if (db_begin(c->db) != 0) {
		users_forget(pw);
		return ctx_error(c, "admin user add: %s", c->db->err);
	}
	/* Quotas of labcd's own: quota_gpus, quota_snapshots. */
	if (userdb_add(c->db, name, cmd_opt(c, "admin") != NULL,
	    c->srv->cfg.quota_gpus, c->srv->cfg.quota_snapshots, &id) != 0) {
		r = ctx_error(c, "admin user add: %s", c->db->err);
		goto fail;
	}
	if (users_set_password(c->db, id, pw, NULL) != 0) {
		r = ctx_error(c, "admin user add: %s", c->db->err);
		goto fail;
	}
	if (key != NULL && keys_add(ctx_op(c), id, key, 1, fp) != 0) {
		r = ctx_fail(c, ctx_op(c));
		goto fail;
	}
	if (db_commit(c->db) != 0) {
		r = ctx_error(c, "admin user add: %s", c->db->err);
		goto fail;
	}
	ctx_printf(c, "Lab user %s added%s.\n", name, cmd_opt(c, "admin") ?
	    " (admin)" : "");
	/* The LXD project now; if LXD is away, at the first launch. */
	if (project_ensure(ctx_op(c), id, name, NULL) != 0)
		ctx_printf(c, "Note: %s's LXD project is not made yet (%s); "
		    "it will be at their first launch.\n", name,
		    ctx_op(c)->cause);
	if (*fp != '\0')
		ctx_printf(c, "SSH key %s registered.\n", fp);
	if (gen)
		ctx_printf(c, "Password for %s: %s\n(give it to %s; they change "
		    "it with 'passwd')\n", name, pw, name);
	welcome(c, name, gen ? pw : NULL, *fp != '\0');
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
	    "first SSH public key ('ssh-ed25519 AAAA... comment'). It ends\n"
	    "with a welcome message to send them: the server (gateway_host),\n"
	    "how to log in, the first steps and where the guide is.",
	.flags = CMD_ADMIN,
	.min_args = 1, .max_args = 1,
	.opts = {
		{ "admin", 0, 0, NULL },
		{ "password-stdin", 0, 0, NULL },
		{ "key", 0, 1, "PUBKEY" },
	},
	.exec = cmd_admin_user_add_exec,
};
