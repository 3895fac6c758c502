/* cmd-logout.c - logout: end this password session. */
#include <string.h>

#include "db-sessions.h"
#include "labcd.h"
#include "proto.h"

static int
cmd_logout_exec(struct ctx *c)
{
	char hash[65];

	c->logout = 1;
	if (c->session == NULL || strcmp(c->id.via, "session") != 0) {
		ctx_printf(c, "Not logged in with a password: nothing to "
		    "end.\n");
		return PROTO_OK;
	}
	auth_token_hash(c->session, hash);
	if (sessdb_delete(c->db, hash) != 0)
		return ctx_error(c, "logout: %s", c->db->err);
	ctx_printf(c, "Logged out.\n");
	return PROTO_OK;
}

const struct cmd_entry cmd_logout_entry = {
	.name = "logout",
	.args = "",
	.summary = "end your password session",
	.flags = CMD_ANON,
	.exec = cmd_logout_exec,
};
