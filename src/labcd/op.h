/*
 * op.h - the operation context (op.c): what a domain function needs to
 * do its work and nothing of the request that asked for it. The server,
 * a database connection, an LXD connection, who acts, where progress
 * goes, and the cause of a failure. A command makes one of its request
 * (ctx_op) and turns the cause into its reply (ctx_fail); the background
 * reconciler makes one of its own. Like tmux's spawn_window(&sc, &cause)
 * answered by cmdq_error in the command.
 */
#ifndef LABCD_OP_H
#define LABCD_OP_H

#include <stddef.h>

#include "proto.h"

struct db;
struct ident;
struct lxd;
struct server;

#define OP_CAUSE_MAX	2048

struct op {
	struct server		*srv;
	struct db		*db;
	struct lxd		**lxdp;		/* made when first needed:
						   op_lxd() */
	const struct ident	*actor;		/* who acts (user, admin, root,
						   the audit log's actor) */
	const char		*place;		/* "uid N", "key FP", or NULL */
	const char		*command;	/* for the audit log */
	/* One line of progress for a person, or NULL: nobody listens. */
	void			(*progress)(void *arg, const char *line);
	void			*progress_arg;
	char			 cause[OP_CAUSE_MAX];	/* why it failed */
};

/*
 * Fill op for work of its own (no request): srv, db, the LXD connection
 * to keep (*lxdp NULL until needed), actor and the command audit rows
 * name. No progress, no cause yet.
 */
void	op_init(struct op *op, struct server *srv, struct db *db,
	    struct lxd **lxdp, const struct ident *actor, const char *command);
/*
 * A new LXD connection where labcd.conf says LXD is (lxd_socket, or
 * lxd_url with its certificates): the one way labcd makes one.
 */
struct config;
struct lxd *lxd_of_config(const struct config *cfg);
/* The LXD connection, made if need be; its progress goes to op's. */
struct lxd *op_lxd(struct op *op);
/*
 * The op goes away (it lives on a stack): its LXD connection, kept for
 * the next one, no longer reports progress to it.
 */
void	op_end(struct op *op);
/* LXD's message for the last failed call, or "". */
const char *op_lxd_error(struct op *op);
/* Keep why it failed in op->cause; returns r (a -errno, PROTO_FAILED...). */
int	op_fail(struct op *op, int r, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* The same with r PROTO_FAILED (a refusal), and PROTO_USAGE (misuse). */
#define op_error(op, ...)	op_fail(op, PROTO_FAILED, __VA_ARGS__)
#define op_usage(op, ...)	op_fail(op, PROTO_USAGE, __VA_ARGS__)
/* One line of progress, to whoever listens. */
void	op_progress(struct op *op, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * An audit row of a change op's actor made: for user (NULL or "": the
 * actor's own), on target (NULL: none), with result (audit.c).
 */
void	op_audit(struct op *op, const char *user, const char *target,
	    const char *result);

#endif
