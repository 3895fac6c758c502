/*
 * db-users.h - the users table (db-users.c): lab user accounts, their
 * password hashes, admin locks, LXD project names and GPU quotas. Every
 * function takes the connection first; writes return 0 or -1 with the
 * reason in db->err (db.h).
 */
#ifndef LABCD_DB_USERS_H
#define LABCD_DB_USERS_H

#include "db.h"

struct user_row {
	long long	 id;
	char		 name[33];
	int		 is_admin;
	int		 has_password;
	int		 failures;
	long long	 locked_until;
	long long	 created;
	int		 disabled;	/* locked by an admin */
	char		 project[64];	/* LXD project, "" if none recorded
					   (then the rule of project.c) */
	long long	 gpu_quota;	/* -1: no limit */
	long long	 snap_quota;	/* snapshots, all containers; -1: none */
	int		 nkeys;		/* SSH keys (userdb_list only) */
};

/* 0 found, -1 no such user. */
int	userdb_get(struct db *db, const char *name, struct user_row *u);
int	userdb_get_id(struct db *db, long long id, struct user_row *u);
/* Is the user locked by an admin (or gone)? 1 or 0. */
int	userdb_locked(struct db *db, long long id);
/*
 * Users by name (only: that one, NULL: all), into *rows (caller frees);
 * how many.
 */
int	userdb_list(struct db *db, const char *only, struct user_row **rows);
/* Every user, by id, into *rows (caller frees); how many. */
int	userdb_all(struct db *db, struct user_row **rows);
/* The user's password hash (caller frees), NULL if none. */
char	*userdb_pwhash(struct db *db, long long id);

/*
 * A new user; gpu_quota and snap_quota as configured (quota_gpus,
 * quota_snapshots; "" or NULL: no limit). 0 and *id, or -1.
 */
int	userdb_add(struct db *db, const char *name, int is_admin,
	    const char *gpu_quota, const char *snap_quota, long long *id);
/* Keys and sessions go with the user (ON DELETE CASCADE). */
int	userdb_delete(struct db *db, long long id);
/* Set the password hash and clear the wrong-password wait. */
int	userdb_set_pwhash(struct db *db, long long id, const char *hash);
/* An admin's lock (lock 1), or its end with the wait cleared (lock 0). */
int	userdb_lock(struct db *db, long long id, int lock);
/* The GPU quota, -1 for none. */
int	userdb_set_gpu_quota(struct db *db, long long id, long long quota);
/* The snapshot quota, -1 for none. */
int	userdb_set_snap_quota(struct db *db, long long id, long long quota);
/* Record the user's LXD project, unless one is recorded already. */
int	userdb_set_project(struct db *db, long long id, const char *project);
/*
 * The distinct GPUs given to the user's containers (*used) and the GPU
 * quota (*quota, -1: none). 0, or -1 if it could not be read.
 */
int	userdb_gpus(struct db *db, long long id, int *used, int *quota);

#endif
