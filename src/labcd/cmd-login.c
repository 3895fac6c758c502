/*
 * cmd-login.c - login: a password gives a session bound to the caller's
 * uid. Wrong passwords are counted: later tries are slowed down, then the
 * account is locked for login_lockout seconds (and the audit log says so).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "labcd.h"
#include "log.h"
#include "proto.h"
#include "users.h"
#include "xmalloc.h"

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy[128];

static void
make_dummy(void)
{
	(void)auth_hash("labcontainers: no such user", dummy);
}

static void
lock_account(struct ctx *c, const struct user_row *u, long long now)
{
	sqlite3_stmt *st = db_prepare(c->db, "UPDATE users SET failures = 0, "
	    "locked_until = ? WHERE id = ?");

	sqlite3_bind_int64(st, 1, now + c->srv->cfg.login_lockout);
	sqlite3_bind_int64(st, 2, u->id);
	(void)db_done(c->db, st);
}

/*
 * Count this try before its password is checked, in one statement: tries
 * made in parallel each take one of the login_max_failures, so no more
 * guesses than that are ever checked before the lockout (a count read
 * first and raised after a wrong password let every try in flight through,
 * up to max_clients of them). 0 and u->failures with this try, or the
 * seconds the account stays locked.
 */
static long long
claim_try(struct ctx *c, struct user_row *u, long long now)
{
	int max = c->srv->cfg.login_max_failures;
	long long left = 1;
	sqlite3_stmt *st;

	st = db_prepare(c->db, "UPDATE users SET failures = failures + 1 "
	    "WHERE id = ? AND locked_until <= ? RETURNING failures");
	sqlite3_bind_int64(st, 1, u->id);
	sqlite3_bind_int64(st, 2, now);
	u->failures = sqlite3_step(st) == SQLITE_ROW ?
	    sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	if (u->failures >= 0 && u->failures <= max)
		return 0;
	if (u->failures > max) {	/* more tries at once than allowed */
		lock_account(c, u, now);
		log_warn("login: %s locked for %d s: more than %d tries at "
		    "once", u->name, c->srv->cfg.login_lockout, max);
	}
	st = db_prepare(c->db, "SELECT locked_until FROM users WHERE id = ?");
	sqlite3_bind_int64(st, 1, u->id);
	if (sqlite3_step(st) == SQLITE_ROW)
		left = sqlite3_column_int64(st, 0) - now;
	sqlite3_finalize(st);
	return left > 0 ? left : 1;
}

static int
cmd_login_exec(struct ctx *c)
{
	struct user_row u;
	char *name = NULL, *pw = NULL, *hash = NULL, tokhash[65];
	long long now = (long long)time(NULL), left;
	sqlite3_stmt *st;
	int found, ok, r;

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
	found = users_get(c->db, name, &u) == 0;
	if (found && u.disabled) {
		users_forget(pw);
		free(name);
		return ctx_error(c, "%s is locked by an admin", u.name);
	}
	if (found && (left = claim_try(c, &u, now)) != 0) {
		users_forget(pw);
		free(name);
		return ctx_error(c, "too many wrong passwords: %s is locked for "
		    "%lld more seconds (or until an admin sets a new password)",
		    u.name, left);
	}
	if (found) {
		st = db_prepare(c->db, "SELECT pwhash FROM users WHERE id = ?");
		sqlite3_bind_int64(st, 1, u.id);
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_text(st, 0) != NULL)
			hash = xstrdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	pthread_once(&dummy_once, make_dummy);
	/* Same work whether or not the user exists or has a password. */
	ok = auth_verify(hash != NULL ? hash : dummy, pw) == 0 && hash != NULL;
	users_forget(pw);
	free(hash);
	free(name);
	if (!ok) {
		if (found && u.failures >= c->srv->cfg.login_max_failures) {
			lock_account(c, &u, now);
			log_warn("login: %s locked for %d s after %d wrong "
			    "passwords", u.name, c->srv->cfg.login_lockout,
			    c->srv->cfg.login_max_failures);
			return ctx_error(c, "login incorrect; too many wrong "
			    "passwords: the account is locked for %d seconds",
			    c->srv->cfg.login_lockout);
		}
		/* Slow down guessing: a second more per failure, up to 3. */
		if (found)
			sleep(u.failures < 3 ? (unsigned)u.failures : 3);
		return ctx_error(c, "login incorrect");
	}
	c->new_session = auth_new_token(tokhash);
	st = db_prepare(c->db, "INSERT INTO sessions (token_hash, user_id, "
	    "uid, created, expires) VALUES (?, ?, ?, ?, ?)");
	sqlite3_bind_text(st, 1, tokhash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, u.id);
	sqlite3_bind_int64(st, 3, (long long)c->id.uid);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, now + c->srv->cfg.session_ttl);
	r = db_done(c->db, st);
	st = db_prepare(c->db, "UPDATE users SET failures = 0 WHERE id = ?");
	sqlite3_bind_int64(st, 1, u.id);
	(void)db_done(c->db, st);
	/* Old sessions go when someone logs in: no table that only grows. */
	st = db_prepare(c->db, "DELETE FROM sessions WHERE expires <= ?");
	sqlite3_bind_int64(st, 1, now);
	(void)db_done(c->db, st);
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
	return PROTO_OK;
}

const struct cmd_entry cmd_login_entry = {
	.name = "login",
	.args = "[USER]",
	.summary = "log in with your lab user name and password",
	.help = "Asks for the password without showing it. After too many\n"
	    "wrong passwords the account is locked for a while.",
	.flags = CMD_ANON,
	.min_args = 0, .max_args = 1,
	.exec = cmd_login_exec,
};
