/*
 * db-doctor.c - doctor's check of the database: db_check's integrity and
 * foreign-key findings as rows, with the sqlite3 commands that mend
 * them. No SQL here: db_check (db.c) asks.
 */
#include <stdlib.h>

#include "checkup.h"
#include "labcd.h"
#include "xmalloc.h"

void
db_doctor(struct checkup *d)
{
	struct op *op = checkup_op(d);
	const char *db = op->srv->db_path;
	char *fix = xasprintf("stop labcd, keep a copy of %s, then: sqlite3 %s "
	    "'.recover' | sqlite3 %s.new && mv %s.new %s", db, db, db, db, db);
	char *integrity, *fk;
	int n;

	if (db_check(op->db, &integrity, &fk, &n) != 0) {
		checkup_row(d, "database", "problem", fix, "%s: %s", db,
		    integrity);
		goto out;
	}
	if (integrity != NULL)
		checkup_row(d, "database", "problem", fix, "%s: "
		    "integrity_check: %s", db, integrity);
	if (fk == NULL)
		goto out;
	if (n > 0) {
		char *f2 = xasprintf("stop labcd, keep a copy of %s, and "
		    "delete the rows that point nowhere (sqlite3 %s 'PRAGMA "
		    "foreign_key_check')", db, db);

		checkup_row(d, "database", "problem", f2, "%d row%s whose "
		    "owner is gone: %s%s", n, n == 1 ? "" : "s", fk,
		    n > 3 ? "; ..." : "");
		free(f2);
	} else if (integrity == NULL)
		checkup_row(d, "database", "ok", NULL, "%s: integrity_check "
		    "ok, no broken references (schema %d)", db,
		    db_schema_version(op->db));
out:
	free(integrity);
	free(fk);
	free(fix);
}
