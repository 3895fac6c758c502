/* keys.c - registering lab users' SSH public keys: validated, no duplicates. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "keys.h"
#include "proto.h"
#include "sshkey.h"

int
keys_add(struct ctx *c, long long user_id, const char *line,
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
		    "each key belongs to one lab user only; make your own with "
		    "ssh-keygen -t ed25519", k.fingerprint);
		sshkey_free(&k);
		return rc;
	}
	sqlite3_finalize(st);
	st = db_prepare(c->db, "INSERT INTO keys (user_id, type, blob, "
	    "fingerprint, comment, created) VALUES (?, ?, ?, ?, ?, ?)");
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, k.type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, k.base64, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, k.fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, k.comment, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (long long)time(NULL));
	rc = db_done(c->db, st);
	if (fingerprint != NULL)
		snprintf(fingerprint, 64, "%s", k.fingerprint);
	sshkey_free(&k);
	if (rc != 0)
		return ctx_error(c, "cannot register the key: %s", c->db->err);
	return PROTO_OK;
}
