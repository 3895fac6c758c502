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
#include "keys.h"
#include "proto.h"
#include "sshkey.h"
#include "xmalloc.h"

int
keys_add(struct ctx *c, long long user_id, const char *line, int proven,
    char fingerprint[64])
{
	struct sshkey k;
	sqlite3_stmt *st;
	char err[256];
	int rc;

	if (sshkey_parse(line, &k, err, sizeof(err)) != 0)
		return ctx_error(c, "%s", err);
	/* One key, one lab user: the gateway must know whose key it is. */
	st = db_prepare(c->db, "SELECT user_id FROM keys WHERE fingerprint = ?");
	sqlite3_bind_text(st, 1, k.fingerprint, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int mine = sqlite3_column_int64(st, 0) == user_id;

		sqlite3_finalize(st);
		rc = ctx_error(c, mine ? "you have registered the key %s "
		    "already" : "the key %s is registered by another lab user: "
		    "each key belongs to one lab user only. If it is yours, "
		    "ssh to the gateway with it and 'login': that proves you "
		    "hold it and moves it to you. Or make a new one with "
		    "ssh-keygen -t ed25519", k.fingerprint);
		sshkey_free(&k);
		return rc;
	}
	sqlite3_finalize(st);
	st = db_prepare(c->db, "INSERT INTO keys (user_id, type, blob, "
	    "fingerprint, comment, created, proven) VALUES (?, ?, ?, ?, ?, ?, "
	    "?)");
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, k.type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, k.base64, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, k.fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, k.comment, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (long long)time(NULL));
	sqlite3_bind_int(st, 7, proven != 0);
	rc = db_done(c->db, st);
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
	sqlite3_stmt *st = db_prepare(c->db, "INSERT INTO audit (time, actor, "
	    "user, command, target, result) VALUES (?, ?, ?, ?, ?, ?)");

	sqlite3_bind_int64(st, 1, (long long)time(NULL));
	sqlite3_bind_text(st, 2, c->id.actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->cmd->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c->target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, result, -1, SQLITE_STATIC);
	(void)db_done(c->db, st);
}

void
keys_claim(struct ctx *c, long long user_id, const char *user)
{
	struct sshkey k;
	sqlite3_stmt *st;
	char err[256], owner[33] = "", *yes = NULL, *res;
	long long owner_id = 0;
	int proven = 0, found;

	if (c->id.gw_key[0] == '\0' ||
	    sshkey_parse(c->id.gw_key, &k, err, sizeof(err)) != 0)
		return;
	st = db_prepare(c->db, "SELECT k.user_id, k.proven, u.name FROM keys k "
	    "JOIN users u ON u.id = k.user_id WHERE k.fingerprint = ?");
	sqlite3_bind_text(st, 1, k.fingerprint, -1, SQLITE_STATIC);
	if ((found = sqlite3_step(st) == SQLITE_ROW)) {
		owner_id = sqlite3_column_int64(st, 0);
		proven = sqlite3_column_int(st, 1);
		snprintf(owner, sizeof(owner), "%s",
		    (const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_finalize(st);
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
		st = db_prepare(c->db, "UPDATE keys SET user_id = ?, proven = 1 "
		    "WHERE fingerprint = ? AND proven = 0");
		sqlite3_bind_int64(st, 1, user_id);
		sqlite3_bind_text(st, 2, k.fingerprint, -1, SQLITE_STATIC);
		if (db_done(c->db, st) != 0) {
			db_rollback(c->db);
			goto fail;
		}
		/* Deleted or proven by someone else while we asked. */
		if (sqlite3_changes(c->db->h) != 1) {
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
		(void)ct_sync_keys(c, owner_id, owner);
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
	if (ct_sync_keys(c, user_id, user) != 0)
		ctx_printf(c, "Some containers could not be updated now; they "
		    "are when they next start.\n");
	goto out;
fail:
	ctx_printf(c, "The key could not be registered: %s\n", c->db->err);
out:
	free(yes);
	sshkey_free(&k);
}
