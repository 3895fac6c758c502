/* quota.h - quotas as LXD project limits (quota.c). */
#ifndef LABCD_QUOTA_H
#define LABCD_QUOTA_H

#include "labcd.h"

/*
 * Add one user's row (limit/usage per resource) to a quota table. Reply
 * code for 'quota' and 'admin quota show': it takes the request and says
 * a failure itself (PROTO_FAILED).
 */
int	quota_row(struct ctx *c, struct table *t, long long user_id,
	    const char *user);
extern const char *const quota_cols[];

#endif
