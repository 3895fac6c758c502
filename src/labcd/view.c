/*
 * view.c - the resident view of LXD's instances.
 *
 * One thread follows LXD's event stream (GET /1.0/events, all projects):
 * it opens the stream first, then loads every instance in one request and
 * the DHCP leases of each (project, network) with a running instance, and
 * from then on asks LXD again for an instance only when an event names it.
 * LXD's lifecycle events say only "this instance changed" (no state, no
 * diff) and may come out of order, so the event is a cue to GET the
 * instance, and the GET is the truth; the events that arrive together are
 * drained first, so that one GET answers many (a create sends dozens).
 *
 * The address of a running container is its lease, which no event
 * announces: after an instance starts, its network's leases are asked for
 * again, sooner then less often, until it has one or a minute passed.
 *
 * If the stream ends (LXD restarted, or dropped us), the view is not live
 * until a new stream is open and everything is loaded again: readers then
 * ask LXD themselves (view_instances), so the view is never silently
 * stale. A reader also sees at once that LXD closed the stream, before
 * this thread does (POLLRDHUP on its socket).
 *
 * Readers copy the records under one mutex: a few hundred bytes each, and
 * no reader holds the lock while it formats or talks.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "cluster.h"
#include "labcd.h"
#include "leases.h"
#include "log.h"
#include "lxd.h"
#include "view.h"
#include "xmalloc.h"

#define LEASE_FOR	60000	/* ms after a start that a lease is looked for */
#define LEASE_FIRST	200	/* ms to the first look, doubled each time */
#define LEASE_MAX_STEP	2000	/* ms between looks, at most */
#define RETRY_MS	1000	/* between tries while LXD does not answer */
#define DIRTY_MAX	4096	/* instances named by events, before a GET */
#define CARDS_EVERY	300000	/* ms between looks at LXD's GPU cards */
#define MEMBERS_EVERY	2000	/* ms between looks at a cluster's members */

static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 wake = PTHREAD_COND_INITIALIZER;

/* Under lock: what readers see. */
static struct view_ct	*recs;		/* sorted by project, name */
static size_t		 nrecs, caprecs;
static int		 live;
static int		 live_fd = -1;	/* the stream's socket while live */
static struct view_stats stats;

/* The thread's own. */
static atomic_int	 stopping;
static int		 started;
static pthread_t	 thread;
static view_change_fn	 changed;
static json_t		*leases;	/* "project/network": {mac: ip} */
static json_t		*cards;		/* under lock: LXD's GPU cards */
static json_t		*projects;	/* under lock: name: {limits.*} */
static long long	 cards_at;	/* ms: when asked */
static struct cluster_member *members;	/* under lock: a cluster's */
static size_t		 nmembers;
static int		 members_known;	/* asked since the stream opened */
static long long	 members_at;	/* ms: when asked */
static struct pending {
	char		 project[PROJECT_MAX];
	char		 network[64];
	long long	 next, until, step;	/* ms */
}			*pend;
static size_t		 npend, cappend;


static int
cmp_key(const char *p1, const char *n1, const char *p2, const char *n2)
{
	int r = strcmp(p1, p2);

	return r != 0 ? r : strcmp(n1, n2);
}

static int
cmp_rec(const void *a, const void *b)
{
	const struct view_ct *x = a, *y = b;

	return cmp_key(x->project, x->name, y->project, y->name);
}

static void
copy(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src != NULL ? src : "");
}

void
view_ct_parse(json_t *inst, const char *project, struct view_ct *v)
{
	json_t *conf = json_object_get(inst, "expanded_config");
	json_t *devs = json_object_get(inst, "expanded_devices"), *d;
	json_t *ssh = json_object_get(devs, "ssh");
	const char *p = json_string_value(json_object_get(inst, "project"));
	const char *dname;
	size_t k;

	memset(v, 0, sizeof(*v));
	copy(v->project, sizeof(v->project), p != NULL && *p ? p : project);
	copy(v->name, sizeof(v->name), json_string_value(json_object_get(inst,
	    "name")));
	copy(v->status, sizeof(v->status), json_string_value(
	    json_object_get(inst, "status")));
	copy(v->location, sizeof(v->location), json_string_value(
	    json_object_get(inst, "location")));
	if (strcmp(v->location, "none") == 0)	/* not a cluster */
		v->location[0] = '\0';
	v->unreachable = lxd_instance_unreachable(inst);
	copy(v->cpu, sizeof(v->cpu), json_string_value(json_object_get(conf,
	    "limits.cpu")));
	copy(v->memory, sizeof(v->memory), json_string_value(json_object_get(
	    conf, "limits.memory")));
	copy(v->disk, sizeof(v->disk), json_string_value(json_object_get(
	    json_object_get(devs, "root"), "size")));
	copy(v->image, sizeof(v->image), json_string_value(json_object_get(
	    conf, "image.description")));
	copy(v->fingerprint, sizeof(v->fingerprint), json_string_value(
	    json_object_get(conf, "volatile.base_image")));
	if (json_is_object(ssh)) {
		v->has_ssh = 1;
		copy(v->ssh_listen, sizeof(v->ssh_listen), json_string_value(
		    json_object_get(ssh, "listen")));
	}
	/* The NICs by name (eth0 before eth1), as leases_ipv4 takes them. */
	json_object_foreach(devs, dname, d) {
		const char *net, *mac;
		struct view_nic nic;

		const char *type = json_string_value(json_object_get(d,
		    "type"));
		unsigned gpu;
		int end = 0;

		if (type != NULL && strcmp(type, "gpu") == 0 &&
		    sscanf(dname, "gpu%2u%n", &gpu, &end) == 1 &&
		    dname[end] == '\0' && gpu < 64)
			v->gpus |= 1ULL << gpu;
		if (type == NULL || strcmp(type, "nic") != 0)
			continue;
		memset(&nic, 0, sizeof(nic));
		copy(nic.name, sizeof(nic.name), dname);
		leases_nic(d, dname, conf, &net, &mac);
		copy(nic.mac, sizeof(nic.mac), mac);
		copy(nic.network, sizeof(nic.network), net);
		for (k = 0; k < VIEW_NICS; k++) {
			if (v->nics[k].name[0] == '\0' ||
			    strcmp(nic.name, v->nics[k].name) < 0) {
				memmove(&v->nics[k + 1], &v->nics[k],
				    (VIEW_NICS - k - 1) * sizeof(nic));
				v->nics[k] = nic;
				break;
			}
		}
	}
}

/* --- the records (under lock) --- */

static struct view_ct *
find(const char *project, const char *name)
{
	struct view_ct key;

	copy(key.project, sizeof(key.project), project);
	copy(key.name, sizeof(key.name), name);
	return bsearch(&key, recs, nrecs, sizeof(*recs), cmp_rec);
}

static void
put(const struct view_ct *v)
{
	struct view_ct *at = find(v->project, v->name);
	size_t i;

	if (at != NULL) {
		*at = *v;
		return;
	}
	if (nrecs == caprecs) {
		caprecs = caprecs ? caprecs * 2 : 64;
		recs = xrealloc(recs, caprecs * sizeof(*recs));
	}
	for (i = nrecs; i > 0 && cmp_rec(&recs[i - 1], v) > 0; i--)
		;
	memmove(&recs[i + 1], &recs[i], (nrecs - i) * sizeof(*recs));
	recs[i] = *v;
	nrecs++;
}

static void
drop(const char *project, const char *name)
{
	struct view_ct *at = find(project, name);

	if (at == NULL)
		return;
	memmove(at, at + 1, (size_t)(recs + nrecs - at - 1) * sizeof(*recs));
	nrecs--;
}

/*
 * An instance on a member LXD cannot reach comes as a stub (its status
 * "Error", nothing else): keep what was known of it, marked (under lock).
 */
static void
keep_known(struct view_ct *v)
{
	struct view_ct *at;

	if (!v->unreachable || (at = find(v->project, v->name)) == NULL)
		return;
	*v = *at;
	v->unreachable = 1;
}

/* --- addresses --- */

/* The lease of v's first NIC that has one in the table; "" if none. */
static void
address(struct view_ct *v)
{
	size_t k;

	v->ipv4[0] = '\0';
	v->unmanaged = 0;
	if (strcmp(v->status, "Running") != 0)
		return;
	for (k = 0; k < VIEW_NICS && v->nics[k].name[0] != '\0'; k++) {
		char *key = xasprintf("%s/%s", v->project, v->nics[k].network);
		json_t *m = json_object_get(leases, key);
		const char *ip;

		free(key);
		if (json_is_null(m) || *v->nics[k].mac == '\0' ||
		    *v->nics[k].network == '\0') {
			v->unmanaged = 1;
			continue;
		}
		ip = json_string_value(json_object_get(m, v->nics[k].mac));
		if (ip != NULL && v->ipv4[0] == '\0')
			copy(v->ipv4, sizeof(v->ipv4), ip);
	}
}

/* Ask LXD for a network's leases in a project: into the table. */
static int
fetch_leases(struct lxd *l, const char *project, const char *network)
{
	char *key = xasprintf("%s/%s", project, network);
	json_t *list = NULL, *m;
	int r;

	r = lxd_network_leases(l, project, network, &list);
	if (r == -ECONNREFUSED || r == -ECONNRESET || r == -ETIMEDOUT) {
		free(key);
		return r;
	}
	/* not LXD's: no leases */
	m = r != 0 ? json_null() : leases_map(list);
	json_decref(list);
	json_object_set_new(leases, key, m);
	free(key);
	return 0;
}

/* Look for the leases of v's networks soon, for a minute. */
static void
want_lease(const struct view_ct *v)
{
	long long now = mono_ms();
	size_t k, i;

	for (k = 0; k < VIEW_NICS && v->nics[k].name[0] != '\0'; k++) {
		if (*v->nics[k].network == '\0' || *v->nics[k].mac == '\0')
			continue;
		for (i = 0; i < npend; i++)
			if (strcmp(pend[i].project, v->project) == 0 &&
			    strcmp(pend[i].network, v->nics[k].network) == 0)
				break;
		if (i == npend) {
			if (npend == cappend) {
				cappend = cappend ? cappend * 2 : 8;
				pend = xrealloc(pend, cappend *
				    sizeof(*pend));
			}
			npend++;
			copy(pend[i].project, sizeof(pend[i].project),
			    v->project);
			copy(pend[i].network, sizeof(pend[i].network),
			    v->nics[k].network);
		}
		pend[i].next = now + LEASE_FIRST;
		pend[i].step = LEASE_FIRST;
		pend[i].until = now + LEASE_FOR;
	}
}

/* Does a running instance on project/network still lack its lease? */
static int
lease_missing(const char *project, const char *network)
{
	size_t i, k;
	int r = 0;

	pthread_mutex_lock(&lock);
	for (i = 0; i < nrecs && !r; i++) {
		if (strcmp(recs[i].project, project) != 0 ||
		    strcmp(recs[i].status, "Running") != 0 ||
		    recs[i].ipv4[0] != '\0')
			continue;
		for (k = 0; k < VIEW_NICS; k++)
			r |= strcmp(recs[i].nics[k].network, network) == 0;
	}
	pthread_mutex_unlock(&lock);
	return r;
}

/* Addresses again for the records of project/network (or all: NULL). */
static void
readdress(const char *project, const char *network)
{
	size_t i, k;

	pthread_mutex_lock(&lock);
	for (i = 0; i < nrecs; i++) {
		int on = project == NULL;

		for (k = 0; k < VIEW_NICS && !on; k++)
			on = strcmp(recs[i].project, project) == 0 &&
			    strcmp(recs[i].nics[k].network, network) == 0;
		if (on)
			address(&recs[i]);
	}
	pthread_mutex_unlock(&lock);
}

/* Has the network of p no leases (not LXD's)? */
static int
unmanaged(const struct pending *p)
{
	char *key = xasprintf("%s/%s", p->project, p->network);
	int r = json_is_null(json_object_get(leases, key));

	free(key);
	return r;
}

/* The looks for leases that are due; ms until the next one (or -1). */
static long long
leases_due(struct lxd *l, int *lost)
{
	long long now = mono_ms(), next = -1;
	size_t i = 0;

	while (i < npend) {
		struct pending *p = &pend[i];

		if (p->next <= now) {
			if (fetch_leases(l, p->project, p->network) != 0) {
				*lost = 1;
				return -1;
			}
			readdress(p->project, p->network);
			p->step = p->step * 2 > LEASE_MAX_STEP ?
			    LEASE_MAX_STEP : p->step * 2;
			p->next = now + p->step;
			if (p->next > p->until || unmanaged(p) ||
			    !lease_missing(p->project, p->network)) {
				pend[i] = pend[--npend];
				continue;
			}
		}
		if (next < 0 || p->next - now < next)
			next = p->next - now;
		i++;
	}
	return next;
}

/*
 * LXD's GPU cards (its resources): no event says a card came or went, so
 * asked at each load and every CARDS_EVERY.
 */
static int
fetch_cards(struct lxd *l)
{
	json_t *res = NULL, *c;
	int r;

	if ((r = lxd_resources(l, &res)) != 0)
		return r;
	c = json_deep_copy(json_object_get(json_object_get(res, "gpu"),
	    "cards"));
	json_decref(res);
	pthread_mutex_lock(&lock);
	json_decref(cards);
	cards = c != NULL ? c : json_array();
	cards_at = mono_ms();
	pthread_mutex_unlock(&lock);
	return 0;
}

/* The limits of a project object, as the view keeps them. */
static json_t *
limits_of(json_t *p)
{
	static const char *const keys[] = { "limits.containers", "limits.cpu",
	    "limits.memory", "limits.disk" };
	json_t *conf = json_object_get(p, "config"), *o = json_object();
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(conf, keys[i]);

		if (json_is_string(v))
			json_object_set_new(o, keys[i], json_copy(v));
	}
	return o;
}

/* Every project's limits (one request): into the table. */
static int
fetch_projects(struct lxd *l)
{
	json_t *list = NULL, *p, *all = json_object();
	size_t i;
	int r;

	if ((r = lxd_project_list(l, &list)) != 0) {
		json_decref(all);
		return r;
	}
	json_array_foreach(list, i, p) {
		const char *name = json_string_value(json_object_get(p,
		    "name"));

		if (name != NULL)
			json_object_set_new(all, name, limits_of(p));
	}
	json_decref(list);
	pthread_mutex_lock(&lock);
	json_decref(projects);
	projects = all;
	pthread_mutex_unlock(&lock);
	return 0;
}

/* One project again: 0, or a -errno meaning LXD is not answering. */
static int
refresh_project(struct lxd *l, const char *name)
{
	json_t *p = NULL;
	int r = lxd_project_get(l, name, &p);

	if (r != 0 && r != -ENOENT) {
		json_decref(p);
		return r;
	}
	pthread_mutex_lock(&lock);
	if (r == 0)
		json_object_set_new(projects, name, limits_of(p));
	else
		json_object_del(projects, name);
	pthread_mutex_unlock(&lock);
	json_decref(p);
	return 0;
}

/* --- changes --- */

/* A record is now after (NULL: gone); tell on_change if it changed. */
static void
apply(struct server *s, const char *project, const char *name,
    struct view_ct *after)
{
	struct view_ct before, *at;
	int had, same;

	pthread_mutex_lock(&lock);
	at = find(project, name);
	had = at != NULL;
	if (had)
		before = *at;
	if (after != NULL) {
		keep_known(after);
		address(after);
		put(after);
	} else
		drop(project, name);
	stats.instances = nrecs;
	pthread_mutex_unlock(&lock);
	same = (had && after != NULL && memcmp(&before, after,
	    sizeof(before)) == 0) || (!had && after == NULL);
	if (after != NULL && strcmp(after->status, "Running") == 0 &&
	    after->ipv4[0] == '\0' && (!had ||
	    strcmp(before.status, "Running") != 0 || before.ipv4[0] == '\0'))
		want_lease(after);
	if (!same && changed != NULL)
		changed(s, had ? &before : NULL, after);
}

/* GET one instance again: 0, or a -errno meaning LXD is not answering. */
static int
refresh(struct server *s, struct lxd *l, const char *project,
    const char *name)
{
	json_t *inst = NULL;
	struct view_ct v;
	int r;

	r = lxd_instance_get(l, project, name, &inst);
	pthread_mutex_lock(&lock);
	stats.gets++;
	pthread_mutex_unlock(&lock);
	if (r == 0) {
		view_ct_parse(inst, project, &v);
		json_decref(inst);
		apply(s, project, name, &v);
		return 0;
	}
	if (r == -ENOENT) {
		apply(s, project, name, NULL);
		return 0;
	}
	json_decref(inst);
	return r;
}

/* Load everything: the instances, then the leases of running ones. */
static int
reload(struct server *s, struct lxd *l)
{
	json_t *list = NULL, *inst;
	struct view_ct *fresh, *old;
	size_t i, n, nold, j;
	int r;

	if ((r = lxd_instance_list(l, NULL, 0, &list)) != 0 ||
	    (r = fetch_cards(l)) != 0 || (r = fetch_projects(l)) != 0) {
		json_decref(list);
		return r;
	}
	n = json_array_size(list);
	fresh = xcalloc(n ? n : 1, sizeof(*fresh));
	json_array_foreach(list, i, inst)
		view_ct_parse(inst, "default", &fresh[i]);
	json_decref(list);
	qsort(fresh, n, sizeof(*fresh), cmp_rec);
	json_object_clear(leases);
	for (i = 0; i < n; i++) {
		size_t k;

		if (strcmp(fresh[i].status, "Running") != 0)
			continue;
		for (k = 0; k < VIEW_NICS; k++) {
			char *key;

			if (*fresh[i].nics[k].network == '\0')
				continue;
			key = xasprintf("%s/%s", fresh[i].project,
			    fresh[i].nics[k].network);
			r = json_object_get(leases, key) != NULL ? 0 :
			    fetch_leases(l, fresh[i].project,
			    fresh[i].nics[k].network);
			free(key);
			if (r != 0) {
				free(fresh);
				return r;
			}
		}
	}
	pthread_mutex_lock(&lock);
	for (i = 0; i < n; i++)
		keep_known(&fresh[i]);
	old = recs;
	nold = nrecs;
	recs = fresh;
	nrecs = caprecs = n;
	for (i = 0; i < nrecs; i++)
		address(&recs[i]);
	stats.instances = nrecs;
	stats.reloads++;
	pthread_mutex_unlock(&lock);
	/*
	 * What changed while the stream was lost: the same as events. Not
	 * at the first load: the reconciler's start-up pass compares all.
	 */
	if (changed != NULL && stats.reloads > 1) {
		for (i = 0, j = 0; i < n || j < nold; ) {
			int c = i == n ? 1 : j == nold ? -1 :
			    cmp_rec(&fresh[i], &old[j]);

			if (c < 0)
				changed(s, NULL, &fresh[i++]);
			else if (c > 0)
				changed(s, &old[j++], NULL);
			else {
				if (memcmp(&fresh[i], &old[j],
				    sizeof(*old)) != 0)
					changed(s, &old[j], &fresh[i]);
				i++, j++;
			}
		}
	}
	free(old);
	for (i = 0; i < n; i++) {
		if (strcmp(fresh[i].status, "Running") == 0 &&
		    fresh[i].ipv4[0] == '\0' && !fresh[i].unmanaged)
			want_lease(&fresh[i]);
	}
	return 0;
}

/*
 * A cluster's members, every MEMBERS_EVERY: no event says a member went
 * down (LXD marks it offline after its heartbeat threshold; labcd's
 * connect to its address says it at once). A member back up: everything
 * is loaded again, since its instances' records were stubs meanwhile.
 */
static int
fetch_members(struct server *s, struct lxd *l)
{
	struct cluster_member *m = NULL;
	size_t n = 0, i;
	int r, back = 0;

	if ((r = lxd_clustered(l)) < 0)
		return r;
	if (r > 0 && (r = cluster_fetch(l, &m, &n)) != 0)
		return r;
	pthread_mutex_lock(&lock);
	for (i = 0; i < n; i++) {
		const struct cluster_member *was = cluster_find(members,
		    nmembers, m[i].name);

		if (members_known && m[i].up && (was == NULL || !was->up))
			back = 1;
		if (members_known && (was == NULL || was->up != m[i].up))
			log_info("view: server %s is %s%s%s", m[i].name,
			    m[i].up ? "up" : "down", m[i].up ? "" : ": ",
			    m[i].up ? "" : m[i].message);
	}
	free(members);
	members = m;
	nmembers = n;
	members_known = 1;
	members_at = mono_ms();
	pthread_mutex_unlock(&lock);
	return back ? reload(s, l) : 0;
}

/* --- the thread --- */

struct name {
	char		 project[PROJECT_MAX];
	char		 name[64];
};

static void
set_live(struct lxd_events *ev)
{
	pthread_mutex_lock(&lock);
	live = ev != NULL;
	live_fd = ev != NULL ? lxd_events_fd(ev) : -1;
	if (ev == NULL)
		members_known = 0;
	stats.live = live;
	pthread_mutex_unlock(&lock);
}

/* Sleep ms, or less if view_stop asks. */
static void
pause_ms(int ms)
{
	struct timespec ts;

	clock_deadline(&ts, ms);
	pthread_mutex_lock(&lock);
	if (!stopping)
		pthread_cond_timedwait(&wake, &lock, &ts);
	pthread_mutex_unlock(&lock);
}

/* Open the stream and load: the stream first, so that nothing between is
   missed. NULL (said once, *down set) while LXD does not answer. */
static struct lxd_events *
follow(struct server *s, struct lxd *l, int *down, int first)
{
	struct lxd_events *ev;
	char err[512];
	int r;

	if ((r = lxd_connect(l)) != 0 ||
	    (ev = lxd_events_open(l, err,
	    sizeof(err))) == NULL) {
		if (!*down)
			log_warn("view: LXD does not answer (%s): lists ask "
			    "LXD themselves until it does", r != 0 ?
			    lxd_error(l) : err);
		*down = 1;
		return NULL;
	}
	if ((r = reload(s, l)) != 0) {
		if (!*down)
			log_warn("view: cannot load LXD's instances (%s): "
			    "lists ask LXD themselves until it can",
			    lxd_error(l));
		*down = 1;
		lxd_events_close(ev);
		return NULL;
	}
	set_live(ev);
	log_info("view: %s%zu instances from LXD, following its events",
	    first ? "" : "loaded again: ", stats.instances);
	*down = 0;
	return ev;
}

/*
 * The project a lifecycle event "project-*" is about (its source is
 * "/1.0/projects/NAME"): 0, or -ENOENT.
 */
static int
project_event(json_t *event, char *project, size_t projsz)
{
	json_t *md = json_object_get(event, "metadata");
	const char *action = json_string_value(json_object_get(md, "action"));
	const char *src = json_string_value(json_object_get(md, "source"));
	static const char pre[] = "/1.0/projects/";
	char *name;

	if (action == NULL || strncmp(action, "project-", 8) != 0 ||
	    src == NULL || strncmp(src, pre, sizeof(pre) - 1) != 0)
		return -ENOENT;
	src += sizeof(pre) - 1;
	name = xstrndup(src, strcspn(src, "?/"));
	/* The name is LXD's, percent-escaped where it needs: ours never do. */
	if (*name == '\0' || strchr(name, '%') != NULL ||
	    strlen(name) >= projsz) {
		free(name);
		return -ENOENT;
	}
	snprintf(project, projsz, "%s", name);
	free(name);
	return 0;
}

/* Add the instance an event names to the set to GET (no duplicates). */
static void
note(json_t *event, struct name **dirty, size_t *ndirty, size_t *cap,
    int *overflow)
{
	struct name nm;
	size_t i;

	if (lxd_event_instance(event, nm.project, sizeof(nm.project), nm.name,
	    sizeof(nm.name)) != 0 && project_event(event, nm.project,
	    sizeof(nm.project)) != 0)
		return;
	if (strncmp(json_string_value(json_object_get(json_object_get(event,
	    "metadata"), "action")) ?: "", "project-", 8) == 0)
		nm.name[0] = '\0';	/* the project itself */
	/* A snapshot's event is its instance's: "c1/snap0". */
	nm.name[strcspn(nm.name, "/")] = '\0';
	for (i = 0; i < *ndirty; i++)
		if (cmp_key((*dirty)[i].project, (*dirty)[i].name, nm.project,
		    nm.name) == 0)
			return;
	if (*ndirty >= DIRTY_MAX) {
		*overflow = 1;	/* too many at once: load everything */
		return;
	}
	if (*ndirty == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*dirty = xrealloc(*dirty, *cap * sizeof(**dirty));
	}
	(*dirty)[(*ndirty)++] = nm;
}

static void *
view_main(void *arg)
{
	struct server *s = arg;
	struct lxd *l = lxd_of_config(&s->cfg);
	struct lxd_events *ev = NULL;
	struct name *dirty = NULL;
	size_t ndirty = 0, cap = 0, i;
	int down = 0, first = 1;

	leases = json_object();
	projects = json_object();
	while (!stopping) {
		long long wait;
		json_t *event;
		int r, lost = 0, overflow = 0;

		if (ev == NULL) {
			if ((ev = follow(s, l, &down, first)) == NULL) {
				pause_ms(RETRY_MS);
				continue;
			}
			first = 0;
		}
		wait = leases_due(l, &lost);
		if (!lost && mono_ms() - cards_at > CARDS_EVERY &&
		    fetch_cards(l) != 0)
			lost = 1;
		if (!lost && mono_ms() - members_at > MEMBERS_EVERY &&
		    fetch_members(s, l) != 0)
			lost = 1;
		r = lost ? -ECONNRESET : lxd_events_next(ev, &event,
		    wait < 0 || wait > 1000 ? 1000 : (int)wait);
		/* Drain what came together, then GET each instance once. */
		while (r == 0) {
			pthread_mutex_lock(&lock);
			stats.events++;
			pthread_mutex_unlock(&lock);
			note(event, &dirty, &ndirty, &cap, &overflow);
			json_decref(event);
			r = lxd_events_next(ev, &event, 0);
		}
		if (r == -EAGAIN) {
			if (overflow)
				r = reload(s, l);
			for (i = 0; i < ndirty && r == -EAGAIN; i++)
				if ((dirty[i].name[0] == '\0' ?
				    refresh_project(l, dirty[i].project) :
				    refresh(s, l, dirty[i].project,
				    dirty[i].name)) != 0)
					r = -ECONNRESET;
			ndirty = 0;
			if (r == -EAGAIN || r == 0)
				continue;
		}
		log_warn("view: LXD's event stream ended (%s): lists ask LXD "
		    "themselves until it is back, then everything is loaded "
		    "again", r == -EPIPE || r == -EPROTO ?
		    lxd_events_error(ev) : lxd_error(l));
		set_live(NULL);
		lxd_events_close(ev);
		ev = NULL;
		ndirty = 0;
		npend = 0;
	}
	set_live(NULL);
	lxd_events_close(ev);
	lxd_free(l);
	free(dirty);
	free(pend);
	json_decref(leases);
	return NULL;
}

void
view_start(struct server *s, view_change_fn on_change)
{
	changed = on_change;
	if (pthread_create(&thread, NULL, view_main, s) != 0) {
		log_error("view: cannot start its thread: lists ask LXD "
		    "themselves");
		return;
	}
	started = 1;
}

void
view_stop(void)
{
	if (!started)
		return;
	pthread_mutex_lock(&lock);
	stopping = 1;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
	started = 0;
	free(recs);
	recs = NULL;
	nrecs = caprecs = 0;
	json_decref(cards);
	cards = NULL;
	json_decref(projects);
	projects = NULL;
	free(members);
	members = NULL;
	nmembers = 0;
}

/* --- readers --- */

/* Live, and LXD has not closed the stream (under lock). */
static int
is_live(void)
{
	struct pollfd p = { .fd = live_fd, .events = POLLRDHUP };

	if (!live || live_fd < 0)
		return 0;
	return poll(&p, 1, 0) == 0 ||
	    !(p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

int
view_list(const char *project, struct view_ct **out, size_t *n)
{
	size_t i, lo = 0, hi;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&lock);
	if (!is_live()) {
		pthread_mutex_unlock(&lock);
		return -1;
	}
	hi = nrecs;
	if (project != NULL) {
		while (lo < nrecs && strcmp(recs[lo].project, project) < 0)
			lo++;
		for (hi = lo; hi < nrecs && strcmp(recs[hi].project,
		    project) == 0; hi++)
			;
	}
	*n = hi - lo;
	*out = xcalloc(*n ? *n : 1, sizeof(**out));
	for (i = lo; i < hi; i++)
		(*out)[i - lo] = recs[i];
	pthread_mutex_unlock(&lock);
	return 0;
}

int
view_ask(struct op *op, const char *project, struct view_ct **out,
    size_t *n)
{
	struct lxd *l = op_lxd(op);
	struct leases *ls;
	json_t *list = NULL, *inst;
	size_t i;
	int r;

	*out = NULL;
	*n = 0;
	if (l == NULL)
		return op_error(op, "%s", op->cause);
	r = lxd_instance_list(l, project, 0, &list);
	if (r == -ENOENT && project != NULL) {	/* no project: nothing */
		*out = xcalloc(1, sizeof(**out));
		return 0;
	}
	if (r != 0)
		return op_error(op, "%s", lxd_error(l));
	*n = json_array_size(list);
	*out = xcalloc(*n ? *n : 1, sizeof(**out));
	ls = leases_new(l);
	json_array_foreach(list, i, inst) {
		struct view_ct *v = &(*out)[i];
		char *ip;

		view_ct_parse(inst, project != NULL ? project : "default", v);
		if (strcmp(v->status, "Running") != 0)
			continue;
		ip = leases_ipv4(ls, inst, v->project, &v->unmanaged);
		if (ip == NULL && v->unmanaged) {
			/* not LXD's network: what the instance says, shown
			   and never dialled */
			json_t *st = NULL;

			if (lxd_instance_state(l, v->project, v->name,
			    &st) == 0 && lxd_state_ipv4(st, NULL) != NULL)
				ip = xstrdup(lxd_state_ipv4(st, NULL));
			json_decref(st);
		}
		copy(v->ipv4, sizeof(v->ipv4), ip);
		free(ip);
	}
	leases_free(ls);
	json_decref(list);
	qsort(*out, *n, sizeof(**out), cmp_rec);
	return 0;
}

int
view_instances(struct op *op, const char *project, struct view_ct **out,
    size_t *n)
{
	if (view_list(project, out, n) == 0)
		return 0;
	return view_ask(op, project, out, n);
}

const struct view_ct *
view_lookup(const struct view_ct *v, size_t n, const char *project,
    const char *name)
{
	struct view_ct key;

	copy(key.project, sizeof(key.project), project);
	copy(key.name, sizeof(key.name), name);
	return bsearch(&key, v, n, sizeof(*v), cmp_rec);
}

/* "4" -> 4; none, or not a count: -1 */
static long long
count_of(const char *v)
{
	char *end;
	long long n;

	if (v == NULL || *v < '0' || *v > '9')
		return -1;
	n = strtoll(v, &end, 10);
	return *end == '\0' ? n : -1;
}

int
view_quota(const char *project, struct view_quota *q)
{
	static const char *const keys[VIEW_QUOTA_N] = { "limits.containers",
	    "limits.cpu", "limits.memory", "limits.disk" };
	json_t *lim;
	size_t i, k;

	memset(q, 0, sizeof(*q));
	pthread_mutex_lock(&lock);
	if (!is_live() || (lim = json_object_get(projects, project)) == NULL) {
		pthread_mutex_unlock(&lock);
		return -1;
	}
	for (k = 0; k < VIEW_QUOTA_N; k++) {
		const char *v = json_string_value(json_object_get(lim,
		    keys[k]));

		q->limit[k] = k >= VIEW_QUOTA_MEMORY ? config_size_bytes(v) :
		    count_of(v);
	}
	/* As LXD counts (project/permissions.go): a limit left unset on an
	   instance counts nothing. */
	for (i = 0; i < nrecs; i++) {
		long long c, m, d;

		if (strcmp(recs[i].project, project) != 0)
			continue;
		q->used[VIEW_QUOTA_CONTAINERS]++;
		if ((c = count_of(recs[i].cpu)) > 0)
			q->used[VIEW_QUOTA_CPU] += c;
		if ((m = config_size_bytes(recs[i].memory)) > 0)
			q->used[VIEW_QUOTA_MEMORY] += m;
		if ((d = config_size_bytes(recs[i].disk)) > 0)
			q->used[VIEW_QUOTA_DISK] += d;
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

json_t *
view_gpu_cards(void)
{
	json_t *c = NULL;

	pthread_mutex_lock(&lock);
	if (is_live() && cards != NULL)
		c = json_deep_copy(cards);
	pthread_mutex_unlock(&lock);
	return c;
}

int
view_gpus_of(const char *project, const char *name, unsigned long long *gpus)
{
	const struct view_ct *v;
	int r = -EAGAIN;

	pthread_mutex_lock(&lock);
	if (is_live()) {
		v = find(project, name);
		r = v == NULL || v->unreachable ? -ENOENT : 0;
		if (r == 0)
			*gpus = v->gpus;
	}
	pthread_mutex_unlock(&lock);
	return r;
}

int
view_members(struct cluster_member **out, size_t *n)
{
	int r = -1;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&lock);
	if (is_live() && members_known) {
		*out = xcalloc(nmembers + 1, sizeof(**out));
		if (nmembers > 0)
			memcpy(*out, members, nmembers * sizeof(**out));
		*n = nmembers;
		r = 0;
	}
	pthread_mutex_unlock(&lock);
	return r;
}

void
view_stats(struct view_stats *st)
{
	pthread_mutex_lock(&lock);
	*st = stats;
	st->live = is_live();
	pthread_mutex_unlock(&lock);
}
