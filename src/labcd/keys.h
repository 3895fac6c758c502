/* keys.h - lab users' SSH public keys in the database (keys.c). */
#ifndef LABCD_KEYS_H
#define LABCD_KEYS_H

#include "labcd.h"

/*
 * Validate a public key line and register it for the user, inside the
 * caller's transaction. 0, or a PROTO_* status with the reason said.
 */
int	keys_add(struct ctx *c, long long user_id, const char *line,
	    char fingerprint[64]);

#endif
