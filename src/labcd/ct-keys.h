/*
 * ct-keys.h - the owner's keys in their containers (ct-keys.c): the
 * container user made with them at the first start, and every change of
 * keys written into every container, one user at a time.
 */
#ifndef LABCD_CT_KEYS_H
#define LABCD_CT_KEYS_H

#include "db-containers.h"

struct op;

/* Write the user's keys into every container of theirs. */
int	ct_sync_keys(struct op *op, long long user_id, const char *user);
/*
 * Make the container user and put the keys (first start); the caller
 * records provisioned. 0, or PROTO_FAILED (op->cause); *stopped: it failed
 * because the container is not running.
 */
int	ct_provision(struct op *op, const char *project, struct ct *ct,
	    int *stopped);
/* Put the keys into a container whose keys_synced says they are not. */
void	ct_keys_refresh(struct op *op, const char *project, struct ct *ct);

#endif
