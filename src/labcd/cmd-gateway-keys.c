/*
 * cmd-gateway-keys.c - gateway authorized-keys: what 'labc
 * --authorized-keys' prints for sshd. The key sshd is looking at, if it is
 * a proven key of an active lab user, is forced to run labc as that user;
 * any other key is forced to an anonymous session bound to that key, where
 * 'login' proves and registers it. Only for root and the account sshd runs
 * the command as (gateway_keys_user), not the gateway account itself:
 * CMD_SSHD, checked by acl.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-keys.h"
#include "labcd.h"
#include "proto.h"
#include "sshkey.h"
#include "xmalloc.h"

static int
cmd_gateway_keys_exec(struct ctx *c)
{
	const char *account = c->args.argv[0], *labc = c->args.argv[1], *p;
	struct server *s = c->srv;
	struct key_row *rows;
	struct sshkey k;
	int have_key = 0, n, i;

	memset(&k, 0, sizeof(k));
	if (strcmp(account, s->cfg.gateway_user) != 0)
		return PROTO_OK;	/* not the gateway: no keys at all */
	for (p = labc; *p != '\0'; p++) {
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789/._-", *p))
			return ctx_error(c, "labc's path %.80s has characters "
			    "that cannot go into a forced command", labc);
	}
	if (c->args.argc == 4) {	/* the one key sshd is looking at */
		char *line = xasprintf("%s %s", c->args.argv[2],
		    c->args.argv[3]);
		char err[256];

		have_key = sshkey_parse(line, &k, err, sizeof(err)) == 0;
		free(line);
		if (!have_key)
			return PROTO_OK;	/* not a key we can name */
	}
	n = keydb_usable(c->db, have_key ? k.fingerprint : NULL, &rows);
	for (i = 0; i < n; i++)
		ctx_printf(c, "restrict,pty,command=\"%s --as %s\" %s %s\n",
		    labc, rows[i].user, rows[i].type, rows[i].blob);
	keydb_free(rows, n);
	/* Anyone else's key: in, but as no one until 'login'. */
	if (have_key && n == 0)
		ctx_printf(c, "restrict,pty,command=\"%s --anon\" %s %s\n", labc,
		    k.type, k.base64);
	sshkey_free(&k);
	return PROTO_OK;
}

const struct cmd_entry cmd_gateway_keys_entry = {
	.name = "gateway authorized-keys",
	.args = "ACCOUNT LABC [TYPE KEY]",
	.summary = "keys sshd may accept for the gateway account (for sshd)",
	.flags = CMD_ANON | CMD_SSHD | CMD_READONLY | CMD_NOAUDIT |
	    CMD_HIDDEN,
	.min_args = 2, .max_args = 4,
	.exec = cmd_gateway_keys_exec,
};
