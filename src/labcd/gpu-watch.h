/*
 * gpu-watch.h - GPUs over time (gpu-watch.c): lease ends and their
 * warnings, NVML sampled into the usage history and the idle clocks, and
 * idle reclaim, in a thread of their own.
 */
#ifndef LABCD_GPU_WATCH_H
#define LABCD_GPU_WATCH_H

struct op;
struct server;
struct view_ct;

void	gpu_watch_start(struct server *s);
void	gpu_watch_stop(void);
/* Look again now, not at the next second: GPUs were freed or leased. */
void	gpu_watch_kick(void);

/*
 * Before a request changes container ct_id's devices (a restore puts back
 * the GPUs it holds), its caller holding the claim: holds whose gpu device
 * LXD no longer has (taken out outside labcontainers) end first, as the
 * watch would have ended them, so that the request cannot undo it.
 */
struct op;
void	gpu_watch_outside(struct op *op, long long ct_id);

/*
 * The view saw an instance change (view_change_fn): one that lost a gpu
 * device, or is new to it, has its holds compared with its devices (gpu
 * devices gone outside labcontainers end their holds).
 */
void	gpu_watch_on_change(struct server *s, const struct view_ct *before,
	    const struct view_ct *after);

/*
 * Tell a lab user of a change to their GPUs: the audit row (their 'log'),
 * a notice at their next command, and wall(1) in the container.
 */
void	gpu_watch_tell(struct op *op, long long user_id, const char *user,
	    const char *project, const char *name, const char *result,
	    const char *text);

#endif
