/*
 * cmd-login.c - login: a password gives a session bound to the caller's
 * uid. Wrong passwords are counted per place (throttle.c): later tries are
 * slowed down, then that place waits login_lockout seconds; the account is
 * never locked by guessing. An unknown user gets the same answers as a
 * known one with a wrong password. In an anonymous gateway session it
 * offers to make the session's key the user's (claim_key).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ct.h"
#include "db-audit.h"
#include "db-keys.h"
#include "db-sessions.h"
#include "keys.h"
#include "labcd.h"
#include "log.h"
#include "proto.h"
#include "sshkey.h"
#include "users.h"
#include "xmalloc.h"

/* An extra audit row (the squatter's side of a move). */
static void
audit_other(struct ctx *c, const char *user, const char *result)
{
	(void)auditdb_add(c->db, (long long)time(NULL), c->id.actor, user,
	    c->cmd->name, c->target, result);
}

/*
 * After a password login in an anonymous gateway session: offer to make
 * the key that session was opened with (c->id.gw_key) the user's proven
 * key. Holding the key is proven by construction: sshd accepted it. A
 * copy someone else pasted (unproven) moves to the user; both are audited.
 * Says what it did; never fails the login.
 */
static void
claim_key(struct ctx *c, long long user_id, const char *user)
{
	struct key_row row;
	struct sshkey k;
	char err[256], owner[33] = "", *yes = NULL, *res;
	long long owner_id = 0;
	int proven = 0, found, moved;

	if (c->id.gw_key[0] == '\0' ||
	    sshkey_parse(c->id.gw_key, &k, err, sizeof(err)) != 0)
		return;
	if ((found = keydb_find(c->db, k.fingerprint, &row) == 0)) {
		owner_id = row.user_id;
		proven = row.proven;
		snprintf(owner, sizeof(owner), "%s", row.user);
		keydb_row_free(&row);
	}
	if (found && proven && owner_id == user_id)
		goto out;	/* already (an account unlocked since) */
	if (found && proven) {
		ctx_printf(c, "This session's key %s is another lab user's; it "
		    "stays theirs. Use your own key: ssh -i ~/.ssh/YOURKEY -o "
		    "IdentitiesOnly=yes ...\n", k.fingerprint);
		goto out;
	}
	if (ctx_prompt(c, found && owner_id == user_id ? "Confirm the key "
	    "of this SSH session as yours, so that it logs you in directly "
	    "from now on? [Y/n] " : "Register the key of this SSH session as "
	    "yours, so that it logs you in directly from now on? [Y/n] ", 1,
	    &yes) != 0 || (yes[0] != '\0' && strchr("yY", yes[0]) == NULL)) {
		ctx_printf(c, "The key %s was not registered; 'login' again "
		    "from this session to register it.\n", k.fingerprint);
		goto out;
	}
	if (db_begin(c->db) != 0)
		goto fail;
	if (!found) {
		if (keys_add(ctx_op(c), user_id, c->id.gw_key, 1, NULL) != 0) {
			(void)ctx_fail(c, ctx_op(c));
			db_rollback(c->db);
			goto out;
		}
	} else {
		if ((moved = keydb_prove(c->db, k.fingerprint, user_id)) < 0) {
			db_rollback(c->db);
			goto fail;
		}
		/* Deleted or proven by someone else while we asked. */
		if (moved != 1) {
			db_rollback(c->db);
			ctx_printf(c, "The key %s changed while you answered; "
			    "'login' again from this session to register it.\n",
			    k.fingerprint);
			goto out;
		}
	}
	if (db_commit(c->db) != 0)
		goto fail;
	if (found && owner_id != user_id) {
		/* A squatter pasted it: it is the holder's now, both know. */
		res = xasprintf("key %s moved from %s to %s, who holds it "
		    "(login with it through the gateway)", k.fingerprint, owner,
		    user);
		audit(c, res);
		audit_other(c, owner, res);
		free(res);
		(void)ct_sync_keys(ctx_op(c), owner_id, owner);
		ctx_printf(c, "Key %s is yours now and proven (another lab user "
		    "had pasted it; it is no longer theirs).\n", k.fingerprint);
	} else {
		res = xasprintf("key %s %s (login with it through the "
		    "gateway)", k.fingerprint, found ? "proven" :
		    "registered and proven");
		audit(c, res);
		free(res);
		ctx_printf(c, "Key %s %s: from now on 'ssh %s@...' with it logs "
		    "you in as %s.\n", k.fingerprint, found ? "is proven" :
		    "registered", c->srv->cfg.gateway_user, user);
	}
	if (ct_sync_keys(ctx_op(c), user_id, user) != 0)
		ctx_printf(c, "Some containers could not be updated now; they "
		    "are when they next start.\n");
	goto out;
fail:
	ctx_printf(c, "The key could not be registered: %s\n", c->db->err);
out:
	free(yes);
	sshkey_free(&k);
}

/* Wrong password: slow the next one down, say what this one cost. */
static int
wrong(struct ctx *c, const char *name)
{
	long long wait;
	int n;

	n = throttle_done(c->srv, name, c->place, 0, &wait);
	if (wait > 0) {
		log_warn("login: %s from %s: %d wrong passwords in a row, that "
		    "place waits %lld s", name, c->place, n, wait);
		return ctx_error(c, "login incorrect; too many wrong passwords: "
		    "wait %lld seconds before the next try from here", wait);
	}
	/* A second more per wrong one in a row, up to 3. */
	sleep(n < 3 ? (unsigned)n : 3);
	return ctx_error(c, "login incorrect");
}

static int
cmd_login_exec(struct ctx *c)
{
	struct user_row u;
	char *name = NULL, *pw = NULL, *hash = NULL, tokhash[65];
	long long now = (long long)time(NULL), left;
	const char *why;
	int found, r;

	if (c->args.argc == 1)
		name = xstrdup(c->args.argv[0]);
	else if (ctx_prompt(c, "Username: ", 1, &name) != 0)
		return ctx_error(c, "login: no user name given");
	if (user_name_invalid(name) != NULL) {
		ctx_target(c, "(invalid name)");
		free(name);
		return ctx_error(c, "login incorrect");
	}
	ctx_target(c, "%s", name);
	if (ctx_prompt(c, "Password: ", 0, &pw) != 0) {
		free(name);
		return ctx_error(c, "login: no password given");
	}
	/*
	 * Everything up to the password check is the same whether the user
	 * exists or not: the throttle counts names as typed, and a missing
	 * hash costs the same work. Only the right password learns more.
	 * A host uid that still has a session of the name logged in as it
	 * before: known, after a restart too (the throttle forgets). The
	 * gateway's sessions say nothing of the key, so keys are not.
	 */
	if (strncmp(c->place, "uid ", 4) == 0) {
		if (sessdb_known(c->db, name, c->id.uid, now))
			throttle_known(c->srv, name, c->place);
	}
	if ((left = throttle_claim(c->srv, name, c->place, &why)) != 0) {
		users_forget(pw);
		r = ctx_error(c, "login: %s: try again in %lld seconds", why,
		    left);
		free(name);
		return r;
	}
	found = userdb_get(c->db, name, &u) == 0;
	if (found)
		hash = userdb_pwhash(c->db, u.id);
	/* An anonymous gateway session: one slot at most (keys are free). */
	r = auth_verify(hash, pw, c->id.gw_key != NULL && c->id.user_id == 0);
	users_forget(pw);
	free(hash);
	if (r == -EBUSY) {
		long long dummy;

		(void)throttle_done(c->srv, name, c->place, -1, &dummy);
		free(name);
		return ctx_error(c, "login: labcd is busy checking other "
		    "passwords; try again in a moment (nothing was counted)");
	}
	if (r != 0 || !found) {
		r = wrong(c, name);
		free(name);
		return r;
	}
	(void)throttle_done(c->srv, name, c->place, 1, &left);
	free(name);
	if (u.disabled)
		return ctx_error(c, "%s is locked by an admin", u.name);
	c->new_session = auth_new_token(tokhash);
	r = sessdb_add(c->db, tokhash, u.id, c->id.uid, now, now +
	    c->srv->cfg.session_ttl);
	/* Old sessions go when someone logs in: no table that only grows. */
	(void)sessdb_prune(c->db, now);
	if (r != 0) {
		free(c->new_session);
		c->new_session = NULL;
		return ctx_error(c, "login: cannot record the session: %s",
		    c->db->err);
	}
	snprintf(c->id.user, sizeof(c->id.user), "%s", u.name);
	snprintf(c->id.actor, sizeof(c->id.actor), "%s", u.name);
	ctx_printf(c, "Logged in as %s%s.\n", u.name, u.is_admin ?
	    " (admin)" : "");
	if (c->id.gw_key != NULL)	/* the key this SSH session came with */
		claim_key(c, u.id, u.name);
	return PROTO_OK;
}

const struct cmd_entry cmd_login_entry = {
	.name = "login",
	.args = "[USER]",
	.summary = "log in with your lab user name and password",
	.help = "Asks for the password without showing it. After too many\n"
	    "wrong passwords, tries from the same place wait a while.",
	.flags = CMD_ANON,
	.min_args = 0, .max_args = 1,
	.exec = cmd_login_exec,
};
