/*
 * reconcile.h - comparing labcd's database with what LXD has, and mending
 * what can be mended without guessing (reconcile.c).
 */
#ifndef LABCD_RECONCILE_H
#define LABCD_RECONCILE_H

#include <jansson.h>

#include "labcd.h"

/*
 * Compare the containers table with the instances in the users' LXD
 * projects. With repair, mend what is safe: finish interrupted creations
 * (remove what was made) and deletions, release the ports of containers
 * deleted outside labcd, put a port device back, adopt a container of a
 * user's project that has no row when its port is free. Never deletes a
 * container that no row accounts for. One object per finding is appended
 * to findings: {"user", "container", "problem", "action"}.
 * 0, or PROTO_FAILED (c->err) if LXD cannot be asked.
 */
int	reconcile_run(struct ctx *c, int repair, json_t *findings);

/* Ask the background reconciler to run as soon as LXD answers. */
void	reconcile_soon(void);
/* The background reconciler: at start-up, when asked, and periodically. */
void	reconcile_start(struct server *s);
void	reconcile_stop(void);

#endif
