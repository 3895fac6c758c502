/*
 * claim.h - who is changing a container now (claim.c): the busy set that
 * requests and reconciliation share, and each user's lock on the LXD
 * writes that a project quota counts.
 */
#ifndef LABCD_CLAIM_H
#define LABCD_CLAIM_H

struct ct;
struct op;

/*
 * Hold a container (by owner and name) while changing what it is: create,
 * delete, reconciliation. 0, or -1 if someone holds it already.
 */
int	ct_claim(long long user_id, const char *name);
/* ct_claim for a request: PROTO_OK, or PROTO_FAILED (op->cause). */
int	ct_claim_for(struct op *op, const struct ct *ct);
/*
 * ct_claim_for, waiting up to seconds for the holder to let go: for a
 * change that reconciliation may be making at the same moment (it holds
 * a row while it mends it).
 */
int	ct_claim_wait(struct op *op, const struct ct *ct, int seconds);
/* The same by owner and name (a container not made yet). */
int	ct_claim_name(struct op *op, long long user_id, const char *name);
void	ct_release(long long user_id, const char *name);
/* Is it held now (by anyone)? 1 or 0: a hint, true only for a moment. */
int	ct_claimed(long long user_id, const char *name);
/* One user's quota-counted LXD writes at a time (set). */
void	ct_quota_lock(long long user_id);
void	ct_quota_unlock(long long user_id);

#endif
