/*
 * pool.h - the storage pool of containers' root disks (pool.c), and
 * whether it keeps a disk to its size.
 */
#ifndef LABCD_POOL_H
#define LABCD_POOL_H

#include <stddef.h>
#include <jansson.h>

struct op;
struct lxd;

/* The pool of the root disk: storage_pool, else the profiles' root;
   NULL if none. Caller frees. */
char	*pool_root(struct op *op);
/* The root disk device of the profiles (the last that has one; a copy,
   caller decrefs), or NULL. */
json_t	*pool_profile_root(struct op *op);
/*
 * Can pool keep a root disk to its size? 1 yes, 0 no (the dir driver: LXD
 * skips the size unless the filesystem under it has project quotas, and
 * says so only in its log), -1 LXD cannot say (lxd_error). The driver's
 * name in driver (may be NULL).
 */
int	pool_enforces(struct lxd *l, const char *pool, char *driver,
	    size_t driversz);

#endif
