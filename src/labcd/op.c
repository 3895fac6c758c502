/*
 * op.c - the operation context of op.h: its LXD connection, its cause
 * and its progress, whoever asked (a client's request or labcd itself).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labcd.h"
#include "log.h"
#include "lxd.h"
#include "op.h"
#include "xmalloc.h"

void
op_init(struct op *op, struct server *srv, struct db *db, struct lxd **lxdp,
    const struct ident *actor, const char *command)
{
	memset(op, 0, sizeof(*op));
	op->srv = srv;
	op->db = db;
	op->lxdp = lxdp;
	op->actor = actor;
	op->command = command;
}

/* LXD's stage names, said for people. */
static const char *
stage_name(const char *stage)
{
	if (strstr(stage, "unpack") != NULL)
		return "Unpacking the image";
	if (strstr(stage, "download") != NULL)
		return "Downloading the image";
	if (strstr(stage, "create_instance") != NULL)
		return "Creating";
	return "Working";
}

static void
on_progress(void *arg, const char *stage, const char *text, int percent)
{
	struct op *op = arg;

	if (percent >= 0)
		op_progress(op, "%s: %d%%", stage_name(stage), percent);
	else
		op_progress(op, "%s: %s", stage_name(stage), text);
}

struct lxd *
lxd_of_config(const struct config *cfg)
{
	struct lxd_target t = {
		.socket = cfg->lxd_socket,
		.url = cfg->lxd_url,
		.cert = cfg->lxd_cert,
		.key = cfg->lxd_key,
		.server_cert = cfg->lxd_server_cert,
	};
	struct lxd *l = lxd_open(&t);

	if (l == NULL)
		fatalx("cannot make an LXD client (out of memory)");
	return l;
}

struct lxd *
op_lxd(struct op *op)
{
	if (*op->lxdp == NULL)
		*op->lxdp = lxd_of_config(&op->srv->cfg);
	lxd_set_progress(*op->lxdp, on_progress, op);
	return *op->lxdp;
}

void
op_end(struct op *op)
{
	if (op->lxdp != NULL && *op->lxdp != NULL)
		lxd_set_progress(*op->lxdp, NULL, NULL);
}

const char *
op_lxd_error(struct op *op)
{
	return op->lxdp != NULL && *op->lxdp != NULL ? lxd_error(*op->lxdp) :
	    "";
}

int
op_fail(struct op *op, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(op->cause, sizeof(op->cause), fmt, ap);
	va_end(ap);
	return r;
}

void
op_progress(struct op *op, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (op->progress == NULL)
		return;
	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	op->progress(op->progress_arg, s);
	free(s);
}

void
op_audit(struct op *op, const char *user, const char *target,
    const char *result)
{
	const char *who = user != NULL && *user != '\0' ? user :
	    op->actor->user;

	audit_row(op->db, op->actor->actor, who, op->command, target, result);
}
