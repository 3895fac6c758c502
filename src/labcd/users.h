/* users.h - lab user accounts: passwords (users.c; rows: db-users.h). */
#ifndef LABCD_USERS_H
#define LABCD_USERS_H

#include "db-users.h"
#include "labcd.h"

/*
 * Set a password and end the user's sessions but keep_token's (the
 * caller's own, for passwd; NULL: all of them).
 */
int	users_set_password(struct db *db, long long id, const char *password,
	    const char *keep_token);
/* End the user's password sessions but keep_token's (NULL: all). */
void	users_end_sessions(struct db *db, long long id, const char *keep_token);
/*
 * Get a new password for user: prompt once (from_stdin), twice (on a
 * terminal), or generate one (no terminal). 0 and *pw (caller wipes and
 * frees; *generated set), or a PROTO_* status with the reason said.
 * Reply code, not domain: it asks the person at the other end of the
 * request (ctx_prompt), so it takes the request.
 */
int	users_ask_password(struct ctx *c, const char *user, int from_stdin,
	    char **pw, int *generated);
/* Wipe and free a password. */
void	users_forget(char *pw);
/* "2026-11-29 02:03:04" in UTC. */
void	users_time(long long t, char out[32]);

#endif
