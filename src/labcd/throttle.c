/*
 * throttle.c - how many password checks (login, passwd) a caller may have.
 *
 * A "place" is where a try comes from: a host account (uid), or at the
 * gateway the SSH key of the session. The rules, per lab user name as typed
 * (an unknown name is treated exactly like a known one, so the answers say
 * nothing about who exists):
 *  1. login_max_failures wrong passwords in a row for USER from a PLACE
 *     make that place wait login_lockout seconds for USER. Other places,
 *     USER's own included, are not affected: guessing never locks the
 *     account.
 *  2. Strangers together (places that have not logged in as USER since
 *     labcd started) get login_max_failures wrong passwords per
 *     login_lockout: past that, one try per login_lockout /
 *     login_max_failures seconds for all of them, so many keys or uids do
 *     not make many guesses. A place USER logged in from before skips it.
 *  3. One place starts at most LOGIN_RATE checks a minute, for all names.
 * A try is claimed before its password is checked (tries in parallel each
 * take one). The state is in memory: a restart forgets it, but a host uid
 * that still has a session of USER is known again (cmd-login.c). An entry
 * still counting is never forgotten to make room: when all TH_MAX are,
 * tries are refused (fail closed) until some are spent.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "labcd.h"
#include "log.h"

#define LOGIN_RATE	10	/* checks one place starts per minute */
#define TH_MAX		4096	/* remembered (user, place) pairs and more */

enum { T_FREE, T_PAIR, T_USER, T_PLACE };

struct tent {
	int		 type;
	char		 user[33];
	char		 place[80];
	int		 count;		/* PAIR: claimed in a row; USER: by
					   strangers lately; PLACE: this
					   minute */
	long long	 until;		/* PAIR: waits until; USER: strangers'
					   next try; PLACE: minute began */
	long long	 last;		/* last use: the oldest goes first */
	int		 known;		/* PAIR: logged in from there */
};

static pthread_mutex_t th_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tent th[TH_MAX];
static long long th_full_said;	/* when the log last said it was full */

/*
 * May e give its place to another? Not while it holds anything back: a
 * wait not over, wrong tries counted lately (quiet for lock seconds, they
 * are forgiven anyway), this minute's checks of a place. Else an attacker
 * making many places would flush a user's count and wait.
 */
static int
th_spent(const struct tent *e, long long now, int lock)
{
	switch (e->type) {
	case T_FREE:
		return 1;
	case T_PLACE:
		return e->count == 0 || now - e->until >= 60;
	default:
		return e->until <= now && (e->count == 0 || now - e->last > lock);
	}
}

/*
 * The entry, made if missing (over a spent one: free first, then
 * strangers before known places, oldest first, never keep nor keep2: the
 * others of the same try); NULL if none is spent.
 */
static struct tent *
th_get(int type, const char *user, const char *place, long long now, int lock,
    const struct tent *keep, const struct tent *keep2)
{
	struct tent *e, *old = NULL;
	int i;

	for (i = 0; i < TH_MAX; i++) {
		e = &th[i];
		if (e->type == type && strcmp(e->user, user) == 0 &&
		    strcmp(e->place, place) == 0)
			return e;
		if ((old != NULL && old->type == T_FREE) || e == keep ||
		    e == keep2 || !th_spent(e, now, lock))
			continue;
		if (old == NULL || e->type == T_FREE || e->known < old->known ||
		    (e->known == old->known && e->last < old->last))
			old = e;
	}
	if ((e = old) == NULL)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->type = type;
	snprintf(e->user, sizeof(e->user), "%s", user);
	snprintf(e->place, sizeof(e->place), "%s", place);
	e->last = now;
	return e;
}

void
throttle_known(struct server *s, const char *user, const char *place)
{
	struct tent *pair;

	pthread_mutex_lock(&th_lock);
	pair = th_get(T_PAIR, user, place, (long long)time(NULL),
	    s->cfg.login_lockout, NULL, NULL);
	if (pair != NULL)
		pair->known = 1;
	pthread_mutex_unlock(&th_lock);
}

long long
throttle_claim(struct server *s, const char *user, const char *place,
    const char **why)
{
	int max = s->cfg.login_max_failures, lock = s->cfg.login_lockout;
	long long now = (long long)time(NULL), wait = 0;
	struct tent *src, *pair, *acct;

	pthread_mutex_lock(&th_lock);
	/* Full of tries still counting: refuse rather than forget one. */
	pair = th_get(T_PAIR, user, place, now, lock, NULL, NULL);
	src = th_get(T_PLACE, "", place, now, lock, pair, NULL);
	acct = th_get(T_USER, user, "", now, lock, pair, src);
	if (pair == NULL || src == NULL || acct == NULL) {
		wait = lock / max > 0 ? lock / max : 1;
		*why = "too many places are trying passwords at once (labcd "
		    "keeps count of at most 4096 and forgets none still "
		    "counting)";
		if (now - th_full_said >= 10) {	/* not a line per try */
			th_full_said = now;
			log_warn("login: the table of password tries is full "
			    "(%d): tries from new places are refused until "
			    "some are spent (%s from %s)", TH_MAX, user, place);
		}
		goto out;
	}
	if (now - src->until >= 60) {
		src->until = now;
		src->count = 0;
	}
	src->last = now;
	if (src->count >= LOGIN_RATE) {
		wait = src->until + 60 - now;
		*why = "too many password checks from here (at most 10 a "
		    "minute)";
		goto out;
	}
	pair->last = now;
	if (pair->until > now) {
		wait = pair->until - now;
		*why = "too many wrong passwords from here";
		goto out;
	}
	if (now - acct->last > lock)
		acct->count = 0;	/* quiet for a while: forgiven */
	if (!pair->known && acct->count >= max && acct->until > now) {
		wait = acct->until - now;
		*why = "too many wrong passwords lately from places this user "
		    "never logged in from";
		goto out;
	}
	src->count++;
	if (++pair->count >= max) {	/* the last try in a row */
		pair->until = now + lock;
		pair->count = 0;
	}
	if (!pair->known) {
		acct->last = now;
		if (++acct->count >= max)
			acct->until = now + (lock / max > 0 ? lock / max : 1);
	}
out:
	pthread_mutex_unlock(&th_lock);
	return wait;
}

int
throttle_done(struct server *s, const char *user, const char *place, int ok,
    long long *wait)
{
	long long now = (long long)time(NULL);
	struct tent *pair, *acct, *src;
	int n = 0, lock = s->cfg.login_lockout;

	*wait = 0;
	pthread_mutex_lock(&th_lock);
	pair = th_get(T_PAIR, user, place, now, lock, NULL, NULL);
	acct = th_get(T_USER, user, "", now, lock, pair, NULL);
	if (pair == NULL)
		;	/* the table is full, and this try was refused */
	else if (ok > 0) {
		pair->count = 0;
		pair->until = 0;
		pair->known = 1;
		if (acct != NULL) {
			acct->count = 0;
			acct->until = 0;
		}
	} else if (ok < 0) {
		/* Not checked after all (busy): give the try back. */
		src = th_get(T_PLACE, "", place, now, lock, pair, acct);
		if (src != NULL && src->count > 0)
			src->count--;
		if (pair->until > now && pair->count == 0) {
			/* it was the last of a run: undo the wait */
			pair->until = 0;
			pair->count = s->cfg.login_max_failures - 1;
		} else if (pair->count > 0)
			pair->count--;
		if (!pair->known && acct != NULL && acct->count > 0)
			acct->count--;
	} else if (pair->until > now) {
		/* This one ended the run: the wait starts now, in full. */
		n = s->cfg.login_max_failures;
		pair->until = now + s->cfg.login_lockout;
		*wait = s->cfg.login_lockout;
	} else
		n = pair->count;
	pthread_mutex_unlock(&th_lock);
	return n;
}
