/*
 * ctx-op.c - a request's operation context (op.h): the domain sees the
 * server, the database, the connection's LXD client (made when first
 * needed, kept for the connection's life) and the caller as actor;
 * progress of long operations goes to the client being served, and a
 * failure's cause becomes the reply's error.
 */
#include "labcd.h"
#include "lxd.h"
#include "proto.h"

static void
on_progress(void *arg, const char *line)
{
	ctx_progress(arg, "%s", line);
}

struct op *
ctx_op(struct ctx *c)
{
	struct op *op = &c->op;

	op->srv = c->srv;
	op->db = c->db;
	op->lxdp = c->lxdp;
	op->actor = &c->id;
	op->place = c->place;
	op->command = c->cmd != NULL ? c->cmd->name : NULL;
	op->progress = on_progress;
	op->progress_arg = c;
	return op;
}

int
ctx_fail(struct ctx *c, const struct op *op)
{
	return ctx_error(c, "%s", op->cause);
}

int
ctx_cause(struct ctx *c, int r)
{
	if (r == PROTO_USAGE)
		return ctx_usage(c, "%s", c->op.cause);
	(void)ctx_error(c, "%s", c->op.cause);
	return r;
}

struct lxd *
ctx_lxd(struct ctx *c)
{
	return op_lxd(ctx_op(c));
}

const char *
ctx_lxd_error(struct ctx *c)
{
	return op_lxd_error(ctx_op(c));
}
