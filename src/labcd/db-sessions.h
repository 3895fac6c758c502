/*
 * db-sessions.h - the sessions table (db-sessions.c): password sessions,
 * stored by the hash of their token (auth_token_hash), each bound to the
 * host uid that logged in. Writes return 0 or -1 with db->err (db.h).
 */
#ifndef LABCD_DB_SESSIONS_H
#define LABCD_DB_SESSIONS_H

#include <sys/types.h>

#include "db.h"

int	sessdb_add(struct db *db, const char *token_hash, long long user_id,
	    uid_t uid, long long created, long long expires);
/* Sessions that expired by now go. */
int	sessdb_prune(struct db *db, long long now);
int	sessdb_delete(struct db *db, const char *token_hash);
/* Every session of the user but keep_hash's (NULL: all of them). */
int	sessdb_end_user(struct db *db, long long user_id,
	    const char *keep_hash);
/*
 * The session of token_hash, valid at now: 0 with its user's name and the
 * uid that logged in, or -1 if none.
 */
int	sessdb_find(struct db *db, const char *token_hash, long long now,
	    char user[33], long long *uid);
/* Has uid a session of the user named name, valid at now? 1 or 0. */
int	sessdb_known(struct db *db, const char *name, uid_t uid,
	    long long now);

#endif
