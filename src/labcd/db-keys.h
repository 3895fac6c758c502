/*
 * db-keys.h - the keys table (db-keys.c): lab users' SSH public keys, one
 * lab user per key (the fingerprint is unique), proven or not. Writes
 * return 0 or -1 with the reason in db->err (db.h).
 */
#ifndef LABCD_DB_KEYS_H
#define LABCD_DB_KEYS_H

#include "db.h"

struct key_row {
	long long	 id;
	long long	 user_id;
	char		 user[33];	/* the owner's name */
	char		*type;		/* "ssh-ed25519" */
	char		*blob;		/* base64 */
	char		*fingerprint;	/* "SHA256:..." */
	char		*comment;
	long long	 created;
	int		 proven;	/* logs its user in at the gateway */
};

/* Free one row's strings. */
void	keydb_row_free(struct key_row *k);
/* Free n rows and their array (NULL: nothing). */
void	keydb_free(struct key_row *rows, int n);

/* The key of fingerprint fp: 0 and *k (keydb_row_free), -1 none. */
int	keydb_find(struct db *db, const char *fp, struct key_row *k);
/* Is fp a proven key (of user_id; 0: of anyone)? 1 or 0. */
int	keydb_proven(struct db *db, const char *fp, long long user_id);
/* The user's keys, oldest first, into *rows (caller keydb_free); how many. */
int	keydb_list(struct db *db, long long user_id, struct key_row **rows);
/*
 * The keys that log someone in at the gateway: proven ones of users not
 * locked (fp: only that one; NULL: all), by user name; how many.
 */
int	keydb_usable(struct db *db, const char *fp, struct key_row **rows);
/* How many of the user's keys have fingerprint fp or comment comment. */
int	keydb_count_match(struct db *db, long long user_id, const char *fp,
	    const char *comment);

int	keydb_add(struct db *db, long long user_id, const char *type,
	    const char *blob, const char *fp, const char *comment, int proven);
/*
 * An unproven key becomes user_id's, proven. The number of keys changed
 * (0: none such any more), or -1.
 */
int	keydb_prove(struct db *db, const char *fp, long long user_id);
/* The user's keys with fingerprint fp or comment comment go. */
int	keydb_delete_match(struct db *db, long long user_id, const char *fp,
	    const char *comment);

#endif
