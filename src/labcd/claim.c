/*
 * claim.c - the containers that a request (or reconciliation) is changing
 * right now, so that no two change one at once and reconciliation leaves
 * their rows alone; and one user's quota-counted LXD writes at a time.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "claim.h"
#include "db-containers.h"
#include "labcd.h"
#include "proto.h"
#include "xmalloc.h"

#define QUOTA_LOCKS	16

/*
 * LXD 5.0 checks a project's limits, then applies a change: two changes
 * of one user's containers at once can each pass the check and together
 * pass the quota. So set's LXD writes take this, one user at a time.
 * create does not: its POST holds for the image copy (minutes).
 */
static pthread_mutex_t quota_locks[QUOTA_LOCKS];
static pthread_once_t quota_locks_once = PTHREAD_ONCE_INIT;

static void
quota_locks_init(void)
{
	int i;

	for (i = 0; i < QUOTA_LOCKS; i++)
		pthread_mutex_init(&quota_locks[i], NULL);
}

void
ct_quota_lock(long long user_id)
{
	pthread_once(&quota_locks_once, quota_locks_init);
	pthread_mutex_lock(&quota_locks[(unsigned long long)user_id %
	    QUOTA_LOCKS]);
}

void
ct_quota_unlock(long long user_id)
{
	pthread_mutex_unlock(&quota_locks[(unsigned long long)user_id %
	    QUOTA_LOCKS]);
}

/*
 * Containers that a request is creating or deleting right now, by owner
 * and name: reconciliation leaves their rows alone.
 */
static pthread_mutex_t	 busy_lock = PTHREAD_MUTEX_INITIALIZER;
static struct busy {
	long long	 user_id;
	char		 name[64];
} *busy;
static size_t		 nbusy, busy_cap;

/* Its index in busy, or nbusy. Under busy_lock. */
static size_t
busy_find(long long user_id, const char *name)
{
	size_t i;

	for (i = 0; i < nbusy; i++) {
		if (busy[i].user_id == user_id && strcmp(busy[i].name, name) == 0)
			break;
	}
	return i;
}

/* Claim a container for one request (or reconciliation): 0, or -1 if
   someone holds it. */
int
ct_claim(long long user_id, const char *name)
{
	pthread_mutex_lock(&busy_lock);
	if (busy_find(user_id, name) < nbusy) {
		pthread_mutex_unlock(&busy_lock);
		return -1;
	}
	if (nbusy == busy_cap) {
		busy_cap = busy_cap ? busy_cap * 2 : 16;
		busy = xrealloc(busy, busy_cap * sizeof(*busy));
	}
	busy[nbusy].user_id = user_id;
	snprintf(busy[nbusy].name, sizeof(busy[nbusy].name), "%s", name);
	nbusy++;
	pthread_mutex_unlock(&busy_lock);
	return 0;
}

static int
busy_said(struct op *op, const char *name)
{
	return op_error(op, "%s is being changed by another request, or by "
	    "labcd putting its records right; try again in a moment", name);
}

int
ct_claim_wait(struct op *op, const struct ct *ct, int seconds)
{
	struct timespec pause = { 0, 100 * 1000 * 1000 };
	int i;

	for (i = 0; ct_claim(ct->user_id, ct->name) != 0; i++) {
		if (i >= seconds * 10)
			return busy_said(op, ct->name);
		nanosleep(&pause, NULL);
	}
	return PROTO_OK;
}

int
ct_claimed(long long user_id, const char *name)
{
	int r;

	pthread_mutex_lock(&busy_lock);
	r = busy_find(user_id, name) < nbusy;
	pthread_mutex_unlock(&busy_lock);
	return r;
}

void
ct_release(long long user_id, const char *name)
{
	size_t i;

	pthread_mutex_lock(&busy_lock);
	if ((i = busy_find(user_id, name)) < nbusy)
		busy[i] = busy[--nbusy];
	if (nbusy == 0) {
		free(busy);
		busy = NULL;
		busy_cap = 0;
	}
	pthread_mutex_unlock(&busy_lock);
}

int
ct_claim_name(struct op *op, long long user_id, const char *name)
{
	return ct_claim(user_id, name) != 0 ? busy_said(op, name) : PROTO_OK;
}

int
ct_claim_for(struct op *op, const struct ct *ct)
{
	return ct_claim_name(op, ct->user_id, ct->name);
}
