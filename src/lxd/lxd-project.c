/* lxd-project.c - projects, server resources, network leases, snapshots. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lxd-int.h"
#include "xmalloc.h"

int
lxd_project_create(struct lxd *l, const char *name, json_t *config,
    const char *description)
{
	json_t *body = json_pack("{s:s, s:s}", "name", name, "description",
	    description != NULL ? description : "");
	int r;

	json_object_set_new(body, "config", config != NULL ?
	    json_incref(config) : json_object());
	r = lxd_call(l, "POST", "/1.0/projects", body, NULL);
	json_decref(body);
	return r;
}

int
lxd_project_get(struct lxd *l, const char *name, json_t **out)
{
	char *path = lxd_path(NULL, "/1.0/projects/%s", name);
	int r = lxd_call(l, "GET", path, NULL, out);

	free(path);
	return r;
}

static int
merge_config(struct lxd *l, json_t *proj, json_t **put, void *arg)
{
	json_t *cfg = json_object_get(proj, "config");

	(void)l;
	if (!json_is_object(cfg))
		json_object_set_new(proj, "config", cfg = json_object());
	json_object_update(cfg, arg);
	*put = json_pack("{s:O, s:s}", "config", cfg, "description",
	    json_string_value(json_object_get(proj, "description")) ?: "");
	return 0;
}

/* GET, merge, PUT: LXD 5.0's PATCH of a project drops the keys not given. */
int
lxd_project_set_config(struct lxd *l, const char *name, json_t *config)
{
	char *path = lxd_path(NULL, "/1.0/projects/%s", name);
	int r = lxd_update(l, path, merge_config, config);

	free(path);
	return r;
}

int
lxd_project_delete(struct lxd *l, const char *name)
{
	char *path = lxd_path(NULL, "/1.0/projects/%s", name);
	int r = lxd_call(l, "DELETE", path, NULL, NULL);

	free(path);
	return r;
}

int
lxd_project_state(struct lxd *l, const char *name, json_t **out)
{
	char *path = lxd_path(NULL, "/1.0/projects/%s/state", name);
	int r = lxd_call(l, "GET", path, NULL, out);

	free(path);
	return r;
}

int
lxd_project_list(struct lxd *l, json_t **out)
{
	return lxd_call(l, "GET", "/1.0/projects?recursion=1", NULL, out);
}

int
lxd_resources(struct lxd *l, json_t **out)
{
	return lxd_call(l, "GET", "/1.0/resources", NULL, out);
}

int
lxd_profile_get_in(struct lxd *l, const char *project, const char *name,
    json_t **out)
{
	char *path = lxd_path(project, "/1.0/profiles/%s", name);
	int r = lxd_call(l, "GET", path, NULL, out);

	free(path);
	return r;
}

int
lxd_profile_put(struct lxd *l, const char *project, const char *name,
    json_t *config, json_t *devices, const char *description)
{
	json_t *body = json_pack("{s:O, s:O, s:s}", "config", config,
	    "devices", devices, "description", description ?: "");
	char *path = lxd_path(project, "/1.0/profiles/%s", name);
	int r = lxd_call(l, "PUT", path, body, NULL);

	free(path);
	if (r == -ENOENT) {
		path = lxd_path(project, "/1.0/profiles");
		json_object_set_new(body, "name", json_string(name));
		r = lxd_call(l, "POST", path, body, NULL);
		free(path);
		/*
		 * Made by another writer in between (labcd's reconciler
		 * and a request both bringing a project to shape): it
		 * exists now, so the PUT is what is left to do.
		 */
		if (r == -EEXIST) {
			json_object_del(body, "name");
			path = lxd_path(project, "/1.0/profiles/%s", name);
			r = lxd_call(l, "PUT", path, body, NULL);
			free(path);
		}
	}
	json_decref(body);
	return r;
}

int
lxd_profile_delete_all(struct lxd *l, const char *project)
{
	char *path;
	json_t *list = NULL, *p = NULL, *v;
	size_t i;
	int r;

	/* Without profiles of its own, its profiles are the default's. */
	if ((r = lxd_project_get(l, project, &p)) != 0)
		return r;
	v = json_object_get(json_object_get(p, "config"), "features.profiles");
	r = strcmp(json_string_value(v) ?: "", "true") != 0;
	json_decref(p);
	if (r)
		return 0;
	path = lxd_path(project, "/1.0/profiles?recursion=1");
	r = lxd_call(l, "GET", path, NULL, &list);
	free(path);
	json_array_foreach(list, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));

		if (r != 0 || name == NULL || strcmp(name, "default") == 0)
			continue;
		path = lxd_path(project, "/1.0/profiles/%s", name);
		r = lxd_call(l, "DELETE", path, NULL, NULL);
		free(path);
	}
	json_decref(list);
	return r;
}

int
lxd_profile_get(struct lxd *l, const char *name, json_t **out)
{
	char *path = lxd_path(NULL, "/1.0/profiles/%s", name);
	int r = lxd_call(l, "GET", path, NULL, out);

	free(path);
	return r;
}

int
lxd_snapshot_create(struct lxd *l, const char *project, const char *name,
    const char *snap, long long expires)
{
	time_t t = (time_t)expires;
	struct tm tm;
	char at[32] = "0001-01-01T00:00:00Z";	/* Go's zero time: never */
	json_t *body;
	char *path;
	int r;

	if (expires > 0 && gmtime_r(&t, &tm) != NULL)
		strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	body = json_pack("{s:s, s:b, s:s}", "name", snap, "stateful", 0,
	    "expires_at", at);
	path = lxd_path(project, "/1.0/instances/%s/snapshots", name);
	r = lxd_call(l, "POST", path, body, NULL);

	free(path);
	json_decref(body);
	return r;
}

int
lxd_snapshot_list(struct lxd *l, const char *project, const char *name,
    json_t **out)
{
	char *path = lxd_path(project,
	    "/1.0/instances/%s/snapshots?recursion=1", name);
	int r = lxd_call(l, "GET", path, NULL, out);

	free(path);
	return r;
}

int
lxd_snapshot_count(struct lxd *l, const char *project, const char *name)
{
	char *path = lxd_path(project, "/1.0/instances/%s/snapshots", name);
	json_t *out = NULL;
	int r = lxd_call(l, "GET", path, NULL, &out);

	free(path);
	if (r == 0 && !json_is_array(out))
		r = lxd_seterr(l, -EPROTO, "LXD listed snapshots without a "
		    "list");
	else if (r == 0)
		r = (int)json_array_size(out);
	json_decref(out);
	return r;
}

int
lxd_snapshot_restore(struct lxd *l, const char *project, const char *name,
    const char *snap)
{
	json_t *body = json_pack("{s:s}", "restore", snap);
	char *path = lxd_path(project, "/1.0/instances/%s", name);
	int r = lxd_call(l, "PUT", path, body, NULL);

	free(path);
	json_decref(body);
	return r;
}

int
lxd_snapshot_delete(struct lxd *l, const char *project, const char *name,
    const char *snap)
{
	char *path = lxd_path(project, "/1.0/instances/%s/snapshots/%s", name,
	    snap);
	int r = lxd_call(l, "DELETE", path, NULL, NULL);

	free(path);
	return r;
}

int
lxd_network_get(struct lxd *l, const char *project, const char *network,
    json_t **out)
{
	char *path = lxd_path(project, "/1.0/networks/%s", network);
	int r = lxd_call(l, "GET", path, NULL, out);

	free(path);
	return r;
}

int
lxd_network_leases(struct lxd *l, const char *project, const char *network,
    json_t **out)
{
	char *path = lxd_path(project, "/1.0/networks/%s/leases", network);
	int r = lxd_call(l, "GET", path, NULL, out);

	free(path);
	if (r == 0 && !json_is_array(*out)) {
		json_decref(*out);
		*out = NULL;
		return lxd_seterr(l, -EPROTO, "LXD listed leases without a "
		    "list");
	}
	return r;
}
