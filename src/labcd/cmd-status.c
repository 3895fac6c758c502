/*
 * cmd-status.c - status: the lab at a glance as one JSON snapshot
 * (status.c, docs/status-api.md), for labc-web's page and /metrics. Only
 * root, admins and web_user may ask (CMD_WEB), and web_user nothing else.
 */
#include <stdlib.h>

#include "labcd.h"
#include "proto.h"
#include "status.h"

static int
cmd_status_exec(struct ctx *c)
{
	json_t *snap;

	if (status_snapshot(ctx_op(c), &snap) != 0)
		return ctx_fail(c, ctx_op(c));
	if (c->id.web)
		status_asked_by_web();
	c->data = snap;
	/* labc-web reads data; a person asking gets the same, readable. */
	if (!c->id.web) {
		char *s = json_dumps(snap, JSON_INDENT(2) | JSON_SORT_KEYS);

		ctx_printf(c, "%s\n", s);
		free(s);
	}
	return PROTO_OK;
}

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.args = "",
	.summary = "the lab at a glance, as JSON: what the status page shows "
	    "(admins)",
	.help = "GPUs with their holders, processes and 24 h of use, every "
	    "container,\nusers' quotas and GPU time, the GPU queue and the "
	    "background doctor's\nwarnings: what labc-web serves at "
	    "/api/status (docs/status-api.md).",
	.flags = CMD_WEB | CMD_READONLY | CMD_NOAUDIT,
	.exec = cmd_status_exec,
};
