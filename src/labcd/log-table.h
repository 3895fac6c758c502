/* log-table.h - the audit log as a table (log-table.c), for log/admin log. */
#ifndef LABCD_LOG_TABLE_H
#define LABCD_LOG_TABLE_H

#include "labcd.h"

/* Rows of user (NULL: everyone), newest last, at most limit. */
int	log_table(struct ctx *c, const char *user, const char *limit);

#endif
