/*
 * users.c - lab user accounts: setting a password (hashed, other sessions
 * ended), and asking the person for a new one (twice on a terminal, or
 * generating one). The rows are db-users.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "db-sessions.h"
#include "log.h"
#include "proto.h"
#include "users.h"
#include "xmalloc.h"

void
users_end_sessions(struct db *db, long long id, const char *keep_token)
{
	char keep[65];

	if (keep_token != NULL)
		auth_token_hash(keep_token, keep);
	if (sessdb_end_user(db, id, keep_token != NULL ? keep : NULL) != 0)
		log_error("sessions of user %lld not ended: %s", id, db->err);
}

int
users_set_password(struct db *db, long long id, const char *password,
    const char *keep_token)
{
	char hash[128];
	int r;

	if ((r = auth_hash(password, hash)) != 0) {
		snprintf(db->err, sizeof(db->err), "%s", r == -EBUSY ?
		    "labcd is busy checking other passwords; try again in a "
		    "moment" : "hashing the password failed (out of memory?)");
		return -1;
	}
	r = userdb_set_pwhash(db, id, hash);
	sodium_memzero(hash, sizeof(hash));
	/* Whoever knew the old password is logged out with it. */
	if (r == 0)
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
