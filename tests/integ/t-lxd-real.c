/*
 * t-lxd-real.c - the LXD client library against the real LXD of the test
 * bed: projects, a container's whole life, files, exec, limits, errors.
 * Needs LABCT_PREFIX (project prefix of this run), LABCT_IMAGE and
 * LABCT_PROFILE from tests/run; everything it makes lives in projects
 * with that prefix and is deleted at the end (and by tests/run's trap).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lxd.h"
#include "test.h"
#include "xmalloc.h"

static struct lxd *l;
static const char *image, *profile;
static char *proj, *proj_lim;
static int progress_calls, progress_max = -1;
static char progress_stage[128];

static void
on_progress(void *arg, const char *stage, const char *text, int percent)
{
	(void)arg;
	(void)text;
	progress_calls++;
	snprintf(progress_stage, sizeof(progress_stage), "%s", stage);
	if (percent > progress_max)
		progress_max = percent;
}

static json_t *
project_config(const char *extra_key, const char *extra_val)
{
	json_t *c = json_pack("{s:s, s:s}", "features.images", "false",
	    "features.profiles", "false");

	if (extra_key != NULL)
		json_object_set_new(c, extra_key, json_string(extra_val));
	return c;
}

static void
connects(void)
{
	REQUIREF(lxd_connect(l) == 0, "%s", lxd_error(l));
	CHECK(lxd_server_kind(l) == LXD_SERVER_LXD ||
	    lxd_server_kind(l) == LXD_SERVER_INCUS);
	CHECK(strcmp(lxd_server_version(l), "unknown") != 0);
	CHECK(lxd_has_extension(l, "projects"));
	CHECK(!lxd_has_extension(l, "no_such_extension_here"));
	CHECK(strncmp(lxd_header_prefix(l), "X-", 2) == 0);
}

static void
projects(void)
{
	json_t *c = project_config(NULL, NULL), *p = NULL, *list = NULL;
	json_t *set, *v;
	size_t i;
	int found = 0;

	REQUIREF(lxd_project_create(l, proj, c, "labct test") == 0, "%s",
	    lxd_error(l));
	json_decref(c);
	CHECK(lxd_project_create(l, proj, NULL, NULL) != 0);
	REQUIRE(lxd_project_get(l, proj, &p) == 0);
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(p,
	    "config"), "features.images")), "false") == 0);
	json_decref(p);
	/* Setting a key keeps the other keys. */
	set = json_pack("{s:s}", "user.labct-note", "5000");
	REQUIREF(lxd_project_set_config(l, proj, set) == 0, "%s", lxd_error(l));
	json_decref(set);
	REQUIRE(lxd_project_get(l, proj, &p) == 0);
	v = json_object_get(p, "config");
	CHECK(strcmp(json_string_value(json_object_get(v,
	    "user.labct-note")), "5000") == 0);
	CHECK(json_object_get(v, "features.profiles") != NULL);
	json_decref(p);
	REQUIRE(lxd_project_list(l, &list) == 0);
	json_array_foreach(list, i, v) {
		if (strcmp(json_string_value(json_object_get(v, "name")),
		    proj) == 0)
			found = 1;
	}
	CHECK(found);
	json_decref(list);
}

static char *
wait_ipv4(const char *name, int *pid)
{
	int i;

	for (i = 0; i < 120; i++) {
		json_t *st = NULL;
		const char *ip;
		char *res = NULL;

		if (lxd_instance_state(l, proj, name, &st) == 0) {
			*pid = (int)json_integer_value(json_object_get(st,
			    "pid"));
			if ((ip = lxd_state_ipv4(st, "eth0")) != NULL)
				res = xstrdup(ip);
		}
		json_decref(st);
		if (res != NULL)
			return res;
		usleep(500 * 1000);
	}
	return NULL;
}

static void
lifecycle(void)
{
	const char *profiles[] = { profile, NULL };
	const char *hn[] = { "hostname", NULL };
	const char *cat[] = { "sh", "-c", "cat /srv/labct/dir/hello.txt; "
	    "stat -c '%a %u %g' /srv/labct/dir/hello.txt /srv/labct/dir", NULL };
	const char *fail[] = { "sh", "-c", "echo oops >&2; exit 3", NULL };
	struct lxd_create c = { .name = "c1", .image_alias = image,
	    .profiles = profiles };
	json_t *st = NULL, *inst = NULL;
	char *out = NULL, *err = NULL, *ip, *data = NULL;
	size_t len;
	int status = -1, pid = 0;

	c.config = json_pack("{s:s}", "user.labct", "yes");
	lxd_set_progress(l, on_progress, NULL);
	REQUIREF(lxd_instance_create(l, proj, &c) == 0, "%s", lxd_error(l));
	lxd_set_progress(l, NULL, NULL);
	json_decref(c.config);
	REQUIRE(lxd_instance_get(l, proj, "c1", &inst) == 0);
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(inst,
	    "config"), "user.labct")), "yes") == 0);
	json_decref(inst);
	/* Creating it again: LXD says it exists, in its own words. */
	c.config = NULL;
	CHECK(lxd_instance_create(l, proj, &c) != 0);
	CHECKF(strstr(lxd_error(l), "already exists") != NULL, "got: %s",
	    lxd_error(l));

	REQUIREF(lxd_instance_set_state(l, proj, "c1", "start", -1, 0) == 0,
	    "%s", lxd_error(l));
	REQUIRE(lxd_instance_state(l, proj, "c1", &st) == 0);
	CHECK(strcmp(lxd_state_status(st), "Running") == 0);
	CHECK(json_integer_value(json_object_get(st, "pid")) > 1);
	json_decref(st);
	/* Already so: a code, not words to match (lxd.h). */
	CHECKF(lxd_instance_set_state(l, proj, "c1", "start", -1, 0) ==
	    -EALREADY, "%s", lxd_error(l));
	ip = wait_ipv4("c1", &pid);
	CHECKF(ip != NULL, "c1 got no IPv4 address on eth0 within 60 s");
	CHECK(ip == NULL || strncmp(ip, "10.", 3) == 0);
	CHECK(pid > 1);
	free(ip);

	REQUIREF(lxd_exec(l, proj, "c1", hn, &status, &out, &err) == 0, "%s",
	    lxd_error(l));
	CHECK(status == 0);
	CHECKF(strcmp(out, "c1\n") == 0, "hostname said '%s'", out);
	free(out);
	free(err);
	REQUIRE(lxd_exec(l, proj, "c1", fail, &status, &out, &err) == 0);
	CHECK(status == 3);
	CHECK(strcmp(err, "oops\n") == 0);
	free(out);
	free(err);

	REQUIREF(lxd_file_push(l, proj, "c1", "/srv/labct/dir/hello.txt",
	    "hello\n", 6, 1000, 1000, 0640, LXD_FILE_MKDIRS) == 0, "%s",
	    lxd_error(l));
	/* Pushing again overwrites (and needs no new directories). */
	REQUIRE(lxd_file_push(l, proj, "c1", "/srv/labct/dir/hello.txt",
	    "hello again\n", 12, 1000, 1000, 0640, LXD_FILE_MKDIRS) == 0);
	REQUIRE(lxd_exec(l, proj, "c1", cat, &status, &out, &err) == 0);
	CHECK(status == 0);
	CHECKF(strcmp(out, "hello again\n640 1000 1000\n750 1000 1000\n") == 0,
	    "got '%s' '%s'", out, err);
	free(out);
	free(err);
	REQUIRE(lxd_file_get(l, proj, "c1", "/srv/labct/dir/hello.txt", 1024,
	    &data, &len) == 0);
	CHECK(len == 12 && strcmp(data, "hello again\n") == 0);
	free(data);
	CHECK(lxd_file_get(l, proj, "c1", "/srv/labct/nothing", 1024, &data,
	    &len) == -ENOENT);
	CHECK(lxd_file_push(l, proj, "c1", "relative", "x", 1, 0, 0, 0644,
	    0) == -EINVAL);

	/* A running instance is not deleted. */
	CHECK(lxd_instance_delete(l, proj, "c1") != 0);
	CHECKF(strstr(lxd_error(l), "running") != NULL, "got: %s",
	    lxd_error(l));
	REQUIREF(lxd_instance_set_state(l, proj, "c1", "restart", 30, 1) == 0,
	    "%s", lxd_error(l));
	/* A clean stop needs systemd up (it ignores the signal earlier). */
	free(wait_ipv4("c1", &pid));
	REQUIREF(lxd_instance_set_state(l, proj, "c1", "stop", 30, 0) == 0,
	    "%s", lxd_error(l));
	REQUIRE(lxd_instance_state(l, proj, "c1", &st) == 0);
	CHECK(strcmp(lxd_state_status(st), "Stopped") == 0);
	json_decref(st);
	CHECKF(lxd_instance_set_state(l, proj, "c1", "stop", 30, 0) ==
	    -EALREADY, "%s", lxd_error(l));
	REQUIREF(lxd_instance_delete(l, proj, "c1") == 0, "%s", lxd_error(l));
	CHECK(lxd_instance_get(l, proj, "c1", &inst) == -ENOENT);
}

static void
progress_reported(void)
{
	/* The first create from an image on a pool unpacks it. */
	if (progress_calls == 0) {
		t_skip("LXD reported no progress (image already unpacked)");
		return;
	}
	CHECK(progress_stage[0] != '\0');
	CHECK(progress_max >= 0 && progress_max <= 100);
}

static void
by_fingerprint(void)
{
	const char *profiles[] = { profile, NULL };
	struct lxd_create c = { .name = "c2", .profiles = profiles };
	char *fp = NULL, *fp2 = NULL, prefix[13];
	json_t *inst = NULL, *imgs = NULL, *v;
	size_t i;
	int found = 0;

	REQUIREF(lxd_image_resolve(l, NULL, image, &fp) == 0, "%s",
	    lxd_error(l));
	CHECK(strlen(fp) == 64);
	snprintf(prefix, sizeof(prefix), "%s", fp);
	REQUIRE(lxd_image_resolve(l, NULL, prefix, &fp2) == 0);
	CHECK(strcmp(fp, fp2) == 0);
	free(fp2);
	CHECK(lxd_image_resolve(l, NULL, "no-such-image", &fp2) == -ENOENT);
	CHECKF(strstr(lxd_error(l), "no image 'no-such-image'") != NULL,
	    "got: %s", lxd_error(l));
	CHECK(lxd_image_resolve(l, NULL, "abcdef0123", &fp2) == -ENOENT);
	REQUIRE(lxd_image_list(l, NULL, &imgs) == 0);
	json_array_foreach(imgs, i, v) {
		if (strcmp(json_string_value(json_object_get(v, "fingerprint")),
		    fp) == 0)
			found = 1;
	}
	CHECK(found);
	json_decref(imgs);

	c.image_fingerprint = prefix;
	REQUIREF(lxd_instance_create(l, proj, &c) == 0, "%s", lxd_error(l));
	REQUIRE(lxd_instance_get(l, proj, "c2", &inst) == 0);
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(inst,
	    "config"), "volatile.base_image")), fp) == 0);
	json_decref(inst);
	free(fp);
}

static void
devices_and_list(void)
{
	json_t *patch, *inst = NULL, *list = NULL, *v;
	size_t i;
	int seen = 0;

	patch = json_pack("{s:{s:{s:s, s:s, s:s}}}", "devices", "ssh", "type",
	    "proxy", "listen", "tcp:127.0.0.1:61999", "connect",
	    "tcp:127.0.0.1:22");
	REQUIREF(lxd_instance_patch(l, proj, "c2", patch) == 0, "%s",
	    lxd_error(l));
	json_decref(patch);
	REQUIRE(lxd_instance_get(l, proj, "c2", &inst) == 0);
	CHECK(json_object_get(json_object_get(inst, "devices"), "ssh") != NULL);
	json_decref(inst);
	REQUIREF(lxd_instance_remove_device(l, proj, "c2", "ssh") == 0, "%s",
	    lxd_error(l));
	REQUIRE(lxd_instance_get(l, proj, "c2", &inst) == 0);
	CHECK(json_object_get(json_object_get(inst, "devices"), "ssh") == NULL);
	json_decref(inst);
	CHECK(lxd_instance_remove_device(l, proj, "c2", "ssh") == -ENOENT);

	REQUIRE(lxd_instance_list(l, proj, 1, &list) == 0);
	CHECK(json_array_size(list) == 1);
	v = json_array_get(list, 0);
	CHECK(strcmp(json_string_value(json_object_get(v, "name")), "c2") == 0);
	CHECK(strcmp(lxd_state_status(json_object_get(v, "state")),
	    "Stopped") == 0);
	json_decref(list);
	/* All projects, one request: our instance is there with its project. */
	REQUIRE(lxd_instance_list(l, NULL, 0, &list) == 0);
	json_array_foreach(list, i, v) {
		if (strcmp(json_string_value(json_object_get(v, "name")),
		    "c2") == 0 && strcmp(json_string_value(json_object_get(v,
		    "project")), proj) == 0)
			seen = 1;
	}
	CHECK(seen);
	json_decref(list);
}

static void
snapshots(void)
{
	json_t *list = NULL;

	REQUIREF(lxd_snapshot_create(l, proj, "c2", "s0", 0) == 0, "%s",
	    lxd_error(l));
	REQUIRE(lxd_snapshot_list(l, proj, "c2", &list) == 0);
	CHECK(json_array_size(list) == 1);
	json_decref(list);
	REQUIREF(lxd_snapshot_restore(l, proj, "c2", "s0") == 0, "%s",
	    lxd_error(l));
	REQUIREF(lxd_snapshot_delete(l, proj, "c2", "s0") == 0, "%s",
	    lxd_error(l));
	CHECK(lxd_snapshot_delete(l, proj, "c2", "s0") == -ENOENT);
	REQUIREF(lxd_instance_delete(l, proj, "c2") == 0, "%s", lxd_error(l));
}

static void
not_found(void)
{
	json_t *o = NULL;

	CHECK(lxd_instance_get(l, proj, "nope", &o) == -ENOENT);
	CHECKF(strstr(lxd_error(l), "not found") != NULL, "got: %s",
	    lxd_error(l));
	CHECK(o == NULL);
	CHECK(lxd_instance_state(l, proj, "nope", &o) == -ENOENT);
	CHECK(lxd_instance_set_state(l, proj, "nope", "start", -1, 0) ==
	    -ENOENT);
	CHECK(lxd_instance_delete(l, proj, "nope") == -ENOENT);
	CHECK(lxd_project_get(l, "labct-no-such-project", &o) == -ENOENT);
	/* An operation that ended long ago (or never was). */
	CHECK(lxd_wait(l, "/1.0/operations/00000000-0000-0000-0000-"
	    "000000000000", 5, &o) == -ESTALE);
	CHECKF(strstr(lxd_error(l), "ended before its result") != NULL,
	    "got: %s", lxd_error(l));
}

static void
project_limit(void)
{
	const char *profiles[] = { profile, NULL };
	struct lxd_create c = { .image_alias = image, .profiles = profiles };
	json_t *cfg = project_config("limits.containers", "1");

	REQUIREF(lxd_project_create(l, proj_lim, cfg, NULL) == 0, "%s",
	    lxd_error(l));
	json_decref(cfg);
	c.name = "one";
	REQUIREF(lxd_instance_create(l, proj_lim, &c) == 0, "%s", lxd_error(l));
	c.name = "two";
	CHECK(lxd_instance_create(l, proj_lim, &c) != 0);
	CHECKF(strstr(lxd_error(l), "Reached maximum number of instances")
	    != NULL, "got: %s", lxd_error(l));
	CHECK(lxd_instance_get(l, proj_lim, "two", &cfg) == -ENOENT);
	CHECK(lxd_instance_delete(l, proj_lim, "one") == 0);
}

static void
resources(void)
{
	json_t *res = NULL;

	REQUIREF(lxd_resources(l, &res) == 0, "%s", lxd_error(l));
	CHECK(json_is_object(json_object_get(res, "cpu")));
	CHECK(json_is_object(json_object_get(res, "gpu")));
	json_decref(res);
}

static void
cleanup(void)
{
	/* Projects delete only when empty: prove both are. */
	CHECKF(lxd_project_delete(l, proj) == 0, "%s", lxd_error(l));
	CHECKF(lxd_project_delete(l, proj_lim) == 0, "%s", lxd_error(l));
	CHECK(lxd_project_delete(l, proj) == -ENOENT);
}

int
main(void)
{
	const char *prefix = t_env("LABCT_PREFIX");

	image = t_env("LABCT_IMAGE");
	profile = t_env("LABCT_PROFILE");
	proj = xasprintf("%slib", prefix);
	proj_lim = xasprintf("%slim", prefix);
	l = lxd_new(getenv("LXD_SOCKET"));
	RUN(connects);
	RUN(projects);
	RUN(lifecycle);
	RUN(progress_reported);
	RUN(by_fingerprint);
	RUN(devices_and_list);
	RUN(snapshots);
	RUN(not_found);
	RUN(project_limit);
	RUN(resources);
	RUN(cleanup);
	lxd_free(l);
	free(proj);
	free(proj_lim);
	return t_done();
}
