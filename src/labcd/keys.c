/*
 * keys.c - registering lab users' SSH public keys: validated, no
 * duplicates, and proven or not: only a proven key logs its user in at the
 * gateway (a pasted public key proves nothing about who holds it).
 */
#include <stdio.h>

#include "db-keys.h"
#include "keys.h"
#include "proto.h"
#include "sshkey.h"

int
keys_add(struct op *op, long long user_id, const char *line, int proven,
    char fingerprint[64])
{
	struct key_row old;
	struct sshkey k;
	char err[256];
	int rc;

	if (sshkey_parse(line, &k, err, sizeof(err)) != 0)
		return op_error(op, "%s", err);
	/* One key, one lab user: the gateway must know whose key it is. */
	if (keydb_find(op->db, k.fingerprint, &old) == 0) {
		int mine = old.user_id == user_id;

		keydb_row_free(&old);
		rc = op_error(op, mine ? "you have registered the key %s "
		    "already" : "the key %s is registered by another lab user: "
		    "each key belongs to one lab user only. If it is yours, "
		    "ssh to the gateway with it and 'login': that proves you "
		    "hold it and moves it to you. Or make a new one with "
		    "ssh-keygen -t ed25519", k.fingerprint);
		sshkey_free(&k);
		return rc;
	}
	rc = keydb_add(op->db, user_id, k.type, k.base64, k.fingerprint,
	    k.comment, proven);
	if (fingerprint != NULL)
		snprintf(fingerprint, 64, "%s", k.fingerprint);
	sshkey_free(&k);
	if (rc != 0)
		return op_error(op, "cannot register the key: %s", op->db->err);
	return PROTO_OK;
}
