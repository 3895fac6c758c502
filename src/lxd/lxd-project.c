/* lxd-project.c - projects, server resources and snapshots. */
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

int
lxd_project_set_config(struct lxd *l, const char *name, json_t *config)
{
	char *path = lxd_path(NULL, "/1.0/projects/%s", name);
	int r = 0, tries;

	/*
	 * GET, merge, PUT with If-Match: LXD 5.0's PATCH of a project
	 * resets the keys it is not given.
	 */
	for (tries = 0; tries < 5; tries++) {
		struct lxd_req get = { .method = "GET", .path = path };
		struct lxd_req put = { .method = "PUT", .path = path };
		struct curl_slist *hdrs = NULL;
		char etag[160], *body, *ifmatch;
		json_t *proj, *cfg, *req;

		if ((r = lxd_request(l, &get, &proj, etag, sizeof(etag))) != 0)
			break;
		cfg = json_object_get(proj, "config");
		if (!json_is_object(cfg))
			json_object_set_new(proj, "config", cfg = json_object());
		json_object_update(cfg, config);
		req = json_pack("{s:O, s:s}", "config", cfg, "description",
		    json_string_value(json_object_get(proj, "description")) ?:
		    "");
		json_decref(proj);
		body = json_dumps(req, JSON_COMPACT);
		json_decref(req);
		ifmatch = xasprintf("If-Match: %s", etag);
		hdrs = curl_slist_append(hdrs, ifmatch);
		put.body = body;
		put.body_len = strlen(body);
		put.headers = hdrs;
		r = lxd_request(l, &put, NULL, NULL, 0);
		curl_slist_free_all(hdrs);
		free(ifmatch);
		free(body);
		if (r != -EAGAIN)
			break;
	}
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
lxd_profile_get(struct lxd *l, const char *name, json_t **out)
{
	char *path = lxd_path(NULL, "/1.0/profiles/%s", name);
	int r = lxd_call(l, "GET", path, NULL, out);

	free(path);
	return r;
}

int
lxd_snapshot_create(struct lxd *l, const char *project, const char *name,
    const char *snap)
{
	json_t *body = json_pack("{s:s, s:b}", "name", snap, "stateful", 0);
	char *path = lxd_path(project, "/1.0/instances/%s/snapshots", name);
	int r = lxd_call(l, "POST", path, body, NULL);

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
