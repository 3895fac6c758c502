/*
 * audit.c - one audit row for every change: time, actor, lab user,
 * command, target and result. (The lab user name rule is in names.c.)
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "labcd.h"
#include "log.h"

/*
 * The target comes from the request (a name not yet checked): control
 * characters would let a client write lines of its own into the log.
 */
static const char *
printable(const char *s, char *out, size_t outsz)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < outsz; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[i] = '\0';
	return out;
}

void
audit(struct ctx *c, const char *result)
{
	char target[sizeof(c->target)], res[256];

	sqlite3_stmt *st = db_prepare(c->db, "INSERT INTO audit (time, actor, "
	    "user, command, target, result) VALUES (?, ?, ?, ?, ?, ?)");

	sqlite3_bind_int64(st, 1, (long long)time(NULL));
	sqlite3_bind_text(st, 2, c->id.actor, -1, SQLITE_STATIC);
	if (c->id.user[0] != '\0')
		sqlite3_bind_text(st, 3, c->id.user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->cmd->name, -1, SQLITE_STATIC);
	if (c->target[0] != '\0')
		sqlite3_bind_text(st, 5, c->target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, result, -1, SQLITE_STATIC);
	if (db_done(c->db, st) != 0)
		log_error("audit log: %s (%s by %s)", c->db->err, c->cmd->name,
		    c->id.actor);
	log_info("%s: %s %s: %s", c->id.actor, c->cmd->name,
	    printable(c->target, target, sizeof(target)),
	    printable(result, res, sizeof(res)));
}
