/*
 * cmd-gateway-keys.c - gateway authorized-keys: what 'labc
 * --authorized-keys' prints for sshd: each registered key of each active
 * lab user, forced to run labc as that user. Only for root, the gateway
 * account and the account sshd runs the command as.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labcd.h"
#include "proto.h"
#include "sshkey.h"
#include "xmalloc.h"

static int
cmd_gateway_keys_exec(struct ctx *c)
{
	const char *account = c->args.argv[0], *labc = c->args.argv[1], *p;
	struct server *s = c->srv;
	char fp[64] = "";
	sqlite3_stmt *st;

	if (!c->id.root && c->id.uid != ident_uid_of(s->cfg.gateway_user) &&
	    c->id.uid != ident_uid_of(s->cfg.gateway_keys_user))
		return ctx_error(c, "gateway authorized-keys is for sshd only");
	if (strcmp(account, s->cfg.gateway_user) != 0)
		return PROTO_OK;	/* not the gateway: no keys at all */
	for (p = labc; *p != '\0'; p++) {
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789/._-", *p))
			return ctx_error(c, "labc's path %.80s has characters "
			    "that cannot go into a forced command", labc);
	}
	if (c->args.argc == 4) {	/* the one key sshd is looking at */
		struct sshkey k;
		char *line = xasprintf("%s %s", c->args.argv[2],
		    c->args.argv[3]);
		char err[256];
		int r = sshkey_parse(line, &k, err, sizeof(err));

		free(line);
		if (r != 0)
			return PROTO_OK;
		snprintf(fp, sizeof(fp), "%s", k.fingerprint);
		sshkey_free(&k);
	}
	st = db_prepare(c->db, "SELECT u.name, k.type, k.blob FROM keys k "
	    "JOIN users u ON u.id = k.user_id WHERE u.disabled = 0 AND "
	    "(?1 = '' OR k.fingerprint = ?1) ORDER BY u.name, k.id");
	sqlite3_bind_text(st, 1, fp, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		ctx_printf(c, "restrict,pty,command=\"%s --as %s\" %s %s\n",
		    labc, sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
		    sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	return PROTO_OK;
}

const struct cmd_entry cmd_gateway_keys_entry = {
	.name = "gateway authorized-keys",
	.args = "ACCOUNT LABC [TYPE KEY]",
	.summary = "keys sshd may accept for the gateway account (for sshd)",
	.flags = CMD_ANON | CMD_READONLY | CMD_HIDDEN,
	.min_args = 2, .max_args = 4,
	.exec = cmd_gateway_keys_exec,
};
