/*
 * audit.c - one audit row for every change: time, actor, lab user,
 * command, target and result, stored inert (db-audit.c writes it) and
 * logged.
 */
#include <stdio.h>
#include <time.h>

#include "db-audit.h"
#include "inert.h"
#include "labcd.h"
#include "log.h"

#define AUDIT_TARGET_MAX	128	/* as a request's (struct ctx) */

void
audit_row(struct db *db, const char *actor, const char *user,
    const char *command, const char *target, const char *result)
{
	/*
	 * The target and result come from the request (names not yet
	 * checked, argv in error messages): stored inert, so neither the
	 * log nor 'admin log' on an admin's terminal runs what they carry.
	 */
	char tgt[AUDIT_TARGET_MAX], res[400];

	inert_copy(tgt, sizeof(tgt), target != NULL ? target : "");
	inert_copy(res, sizeof(res), result);
	if (auditdb_add(db, (long long)time(NULL), actor, user != NULL &&
	    user[0] != '\0' ? user : NULL, command, tgt[0] != '\0' ? tgt :
	    NULL, res) != 0)
		log_error("audit log: %s (%s by %s)", db->err, command, actor);
	log_info("%s: %s %s: %s", actor, command, tgt, res);
}

void
audit(struct ctx *c, const char *result)
{
	audit_row(c->db, c->id.actor, c->id.user, c->cmd->name, c->target,
	    result);
}
