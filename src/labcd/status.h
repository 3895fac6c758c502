/*
 * status.h - the lab at a glance (status.c): one read-only snapshot of
 * GPUs, containers, users' quotas and GPU time, the GPU queue and the
 * background doctor's warnings, for the status page and /metrics
 * (labc-web, docs/status-api.md). Nothing secret: no keys, no command
 * lines, no PIDs; with web_show_users = no, no names either.
 */
#ifndef LABCD_STATUS_H
#define LABCD_STATUS_H

#include <jansson.h>

struct op;

/* Mean utilisation points per GPU in the snapshot's 24 h history. */
#define STATUS_HISTORY_STEP	600	/* seconds */
#define STATUS_HISTORY_SPAN	86400
/* At most so many containers and queue entries (the rest are counted in
   "truncated"), so that the snapshot stays far under a frame's 1 MiB. */
#define STATUS_MAX_CONTAINERS	2000
#define STATUS_MAX_QUEUE	200

/*
 * The snapshot (docs/status-api.md): 0 and *out (caller decrefs), or
 * PROTO_FAILED with op->cause. A part that cannot be read (no NVML, LXD
 * down) is left empty and said in "errors", not a failure of the whole.
 */
int	status_snapshot(struct op *op, json_t **out);

/*
 * The CPU time (seconds) and memory (bytes) of a container's cgroup, as
 * LXC names it (lxc.payload.<project>_<name>; cgroup v2 or v1): 0, or -1
 * when it has none (stopped) or it cannot be read.
 */
int	status_cgroup_usage(const char *project, const char *name,
	    double *cpu_seconds, long long *memory);

/* web_user asked for the status now (cmd-status.c), for doctor. */
void	status_asked_by_web(void);

struct checkup;
/*
 * doctor's check of the status page: web_user exists, and labc-web answers
 * on web_listen (a warning if not: nothing else depends on it).
 */
void	status_doctor(struct checkup *d);

#endif
