/*
 * users.c - lab user accounts: reading one, setting a password, and asking
 * the person for a new password (twice on a terminal, or generating one).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "log.h"
#include "proto.h"
#include "users.h"
#include "xmalloc.h"

int
users_get(struct db *db, const char *name, struct user_row *u)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT id, name, is_admin, "
	    "pwhash IS NOT NULL, failures, locked_until, created, disabled "
	    "FROM users WHERE name = ?");
	int r = -1;

	memset(u, 0, sizeof(*u));
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		u->id = sqlite3_column_int64(st, 0);
		snprintf(u->name, sizeof(u->name), "%s",
		    (const char *)sqlite3_column_text(st, 1));
		u->is_admin = sqlite3_column_int(st, 2);
		u->has_password = sqlite3_column_int(st, 3);
		u->failures = sqlite3_column_int(st, 4);
		u->locked_until = sqlite3_column_int64(st, 5);
		u->created = sqlite3_column_int64(st, 6);
		u->disabled = sqlite3_column_int(st, 7);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

void
users_end_sessions(struct db *db, long long id, const char *keep_token)
{
	sqlite3_stmt *st = db_prepare(db, "DELETE FROM sessions WHERE "
	    "user_id = ? AND token_hash IS NOT ?");
	char keep[65];

	sqlite3_bind_int64(st, 1, id);
	if (keep_token != NULL) {
		auth_token_hash(keep_token, keep);
		sqlite3_bind_text(st, 2, keep, -1, SQLITE_TRANSIENT);
	}
	if (db_done(db, st) != 0)
		log_error("sessions of user %lld not ended: %s", id, db->err);
}

int
users_set_password(struct db *db, long long id, const char *password,
    const char *keep_token)
{
	char hash[128];
	sqlite3_stmt *st;
	int r;

	if ((r = auth_hash(password, hash)) != 0) {
		snprintf(db->err, sizeof(db->err), "%s", r == -EBUSY ?
		    "labcd is busy checking other passwords; try again in a "
		    "moment" : "hashing the password failed (out of memory?)");
		return -1;
	}
	st = db_prepare(db, "UPDATE users SET pwhash = ?, failures = 0, "
	    "locked_until = 0 WHERE id = ?");
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, id);
	sodium_memzero(hash, sizeof(hash));
	/* Whoever knew the old password is logged out with it. */
	if ((r = db_done(db, st)) == 0)
		users_end_sessions(db, id, keep_token);
	return r;
}

void
users_forget(char *pw)
{
	if (pw == NULL)
		return;
	sodium_memzero(pw, strlen(pw));
	free(pw);
}

int
users_ask_password(struct ctx *c, const char *user, int from_stdin,
    char **pw, int *generated)
{
	char *again = NULL, *text;
	const char *why;

	*pw = NULL;
	*generated = 0;
	if (!from_stdin && !c->tty) {
		*pw = auth_generate();
		*generated = 1;
		return PROTO_OK;
	}
	text = xasprintf("New password for %s: ", user);
	if (ctx_prompt(c, text, 0, pw) != 0) {
		free(text);
		return ctx_error(c, "no password given: nothing changed");
	}
	free(text);
	if ((why = auth_weak(*pw, user)) != NULL) {
		users_forget(*pw);
		*pw = NULL;
		return ctx_error(c, "%s: nothing changed", why);
	}
	if (from_stdin)
		return PROTO_OK;
	if (ctx_prompt(c, "Again: ", 0, &again) != 0 ||
	    strcmp(again, *pw) != 0) {
		users_forget(again);
		users_forget(*pw);
		*pw = NULL;
		return ctx_error(c, "the two passwords differ: nothing changed");
	}
	users_forget(again);
	return PROTO_OK;
}

void
users_time(long long t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
}
