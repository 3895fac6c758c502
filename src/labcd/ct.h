/*
 * ct.h - lab users' containers (ct.c): each lives in its owner's LXD
 * project with a stable SSH port, and holds the owner's keys.
 */
#ifndef LABCD_CT_H
#define LABCD_CT_H

#include "db-containers.h"
#include "labcd.h"

struct ct_opts {
	const char	*image;		/* alias or fingerprint; NULL: default */
	const char	*cpu;		/* NULL: default */
	const char	*memory;
	const char	*disk;
	const char	*gpu;		/* all, none, "0,2"; NULL: default */
	int		 exclusive;
	int		 starting;	/* launch: started right after create */
};

/* The options of create and launch, read by ct_opts_from_args. */
#define CT_CREATE_ARGS "NAME [--image IMAGE] [--cpu N] [--memory SIZE] " \
	"[--disk SIZE]\n    [--gpu all|none|LIST [--exclusive]]"
#define CT_CREATE_OPTS \
	{ "image", 0, 1, "IMAGE" }, { "cpu", 0, 1, "N" }, \
	{ "memory", 0, 1, "SIZE" }, { "disk", 0, 1, "SIZE" }, \
	{ "gpu", 0, 1, "all|none|LIST" }, { "exclusive", 0, 0, NULL }

/* --image, --cpu, --memory, --disk, --gpu checked; 0 or PROTO_USAGE. */
int	ct_opts_from_args(struct ctx *c, struct ct_opts *o);
/* NULL if a valid container name, else the rule (names.c). */
const char *ct_name_invalid(const char *name);
/* The LXD project of a lab user (caller's buffer of 64). */
void	ct_project_of(struct ctx *c, long long user_id, const char *user,
	    char project[64]);
/* Make the user's LXD project if LXD has none. 0 or PROTO_FAILED. */
int	ct_ensure_project(struct ctx *c, long long user_id, const char *user);
/* 0 found, -1 not. Of the caller's lab user. */
int	ct_get(struct ctx *c, const char *name, struct ct *ct);
/* Check name and find the caller's container, or say why not. */
int	ct_find(struct ctx *c, const char *name, struct ct *ct);
int	ct_create(struct ctx *c, const char *name, const struct ct_opts *o,
	    struct ct *ct);
/* Start (if stopped), make the container user, put keys, wait for ssh. */
int	ct_start(struct ctx *c, struct ct *ct, int say_ready);
int	ct_stop(struct ctx *c, struct ct *ct, int force);
int	ct_delete(struct ctx *c, struct ct *ct, int force);
/*
 * Take away (locked) or give back the ssh port devices of every container
 * of a user: a locked user's are meant to be absent, which also ends the
 * connections through them. The number of containers left as they were
 * (LXD refused, or a request held them; logged): reconciliation finishes
 * those.
 */
int	ct_ssh_lock(struct ctx *c, long long user_id, const char *user,
	    int locked);
/* Write the user's keys into every container of theirs. */
int	ct_sync_keys(struct ctx *c, long long user_id, const char *user);
/*
 * LXD's status ("Running", "Stopped", ...) in *status (caller frees), NULL
 * if LXD has no such instance. 0, or PROTO_FAILED if LXD cannot say.
 */
int	ct_status(struct ctx *c, const struct ct *ct, char **status);
/*
 * Hold a container (by owner and name) while changing what it is: create,
 * delete, reconciliation. 0, or -1 if someone holds it already.
 */
/* One user's quota-counted LXD writes at a time (set). */
void	ct_quota_lock(long long user_id);
void	ct_quota_unlock(long long user_id);
int	ct_claim(long long user_id, const char *name);
/* ct_claim for a request: PROTO_OK, or the "being changed" error said. */
int	ct_claim_for(struct ctx *c, const struct ct *ct);
void	ct_release(long long user_id, const char *name);
/* 0 if the container was made whole, else PROTO_FAILED saying why not. */
int	ct_check_ready(struct ctx *c, const struct ct *ct);
/*
 * The ssh proxy device of a container on host port PORT, as labcd makes it
 * everywhere (create, start, import, reconciliation, unlock).
 */
json_t	*ct_ssh_device(const struct config *cfg, int port);
/* The patch that puts it on an instance: {"devices": {"ssh": ...}}. */
json_t	*ct_ssh_patch(const struct config *cfg, int port);
/* It in lxc's words: "listen=tcp:ADDRESS:PORT connect=tcp:127.0.0.1:22". */
void	ct_ssh_device_words(const struct config *cfg, int port, char *out,
	    size_t outsz);
/*
 * How to connect from a laptop: route is "ssh NAME.SUFFIX", through the
 * gateway with the block 'ssh-config' prints; direct is "ssh -p PORT
 * USER@HOST" by the container's own port, or "" where ssh_listen is a
 * loopback address (no one outside reaches it).
 */
void	ct_connect(struct ctx *c, const char *name, int port, char *route,
	    size_t routesz, char *direct, size_t directsz);
/* The lines launch, create, start and details end with: ct_connect's. */
void	ct_say_connect(struct ctx *c, const char *name, int port);
/* The pool of the root disk: storage_pool, else the profiles' root;
   NULL if none. Caller frees. */
char	*ct_root_pool(struct ctx *c);

#endif
