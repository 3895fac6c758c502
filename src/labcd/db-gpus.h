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
	long long	 since;		/* given at, unix seconds */
	long long	 lease_end;	/* 0: no end */
	int		 warned;	/* the owner was told of the end */
	long long	 idle_since;	/* 0: busy, or not known yet */
	long long	 ct_id, user_id;
	int		 exempt;	/* from idle reclaim (user or container) */
	char		 pci[32];
	char		 server[64];	/* its cluster member; "" one server */
};

/* One sample's worth of a GPU and a container that holds it. */
struct gpu_sample_row {
	long long	 minute;	/* unix time / 60 */
	const char	*server;	/* its cluster member; "" or NULL one
					   server */
	int		 gpu;
	const char	*user;		/* "" and "": nobody holds it */
	const char	*container;
	int		 held, used;	/* seconds */
	int		 secs;		/* seconds sampled */
	long long	 util;		/* % x seconds */
	long long	 mem;		/* MiB */
};

/*
 * Who else (a container other than ct_id) has GPU gpu of server ("" on
 * one server), exclusively if only_exclusive: 0 and *u filled, or -1 if
 * nobody. A row of no server (given before LXD was a cluster) counts on
 * every server: it may be any member's GPU of that number.
 */
int	gpudb_holder(struct db *db, long long ct_id, const char *server,
	    int gpu, int only_exclusive, struct gpu_use *u);
/* Everyone given GPU gpu of server, by owner and container; caller frees. */
void	gpudb_users(struct db *db, const char *server, int gpu,
	    struct gpu_use **out, size_t *n);
/* The user's GPU quota, or -1 for none. */
long long gpudb_user_quota(struct db *db, long long user_id);
/*
 * How many distinct GPUs (server and number) the user's containers would
 * hold with those of list ("0,2") of server added.
 */
int	gpudb_count_with(struct db *db, long long user_id, const char *server,
	    const char *list);
/* Record (or replace) a GPU of a container, on its server. 0 or -1. */
int	gpudb_add(struct db *db, long long ct_id, const char *server, int gpu,
	    const char *pci, int exclusive, long long lease_end);
/* Forget one GPU of a container, or all (gpu < 0). 0 or -1. */
int	gpudb_remove(struct db *db, long long ct_id, int gpu);
/* Does the container have GPU gpu (any, gpu < 0)? 1 or 0. */
int	gpudb_has(struct db *db, long long ct_id, int gpu);
/* A container's GPUs by number in *out (caller frees); how many. */
size_t	gpudb_of_container(struct db *db, long long ct_id, struct gpu_use **out);
/* Distinct GPUs of server ("" on one server) given to any container. */
int	gpudb_held_count(struct db *db, const char *server);
/* GPU rows of every container. */
int	gpudb_count_all(struct db *db);
/* Every GPU given to every container, by GPU; caller frees. */
size_t	gpudb_all(struct db *db, struct gpu_use **out);
/* A new end (0: none) for a container's GPU; its warning is due again. */
int	gpudb_set_lease(struct db *db, long long ct_id, int gpu,
	    long long lease_end);
int	gpudb_set_warned(struct db *db, long long ct_id, int gpu);
int	gpudb_set_idle(struct db *db, long long ct_id, int gpu,
	    long long idle_since);
/* Spare a user (ct_id <= 0) or one of their containers from idle reclaim,
   or stop sparing it: 0, or -1 if there is no such. */
int	gpudb_set_exempt(struct db *db, long long user_id, long long ct_id,
	    int on);
/* Add a sample to its minute's row. 0 or -1. */
int	gpudb_usage_add(struct db *db, const struct gpu_sample_row *r);
/* What 'usage' shows: sums over the rows since a minute. */
enum gpu_usage_by { GPU_BY_USER, GPU_BY_GPU, GPU_BY_CONTAINER };
struct gpu_usage_row {
	char		 user[64];	/* "" by gpu, or nobody held it */
	char		 container[64];	/* "" unless by container */
	char		 server[64];	/* by gpu: its member, "" one server */
	int		 gpu;		/* -1 unless by gpu */
	long long	 held, used;	/* seconds */
	long long	 util;		/* % x seconds held */
	long long	 mem;		/* most MiB seen */
};
/*
 * Rows grouped by, of only_user (NULL: everyone; by gpu, also the time
 * nobody held a GPU), sorted; how many (*out: caller frees).
 */
size_t	gpudb_usage(struct db *db, long long since_minute,
	    enum gpu_usage_by by, const char *only_user,
	    struct gpu_usage_row **out);
/* The lab's total of held GPUs since a minute. 0. */
int	gpudb_usage_total(struct db *db, long long since_minute,
	    struct gpu_usage_row *t);
/* A request waiting in the GPU queue, with its container and owner. */
struct gpu_wait {
	long long	 id;
	long long	 ct_id, user_id;
	char		 user[64];
	char		 name[64];	/* the container's */
	char		 spec[64];	/* as --gpu takes it: any:1, 0,2 */
	int		 exclusive, start;
	long long	 lease;		/* seconds once given; 0: no end */
	long long	 created;
	long long	 served;	/* the user's gpu_served */
};
/* Queue a request: its id, or -1. */
long long gpuq_add(struct db *db, long long ct_id, const char *spec,
	    int exclusive, long long lease, int start);
/*
 * The queue in the order it is served: round-robin over the users (the
 * one served longest ago first, then the one waiting longest), first come
 * within a user. How many (*out: caller frees).
 */
size_t	gpuq_list(struct db *db, struct gpu_wait **out);
int	gpuq_remove(struct db *db, long long id);
/* Remove a container's requests: how many went, or -1. */
int	gpuq_cancel(struct db *db, long long ct_id);
/* One of the user's requests was served now (round-robin). */
int	gpuq_served(struct db *db, long long user_id);
/*
 * Every user's GPU seconds held and used of all time (these only grow), by
 * name; how many (*out: caller frees; gpu is -1, util and mem 0).
 */
size_t	gpudb_totals(struct db *db, struct gpu_usage_row **out);
/* A GPU's mean utilisation (%) over one step of its sampled history. */
struct gpu_util_point {
	char		 server[64];	/* "" one server */
	int		 gpu;
	long long	 bucket;	/* (minute - since) / step */
	double		 util;
};
/*
 * Each GPU's mean utilisation per step_minutes since since_minute, where
 * anything was sampled, by GPU and time; how many (*out: caller frees).
 */
size_t	gpudb_util_history(struct db *db, long long since_minute,
	    int step_minutes, struct gpu_util_point **out);
/* Forget minutes before before_minute: how many rows went, or -1. */
int	gpudb_usage_prune(struct db *db, long long before_minute);

#endif
