/*
 * reconcile.h - comparing labcd's database with what LXD has, and mending
 * what can be mended without guessing (reconcile.c).
 */
#ifndef LABCD_RECONCILE_H
#define LABCD_RECONCILE_H

#include <jansson.h>

#include "labcd.h"

/*
 * Compare the containers table with the instances in the users' LXD
 * projects. With repair, mend what is safe: finish interrupted creations
 * (remove what was made) and deletions, release the ports of containers
 * deleted outside labcd, put a port device back, adopt a container of a
 * user's project that has no row when its port is free. Never deletes a
 * container that no row accounts for. One finding per difference is
 * appended to findings (findings_free frees them).
 * 0, or PROTO_FAILED (op->cause) if LXD cannot be asked. A repair is
 * audited in the name of op's actor and command, in the owner's log.
 */
enum finding_kind {
	FIND_OK,		/* said; left as it is, nothing to mend */
	FIND_WOULD,	/* looked only: what a repair would do */
	FIND_DONE,		/* mended (an audit row says so) */
	FIND_PENDING	/* not yet: tried again later */
};
struct finding {
	enum finding_kind kind;
	char		 user[64];
	char		 container[96];
	char		 problem[512];
	char		 what[512];	/* the action, without "would " ... */
	char		 action[528];	/* as said: "would "/"none yet: " what */
};
struct findings {
	struct finding	*v;
	size_t		 n, cap;
};
int	reconcile_run(struct op *op, int repair, struct findings *findings);
void	findings_free(struct findings *fs);

/* Ask the background reconciler to run as soon as LXD answers. */
void	reconcile_soon(void);
/* The background reconciler: at start-up, when asked, and periodically. */
void	reconcile_start(struct server *s);
void	reconcile_stop(void);

struct view_ct;
/*
 * The view's report of a changed instance (view_change_fn): wakes the
 * background reconciler when the change is drift (reconcile-watch.c),
 * if reconcile_on_change is on. In the view's thread.
 */
void	reconcile_on_change(struct server *s, const struct view_ct *before,
	    const struct view_ct *after);
/* Its database connection, closed when the view has stopped. */
void	reconcile_watch_close(void);

struct checkup;
/* doctor's check of drift: what reconcile_run, only looking, finds, one
   row each. Needs LXD. */
void	reconcile_doctor(struct checkup *d);
#endif
