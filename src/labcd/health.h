/*
 * health.h - labcd watching itself (health.c): doctor's checks run in the
 * background every doctor_interval, their last result kept for admins
 * (a notice at their next command; health_last keeps it for the status
 * page, issue 18, not written yet), and the audit log pruned to
 * audit_retention_days (db-audit.c removes the rows).
 */
#ifndef LABCD_HEALTH_H
#define LABCD_HEALTH_H

#include <jansson.h>

#include "labcd.h"

/* The background thread: start-up, then every doctor_interval. */
void	health_start(struct server *s);
void	health_stop(void);

/*
 * The last background result, for the status page (issue 18: no caller
 * yet): {"time": unix
 * seconds, "problems": N, "warnings": N, "checks": [rows as objects]},
 * or NULL before the first run. Caller decrefs.
 */
json_t	*health_last(void);

/*
 * Before a command runs: an admin who has not been told of the problems
 * the last background run found new gets one line on stderr (a progress
 * message), once. quiet: the client shows nothing of this exchange.
 */
void	health_notice(struct ctx *c, int quiet);

#endif
