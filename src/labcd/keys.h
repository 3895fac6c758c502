/* keys.h - lab users' SSH public keys in the database (keys.c). */
#ifndef LABCD_KEYS_H
#define LABCD_KEYS_H

#include "labcd.h"

/*
 * Validate a public key line and register it for the user, inside the
 * caller's transaction. proven: the key may log its user in at the
 * gateway (an admin vouches, or the server made it); a key a member pastes
 * is not, until its holder logs in with it (keys_claim). 0, or a PROTO_*
 * status with the reason said.
 */
int	keys_add(struct ctx *c, long long user_id, const char *line,
	    int proven, char fingerprint[64]);

/*
 * After a password login in an anonymous gateway session: offer to make
 * the key that session was opened with (c->id.gw_key) the user's proven
 * key. Holding the key is proven by construction: sshd accepted it. A
 * copy someone else pasted (unproven) moves to the user; both are audited.
 * Says what it did; never fails the login.
 */
void	keys_claim(struct ctx *c, long long user_id, const char *user);

#endif
