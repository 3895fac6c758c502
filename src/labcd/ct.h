/*
 * ct.h - lab users' containers (ct.c): each lives in its owner's LXD
 * project with a stable SSH port, and holds the owner's keys.
 */
#ifndef LABCD_CT_H
#define LABCD_CT_H

#include "claim.h"
#include "ct-keys.h"
#include "ct-ssh.h"
#include "db-containers.h"
#include "labcd.h"
#include "project.h"

struct ct_opts {
	const char	*image;		/* alias or fingerprint; NULL: default */
	const char	*cpu;		/* NULL: default */
	const char	*memory;
	const char	*disk;
	const char	*gpu;		/* all, none, "0,2"; NULL: default */
	int		 exclusive;
	const char	*gpu_for;	/* --for: the GPUs' lease; NULL: default */
	int		 wait;		/* --wait: queue GPUs not free now */
	int		*gpu_busy;	/* set to 1 if refused GPUs only for
					   now (none free, held), or NULL */
	int		 starting;	/* launch: started right after create */
	const struct ct	*copy;		/* copy: made from this container of
					   the same user (its image, sizes and
					   files), not from an image */
	const char	*copy_snap;	/* ... or from this snapshot of it */
	const char	*server;	/* --server: the cluster member; NULL:
					   labcd chooses (cluster_place) */
};

/* The options of create and launch, read by ct_opts_from_args. */
#define CT_CREATE_ARGS "NAME [--image IMAGE] [--cpu N] [--memory SIZE] " \
	"[--disk SIZE]\n    [--gpu all|none|any[:N]|LIST [--exclusive] " \
	"[--for DURATION] [--wait]]\n    [--server SERVER]"
#define CT_CREATE_OPTS \
	{ "image", 0, 1, "IMAGE" }, { "cpu", 0, 1, "N" }, \
	{ "memory", 0, 1, "SIZE" }, { "disk", 0, 1, "SIZE" }, \
	{ "gpu", 0, 1, "all|none|any[:N]|LIST" }, \
	{ "exclusive", 0, 0, NULL }, { "for", 0, 1, "DURATION" }, \
	{ "wait", 0, 0, NULL }, { "server", 0, 1, "SERVER" }

/*
 * The domain (ct.c): each takes the operation context (op.h) and acts
 * for op's actor (a member's own containers); a failure returns
 * PROTO_FAILED with the reason in op->cause, for the command to say.
 */
/* 0 found, -1 not. Of the actor's lab user. */
int	ct_get(struct op *op, const char *name, struct ct *ct);
int	ct_create(struct op *op, const char *name, const struct ct_opts *o,
	    struct ct *ct);
/*
 * Start (if stopped), make the container user, put keys, wait for ssh:
 * *ssh_up whether its sshd answered within SSH_WAIT seconds.
 */
int	ct_start(struct op *op, struct ct *ct, int *ssh_up);
int	ct_stop(struct op *op, struct ct *ct, int force);
int	ct_delete(struct op *op, struct ct *ct, int force);
/*
 * A new container name of the actor's from a backup tarball read from fd
 * to its end (LXD's import), then made one of labcd's: refused, and
 * deleted, if it asks for what a member's container may not have
 * (privileged, nesting, raw or low-level config, a device labcd does not
 * make, a profile not configured); its GPU devices removed; its own SSH
 * port; the user and keys made at its first start. *bytes read. 0, or
 * PROTO_FAILED said, with nothing left (no instance, row or port).
 */
int	ct_import(struct op *op, const char *name, int fd, struct ct *ct,
	    long long *bytes);
/*
 * Take away (locked) or give back the ssh port devices of every container
 * of a user: a locked user's are meant to be absent, which also ends the
 * connections through them. The number of containers left as they were
 * (LXD refused, or a request held them; logged): reconciliation finishes
 * those.
 */
int	ct_ssh_lock(struct op *op, long long user_id, const char *user,
	    int locked);
/*
 * LXD's status ("Running", "Stopped", ...) in *status (caller frees), NULL
 * if LXD has no such instance. 0, or PROTO_FAILED if LXD cannot say.
 */
int	ct_status(struct op *op, const struct ct *ct, char **status);
/* 0 if the container was made whole, else PROTO_FAILED saying why not. */
int	ct_check_ready(struct op *op, const struct ct *ct);

/*
 * The command layer's side (ct-cmd.c): reply code, taking the request.
 */
/* --image, --cpu, --memory, --disk, --gpu checked; 0 or PROTO_USAGE. */
int	ct_opts_from_args(struct ctx *c, struct ct_opts *o);
/* Check name and find the caller's container, or say why not. */
int	ct_find(struct ctx *c, const char *name, struct ct *ct);
/* ct_find, and refused unless made whole (ct_check_ready). */
int	ct_find_ready(struct ctx *c, const char *name, struct ct *ct);
/*
 * ct_create for a command: with --wait, GPUs that cannot be given now make
 * a container without them, and the request waits in the GPU queue (to
 * start then when start): *queued says so (it was said).
 */
int	ct_create_or_queue(struct ctx *c, const char *name, struct ct_opts *o,
	    struct ct *ct, int start, int *queued);
/* "NAME is running: limits", and how to connect (after ct_start). */
void	ct_say_started(struct ctx *c, const struct ct *ct, int ssh_up);

#endif
