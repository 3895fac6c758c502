/*
 * view.h - labcd's resident view of LXD's instances (view.c): loaded once
 * from LXD, then kept current by LXD's event stream (lxd-events.c), so that
 * list and details answer from memory, without asking LXD. A lost stream
 * is opened again and followed by a full reload; until then the view says
 * it is not live and its readers ask LXD themselves (view_instances).
 */
#ifndef LABCD_VIEW_H
#define LABCD_VIEW_H

#include <stddef.h>
#include <jansson.h>

#include "db-containers.h"	/* PROJECT_MAX */

struct op;
struct server;

#define VIEW_NICS	2	/* NICs kept per instance, by name */

/* One LXD instance, as much of it as labcd shows or checks. */
struct view_ct {
	char		 project[PROJECT_MAX];
	char		 name[64];
	char		 status[16];	/* LXD's: "Running", "Stopped", ... */
	char		 ipv4[48];	/* its DHCP lease while running, ""
					   if none (yet) */
	int		 unmanaged;	/* a NIC's network has no leases (not
					   LXD's): its address is not known */
	char		 cpu[32];	/* limits.cpu, "" none */
	char		 memory[32];	/* limits.memory */
	char		 disk[32];	/* the root disk's size */
	char		 image[96];	/* image.description */
	char		 fingerprint[72];	/* volatile.base_image */
	int		 has_ssh;	/* has the "ssh" device */
	unsigned long long gpus;	/* bit N: has the gpu device "gpuN" */
	char		 ssh_listen[96];	/* its listen address, "" none */
	char		 location[64];	/* its cluster member, "" not one */
	int		 unreachable;	/* on a member LXD cannot reach: the
					   rest is as last known */
	struct view_nic {
		char	 name[16];
		char	 mac[24];
		char	 network[64];
	}		 nics[VIEW_NICS];	/* first by name; name "" unused */
};

/*
 * The record of one instance object of LXD (GET /1.0/instances/NAME, or
 * an element of the list at recursion 1); project is the one asked in
 * when the object has none. No address (that is the leases'). Pure.
 */
void	view_ct_parse(json_t *inst, const char *project, struct view_ct *v);

/*
 * A change the view saw (from an event or a reload): before and after,
 * each NULL when the instance was not there. Called in the view's thread,
 * without its lock held, for instances whose record changed.
 */
typedef void (*view_change_fn)(struct server *s, const struct view_ct *before,
    const struct view_ct *after);

/* Start following LXD (a thread of its own); on_change may be NULL. */
void	view_start(struct server *s, view_change_fn on_change);
void	view_stop(void);

/*
 * The instances of project (NULL: of every project), sorted by project and
 * name, as the view has them: 0 and a copy (caller frees *out), or -1 when
 * the view is not following LXD now.
 */
int	view_list(const char *project, struct view_ct **out, size_t *n);
/*
 * The same from LXD itself, now (one request, and one per network for the
 * addresses): for when the view is not live. 0, or PROTO_FAILED with
 * op->cause. A project LXD does not have has no instances.
 */
int	view_ask(struct op *op, const char *project, struct view_ct **out,
	    size_t *n);
/* view_list if the view is live, else view_ask. */
int	view_instances(struct op *op, const char *project,
	    struct view_ct **out, size_t *n);
/* In a sorted copy: the record of project/name, or NULL. */
const struct view_ct *view_lookup(const struct view_ct *v, size_t n,
	    const char *project, const char *name);

/*
 * A project's limits and what its instances use of them, as LXD counts
 * them for its project state (its instances' limits, summed): limit -1
 * is none. 0, or -1 when the view is not live or has no such project.
 */
enum { VIEW_QUOTA_CONTAINERS, VIEW_QUOTA_CPU, VIEW_QUOTA_MEMORY,
	VIEW_QUOTA_DISK, VIEW_QUOTA_N };
struct view_quota {
	long long	 used[VIEW_QUOTA_N];
	long long	 limit[VIEW_QUOTA_N];
};
int	view_quota(const char *project, struct view_quota *q);

/*
 * LXD's GPU cards (GET /1.0/resources, "gpu"."cards"), as of the last
 * load or at most 5 minutes old: a copy (caller decrefs), or NULL when the
 * view is not live.
 */
json_t	*view_gpu_cards(void);

/*
 * The gpu devices ("gpuN": bit N) of one instance as the view has it now:
 * 0; -EAGAIN when the view is not following LXD; -ENOENT when it does not
 * know the instance, or its member cannot be reached (what it had is not
 * known now).
 */
int	view_gpus_of(const char *project, const char *name,
	    unsigned long long *gpus);

/*
 * The cluster's members (cluster.h), at most MEMBERS_EVERY old: 0 and a
 * copy (caller frees; n 0 where LXD is not a cluster), or -1 when the
 * view is not following LXD now.
 */
struct cluster_member;
int	view_members(struct cluster_member **out, size_t *n);

/* What the view did: for doctor, the status page and the tests. */
struct view_stats {
	int		 live;		/* following LXD's events now */
	size_t		 instances;
	unsigned long	 events;	/* events read since start-up */
	unsigned long	 reloads;	/* full loads, the first included */
	unsigned long	 gets;		/* instances asked for again */
};
void	view_stats(struct view_stats *st);

#endif
