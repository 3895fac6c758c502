/*
 * cmd-notices.c - notices: what labcd kept for you (a GPU lease about to
 * end, a GPU taken back), once. Every command of a lab user shows them
 * first by itself; the shell asks for them as it starts, so that a
 * gateway login shows them before the first prompt.
 */
#include <stdlib.h>

#include "db-notices.h"
#include "labcd.h"
#include "proto.h"
#include "xmalloc.h"

static int
cmd_notices_exec(struct ctx *c)
{
	char (*lines)[NOTICE_MAX];
	size_t i, n;

	/* Anyone may ask; who has no lab user has none. */
	if (c->id.user_id <= 0)
		return PROTO_OK;
	lines = xcalloc(NOTICES_KEPT, sizeof(*lines));
	n = noticedb_take(c->db, c->id.user_id, lines, NOTICES_KEPT);
	for (i = 0; i < n; i++)
		ctx_printf(c, "labcd: %s\n", lines[i]);
	free(lines);
	return PROTO_OK;
}

const struct cmd_entry cmd_notices_entry = {
	.name = "notices",
	.args = "",
	.summary = "what labcd kept for you (GPU leases), once",
	.flags = CMD_ANON | CMD_HIDDEN | CMD_NOAUDIT,
	.min_args = 0, .max_args = 0,
	.exec = cmd_notices_exec,
};
