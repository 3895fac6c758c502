/* keys.h - lab users' SSH public keys in the database (keys.c). */
#ifndef LABCD_KEYS_H
#define LABCD_KEYS_H

#include "labcd.h"

/*
 * Validate a public key line and register it for the user, inside the
 * caller's transaction. proven: the key may log its user in at the
 * gateway (an admin vouches, or the server made it); a key a member pastes
 * is not, until its holder logs in with it (login). 0, or PROTO_FAILED
 * with the reason in op->cause.
 */
int	keys_add(struct op *op, long long user_id, const char *line,
	    int proven, char fingerprint[64]);

#endif
