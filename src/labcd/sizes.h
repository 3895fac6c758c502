/*
 * sizes.h - a container's CPU, memory and disk limits (sizes.c): the one
 * line that shows them, and whether a storage pool holds a root disk to
 * its size.
 */
#ifndef LABCD_SIZES_H
#define LABCD_SIZES_H

#include <stddef.h>
#include <jansson.h>

#include "buf.h"
#include "db-containers.h"
#include "labcd.h"
#include "lxd.h"

/*
 * "4 CPUs, 16 GiB memory, 100 GiB disk, GPUs 0,2 (GPU 0 and 1 inside)"
 * appended to b: the limits as LXD has them (inst: the instance from
 * lxd_instance_get or _get_full), the GPUs from the database, "no limit on
 * memory" (and the like) where there is none, "no GPUs". A disk size on a
 * pool that cannot hold it says so.
 */
void	sizes_line(struct op *op, const struct ct *ct, json_t *inst,
	    struct buf *b);
/* The same, asking LXD for the instance: 0, or -1 (b says why not). */
int	sizes_line_get(struct op *op, const struct ct *ct, struct buf *b);
/*
 * 0 if a disk limit can be held on pool; else PROTO_FAILED, op->cause
 * saying that what (such as "--disk 10GiB") cannot be enforced there, why, and
 * then fix (what the caller should do instead).
 */
int	sizes_disk_refused(struct op *op, const char *pool, const char *what,
	    const char *fix);
/*
 * Keep LXD's btrfs pools (mounted beside l's socket, once l has found
 * it) enforcing sizes: deletes account in full (drop_subtree_threshold 8),
 * and a rescan where the accounting is already inconsistent. Needs root's
 * full powers; what it cannot do it logs. At start-up, after deletes and
 * in the background doctor's passes.
 */
void	sizes_btrfs_mend(struct lxd *l);
/* What keeps a btrfs pool from enforcing sizes, and the fix, appended. */
void	sizes_btrfs_check(struct lxd *l, struct buf *warn, struct buf *fix);
/* The fix an admin can make: a pool that enforces sizes. */
#define SIZES_POOL_FIX "make containers on a pool that enforces sizes " \
	"(btrfs, zfs or lvm: 'lxc storage create POOL btrfs size=500GiB', " \
	"then storage_pool = POOL in labcd.conf, or the profile's root disk " \
	"on it)"

struct checkup;
/* doctor's checks of the disk limits: configured on a pool that does not
   enforce them; btrfs quotas that do not hold. Needs LXD. */
void	sizes_doctor(struct checkup *d);
#endif
