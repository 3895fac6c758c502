/* cmd-key-list.c - key list: your registered SSH keys. */
#include "db-keys.h"
#include "labcd.h"
#include "proto.h"
#include "users.h"

static int
cmd_key_list_exec(struct ctx *c)
{
	static const char *const cols[] = { "type", "fingerprint", "comment",
	    "added", "proven", NULL };
	struct table *t = table_new(cols);
	struct key_row *k;
	int i, n = keydb_list(c->db, c->id.user_id, &k);

	for (i = 0; i < n; i++) {
		char added[32];

		users_time(k[i].created, added);
		table_add(t, k[i].type, k[i].fingerprint, k[i].comment, added,
		    k[i].proven ? "yes" : "no");
	}
	keydb_free(k, n);
	ctx_table(c, "keys", t);
	table_free(t);
	return PROTO_OK;
}

const struct cmd_entry cmd_key_list_entry = {
	.name = "key list",
	.args = "",
	.summary = "list your SSH keys",
	.help = "proven: the key logs you in at the SSH gateway. A key you\n"
	    "pasted is proven once you have logged in with it there.",
	.flags = CMD_USER | CMD_READONLY | CMD_NOAUDIT | CMD_FORMAT,
	.exec = cmd_key_list_exec,
};
