/*
 * gpu-queue.h - the GPU queue (gpu-queue.c): GPUs asked for with --wait
 * when they cannot be given now (none free, held by others) wait in the
 * database, and are given in round-robin order over the users, first come
 * within a user, as GPUs free up; a container that was to start then is
 * started. Its owner is told as for a lease.
 */
#ifndef LABCD_GPU_QUEUE_H
#define LABCD_GPU_QUEUE_H

#include <stddef.h>

#include "labcd.h"

struct ct;

/*
 * Queue spec (as --gpu takes it) for the container: 0 and its position
 * and the queue's length, or PROTO_FAILED (op->cause).
 */
int	gpu_queue_add(struct op *op, const struct ct *ct, const char *spec,
	    int exclusive, long long lease, int start, size_t *position,
	    size_t *total);
/* Containers being started after the queue gave them GPUs, now. */
int	gpu_queue_starting(void);
/* The watch's pass: give what can be given now, in the queue's order. */
void	gpu_queue_serve(struct server *s, struct db *db, struct lxd **lxdp);

/*
 * For a command refused GPUs with r (req: what gpu_request or gpu_give
 * said): with --wait and refused only for now, queue it and say where it
 * stands (PROTO_OK); else the refusal, saying --wait where it would help.
 */
int	gpu_queue_or_refuse(struct ctx *c, const struct ct *ct, const char *spec,
	    int exclusive, long long lease, int start, int busy, int r);

#endif
