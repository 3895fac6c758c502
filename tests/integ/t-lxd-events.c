/*
 * t-lxd-events.c - LXD's event stream (lxd-events.c) against the real LXD
 * of the test bed: one stream for all projects, read by a thread of its
 * own (as labcd's view will), while an instance is created, started,
 * stopped and deleted in a project of this run; each lifecycle event
 * arrives within 1 s of the call's return and names the project and the
 * instance. Needs LABCT_PREFIX, LABCT_IMAGE and LABCT_PROFILE from
 * tests/run; the project has the run's prefix (tests/run's trap removes
 * what a failure leaves).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lxd.h"
#include "test.h"
#include "xmalloc.h"

#define SEEN_MAX	4096

struct seen {
	char		 action[64];
	char		 project[64];
	char		 name[64];
	int		 has_project;	/* the event's own "project" */
	long long	 at;		/* ms, monotonic */
};

static struct lxd *l;
static struct lxd_events *ev;
static const char *image, *profile;
static char *proj;
static pthread_t reader_th;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct seen seen[SEEN_MAX];
static int nseen, nops, reader_rc, stopping;

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
record(json_t *e)
{
	const char *type = json_string_value(json_object_get(e, "type"));
	const char *action = json_string_value(json_object_get(
	    json_object_get(e, "metadata"), "action"));
	struct seen s = { .at = now_ms() };

	if (type != NULL && strcmp(type, "operation") == 0) {
		pthread_mutex_lock(&mu);
		nops++;
		pthread_mutex_unlock(&mu);
		return;
	}
	if (type == NULL || strcmp(type, "lifecycle") != 0 || action == NULL ||
	    lxd_event_instance(e, s.project, sizeof(s.project), s.name,
	    sizeof(s.name)) != 0)
		return;
	snprintf(s.action, sizeof(s.action), "%s", action);
	s.has_project = json_string_value(json_object_get(e, "project")) !=
	    NULL;
	pthread_mutex_lock(&mu);
	if (nseen < SEEN_MAX)
		seen[nseen++] = s;
	pthread_mutex_unlock(&mu);
}

static void *
reader(void *arg)
{
	json_t *e;
	int r;

	(void)arg;
	for (;;) {
		r = lxd_events_next(ev, &e, 100);
		if (r == 0) {
			record(e);
			json_decref(e);
			continue;
		}
		pthread_mutex_lock(&mu);
		if (r != -EAGAIN)
			reader_rc = r;
		r = r != -EAGAIN || stopping;
		pthread_mutex_unlock(&mu);
		if (r)
			return NULL;
	}
}

/*
 * Wait up to 1 s after 'done' (when the call returned) for the lifecycle
 * event action about proj/name: 1 with *after the ms after done it came
 * (<= 0 if before: instance-created comes when the record exists, before
 * the image is unpacked), or 0 if it did not.
 */
static int
wait_event(const char *action, const char *name, long long done,
    long long *after)
{
	int i, has = 0;
	long long at = 0;

	for (;;) {
		pthread_mutex_lock(&mu);
		for (i = 0; i < nseen && at == 0; i++) {
			if (strcmp(seen[i].action, action) == 0 &&
			    strcmp(seen[i].project, proj) == 0 &&
			    strcmp(seen[i].name, name) == 0) {
				at = seen[i].at;
				has = seen[i].has_project;
			}
		}
		pthread_mutex_unlock(&mu);
		if (at != 0) {
			CHECKF(has, "%s has no \"project\"", action);
			printf("#   measured: %s %lld ms after the call returned\n",
			    action, at - done);
			*after = at - done;
			return 1;
		}
		if (now_ms() > done + 1000)
			return 0;
		usleep(5 * 1000);
	}
}

static void
opens(void)
{
	char err[256];
	json_t *c;

	REQUIREF(lxd_connect(l) == 0, "%s", lxd_error(l));
	ev = lxd_events_open(l, err, sizeof(err));
	REQUIREF(ev != NULL, "%s", err);
	CHECK(lxd_events_fd(ev) >= 0);
	REQUIRE(pthread_create(&reader_th, NULL, reader, NULL) == 0);
	c = json_pack("{s:s, s:s}", "features.images", "false",
	    "features.profiles", "false");
	REQUIREF(lxd_project_create(l, proj, c, "labct events test") == 0,
	    "%s", lxd_error(l));
	json_decref(c);
}

#define STEP(call, action) do {						\
	long long t_ = 0;						\
	REQUIREF((call) == 0, "%s", lxd_error(l));			\
	CHECKF(wait_event(action, "e1", now_ms(), &t_) && t_ <= 1000,	\
	    "%s not seen within 1 s", action);				\
} while (0)

static void
lifecycle(void)
{
	const char *profiles[] = { profile, NULL };
	struct lxd_create c = { .name = "e1", .image_alias = image,
	    .profiles = profiles };

	REQUIRE(ev != NULL);
	STEP(lxd_instance_create(l, proj, &c), "instance-created");
	STEP(lxd_instance_set_state(l, proj, "e1", "start", -1, 0),
	    "instance-started");
	STEP(lxd_instance_set_state(l, proj, "e1", "stop", -1, 1),
	    "instance-stopped");
	STEP(lxd_instance_delete(l, proj, "e1"), "instance-deleted");
	pthread_mutex_lock(&mu);
	CHECKF(nops > 0, "no operation events");
	CHECKF(reader_rc == 0, "the stream ended: %d", reader_rc);
	pthread_mutex_unlock(&mu);
}

static void
closes(void)
{
	if (ev != NULL) {
		pthread_mutex_lock(&mu);
		stopping = 1;
		pthread_mutex_unlock(&mu);
		pthread_join(reader_th, NULL);
		CHECKF(reader_rc == 0, "%s", lxd_events_error(ev));
		lxd_events_close(ev);
		ev = NULL;
	}
	lxd_instance_delete(l, proj, "e1");
	CHECKF(lxd_project_delete(l, proj) == 0, "%s", lxd_error(l));
}

int
main(void)
{
	const char *prefix = t_env("LABCT_PREFIX");

	image = t_env("LABCT_IMAGE");
	profile = t_env("LABCT_PROFILE");
	proj = xasprintf("%sev", prefix);
	l = lxd_new(getenv("LXD_SOCKET"));
	RUN(opens);
	RUN(lifecycle);
	RUN(closes);
	lxd_free(l);
	free(proj);
	return t_done();
}
