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

void
audit(struct ctx *c, const char *result)
{
	/*
	 * The target and result come from the request (names not yet
	 * checked, argv in error messages): stored inert, so neither the
	 * log nor 'admin log' on an admin's terminal runs what they carry.
	 */
	char target[sizeof(c->target)], res[400];

	inert_copy(target, sizeof(target), c->target);
	inert_copy(res, sizeof(res), result);
	if (auditdb_add(c->db, (long long)time(NULL), c->id.actor,
	    c->id.user[0] != '\0' ? c->id.user : NULL, c->cmd->name,
	    target[0] != '\0' ? target : NULL, res) != 0)
		log_error("audit log: %s (%s by %s)", c->db->err, c->cmd->name,
		    c->id.actor);
	log_info("%s: %s %s: %s", c->id.actor, c->cmd->name, target, res);
}
