/*
 * db-gpus.h - the gpus table (db-gpus.c): which host GPU each container
 * was given, exclusively or not. Every SQL text about GPUs lives there.
 */
#ifndef LABCD_DB_GPUS_H
#define LABCD_DB_GPUS_H

#include <stddef.h>

#include "db.h"

/* A GPU given to a container, with the container and its owner. */
struct gpu_use {
	int		 gpu;
	int		 exclusive;
	char		 user[64];
	char		 name[64];	/* the container's */
};

/*
 * Who else (a container other than ct_id) has GPU gpu, exclusively if
 * only_exclusive: 0 and *u filled, or -1 if nobody.
 */
int	gpudb_holder(struct db *db, long long ct_id, int gpu,
	    int only_exclusive, struct gpu_use *u);
/* Everyone given GPU gpu, by owner and container; caller frees. */
void	gpudb_users(struct db *db, int gpu, struct gpu_use **out, size_t *n);
/* The user's GPU quota, or -1 for none. */
long long gpudb_user_quota(struct db *db, long long user_id);
/*
 * How many distinct GPUs the user's containers would hold with those of
 * list ("0,2") added.
 */
int	gpudb_count_with(struct db *db, long long user_id, const char *list);
/* Record (or replace) a GPU of a container. 0 or -1. */
int	gpudb_add(struct db *db, long long ct_id, int gpu, const char *pci,
	    int exclusive);
/* Forget one GPU of a container, or all (gpu < 0). 0 or -1. */
int	gpudb_remove(struct db *db, long long ct_id, int gpu);
/* Does the container have GPU gpu (any, gpu < 0)? 1 or 0. */
int	gpudb_has(struct db *db, long long ct_id, int gpu);
/* A container's GPUs by number in *out (caller frees); how many. */
size_t	gpudb_of_container(struct db *db, long long ct_id, struct gpu_use **out);
/* GPU rows of every container. */
int	gpudb_count_all(struct db *db);

#endif
