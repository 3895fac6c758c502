/*
 * db-notices.h - the notices table (db-notices.c): lines labcd has for a
 * lab user, shown at their next labc command and then gone (a GPU lease
 * about to end, a GPU taken back).
 */
#ifndef LABCD_DB_NOTICES_H
#define LABCD_DB_NOTICES_H

#include <stddef.h>

#include "db.h"

#define NOTICE_MAX	512	/* bytes of one notice */
#define NOTICES_KEPT	50	/* per user: older ones go */

/* Keep a notice for user_id. 0 or -1. */
int	noticedb_add(struct db *db, long long user_id, const char *text);
/*
 * The user's notices, oldest first (at most max, into out[i] of
 * NOTICE_MAX bytes each), removed as they are read. How many.
 */
size_t	noticedb_take(struct db *db, long long user_id,
	    char (*out)[NOTICE_MAX], size_t max);
/* Has the user any? 1 or 0 (cheap: before every command). */
int	noticedb_any(struct db *db, long long user_id);

#endif
