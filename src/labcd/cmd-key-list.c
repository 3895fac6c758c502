/* cmd-key-list.c - key list: your registered SSH keys. */
#include "labcd.h"
#include "proto.h"
#include "users.h"

static int
cmd_key_list_exec(struct ctx *c)
{
	static const char *const cols[] = { "type", "fingerprint", "comment",
	    "added", "proven", NULL };
	sqlite3_stmt *st = db_prepare(c->db, "SELECT type, fingerprint, "
	    "comment, created, proven FROM keys WHERE user_id = ? ORDER BY id");
	struct table *t = table_new(cols);

	sqlite3_bind_int64(st, 1, c->id.user_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char added[32];

		users_time(sqlite3_column_int64(st, 3), added);
		table_add(t, (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2), added,
		    sqlite3_column_int(st, 4) ? "yes" : "no");
	}
	sqlite3_finalize(st);
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
