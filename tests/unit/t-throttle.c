/*
 * t-throttle.c - the table of password tries (throttle.c) when an
 * attacker makes many places: tries given back leave room, but an entry
 * still counting (a user's wrong tries in a row, the strangers' budget)
 * is never forgotten to make room; a full table refuses new tries.
 */
#include <stdio.h>
#include <string.h>

#include "labcd.h"
#include "test.h"

#define MAX	3
#define LOCK	300
#define FLOOD	5000		/* more places than the table holds */

static struct server srv;

/* A wrong try for user from place: the seconds that place waits now. */
static long long
wrong(const char *user, const char *place, const char **why)
{
	long long wait;

	*why = NULL;
	if ((wait = throttle_claim(&srv, user, place, why)) != 0)
		return -wait;	/* refused before the check */
	(void)throttle_done(&srv, user, place, 0, &wait);
	return wait;
}

static void
given_back_tries_leave_room(void)
{
	char user[33], place[80];
	const char *why;
	long long wait;
	int i, refused = 0;

	for (i = 0; i < FLOOD; i++) {
		snprintf(user, sizeof(user), "busy%d", i);
		snprintf(place, sizeof(place), "key busy%d", i);
		why = NULL;
		if (throttle_claim(&srv, user, place, &why) != 0)
			refused++;
		else
			(void)throttle_done(&srv, user, place, -1, &wait);
	}
	CHECKF(refused == 0, "%d of %d refused", refused, FLOOD);
}

static void
flood_does_not_flush_alice(void)
{
	char user[33], place[80];
	const char *why = NULL, *first = NULL;
	long long w;
	int i, refused = 0, at = -1;

	/* Two wrong in a row from a stranger's place: one more waits. */
	REQUIRE(wrong("alice", "uid 2001", &why) == 0);
	REQUIRE(wrong("alice", "uid 2001", &why) == 0);
	/* An attacker: one wrong try from each of many new places. */
	for (i = 0; i < FLOOD; i++) {
		snprintf(user, sizeof(user), "guess%d", i);
		snprintf(place, sizeof(place), "key flood%d", i);
		if (wrong(user, place, &why) < 0) {
			if (at < 0) {
				at = i;
				first = why;
			}
			refused++;
		}
	}
	printf("#   measured: %d tries from new places before the table "
	    "was full (%d refused)\n", at, refused);
	CHECKF(at > 1000 && refused == FLOOD - at, "first refused %d, %d "
	    "refused", at, refused);
	CHECKF(first != NULL && strstr(first, "too many places are trying "
	    "passwords at once") != NULL, "why: %s", first ? first : "-");
	/* alice's count survived: the third wrong one starts the wait. */
	w = wrong("alice", "uid 2001", &why);
	CHECKF(w == LOCK, "alice's third wrong try: wait %lld, want %d (%s)",
	    w, LOCK, why ? why : "-");
	/* and her place is still held off, even with the right password */
	w = wrong("alice", "uid 2001", &why);
	CHECKF(w < 0 && why != NULL && strstr(why, "from here") != NULL,
	    "after the run: %lld (%s)", w, why ? why : "-");
	/* a new place: refused (fail closed), not given a fresh budget */
	w = wrong("alice", "uid 2002", &why);
	CHECKF(w < 0, "a new place was let in: %lld", w);
}

int
main(void)
{
	srv.cfg.login_max_failures = MAX;
	srv.cfg.login_lockout = LOCK;
	RUN(given_back_tries_leave_room);
	RUN(flood_does_not_flush_alice);
	return t_done();
}
