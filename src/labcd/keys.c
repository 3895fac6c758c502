/*
 * keys.c - registering lab users' SSH public keys: validated, no
 * duplicates, and proven or not: only a proven key logs its user in at the
 * gateway (a pasted public key proves nothing about who holds it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ct.h"
#include "db-audit.h"
#include "db-keys.h"
#include "keys.h"
#include "proto.h"
#include "sshkey.h"
#include "xmalloc.h"

int
keys_add(struct ctx *c, long long user_id, const char *line, int proven,
    char fingerprint[64])
{
	struct key_row old;
	struct sshkey k;
	char err[256];
	int rc;

	if (sshkey_parse(line, &k, err, sizeof(err)) != 0)
		return ctx_error(c, "%s", err);
	/* One key, one lab user: the gateway must know whose key it is. */
	if (keydb_find(c->db, k.fingerprint, &old) == 0) {
		int mine = old.user_id == user_id;

		keydb_row_free(&old);
		rc = ctx_error(c, mine ? "you have registered the key %s "
		    "already" : "the key %s is registered by another lab user: "
		    "each key belongs to one lab user only. If it is yours, "
		    "ssh to the gateway with it and 'login': that proves you "
		    "hold it and moves it to you. Or make a new one with "
		    "ssh-keygen -t ed25519", k.fingerprint);
		sshkey_free(&k);
		return rc;
	}
	rc = keydb_add(c->db, user_id, k.type, k.base64, k.fingerprint,
	    k.comment, proven);
	if (fingerprint != NULL)
		snprintf(fingerprint, 64, "%s", k.fingerprint);
	sshkey_free(&k);
	if (rc != 0)
		return ctx_error(c, "cannot register the key: %s", c->db->err);
	return PROTO_OK;
}

/* An extra audit row (the squatter's side of a move). */
static void
audit_other(struct ctx *c, const char *user, const char *result)
{
	(void)auditdb_add(c->db, (long long)time(NULL), c->id.actor, user,
	    c->cmd->name, c->target, result);
}

void
keys_claim(struct ctx *c, long long user_id, const char *user)
{
	struct key_row row;
	struct sshkey k;
	char err[256], owner[33] = "", *yes = NULL, *res;
	long long owner_id = 0;
	int proven = 0, found, moved;

	if (c->id.gw_key[0] == '\0' ||
	    sshkey_parse(c->id.gw_key, &k, err, sizeof(err)) != 0)
		return;
	if ((found = keydb_find(c->db, k.fingerprint, &row) == 0)) {
		owner_id = row.user_id;
		proven = row.proven;
		snprintf(owner, sizeof(owner), "%s", row.user);
		keydb_row_free(&row);
	}
	if (found && proven && owner_id == user_id)
		goto out;	/* already (an account unlocked since) */
	if (found && proven) {
		ctx_printf(c, "This session's key %s is another lab user's; it "
		    "stays theirs. Use your own key: ssh -i ~/.ssh/YOURKEY -o "
		    "IdentitiesOnly=yes ...\n", k.fingerprint);
		goto out;
	}
	if (ctx_prompt(c, found && owner_id == user_id ? "Confirm the key "
	    "of this SSH session as yours, so that it logs you in directly "
	    "from now on? [Y/n] " : "Register the key of this SSH session as "
	    "yours, so that it logs you in directly from now on? [Y/n] ", 1,
	    &yes) != 0 || (yes[0] != '\0' && strchr("yY", yes[0]) == NULL)) {
		ctx_printf(c, "The key %s was not registered; 'login' again "
		    "from this session to register it.\n", k.fingerprint);
		goto out;
	}
	if (db_begin(c->db) != 0)
		goto fail;
	if (!found) {
		if (keys_add(c, user_id, c->id.gw_key, 1, NULL) != 0) {
			db_rollback(c->db);
			goto out;
		}
	} else {
		if ((moved = keydb_prove(c->db, k.fingerprint, user_id)) < 0) {
			db_rollback(c->db);
			goto fail;
		}
		/* Deleted or proven by someone else while we asked. */
		if (moved != 1) {
			db_rollback(c->db);
			ctx_printf(c, "The key %s changed while you answered; "
			    "'login' again from this session to register it.\n",
			    k.fingerprint);
			goto out;
		}
	}
	if (db_commit(c->db) != 0)
		goto fail;
	if (found && owner_id != user_id) {
		/* A squatter pasted it: it is the holder's now, both know. */
		res = xasprintf("key %s moved from %s to %s, who holds it "
		    "(login with it through the gateway)", k.fingerprint, owner,
		    user);
		audit(c, res);
		audit_other(c, owner, res);
		free(res);
		(void)ct_sync_keys(ctx_op(c), owner_id, owner);
		ctx_printf(c, "Key %s is yours now and proven (another lab user "
		    "had pasted it; it is no longer theirs).\n", k.fingerprint);
	} else {
		res = xasprintf("key %s %s (login with it through the "
		    "gateway)", k.fingerprint, found ? "proven" :
		    "registered and proven");
		audit(c, res);
		free(res);
		ctx_printf(c, "Key %s %s: from now on 'ssh %s@...' with it logs "
		    "you in as %s.\n", k.fingerprint, found ? "is proven" :
		    "registered", c->srv->cfg.gateway_user, user);
	}
	if (ct_sync_keys(ctx_op(c), user_id, user) != 0)
		ctx_printf(c, "Some containers could not be updated now; they "
		    "are when they next start.\n");
	goto out;
fail:
	ctx_printf(c, "The key could not be registered: %s\n", c->db->err);
out:
	free(yes);
	sshkey_free(&k);
}
