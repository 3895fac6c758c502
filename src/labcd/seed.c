/*
 * seed.c - seed containers: see seed.h. One is made at a time, by a
 * thread of its own with its own LXD connection; what it knows is a small
 * table under one lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "inert.h"
#include "labcd.h"
#include "log.h"
#include "lxd.h"
#include "op.h"
#include "seed.h"
#include "xmalloc.h"

#define SEEDS_KNOWN	16
#define SEED_STOP_WAIT	60	/* seconds for /bin/true to end */
#define SEED_DESC	"labcd seed, started once at "

/* Seeds that failed: no try again for SEED_RETRY seconds, or ever. */
struct known {
	char	 name[SEED_NAME_MAX];	/* "" free */
	time_t	 failed;		/* when a try failed, 0 none */
	int	 forever;		/* its image cannot have one */
};

struct job {
	struct config	 cfg;		/* borrowed strings of the server's */
	char		 fp[65];
	char		 pool[128];
	char		 project[PROJECT_MAX];
	char		 name[SEED_NAME_MAX];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct known known[SEEDS_KNOWN];
static pthread_t thread;
static int running;		/* a thread to join */
static int done;		/* it has ended */
static int stopping;

void
seed_project(const char *prefix, char project[PROJECT_MAX])
{
	snprintf(project, PROJECT_MAX, "%s%s", prefix, SEED_PROJECT_SUFFIX);
}

void
seed_name(const char *fp, const char *pool, char name[SEED_NAME_MAX])
{
	uint32_t h = 2166136261u;	/* FNV-1a: a pool name, any length */
	const char *p;

	for (p = pool; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	snprintf(name, SEED_NAME_MAX, "seed-%.12s-%08x", fp, (unsigned)h);
}

/* Under lock: its entry, made (the oldest failure or a free one) if need be. */
static struct known *
known_of(const char *name, int make)
{
	struct known *k, *free_k = NULL;

	for (k = known; k < known + SEEDS_KNOWN; k++) {
		if (strcmp(k->name, name) == 0)
			return k;
		if (free_k == NULL && (k->name[0] == '\0' || (!k->forever &&
		    time(NULL) - k->failed >= SEED_RETRY)))
			free_k = k;
	}
	if (!make)
		return NULL;
	if (free_k == NULL)
		free_k = known;
	memset(free_k, 0, sizeof(*free_k));
	snprintf(free_k->name, sizeof(free_k->name), "%s", name);
	return free_k;
}

static void
set_failed(const char *name, int forever)
{
	struct known *k;

	pthread_mutex_lock(&lock);
	k = known_of(name, 1);
	k->failed = time(NULL);
	k->forever = forever;
	pthread_mutex_unlock(&lock);
}

/* Under lock: 1 if name failed too lately to try again. */
static int
failed_lately(const char *name)
{
	struct known *k = known_of(name, 0);

	return k != NULL && k->failed != 0 && (k->forever ||
	    time(NULL) - k->failed < SEED_RETRY);
}

/*
 * Is inst (an LXD instance object) a seed of image fp as labcd left it:
 * stopped, of that image, and not started since (its description names
 * the one start, LXD's last_used_at)? A seed started by someone else has
 * booted its image: host keys, machine id, whatever ran.
 */
static int
seed_whole(json_t *inst, const char *fp)
{
	const char *st = json_string_value(json_object_get(inst, "status"));
	const char *img = json_string_value(json_object_get(json_object_get(
	    inst, "config"), "volatile.base_image"));
	const char *desc = json_string_value(json_object_get(inst,
	    "description"));
	const char *used = json_string_value(json_object_get(inst,
	    "last_used_at"));

	return st != NULL && strcmp(st, "Stopped") == 0 && img != NULL &&
	    strcmp(img, fp) == 0 && desc != NULL && used != NULL &&
	    strncmp(desc, SEED_DESC, strlen(SEED_DESC)) == 0 &&
	    strcmp(desc + strlen(SEED_DESC), used) == 0;
}

static int
should_stop(void)
{
	int s;

	pthread_mutex_lock(&lock);
	s = stopping;
	pthread_mutex_unlock(&lock);
	return s;
}

/* The project of seeds, made if need be. */
static int
ensure_project(struct lxd *l, const char *project)
{
	json_t *p = NULL, *conf;
	int r = lxd_project_get(l, project, &p);

	json_decref(p);
	if (r != -ENOENT)
		return r;
	/* The default project's images and profiles (it uses none). */
	conf = json_pack("{s:s, s:s, s:s}", "features.images", "false",
	    "features.profiles", "false", "user.labcontainers.seeds", "true");
	r = lxd_project_create(l, project, conf, "labcd's seed containers "
	    "(seed_containers): stopped copies of images, copied to make "
	    "containers; labcd makes and removes them");
	json_decref(conf);
	return r == -EEXIST ? 0 : r;
}

/*
 * Remove what a build left (a labcd stopped mid-way) and the seeds of
 * images LXD no longer has: they would never be copied again.
 */
static void
prune(struct lxd *l, const char *project)
{
	json_t *list = NULL, *imgs = NULL, *inst, *img, *have;
	size_t i, n;
	const char *name, *fp;

	if (lxd_instance_list(l, project, 0, &list) != 0 ||
	    lxd_image_list(l, NULL, &imgs) != 0)
		goto out;
	have = json_object();
	json_array_foreach(imgs, i, img)
		if ((fp = json_string_value(json_object_get(img,
		    "fingerprint"))) != NULL)
			json_object_set_new(have, fp, json_true());
	json_array_foreach(list, i, inst) {
		name = json_string_value(json_object_get(inst, "name"));
		fp = json_string_value(json_object_get(json_object_get(inst,
		    "config"), "volatile.base_image"));
		if (name == NULL || strncmp(name, "seed-", 5) != 0)
			continue;	/* not labcd's: left alone */
		n = strlen(name);
		if (!(n > 2 && strcmp(name + n - 2, "-b") == 0) &&
		    fp != NULL && json_object_get(have, fp) != NULL)
			continue;
		if (lxd_instance_delete(l, project, name) == 0)
			log_info("seed %s/%s removed: %s", project, name,
			    fp != NULL && json_object_get(have, fp) == NULL ?
			    "its image is gone" : "an unfinished build");
	}
	json_decref(have);
out:
	json_decref(imgs);
	json_decref(list);
}

/*
 * Every template of the image is applied again at a copy (hostname,
 * hosts): else a copy would keep what the seed's start wrote. NULL, or
 * the first that is not.
 */
static const char *
template_not_copied(json_t *meta, char *buf, size_t bufsz)
{
	json_t *t, *w;
	const char *path;
	size_t i;
	int copy;

	json_object_foreach(json_object_get(meta, "templates"), path, t) {
		copy = 0;
		json_array_foreach(json_object_get(t, "when"), i, w)
			copy |= json_is_string(w) &&
			    strcmp(json_string_value(w), "copy") == 0;
		/* create_only: LXD skips it at a copy if the file exists. */
		if (!copy || json_is_true(json_object_get(t, "create_only"))) {
			/* An image's own words: shown inert, not obeyed. */
			inert_copy(buf, bufsz, path);
			return buf;
		}
	}
	return NULL;
}

/* Delete a seed or a build, stopping it first if it runs: 0 or LXD's. */
static int
remove_seed(struct lxd *l, const char *project, const char *name)
{
	int r = lxd_instance_delete(l, project, name);

	if (r != 0 && (r = lxd_instance_set_state(l, project, name, "stop",
	    10, 1)) == 0)
		r = lxd_instance_delete(l, project, name);
	return r;
}

/* Wait for the seed's init (/bin/true) to end: 0, or -ETIMEDOUT. */
static int
wait_stopped(struct lxd *l, const char *project, const char *name)
{
	json_t *st = NULL;
	const char *s;
	int i, r;

	for (i = 0; i < SEED_STOP_WAIT * 20 && !should_stop(); i++) {
		if ((r = lxd_instance_state(l, project, name, &st)) != 0)
			return r;
		s = lxd_state_status(st);
		r = s != NULL && strcmp(s, "Stopped") == 0;
		json_decref(st);
		st = NULL;
		if (r)
			return 0;
		usleep(50 * 1000);
	}
	return -ETIMEDOUT;
}

/*
 * Make the seed: 0, or why not in why (*forever: its image can have
 * none). One whole already there (a build of a request that did not see
 * it yet) is it; one that is not is replaced.
 */
static int
build(struct lxd *l, const struct job *j, char *why, size_t whysz,
    int *forever)
{
	char bname[SEED_NAME_MAX + 2], tpl[256];
	const char *const none[] = { NULL };
	struct lxd_create lc = { 0 };
	json_t *conf, *devs, *meta = NULL, *inst = NULL, *patch;
	const char *v;
	int r;

	if ((r = ensure_project(l, j->project)) != 0) {
		snprintf(why, whysz, "its project: %s", lxd_error(l));
		return r;
	}
	prune(l, j->project);
	if ((r = lxd_instance_get(l, j->project, j->name, &inst)) == 0) {
		r = seed_whole(inst, j->fp);
		json_decref(inst);
		inst = NULL;
		if (r)
			return 0;
		log_warn("seed %s/%s was started or changed since it was made: "
		    "made again", j->project, j->name);
		if (remove_seed(l, j->project, j->name) != 0) {
			snprintf(why, whysz, "removing the old one: %s",
			    lxd_error(l));
			return -EIO;
		}
	}
	snprintf(bname, sizeof(bname), "%s-b", j->name);
	conf = json_pack("{s:s}", "raw.lxc", "lxc.init.cmd = /bin/true");
	devs = json_pack("{s:{s:s, s:s, s:s}}", "root", "type", "disk",
	    "path", "/", "pool", j->pool);
	lc.name = bname;
	lc.image_fingerprint = j->fp;
	lc.profiles = none;
	lc.config = conf;
	lc.devices = devs;
	r = lxd_instance_create(l, j->project, &lc);
	json_decref(conf);
	json_decref(devs);
	if (r != 0) {
		snprintf(why, whysz, "creating it: %s", lxd_error(l));
		return r;
	}
	if ((r = lxd_instance_metadata(l, j->project, bname, &meta)) != 0) {
		snprintf(why, whysz, "reading its templates: %s", lxd_error(l));
		goto fail;
	}
	if (template_not_copied(meta, tpl, sizeof(tpl)) != NULL) {
		snprintf(why, whysz, "the image's template for %.120s is not "
		    "applied at a copy (its 'when' lacks copy, or it is "
		    "create_only): a copy would keep what the seed's start "
		    "made of it", tpl);
		*forever = 1;
		r = -EINVAL;
		goto fail;
	}
	/* LXD maps the files to the user namespace, /bin/true ends. */
	if ((r = lxd_instance_set_state(l, j->project, bname, "start", -1,
	    0)) != 0 && r != -EALREADY) {
		snprintf(why, whysz, "starting it: %s", lxd_error(l));
		goto fail;
	}
	if ((r = wait_stopped(l, j->project, bname)) != 0) {
		snprintf(why, whysz, "its start did not end%s%s",
		    r == -ETIMEDOUT ? "" : ": ", r == -ETIMEDOUT ? "" :
		    lxd_error(l));
		goto fail;
	}
	if (should_stop()) {
		snprintf(why, whysz, "labcd is stopping");
		r = -ECANCELED;
		goto fail;
	}
	if (should_stop()) {
		snprintf(why, whysz, "labcd is stopping");
		r = -ECANCELED;
		goto fail;
	}
	/* A PATCH of "" removes the key: copies must not have it. */
	patch = json_pack("{s:{s:s}}", "config", "raw.lxc", "");
	r = lxd_instance_patch(l, j->project, bname, patch);
	json_decref(patch);
	if (r != 0 || (r = lxd_instance_get(l, j->project, bname, &inst)) !=
	    0) {
		snprintf(why, whysz, "removing raw.lxc: %s", lxd_error(l));
		goto fail;
	}
	if (json_object_get(json_object_get(inst, "config"), "raw.lxc") !=
	    NULL) {
		snprintf(why, whysz, "LXD kept its raw.lxc");
		r = -EPROTO;
		goto fail;
	}
	v = json_string_value(json_object_get(json_object_get(inst, "config"),
	    "volatile.last_state.idmap"));
	if (v == NULL || *v == '\0' || strcmp(v, "[]") == 0) {
		snprintf(why, whysz, "LXD did not map its files (no "
		    "volatile.last_state.idmap): a copy would gain nothing");
		*forever = 1;
		r = -EPROTO;
		goto fail;
	}
	/* Its one start, which seed_whole compares with LXD's. */
	v = json_string_value(json_object_get(inst, "last_used_at"));
	patch = json_pack("{s:s+}", "description", SEED_DESC, v != NULL ? v :
	    "");
	r = lxd_instance_patch(l, j->project, bname, patch);
	json_decref(patch);
	if (r != 0) {
		snprintf(why, whysz, "writing its description: %s",
		    lxd_error(l));
		goto fail;
	}
	if ((r = lxd_instance_rename(l, j->project, bname, j->name)) != 0) {
		snprintf(why, whysz, "renaming it: %s", lxd_error(l));
		goto fail;
	}
	json_decref(meta);
	json_decref(inst);
	return 0;
fail:
	json_decref(meta);
	json_decref(inst);
	(void)remove_seed(l, j->project, bname);
	return r;
}

static void *
build_main(void *arg)
{
	struct job *j = arg;
	struct lxd *l = lxd_of_config(&j->cfg);
	struct timespec t0, t1;
	char why[400] = "";
	int r, forever = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = build(l, j, why, sizeof(why), &forever);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r == 0) {
		log_info("seed %s/%s ready (image %.12s, pool %s) in %lld ms: "
		    "new containers of the image on the pool are copies of it",
		    j->project, j->name, j->fp, j->pool,
		    (long long)(t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000);
	} else {
		char when[64];

		if (forever)
			snprintf(when, sizeof(when), "no other try until "
			    "labcd restarts");
		else
			snprintf(when, sizeof(when), "the next try in %d "
			    "minutes", SEED_RETRY / 60);
		log_warn("seed %s/%s (image %.12s, pool %s) not made: %s; "
		    "containers of the image are made from it, %s",
		    j->project, j->name, j->fp, j->pool, why, when);
		set_failed(j->name, forever);
	}
	lxd_free(l);
	free(j);
	pthread_mutex_lock(&lock);
	done = 1;
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* Under lock: a build that ended joined, so that another may start. */
static void
reap(void)
{
	if (running && done) {
		pthread_join(thread, NULL);
		running = done = 0;
	}
}

int
seed_find(struct op *op, const char *fp, const char *pool,
    char project[PROJECT_MAX], char name[SEED_NAME_MAX])
{
	const struct config *cfg = &op->srv->cfg;
	json_t *inst = NULL;
	struct job *j;
	int r;

	if (!cfg->seed_containers || fp == NULL || pool == NULL || *pool ==
	    '\0')
		return 0;
	seed_project(cfg->project_prefix, project);
	seed_name(fp, pool, name);
	pthread_mutex_lock(&lock);
	r = failed_lately(name);
	pthread_mutex_unlock(&lock);
	if (r)
		return 0;
	/*
	 * Asked each time (one GET): a seed someone started since, or
	 * deleted, is not copied.
	 */
	r = lxd_instance_get(op_lxd(op), project, name, &inst);
	if (r == 0 && seed_whole(inst, fp)) {
		json_decref(inst);
		return 1;
	}
	json_decref(inst);
	if (r != 0 && r != -ENOENT)
		return 0;	/* LXD's trouble: the create says it */
	pthread_mutex_lock(&lock);
	if (!stopping)
		reap();	/* else seed_stop joins it */
	if (!running && !stopping && !failed_lately(name)) {
		j = xcalloc(1, sizeof(*j));
		j->cfg = *cfg;
		snprintf(j->fp, sizeof(j->fp), "%s", fp);
		snprintf(j->pool, sizeof(j->pool), "%s", pool);
		snprintf(j->project, sizeof(j->project), "%s", project);
		snprintf(j->name, sizeof(j->name), "%s", name);
		done = 0;
		if (pthread_create(&thread, NULL, build_main, j) == 0)
			running = 1;
		else {
			log_warn("seed %s/%s: cannot start a thread to make it",
			    project, name);
			free(j);
		}
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

void
seed_forget(const char *fp, const char *pool)
{
	char name[SEED_NAME_MAX];

	seed_name(fp, pool, name);
	set_failed(name, 0);	/* made again at the next try */
}

void
seed_stop(void)
{
	int join;

	pthread_mutex_lock(&lock);
	stopping = 1;
	join = running;
	pthread_mutex_unlock(&lock);
	if (join)
		pthread_join(thread, NULL);
	pthread_mutex_lock(&lock);
	running = done = 0;
	pthread_mutex_unlock(&lock);
}
