/*
 * snap.h - snapshots of lab users' containers (snap.c): taken now or on a
 * schedule that LXD keeps, listed, deleted and restored, within the
 * owner's snapshot quota (labcd's: LXD has none).
 */
#ifndef LABCD_SNAP_H
#define LABCD_SNAP_H

#include <jansson.h>

#include "ct.h"

/* The longest --keep: a year and a day. */
#define SNAP_KEEP_MAX	(366LL * 86400)

/* A snapshot object's own name ("snap0", whatever LXD's version). */
const char *snap_name_of(json_t *snap);
/*
 * The snapshot snap of the instance name (in project) in *out (caller
 * decrefs): 0, or PROTO_FAILED said ("has no snapshot", LXD's words).
 */
int	snap_find(struct op *op, const char *project, const char *name,
	    const char *snap, json_t **out);
/*
 * Take a snapshot of ct named snap (NULL: snap-YYYYMMDD-HHMMSS, UTC), kept
 * keep seconds (0: until deleted); its name in made. 0, or PROTO_* said
 * in op->cause (quota, a name taken, LXD's refusal).
 */
int	snap_take(struct op *op, const struct ct *ct, const char *snap,
	    long long keep, char made[64]);
/*
 * The snapshots (LXD's objects: name, created_at, expires_at, size) and
 * the schedule, as "daily, kept 7d", or "" (caller frees both). 0, or
 * PROTO_FAILED.
 */
int	snap_list(struct op *op, const struct ct *ct, json_t **snaps,
	    char **schedule);
int	snap_delete(struct op *op, const struct ct *ct, const char *snap);
/*
 * Bring ct back to snap: stopped first if it runs (force: at once), then
 * restored, its SSH port device and GPUs put back as labcd has them now,
 * and started again if it ran, which puts back the owner's keys of now;
 * *ran says whether it was running. 0, or PROTO_* said.
 */
int	snap_restore(struct op *op, struct ct *ct, const char *snap,
	    int force, int *ran, int *ssh_up);
/*
 * Snapshots on a schedule (every: minutely, hourly, daily, weekly; NULL
 * or "off" stops it), each kept keep seconds; LXD takes and expires them.
 * Refused if the schedule alone could keep more than the quota.
 */
int	snap_schedule(struct op *op, const struct ct *ct, const char *every,
	    long long keep);
/*
 * The user's snapshots over all their containers (*count) and quota
 * (*quota, -1: none). 0, or PROTO_FAILED said.
 */
int	snap_usage(struct op *op, long long user_id, int *count,
	    long long *quota);

#endif
