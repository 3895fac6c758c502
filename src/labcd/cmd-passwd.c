/*
 * cmd-passwd.c - passwd: change your own password. Wrong current passwords
 * are counted like login's (throttle.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "labcd.h"
#include "proto.h"
#include "users.h"

static int
cmd_passwd_exec(struct ctx *c)
{
	struct user_row u;
	char *old = NULL, *pw = NULL, *hash = NULL;
	const char *why;
	long long left;
	int r, gen;

	ctx_target(c, "%s", c->id.user);
	if (userdb_get(c->db, c->id.user, &u) != 0)
		return ctx_error(c, "passwd: your account is gone");
	/* Whoever has a password proves it first. */
	if (u.has_password) {
		hash = userdb_pwhash(c->db, u.id);
		if (ctx_prompt(c, "Current password: ", 0, &old) != 0) {
			free(hash);
			return ctx_error(c, "passwd: no password given: nothing "
			    "changed");
		}
		/* Counted like login: a stolen session is no free guesses. */
		if ((left = throttle_claim(c->srv, u.name, c->place,
		    &why)) != 0) {
			users_forget(old);
			free(hash);
			return ctx_error(c, "passwd: %s: try again in %lld "
			    "seconds; nothing changed", why, left);
		}
		r = auth_verify(hash, old, c->id.gw_key != NULL &&
		    c->id.user_id == 0);
		users_forget(old);
		free(hash);
		(void)throttle_done(c->srv, u.name, c->place, r == 0 ? 1 :
		    r == -EBUSY ? -1 : 0, &left);
		if (r == -EBUSY)
			return ctx_error(c, "passwd: labcd is busy checking "
			    "other passwords; try again in a moment: nothing "
			    "changed");
		if (r != 0 && left > 0)
			return ctx_error(c, "passwd: the current password is "
			    "wrong; too many wrong passwords: wait %lld seconds "
			    "before the next try from here; nothing changed",
			    left);
		if (r != 0)
			return ctx_error(c, "passwd: the current password is "
			    "wrong: nothing changed");
	}
	/* Always ask: a generated password would be shown on screen. */
	if ((r = users_ask_password(c, u.name, !c->tty, &pw, &gen)) != 0)
		return r;
	/* Other sessions end; this one, if it is one, goes on. */
	r = users_set_password(c->db, u.id, pw, strcmp(c->id.via, "session") ==
	    0 ? c->session : NULL);
	users_forget(pw);
	if (r != 0)
		return ctx_error(c, "passwd: %s", c->db->err);
	ctx_printf(c, "Password changed.\n");
	return PROTO_OK;
}

const struct cmd_entry cmd_passwd_entry = {
	.name = "passwd",
	.args = "",
	.summary = "change your password",
	.help = "Asks for the current password, then the new one twice\n"
	    "(from a pipe: current and new, one per line).",
	.flags = CMD_USER,
	.exec = cmd_passwd_exec,
};
