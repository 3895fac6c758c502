/*
 * backup.h - a member's container as a tarball through labcd's socket
 * (backup.c): LXD's backup, streamed out as it is read, never held.
 */
#ifndef LABCD_BACKUP_H
#define LABCD_BACKUP_H

#include "ct.h"

/* Exports one user may run at once, and all users together. */
#define BACKUP_PER_USER	2
#define BACKUP_AT_ONCE	8

/*
 * Write ct as LXD's backup tarball (gzip; its snapshots too if snapshots;
 * in the pool's own format if optimized) into fd, as LXD hands it over.
 * The backup LXD makes for it is deleted whatever happens (and expires by
 * itself should labcd die meanwhile). *bytes written. 0, or PROTO_FAILED
 * said in op->cause.
 */
int	backup_export(struct op *op, const struct ct *ct, int snapshots,
	    int optimized, int fd, long long *bytes);

#endif
