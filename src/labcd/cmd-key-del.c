/* cmd-key-del.c - key del: unregister one of your SSH keys. */
#include <stdio.h>
#include <string.h>

#include "ct.h"
#include "db-keys.h"
#include "proto.h"

static int
cmd_key_del_exec(struct ctx *c)
{
	const char *what = c->args.argv[0];
	char fp[72];
	int n;

	ctx_target(c, "%.64s", what);
	/* A fingerprint (with or without "SHA256:"), or a comment. */
	snprintf(fp, sizeof(fp), "%s%.64s", strncmp(what, "SHA256:", 7) ?
	    "SHA256:" : "", what);
	n = keydb_count_match(c->db, c->id.user_id, fp, what);
	if (n == 0)
		return ctx_error(c, "you have no key with fingerprint or "
		    "comment '%.64s' (see 'key list')", what);
	if (n > 1)
		return ctx_error(c, "%d of your keys have the comment '%.64s': "
		    "give the fingerprint (see 'key list')", n, what);
	if (keydb_delete_match(c->db, c->id.user_id, fp, what) != 0)
		return ctx_error(c, "key del: %s", c->db->err);
	ctx_printf(c, "Key removed.\n");
	if (ct_sync_keys(ctx_op(c), c->id.user_id, c->id.user) != 0)
		ctx_printf(c, "Some containers could not be updated now; they "
		    "are when they next start.\n");
	return PROTO_OK;
}

const struct cmd_entry cmd_key_del_entry = {
	.name = "key del",
	.args = "FINGERPRINT|COMMENT",
	.summary = "remove one of your SSH keys (from every container too)",
	.help = "It leaves labcd's block in each container's authorized_keys; a\n"
	    "copy you put outside that block yourself stays: remove it there.",
	.flags = CMD_USER,
	.min_args = 1, .max_args = 1,
	.exec = cmd_key_del_exec,
};
