/*
 * db-audit.h - the audit table (db-audit.c): one row per change, kept
 * audit_retention_days. Writes return 0 or -1 with db->err (db.h).
 */
#ifndef LABCD_DB_AUDIT_H
#define LABCD_DB_AUDIT_H

#include "db.h"

#define AUDIT_PRUNE_BATCH	5000

/* A row; user and target may be NULL (none). */
struct audit_row {
	long long	 time;
	char		*actor;
	char		*user;
	char		*command;
	char		*target;
	char		*result;
};

/* Write a row, the strings as they are (user, target: NULL for none). */
int	auditdb_add(struct db *db, long long when, const char *actor,
	    const char *user, const char *command, const char *target,
	    const char *result);
/*
 * The newest limit rows (of user; NULL: everyone's), oldest first, into
 * *rows (caller auditdb_free); how many.
 */
int	auditdb_list(struct db *db, const char *user, long limit,
	    struct audit_row **rows);
void	auditdb_free(struct audit_row *rows, int n);
/* How many rows are older than before. */
int	auditdb_count_before(struct db *db, long long before);
/* The time of the first row of actor and command, 0 if none. */
long long auditdb_first(struct db *db, const char *actor,
	    const char *command);
/*
 * Remove rows older than before, AUDIT_PRUNE_BATCH at a time, each batch
 * its own transaction with a pause between; how many, or -1 (db->err).
 */
int	auditdb_prune(struct db *db, long long before);

#endif
