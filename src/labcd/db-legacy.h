/*
 * db-legacy.h - the original tool's SQLite file, read for admin import
 * (db-legacy.c): opened read-only and defensively, its tables read by
 * whichever of the known column names it has.
 */
#ifndef LABCD_DB_LEGACY_H
#define LABCD_DB_LEGACY_H

#include <stddef.h>

struct legacydb;

/* Open path read-only, running nothing of the file's. NULL + err. */
struct legacydb *legacydb_open(const char *path, char *err, size_t errsz);
void	legacydb_close(struct legacydb *o);
/* The first of names that table has as a column (caller frees), or NULL. */
char	*legacydb_column(struct legacydb *o, const char *table,
	    const char *const *names);
/* Has lab_users a row whose ucol is name? 1 or 0. */
int	legacydb_has_user(struct legacydb *o, const char *ucol,
	    const char *name);
/*
 * Each lab_users ucol, in order: fn(arg, name), name NULL if not text.
 * 0, or -1 with the file's reason in err.
 */
int	legacydb_users(struct legacydb *o, const char *ucol,
	    void (*fn)(void *, const unsigned char *), void *arg, char *err,
	    size_t errsz);
/*
 * Each lab_containers row by owner and name: fn(arg, name, owner, port)
 * (NULL where not text; port 0 if pcol is NULL), until fn returns
 * non-zero. 0, or -1 with the file's reason in err.
 */
int	legacydb_containers(struct legacydb *o, const char *ncol,
	    const char *ocol, const char *pcol, int (*fn)(void *,
	    const unsigned char *, const unsigned char *, int), void *arg,
	    char *err, size_t errsz);

#endif
