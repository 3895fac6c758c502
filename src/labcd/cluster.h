/*
 * cluster.h - the servers under labcd (cluster.c): one LXD, or the
 * members of an LXD cluster. LXD is the engine (it runs one set of
 * projects, images and networks on every member); labcd only chooses the
 * member a new container goes to, says which members are up, and knows
 * the address each member's containers' ports listen on.
 */
#ifndef LABCD_CLUSTER_H
#define LABCD_CLUSTER_H

#include <stddef.h>
#include <jansson.h>

struct lxd;
struct op;

#define MEMBER_NAME_MAX	64

struct cluster_member {
	char		 name[MEMBER_NAME_MAX];
	char		 addr[64];	/* the host of its URL, as LXD has it */
	int		 port;
	char		 status[16];	/* LXD's: Online, Offline, Evacuated */
	char		 message[192];	/* LXD's, or why labcd cannot reach it */
	int		 up;		/* Online, and its address answers */
};

/*
 * Ask LXD for the members and try each one's address (a TCP connect of at
 * most PROBE_MS: LXD says a member is offline only after
 * cluster.offline_threshold, 20 s by default; a refused connection says
 * it at once). 0 and the members (caller frees; none on a server that is
 * not clustered), or LXD's -errno.
 */
int	cluster_fetch(struct lxd *l, struct cluster_member **out, size_t *n);
/* The members as the view has them (at most 2 s old), else asked now. */
int	cluster_members(struct op *op, struct cluster_member **out, size_t *n);
/* In a list: the member of that name, or NULL. */
const struct cluster_member *cluster_find(const struct cluster_member *m,
	    size_t n, const char *name);
/*
 * Where a new container goes: want (--server), or labcd's choice among
 * the members that are up (the most free memory); "" where LXD is not a
 * cluster. why: one line saying why, for the progress. 0, or
 * PROTO_FAILED/PROTO_USAGE with op->cause (no such member, it is down,
 * none is up).
 */
int	cluster_place(struct op *op, const char *want, char member[MEMBER_NAME_MAX],
	    char *why, size_t whysz);
/* A member name as --server takes it: NULL, or why not. Pure. */
const char *cluster_name_invalid(const char *name);
/* The same said to the caller: PROTO_OK, or PROTO_USAGE (op->cause). */
int	cluster_server_opt(struct op *op, const char *v);
/*
 * The IPv4 address a container's port is reached at, on the member it is
 * on (location, "" where not a cluster): that member's address when it
 * is one, else what config_ports_addr says. 0, or -1 (no such member).
 */
int	cluster_ports_addr(struct op *op, const char *location, char *out,
	    size_t outsz);

/*
 * The same for the container project/name, wherever it is: 1 with its
 * member's address in out, 0 where LXD is not a cluster (out as
 * config_ports_addr says), -1 when it cannot be told (out as well).
 */
int	cluster_ct_addr(struct op *op, const char *project, const char *name,
	    char *out, size_t outsz);

/*
 * What member m's labcd --node (node.c) reads of its GPUs: 0 and the
 * reading ({"gpus": [...], "error": ...}; caller decrefs), or -1 with why
 * (the member is down, its node does not answer or is not trusted). A
 * reading is kept 2 s; a read that failed after a wait (a node that takes
 * connections and does not answer) 15 s, so nobody waits for it again.
 */
int	cluster_node_reading(struct op *op, const struct cluster_member *m,
	    json_t **out, char *why, size_t whysz);

/*
 * Read the nodes of members m[0..n) at once, each in a thread, so that
 * cluster_node_reading of each after it finds its reading kept: a look at
 * every member waits for the slowest node, not for all of them in turn.
 */
void	cluster_read_nodes(struct op *op, const struct cluster_member *m,
	    size_t n);

/*
 * Is the container project/name on a member that is down, as the view
 * has it (no LXD request; 0 when the view is not live)? 1 with why, for
 * the member to read, else 0.
 */
int	cluster_ct_down(const char *project, const char *name, char *why,
	    size_t whysz);

/*
 * The GPUs of member server, as its node reads them, in NVML's form (for
 * gpu_request): 0 (free with nvml_free), or -1 with why in err.
 */
struct nvml_gpu;
int	cluster_gpu_inventory(struct op *op, const char *server,
	    struct nvml_gpu **gpus, size_t *n, char *err, size_t errsz);

/*
 * A reading (node_reading's JSON, {"gpus": [...], "error": ...}: this
 * host's NVML, or a member's labcd --node) as labcd uses it, the one
 * place it is read: 0 and the GPUs with whose each process is (free with
 * nvml_free), or -1 with the error NVML gave there.
 */
int	gpu_reading_parse(json_t *reading, struct nvml_gpu **gpus, size_t *n,
	    char *err, size_t errsz);
/*
 * The member the container project/name is on: the view's, else LXD's;
 * "" where LXD is not a cluster. 0, or -1 (LXD's error on op's
 * connection).
 */
int	cluster_ct_location(struct op *op, const char *project,
	    const char *name, char out[MEMBER_NAME_MAX]);

#endif
