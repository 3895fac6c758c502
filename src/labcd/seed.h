/*
 * seed.h - seed containers (seed.c, seed_containers in labcd.conf): per
 * image and storage pool, one stopped container that LXD has started
 * once, so that it has mapped its files to the containers' user
 * namespace. A new container is a copy of it: LXD keeps the copy's
 * volatile.last_state.idmap and does not remap its files at the first
 * start, and on btrfs (zfs, lvm) a copy is a snapshot: the copy and the
 * first start cost half of a create from the image and its first start.
 *
 * A seed never ran anything of its image: LXD started it with
 * lxc.init.cmd = /bin/true, so it has no host keys, machine id or
 * anything else of a boot; templates applied at a copy (hostname) are
 * applied again in each copy. Seeds live in labcd's own LXD project,
 * PREFIX0seeds (no member's project: a user name starts with a letter),
 * and are made in the background after a create found none.
 */
#ifndef LABCD_SEED_H
#define LABCD_SEED_H

#include "db-containers.h"	/* PROJECT_MAX */

struct op;
struct server;

#define SEED_NAME_MAX	64
#define SEED_PROJECT_SUFFIX	"0seeds"

/* labcd's project of seeds: project_prefix and SEED_PROJECT_SUFFIX. */
void	seed_project(const char *prefix, char project[PROJECT_MAX]);
/* The seed's name for image fp on pool: seed-FP12-HASH8 of the pool. */
void	seed_name(const char *fp, const char *pool, char name[SEED_NAME_MAX]);
/*
 * 1 with a seed of image fp on pool ready to copy (its project and name
 * written; asked of LXD each time: stopped, of that image, not started
 * since it was made), else 0: none yet (one is made in the background,
 * unless a try failed less than SEED_RETRY seconds ago, or for good),
 * seed_containers off, or LXD did not answer.
 */
#define SEED_RETRY	600
int	seed_find(struct op *op, const char *fp, const char *pool,
	    char project[PROJECT_MAX], char name[SEED_NAME_MAX]);
/* A copy of it failed: none for SEED_RETRY seconds, then made again. */
void	seed_forget(const char *fp, const char *pool);
/* At labcd's end: wait for a seed being made (it stops between steps). */
void	seed_stop(void);

#endif
