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

#include "labcd.h"
#include "log.h"
#include "lxd.h"
#include "op.h"
#include "seed.h"
#include "xmalloc.h"

#define SEEDS_KNOWN	16
#define SEED_STOP_WAIT	60	/* seconds for /bin/true to end */

struct known {
	char	 name[SEED_NAME_MAX];	/* "" free */
	int	 ready;
	time_t	 failed;		/* when a try failed, 0 none */
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
		if (free_k == NULL && (k->name[0] == '\0' || !k->ready))
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
set_known(const char *name, int ready, time_t failed)
{
	struct known *k;

	pthread_mutex_lock(&lock);
	k = known_of(name, 1);
	k->ready = ready;
	k->failed = failed;
	pthread_mutex_unlock(&lock);
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
		if (!copy) {
			snprintf(buf, bufsz, "%s", path);
			return buf;
		}
	}
	return NULL;
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

/* Make the seed: 0, or why not in why. */
static int
build(struct lxd *l, const struct job *j, char *why, size_t whysz)
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
		/* An image's own words, for the log: shown, not obeyed. */
		snprintf(why, whysz, "the image's template for %.120s is not "
		    "applied at a copy (its 'when' lacks copy): a copy would "
		    "keep what the seed's start made of it", tpl);
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
		r = -EPROTO;
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
	if (lxd_instance_delete(l, j->project, bname) != 0 &&
	    lxd_instance_set_state(l, j->project, bname, "stop", 10, 1) == 0)
		lxd_instance_delete(l, j->project, bname);
	return r;
}

static void *
build_main(void *arg)
{
	struct job *j = arg;
	struct lxd *l = lxd_of_config(&j->cfg);
	struct timespec t0, t1;
	char why[400] = "";
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = build(l, j, why, sizeof(why));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r == 0) {
		log_info("seed %s/%s ready (image %.12s, pool %s) in %lld ms: "
		    "new containers of the image on the pool are copies of it",
		    j->project, j->name, j->fp, j->pool,
		    (long long)(t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000);
		set_known(j->name, 1, 0);
	} else {
		log_warn("seed %s/%s (image %.12s, pool %s) not made: %s; "
		    "containers of the image are made from it, the next try "
		    "in %d minutes", j->project, j->name, j->fp, j->pool, why,
		    SEED_RETRY / 60);
		set_known(j->name, 0, time(NULL));
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
	struct known *k;
	json_t *inst = NULL;
	const char *st;
	struct job *j;
	int r;

	if (!cfg->seed_containers || fp == NULL || pool == NULL || *pool ==
	    '\0')
		return 0;
	seed_project(cfg->project_prefix, project);
	seed_name(fp, pool, name);
	pthread_mutex_lock(&lock);
	k = known_of(name, 0);
	if (k != NULL && (k->ready || (k->failed != 0 &&
	    time(NULL) - k->failed < SEED_RETRY))) {
		r = k->ready;
		pthread_mutex_unlock(&lock);
		return r;
	}
	pthread_mutex_unlock(&lock);
	/* Made before (an earlier labcd), or by the build running now. */
	r = lxd_instance_get(op_lxd(op), project, name, &inst);
	st = json_string_value(json_object_get(inst, "status"));
	if (r == 0 && st != NULL && strcmp(st, "Stopped") == 0) {
		json_decref(inst);
		set_known(name, 1, 0);
		return 1;
	}
	json_decref(inst);
	if (r != 0 && r != -ENOENT)
		return 0;	/* LXD's trouble: the create says it */
	pthread_mutex_lock(&lock);
	if (!stopping)
		reap();	/* else seed_stop joins it */
	if (!running && !stopping) {
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
	struct known *k;

	seed_name(fp, pool, name);
	pthread_mutex_lock(&lock);
	if ((k = known_of(name, 0)) != NULL)
		k->ready = 0;
	pthread_mutex_unlock(&lock);
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
