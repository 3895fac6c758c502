/*
 * db-containers.h - the containers table (db-containers.c): what labcd
 * promised each lab user (a name, a port). Every SQL text about
 * containers lives there; callers see typed rows.
 */
#ifndef LABCD_DB_CONTAINERS_H
#define LABCD_DB_CONTAINERS_H

#include <stddef.h>

#include "db.h"

/* The room a user's LXD project name has (with its NUL). */
#define PROJECT_MAX	64

/* A container row. */
struct ct {
	long long	 id;
	long long	 user_id;
	char		 name[64];
	int		 port;
	char		 image[160];
	char		 state[16];	/* creating, ready, deleting */
	int		 provisioned;	/* container user made */
	int		 keys_synced;	/* authorized_keys current */
	long long	 created;
	char		 network[64];	/* ssh_port_mode = nat: its bridge */
	char		 addr[16];	/* and its address there; "" none */
};

/* A row with its owner, as list and reconciliation read them. */
struct ct_owned {
	struct ct	 ct;
	char		 user[64];
	char		 project[PROJECT_MAX];	/* stored; "" if none yet */
	int		 locked;		/* its user's disabled */
};

/* 0 found (*ct filled), -1 not (or the database failed). */
int	ctdb_get(struct db *db, long long user_id, const char *name,
	    struct ct *ct);
int	ctdb_get_by_id(struct db *db, long long id, struct ct *ct);
/* Is there a row of user_id named name? 1 or 0. */
int	ctdb_exists(struct db *db, long long user_id, const char *name);
/* Is port given to a container? 1 or 0. */
int	ctdb_port_taken(struct db *db, int port);
/* Mark in used[port - lo] the ports of lo..hi that rows hold. */
void	ctdb_ports_used(struct db *db, int lo, int hi, unsigned char *used);
/*
 * The one container-row insert: ct's user_id, name, port, image, state,
 * provisioned, keys_synced and created as given; ct->id set. 0 or -1.
 */
int	ctdb_insert(struct db *db, struct ct *ct);
/*
 * Its fixed address on network (ssh_port_mode = nat), or none (network
 * NULL). 0; 1 if another row has it; -1 if the database failed.
 */
int	ctdb_set_addr(struct db *db, long long id, const char *network,
	    const char *addr);
/* Is addr on network given to a container? 1 or 0. */
int	ctdb_addr_taken(struct db *db, const char *network, const char *addr);
/* Remove a row (its GPU rows go with it). 0 or -1. */
int	ctdb_delete(struct db *db, long long id);
int	ctdb_set_state(struct db *db, long long id, const char *state);
int	ctdb_set_provisioned(struct db *db, long long id);
/* Its next start makes the user and puts the keys again (a restore). */
int	ctdb_set_unprovisioned(struct db *db, long long id);
int	ctdb_set_keys_synced(struct db *db, long long id, int synced);
/* How many containers the user has. */
int	ctdb_count(struct db *db, long long user_id);
/*
 * A user's rows by name (only the 'ready' ones if ready_only) in *out
 * (caller frees), their number in *n.
 */
void	ctdb_list(struct db *db, long long user_id, int ready_only,
	    struct ct **out, size_t *n);
/*
 * Rows with their owners: every user's (all) or user_id's, by owner and
 * name; or, by_id, every row by id. Caller frees *out.
 */
void	ctdb_list_owned(struct db *db, int all, long long user_id, int by_id,
	    struct ct_owned **out, size_t *n);
/* One row with its owner, by id: 0, or -1 if it is gone. */
int	ctdb_get_owned(struct db *db, long long id, struct ct_owned *w);

#endif
